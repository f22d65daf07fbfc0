"""Namespace mode for the network check: appliance, firewall and cloud in their own network namespaces
(``virtual_appliances.netlab.namespaces.NamespaceTopology``), the cloud's DNS and TLS sites in a
process inside the cloud namespace (``ns_cloud``), and the check run from the appliance namespace as
a user would run it there (``ip netns exec <app> python -m harness.net``).

Used by ``test_namespaces.py`` and ``bench/netcheck.py``. Root only.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from virtual_appliances.netlab import Action
from virtual_appliances.netlab.namespaces import CLOUD_ADDRESS, NamespaceTopology, available

REPO = Path(__file__).resolve().parents[3]
READY_TIMEOUT = 30.0
COMMAND_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
CHECK_SLACK = 60.0  # on top of the probes' own timeouts, for the check process to start and finish


@dataclass
class CheckRun:
    returncode: int
    stdout: str
    report: dict[str, Any]
    wall: float  # seconds, the whole process (interpreter start included)

    def verdict(self, fqdn: str) -> str:
        return next(str(r["verdict"]) for r in self.report["results"] if r["fqdn"] == fqdn)

    def row(self, fqdn: str) -> dict[str, Any]:
        return next(r for r in self.report["results"] if r["fqdn"] == fqdn)


class NamespaceLab:
    def __init__(self, directory: Path, fqdns: list[str], region: str = "nam") -> None:
        self.directory = directory
        self.region = region
        self.topology = NamespaceTopology(fqdns)
        self.resolver: tuple[str, int] | None = None
        self.ca_bundle: str | None = None
        self.testbed_path = directory / "testbed.yaml"
        self._cloud: subprocess.Popen[str] | None = None

    @staticmethod
    def available() -> bool:
        return available()

    @property
    def addresses(self) -> dict[str, str]:
        return self.topology.addresses

    def start(self) -> None:
        self.topology.create()
        try:
            self._start_cloud()
            self._write_testbed()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Always safe: stops the cloud process and deletes the namespaces (links and rules go with them)."""
        proc, self._cloud = self._cloud, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()  # the server exits at end of input
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
            if proc.stdout is not None:
                proc.stdout.close()
        self.topology.destroy()

    def __enter__(self) -> NamespaceLab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the knobs ----------------------------------------------------------------------------
    def firewall(self, fqdn: str, action: str) -> None:
        self.topology.set_policy(fqdn, 443, Action(action))

    def dns(self, fqdn: str, answer: str | None) -> None:
        self._command({"op": "dns", "fqdn": fqdn, "answer": answer})

    def intercept(self, fqdn: str, enabled: bool) -> None:
        self._command({"op": "intercept", "fqdn": fqdn, "enabled": enabled})

    def reset(self) -> None:
        self.topology.reset()
        self._command({"op": "reset"})

    # ---- the check, from the appliance namespace -----------------------------------------------
    def netcheck(self, timeout: float, *extra: str, pcap: Path | None = None) -> CheckRun:
        out = self.directory / "report.json"
        out.unlink(missing_ok=True)
        args = ["--testbed", str(self.testbed_path), "--timeout", str(timeout), "--json", str(out), *extra]
        if pcap is not None:
            args += ["--pcap", str(pcap)]
        started = time.monotonic()
        done = subprocess.run(
            ["ip", "netns", "exec", self.topology.ns.appliance, sys.executable, "-m", "harness.net", *args],
            cwd=REPO, env=_env(), capture_output=True, text=True, timeout=6 * timeout + CHECK_SLACK, check=False)
        wall = time.monotonic() - started
        if not out.exists():
            raise RuntimeError(f"netcheck wrote no report (exit {done.returncode}): {done.stdout}{done.stderr}")
        return CheckRun(done.returncode, done.stdout, json.loads(out.read_text()), wall)

    # ---- internals ----------------------------------------------------------------------------
    def _start_cloud(self) -> None:
        config = self.directory / "cloud.json"
        config.write_text(json.dumps({"dir": str(self.directory / "cloud"), "dns_host": CLOUD_ADDRESS,
                                      "addresses": self.addresses}))
        self._cloud = subprocess.Popen(
            ["ip", "netns", "exec", self.topology.ns.cloud, sys.executable, "-m", "tests.harness.net.ns_cloud",
             str(config)],
            cwd=REPO, env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1)
        ready = self._read_line(READY_TIMEOUT)
        host, port = ready["resolver"]
        self.resolver = (str(host), int(port))
        self.ca_bundle = str(ready["ca_bundle"])

    def _command(self, command: dict[str, Any]) -> None:
        assert self._cloud is not None and self._cloud.stdin is not None, "the namespace lab is not started"
        self._cloud.stdin.write(json.dumps(command) + "\n")
        self._cloud.stdin.flush()
        reply = self._read_line(COMMAND_TIMEOUT)
        if not reply.get("ok"):
            raise RuntimeError(f"cloud namespace refused {command}: {reply.get('error')}")

    def _read_line(self, timeout: float) -> dict[str, Any]:
        assert self._cloud is not None and self._cloud.stdout is not None
        ready, _, _ = select.select([self._cloud.stdout], [], [], timeout)
        line = self._cloud.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"the cloud namespace server did not answer within {timeout:g} s "
                               f"(exit status {self._cloud.poll()})")
        return json.loads(line)  # type: ignore[no-any-return]

    def _write_testbed(self) -> None:
        assert self.resolver is not None
        appliance = self.topology.appliance_address
        testbed = {
            "testbed": {"name": f"ctrlab-namespaces-{self.topology.ns.appliance}"},
            "devices": {"esa1": {
                "kind": "esa", "model": "C100V", "version": "13.0.0-392", "hostname": "esa1.ns.ctrlab.test",
                "credentials": {"default": {"username": "admin", "password": "unused-in-namespace-mode"}},
                "connections": {"cli": {"protocol": "ssh", "host": appliance, "port": 22}}}},
            "cloud": {"region": self.region, "sse": {self.region: {"token": "0" * 32}}},
            "network": {"resolver": f"{self.resolver[0]}:{self.resolver[1]}", "ca_bundle": self.ca_bundle,
                        "https_port": 443, "proxy": None},
        }
        self.testbed_path.write_text(yaml.safe_dump(testbed, sort_keys=False))


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}
