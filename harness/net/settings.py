"""What the network check needs from a testbed: region, resolver, CA bundle, HTTPS port, proxy.

``NetSettings.from_testbed`` accepts whatever callers hold: a path (loaded and validated with
``harness.testbed.load_testbed``), the harness's ``Testbed`` model, or a raw testbed mapping (with
``%ENV{NAME}`` in the proxy URL resolved here), so steps, the CLI and tests share one entry point.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DNS_PORT = 53
_ENV = re.compile(r"%ENV\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SettingsError(ValueError):
    """The testbed does not say what the network check needs, or says it wrongly."""


@dataclass(frozen=True)
class ProxySpec:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> ProxySpec:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise SettingsError(f"network.proxy must be http://[user:password@]host:port, got {_mask(url)!r}")
        try:
            port = parts.port or 3128
        except ValueError:
            raise SettingsError(f"network.proxy has a bad port: {_mask(url)!r}") from None
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, user, password)

    @property
    def display(self) -> str:
        """host:port, never the credentials (they would end up in reports)."""
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class NetSettings:
    region: str = "nam"
    resolver: tuple[str, int] | None = None  # None: the system's resolver configuration (real gear only)
    ca_bundle: str | None = None  # None: the system trust store
    https_port: int = 443
    proxy: ProxySpec | None = None
    # The appliance's network namespace (the simulators' namespace mode): the check runs its probes there.
    netns: str | None = None

    @classmethod
    def from_testbed(cls, testbed: Any) -> NetSettings:
        if isinstance(testbed, NetSettings):
            return testbed
        if isinstance(testbed, str | os.PathLike):
            return cls.from_testbed(load_testbed(Path(testbed)))
        network = _get(testbed, "network") or {}
        cloud = _get(testbed, "cloud") or {}
        region = str(_get(cloud, "region") or "nam").lower()
        proxy = _get(network, "proxy")
        bundle = _get(network, "ca_bundle")
        # Namespace mode: the appliance's resolver and port exist only in its namespace, so the lab
        # writes them beside the namespace's name rather than in ``network`` (used from here).
        simulator = _get(_get(testbed, "testbed"), "simulator")
        netns = _get(simulator, "appliance_netns")
        appliance = (_get(simulator, "appliance_network") or {}) if netns else {}
        return cls(
            region=region,
            resolver=parse_resolver(_get(appliance, "resolver") or _get(network, "resolver")),
            ca_bundle=str(bundle) if bundle else None,
            https_port=int(_get(appliance, "https_port") or _get(network, "https_port") or 443),
            proxy=ProxySpec.parse(_expand(str(proxy))) if proxy else None,
            netns=str(netns) if netns else None,
        )

    def secrets(self) -> list[str]:
        return [s for s in (self.proxy.password if self.proxy else None,) if s]


def parse_resolver(value: Any) -> tuple[str, int] | None:
    """``host:port``, ``host`` (port 53), ``{host, port}``, an object with host/port, or a pair."""
    if value in (None, ""):
        return None
    if isinstance(value, tuple | list) and len(value) == 2:
        return str(value[0]), int(value[1])
    host, port = _get(value, "host"), _get(value, "port")
    if host:
        return str(host), int(port or DNS_PORT)
    text = str(value).strip()
    if text.startswith("["):  # [v6]:port
        host_part, _, port_part = text[1:].partition("]")
        return host_part, int(port_part.lstrip(":") or DNS_PORT)
    host_part, sep, port_part = text.rpartition(":")
    if not sep or ":" in host_part:
        return text, DNS_PORT
    try:
        return host_part, int(port_part)
    except ValueError:
        raise SettingsError(f"network.resolver must be host:port, got {text!r}") from None


# The fields the check reads: only these must resolve; an unset device password or an %ASK{} one elsewhere
# in the file neither stops it nor is asked for (harness/testbed/envsubst.py).
NEEDED_FIELDS = ("network", "cloud.region", "testbed.name", "testbed.simulator")


def load_testbed(path: Path) -> Any:
    """The harness's testbed model (validated, ``%ENV{}`` resolved where the check reads); errors as SettingsError."""
    from harness.testbed import TestbedError, fields_under
    from harness.testbed import load_testbed as harness_loader

    try:
        return harness_loader(path, needed=fields_under(*NEEDED_FIELDS))
    except TestbedError as exc:
        raise SettingsError(str(exc)) from None


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _expand(text: str) -> str:
    def env(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SettingsError(f"network.proxy refers to environment variable {name}, which is not set")
        return os.environ[name]

    return _ENV.sub(env, text)


def _mask(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)
