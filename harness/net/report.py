"""The result of a network check: one row per FQDN, rendered as a table, JSON and Allure attachments."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .probe_result import Probe
from .verdict import Verdict

COLUMNS = ("FQDN", "address", "DNS", "TCP", "SYN", "TLS", "proxy", "verdict", "remedy")


@dataclass
class FqdnResult:
    fqdn: str
    address: str | None
    dns: Probe
    tcp: Probe
    syn: Probe
    tls: Probe
    proxy: Probe
    verdict: Verdict
    remedy: str
    started: float
    ended: float

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.REACHABLE

    def cells(self) -> list[str]:
        return [self.fqdn, self.address or "-", *(p.cell() for p in self.probes().values()),
                str(self.verdict), self.remedy or "-"]

    def probes(self) -> dict[str, Probe]:
        return {"dns": self.dns, "tcp": self.tcp, "syn": self.syn, "tls": self.tls, "proxy": self.proxy}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FqdnResult:
        """A row as ``to_dict`` wrote it (with ``origin``): times become seconds from the check's start."""
        started = float(data.get("started_at", 0.0))
        ended = float(data.get("ended_at", started + float(data.get("seconds", 0.0))))
        probes = {name: Probe.from_dict(data[name]) for name in ("dns", "tcp", "syn", "tls", "proxy")}
        return cls(data["fqdn"], data.get("address"), **probes, verdict=Verdict(data["verdict"]),
                   remedy=data.get("remedy", ""), started=started, ended=ended)

    def to_dict(self, origin: float | None = None) -> dict[str, Any]:
        """``origin``: the check's start (monotonic), to give when this row's probes started and ended."""
        timing = {} if origin is None else {"started_at": round(self.started - origin, 4),
                                            "ended_at": round(self.ended - origin, 4)}
        return {"fqdn": self.fqdn, "address": self.address, "verdict": str(self.verdict), "remedy": self.remedy,
                "seconds": round(self.ended - self.started, 4), **timing,
                **{name: probe.to_dict() for name, probe in self.probes().items()}}


@dataclass
class NetcheckReport:
    vantage: str  # "harness" (this machine) or "appliance <name>"
    region: str
    results: list[FqdnResult]
    resolver: str
    https_port: int
    ca_bundle: str
    proxy: str
    timeout: float
    elapsed: float
    syn_note: str = ""
    capture_note: str = ""
    pcap: Path | None = None
    packets: list[Any] = field(default_factory=list, repr=False)
    started: float | None = None  # monotonic, when the probes started

    @property
    def ok(self) -> bool:
        """Every required FQDN reachable (through the proxy when one is configured, PRE-4)."""
        return bool(self.results) and all(r.ok for r in self.results)

    @property
    def fqdns(self) -> list[str]:
        return [r.fqdn for r in self.results]

    @property
    def failures(self) -> list[FqdnResult]:
        return [r for r in self.results if not r.ok]

    def result(self, fqdn: str) -> FqdnResult:
        for row in self.results:
            if row.fqdn == fqdn:
                return row
        raise KeyError(f"{fqdn} was not checked (checked: {', '.join(self.fqdns)})")

    def verdict(self, fqdn: str) -> Verdict:
        return self.result(fqdn).verdict

    def headline(self) -> str:
        reachable = len(self.results) - len(self.failures)
        text = f"{reachable}/{len(self.results)} FQDNs reachable in {self.elapsed:.2f} s"
        if self.failures:
            text += "; not reachable: " + ", ".join(f"{r.fqdn} ({r.verdict})" for r in self.failures)
        return text

    def table(self) -> str:
        rows = [list(COLUMNS), *(r.cells() for r in self.results)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]

        def line(row: list[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=False)) + "  " + row[-1]

        rule = "  ".join("-" * w for w in widths) + "  " + "-" * 6
        header = (f"netcheck from the {self.vantage}: region {self.region}, resolver {self.resolver}, "
                  f"HTTPS port {self.https_port}, CA bundle {self.ca_bundle}, proxy {self.proxy}, "
                  f"probe timeout {self.timeout:g} s")
        notes = [n for n in (self.syn_note, self.capture_note) if n]
        if self.pcap is not None:
            notes.append(f"pcap: {self.pcap} ({len(self.packets)} packets)")
        body = "\n".join([line(rows[0]), rule, *(line(r) for r in rows[1:])])
        return "\n".join([header, *notes, "", body, "", self.headline()])

    def to_dict(self) -> dict[str, Any]:
        return {"vantage": self.vantage, "region": self.region, "ok": self.ok, "elapsed": round(self.elapsed, 4),
                "timeout": self.timeout, "resolver": self.resolver, "https_port": self.https_port,
                "ca_bundle": self.ca_bundle, "proxy": self.proxy, "syn": self.syn_note,
                "capture": self.capture_note, "pcap": str(self.pcap) if self.pcap else None,
                "results": [r.to_dict(self.started) for r in self.results]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetcheckReport:
        """The report another process wrote with ``to_dict`` (the check run in the appliance's namespace)."""
        pcap = data.get("pcap")
        return cls(vantage=data["vantage"], region=data["region"],
                   results=[FqdnResult.from_dict(r) for r in data["results"]], resolver=data["resolver"],
                   https_port=int(data["https_port"]), ca_bundle=data["ca_bundle"], proxy=data["proxy"],
                   timeout=float(data["timeout"]), elapsed=float(data["elapsed"]), syn_note=data.get("syn", ""),
                   capture_note=data.get("capture", ""), pcap=Path(pcap) if pcap else None, started=0.0)

    def attach(self) -> bool:
        """Attach the table, the JSON and the pcap to the current Allure test or step (masked, never
        raising: ``harness.report.attachments``); False when Allure is not importable."""
        if importlib.util.find_spec("allure") is None:
            return False
        from harness.report.attachments import attach_file, attach_json, attach_text

        attach_text(f"netcheck ({self.vantage})", self.table())
        attach_json(f"netcheck ({self.vantage}) json", self.to_dict())
        if self.pcap is not None and self.pcap.exists():
            attach_file(f"netcheck probes ({self.vantage})", self.pcap, extension="pcap")
        return True


def in_a_test() -> bool:
    """pytest sets PYTEST_CURRENT_TEST while a test (or its fixtures) runs."""
    return "PYTEST_CURRENT_TEST" in os.environ
