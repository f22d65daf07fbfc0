"""Shared material of the harness tests: testbeds, and small pytest projects run in a subprocess.

The projects are what a user's repository looks like (``features/*.feature``, a module binding the
scenarios, step definitions, a conftest), so the plugin is exercised exactly as it is installed: through
its ``pytest11`` entry point, in a fresh interpreter (allure's and the logging module's global state
would otherwise be shared with the outer run).
"""

from __future__ import annotations

import copy
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

DOCS_TESTBED = Path(__file__).resolve().parents[2] / "docs" / "testbed.md"
DOCS_ENV = {"ESA_PASSWORD": "esa-default-pw", "ESA1_PASSWORD": "esa1-own-pw", "SSE_API_KEY": "sse-key-123456",
            "CTR_CLIENT_ID": "client-abcdef", "CTR_CLIENT_SECRET": "ctr-secret-123456"}


def docs_example_text() -> str:
    """The YAML example of docs/testbed.md: the format the harness implements."""
    text = DOCS_TESTBED.read_text(encoding="utf-8")
    return re.search(r"```yaml\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]


# Secrets the tests plant and then look for in every output.
ESA_PASSWORD = "Pw-ESA1-s3cr3t!x"
SSE_API_KEY = "sse-api-key-0123456789abcdef"
CTR_SECRET = "ctr-client-secret-fedcba9876"
ENV_SECRET = "env-resolved-proxy-pw-42424242"
RUNTIME_TOKEN = "0123456789abcdef0123456789abcdef"  # a registration token: 32 hex digits (REG-1)

BASE_TESTBED: dict[str, Any] = {
    "testbed": {"name": "unit-lab", "credentials": {"default": {"username": "admin", "password": ESA_PASSWORD}}},
    "devices": {
        "esa1": {
            "kind": "esa", "model": "C100V", "version": "13.0.0-392", "hostname": "esa1.example.com",
            "connections": {
                "cli": {"protocol": "ssh", "host": "127.0.0.1", "port": 2222},
                "gui": {"protocol": "https", "host": "127.0.0.1", "port": 8443},
            },
        },
    },
    "cloud": {
        "region": "nam",
        "sse": {"nam": {"admin_url": "https://admin.sse.itd.cisco.com", "api_key": SSE_API_KEY}},
        "ctr": {"nam": {"base_url": "https://visibility.amp.cisco.com", "intel_url": "https://private.intel.amp.cisco.com",
                        "client_id": "client-0001", "client_secret": CTR_SECRET}},
    },
    "deadlines": {"cloud_ready": 5, "registration": 5, "deregistration": 5, "mail_tracked": 5, "poll_interval": 0.01},
}


def sample_testbed(*, simulator: bool = False, **changes: Any) -> dict[str, Any]:
    """The base testbed, optionally a simulator lab, with top-level sections replaced."""
    data = copy.deepcopy(BASE_TESTBED)
    if simulator:
        data["testbed"]["simulator"] = {"control_url": "http://127.0.0.1:9", "version": "9.9.9", "clock_speed": 600}
    data.update(changes)
    return data


def write_testbed(path: Path, data: dict[str, Any] | str) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ---- pytest projects ---------------------------------------------------------------------------------
# Plugins the projects do not use are blocked: each costs start-up time in every subprocess session.
INI = """\
[pytest]
addopts = -p no:cacheprovider -p no:hypothesispytest -p no:benchmark -p no:xdist -p no:timeout
strict_markers = true
bdd_features_base_dir = features
testpaths = features
"""

# A backend registered programmatically (no entry point): it serves ``fake-testbed.yaml`` and records
# its life cycle in events.log, as do the settings keepers a driver would provide.
CONFTEST = '''
from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.backends import Backend, BackendError, register_backend
from harness.testbed import load_testbed

HERE = Path(__file__).parent
EVENTS = HERE / "events.log"


def event(text: str) -> None:
    with EVENTS.open("a") as f:
        f.write(text + "\\n")


class FakeBackend(Backend):
    name = "fake"

    def provision(self):
        event("provision")
        if os.environ.get("FAKE_BACKEND_FAILS"):
            raise BackendError("the fake lab is on fire")
        path = self.options.testbed_path or HERE / "fake-testbed.yaml"
        if os.environ.get("FAKE_PROVEN_SIM"):  # devices that prove they are simulators (harness/provenance.py)
            import sys

            import yaml
            sys.path.insert(0, "__REPO__")  # the repository's tests.support, whatever the cwd
            from tests.support.sim_proof import serving

            self._proof = serving(banner=os.environ.get("FAKE_SSH_BANNER") or None)
            proof = self._proof.__enter__()
            data = yaml.safe_load(path.read_text())
            data["testbed"]["simulator"]["control_url"] = proof.control_url
            for device in data["devices"].values():
                device["connections"]["cli"]["port"] = proof.ssh_port
            path = HERE / "proven-testbed.yaml"
            path.write_text(yaml.safe_dump(data))
        return load_testbed(path)

    def teardown(self):
        event("teardown")
        if getattr(self, "_proof", None) is not None:
            self._proof.__exit__(None, None, None)


register_backend("fake", FakeBackend)


class Keeper:
    def __init__(self, name):
        self.name = name

    def snapshot(self):
        event(f"snapshot {self.name}")
        return {"enabled": True, "server": "nam"}

    def restore(self, snapshot):
        event(f"restore {self.name} {snapshot['server']}")


if os.environ.get("FAKE_KEEPERS"):
    def pytest_ctrlab_settings_keepers(lab, item):
        return [Keeper(name) for name in lab.devices]
'''


def make_project(pytester: pytest.Pytester, feature: str, steps: str, testbed: dict[str, Any] | str | None = None,
                 feature_name: str = "demo") -> Path:
    """A project with one feature file, its step definitions and (optionally) ``fake-testbed.yaml``."""
    pytester.makefile(".ini", pytest=INI)
    pytester.makeconftest(CONFTEST.replace("__REPO__", str(Path(__file__).resolve().parents[2])))
    features = pytester.mkdir("features")
    (features / f"{feature_name}.feature").write_text(textwrap.dedent(feature), encoding="utf-8")
    (features / f"test_{feature_name}.py").write_text(
        "from pytest_bdd import given, parsers, scenarios, then, when\n\n"
        f"scenarios('{feature_name}.feature')\n\n" + textwrap.dedent(steps), encoding="utf-8")
    if testbed is not None:
        write_testbed(pytester.path / "fake-testbed.yaml", testbed)
    return pytester.path


def events(pytester: pytest.Pytester) -> list[str]:
    path = pytester.path / "events.log"
    return path.read_text().splitlines() if path.exists() else []


def run(pytester: pytest.Pytester, *args: str, timeout: float = 120) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*args, timeout=timeout)


def self_signed_pem(name: str = "ctrlab test CA") -> bytes:
    """A real (throw-away) self-signed certificate in PEM: what a ``ca_bundle`` must hold."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)
