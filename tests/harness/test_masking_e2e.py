"""End to end: a session whose testbed holds known secrets, and a scenario that logs, prints, attaches,
puts them in step text and fails an assertion with them. No output of any kind may contain one."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .support import (
    CTR_SECRET,
    ENV_SECRET,
    ESA_PASSWORD,
    RUNTIME_TOKEN,
    SSE_API_KEY,
    make_project,
    run,
    sample_testbed,
    write_testbed,
)

pytest_plugins = ["pytester"]

SECRETS = [ESA_PASSWORD, SSE_API_KEY, CTR_SECRET, ENV_SECRET, RUNTIME_TOKEN]

FEATURE = f"""\
    Feature: Secrets stay secret
      @req:REG-2
      Scenario: A scenario that handles every kind of secret
        Given the lab
        When I register with the token from SSE
        And I type "{ESA_PASSWORD}" into the password field
        Then the appliance is registered

      @req:REG-3
      Scenario: A driver that talks too much
        Given the lab
        Then the driver logs its conversation
    """

STEPS = textwrap.dedent(f"""\
    import json
    import logging

    import allure

    from harness.report import attach_json, attach_text

    log = logging.getLogger("harness.appliance.asyncos_cli")  # a driver's logger: propagates to the root


    @given("the lab", target_fixture="the_lab")
    def _(lab):
        return lab


    @when("I register with the token from SSE", target_fixture="token")
    def _(the_lab, masker):
        token = "{RUNTIME_TOKEN}"  # what the SSE admin API would have returned
        masker.add(token)
        print("token generated:", token)
        return token


    @when(parsers.parse('I type "{{text}}" into the password field'))
    def _(text):
        print("typing", text)


    @then("the appliance is registered")
    def _(the_lab, token):
        device = the_lab.device("esa1")
        sse = the_lab.sse()
        ctr = the_lab.ctr()
        proxy = the_lab.network.proxy
        log.info("ssh %s@esa1 password=%s", device.username, device.password)
        log.warning("SSE api key %s, CTR secret %s, proxy %s", sse.api_key, ctr.client_secret, proxy)
        print("stdout:", device.password, token)
        import sys
        print("stderr:", sse.api_key, file=sys.stderr)
        attach_text("CLI transcript", f"login: admin\\npassword: {{device.password}}\\ntoken {{token}}")
        attach_json("HTTP exchange", {{"Authorization": f"Bearer {{token}}", "secret": ctr.client_secret}})
        allure.attach(f"raw {{sse.api_key}}", name=f"raw {{token}}")  # bypasses the helpers
        locals_with_secret = {{"password": device.password}}
        assert token == device.password, f"registration failed for {{token}} with {{ctr.client_secret}} {{proxy}}"


    @then("the driver logs its conversation")
    def _(the_lab):
        try:
            raise ConnectionError(f"refused for {{the_lab.device('esa1').password}}")
        except ConnectionError:
            logging.getLogger("harness.http").exception("request failed")
        raise RuntimeError(f"harness bug leaking {{the_lab.sse().api_key}}")
    """)


def test_no_secret_reaches_any_output(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTRLAB_E2E_PROXY_PW", ENV_SECRET)
    make_project(pytester, FEATURE, STEPS)
    testbed = sample_testbed(network={"proxy": "http://proxyuser:%ENV{CTRLAB_E2E_PROXY_PW}@proxy.example.com:3128"})
    write_testbed(pytester.path / "tb.yaml", testbed)
    result = run(pytester, "--testbed", "tb.yaml", "--junitxml", "junit.xml", "-o", "junit_logging=all",
                 "--alluredir", "allure", "-rA", "-vv", "-l", "--log-cli-level=INFO", "--log-level=DEBUG")
    result.assert_outcomes(failed=2)
    terminal = result.stdout.str() + result.stderr.str()

    # The scenario did exercise every path: the failures, the logs, the output and the attachments are there...
    assert "registration failed for ***" in terminal and "harness bug leaking ***" in terminal
    assert "password=***" in terminal  # live log
    files = [p for p in pytester.path.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc", ".feature")
             and p.name != "tb.yaml"]
    names = {p.name for p in files}
    assert "junit.xml" in names and "categories.json" in names and "environment.properties" in names
    allure_text = "\n".join(p.read_text(errors="replace") for p in (pytester.path / "allure").iterdir())
    assert "CLI transcript" in allure_text and "password: ***" in allure_text and "Bearer ***" in allure_text
    assert 'I type \\"***\\" into the password field' in allure_text  # the step name, from the feature text
    junit = (pytester.path / "junit.xml").read_text()
    assert "stdout: *** ***" in junit and "registration failed for ***" in junit

    # ... and no secret anywhere.
    leaks = {secret: [str(p.relative_to(pytester.path)) for p in files if secret in p.read_text(errors="replace")]
             for secret in SECRETS}
    leaks = {k: v for k, v in leaks.items() if v}
    assert not leaks, f"secrets found in output files: {leaks}"
    assert not [s for s in SECRETS if s in terminal], "a secret reached the terminal"


def test_secrets_stay_out_of_the_terminal_with_capture_off(pytester: pytest.Pytester) -> None:
    make_project(pytester, FEATURE, STEPS)
    write_testbed(pytester.path / "tb.yaml", sample_testbed())
    result = run(pytester, "--testbed", "tb.yaml", "-s", "-k", "every_kind")
    result.assert_outcomes(failed=1)
    terminal = result.stdout.str() + result.stderr.str()
    assert "stdout: *** ***" in terminal
    assert not [s for s in SECRETS if s in terminal]
    assert Path(pytester.path).exists()
