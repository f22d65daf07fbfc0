"""What the network-check tests share: the running lab seen over its protocols only (testbed file,
control plane), and small helpers to put it into the documented failure states."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

CONTROL_TIMEOUT = 10.0
PROBE_TIMEOUT = 1.0  # seconds per probe in the tests: short, since drops wait for all of it
REGION_FQDN = {"nam": "api-sse.cisco.com", "eu": "api.eu.sse.itd.cisco.com", "apjc": "api.apj.sse.itd.cisco.com"}
EST = "est.sco.cisco.com"


@dataclass
class RunningLab:
    testbed: dict[str, Any]
    testbed_path: Path

    @property
    def control_url(self) -> str:
        return str(self.testbed["testbed"]["simulator"]["control_url"])

    @property
    def resolver(self) -> tuple[str, int]:
        host, _, port = str(self.testbed["network"]["resolver"]).rpartition(":")
        return host, int(port)

    @property
    def https_port(self) -> int:
        return int(self.testbed["network"]["https_port"])

    def netlab(self, path: str = "/", body: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET (no body) or POST the netlab control plane; the lab's state after the call."""
        with requests.Session() as session:
            session.trust_env = False  # never a proxy from the environment for the control plane
            url = f"{self.control_url}/_sim/netlab{path}"
            resp = (session.get(url, timeout=CONTROL_TIMEOUT) if body is None
                    else session.post(url, json=body, timeout=CONTROL_TIMEOUT))
        assert resp.status_code == 200, f"{path} {body}: {resp.status_code} {resp.text}"
        return resp.json()  # type: ignore[no-any-return]

    def firewall(self, fqdn: str, action: str) -> None:
        self.netlab("/firewall", {"fqdn": fqdn, "port": 443, "action": action})

    def reset(self) -> None:
        self.netlab("/reset", {})

    @property
    def proxy_url(self) -> str:
        return str(self.netlab()["proxy"]["url"])

    def with_network(self, **network: Any) -> dict[str, Any]:
        """A copy of the testbed with some ``network`` keys changed (a proxy, another resolver)."""
        data = copy.deepcopy(self.testbed)
        data["network"].update(network)
        return data

    def variant(self, directory: Path, **network: Any) -> Path:
        """The same, written to ``directory`` for the command line, as a user would write a testbed for
        the lab's network: without the ``simulator`` section, which the check does not use."""
        data = self.with_network(**network)
        data["testbed"].pop("simulator", None)
        path = directory / "testbed.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path
