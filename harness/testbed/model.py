"""The testbed model (docs/testbed.md): the appliances, the cloud tenant, the network, the deadlines.

One model serves both directions: it validates what a user (or ``ctrlab sim up``) wrote, and it is the
object the harness hands to fixtures, backends and drivers. Validation is strict (unknown fields are
errors, so a typo such as ``pasword`` cannot silently drop a value) and every constraint carries a message
written for the person who edits the file. Credentials are inherited pyATS-style: ``testbed.credentials``
-> ``devices.<name>.credentials``, field by field, before the device is validated.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from cryptography import x509
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ..facts import KINDS, REGIONS

Region = Literal[REGIONS]  # type: ignore[valid-type]  # the facts table's regions, in its order
Kind = Literal[KINDS]  # type: ignore[valid-type]

# A value may still be %ENV markup when the schema is used by an editor on the unresolved file.
_ENV_STRING = {"type": "string", "pattern": r"%ENV\{[A-Za-z_][A-Za-z0-9_]*\}"}
# Field names whose values are secrets: never shown in an error message, always masked in reports.
SECRET_FIELDS = frozenset({"password", "api_key", "token", "client_secret"})
# pyATS testbed habits -> this format's field (an unknown field's "did you mean", beyond spelling).
PYATS_FIELDS = {"ip": "host"}


def _got(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _port(value: object) -> int:
    # YAML writes ports as integers; %ENV{...} always yields a string, so digit strings are accepted too.
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not 1 <= number <= 65535:
        raise ValueError(f"must be an integer between 1 and 65535 (got {_got(value)})")
    return number


def _seconds(value: object) -> float:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not number > 0 or number != number or number == float("inf"):
        raise ValueError(f"must be a number of seconds greater than 0 (got {_got(value)})")
    return number


_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def is_host(value: str) -> bool:
    """An IP address or an RFC 1123 host name: nothing a shell, a URL or a log line could misread."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    labels = value.split(".")
    return len(value) <= 253 and all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def _host(value: str) -> str:
    _non_empty(value)
    if not is_host(value):
        raise ValueError(f"must be a host name (RFC 1123: letters, digits, '-' and '.') or an IP address "
                         f"(got {_got(value)})")
    return value


def _url(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(f"must not contain control characters or spaces (got {_got(value)})")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"must be an http:// or https:// URL with a host (got {_got(value)})")
    if not is_host(host):
        raise ValueError(f"the host of the URL must be a host name (RFC 1123) or an IP address (got {_got(host)})")
    return value.rstrip("/")


def _host_port(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host.strip("[]"):
        raise ValueError(f"must be host:port, e.g. 127.0.0.1:53 (got {_got(value)})")
    _port(port)
    _host(host[1:-1] if host.startswith("[") and host.endswith("]") else host)
    return value


_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _path(value: str, info: ValidationInfo) -> Path:
    """A file path of the testbed (relative ones against the testbed's directory), checked readable."""
    if not value.strip() or re.search(r"[\x00-\x1f\x7f]", value):
        raise ValueError(f"must be a file path without control characters (got {_got(value)})")
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if (info.context or {}).get("check_files", True):
        if not path.is_file():
            raise ValueError(f"file not found: {path}")
        if not os.access(path, os.R_OK):
            raise ValueError(f"file not readable: {path}")
    return path


def _pem_certificates(path: Path) -> str | None:
    """Why ``path`` is not a PEM bundle with at least one certificate, or None when it is one."""
    try:
        data = path.read_bytes()[: 16 * 1024 * 1024]
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        return f"is not a PEM file of certificates (no readable -----BEGIN CERTIFICATE----- block): {path}"
    return None if certs else f"holds no certificate: {path}"


def _version(value: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+){1,3}(-\d+)?", value):
        raise ValueError(f"must be an AsyncOS version like 13.0.0-392 (got {_got(value)})")
    return value


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _device_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", value):
        raise ValueError("must start with a letter and use only letters, digits, '_', '.' and '-'")
    return value


Port = Annotated[int, BeforeValidator(_port), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, _ENV_STRING]})]
Seconds = Annotated[float, BeforeValidator(_seconds), WithJsonSchema(
    {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, _ENV_STRING]})]
Url = Annotated[str, AfterValidator(_url), WithJsonSchema({"type": "string", "pattern": r"^(https?://|.*%ENV\{)"})]
HostPort = Annotated[str, AfterValidator(_host_port)]
Version = Annotated[str, AfterValidator(_version)]
Text = Annotated[str, AfterValidator(_non_empty)]
Host = Annotated[str, AfterValidator(_host)]
DeviceName = Annotated[str, AfterValidator(_device_name)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credential(_Model):
    """One named credential set (``default``, ...). Fields missing here come from the parent level."""

    username: Text | None = None
    password: str | None = Field(default=None, description="write %ENV{NAME} to keep it out of the file")


_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
              "ssh-ed448")


def _host_key(value: str) -> str:
    """An OpenSSH public key line, ``<type> <base64> [comment]``, whose blob names the same type."""
    parts = value.split()
    try:
        blob = base64.b64decode(parts[1], validate=True) if len(parts) >= 2 else b""
    except ValueError:
        blob = b""
    size = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else 0
    if not parts or parts[0] not in _KEY_TYPES or blob[4:4 + size].decode("ascii", "replace") != parts[0]:
        raise ValueError(f"must be an SSH public key line like 'ssh-ed25519 AAAAC3Nz...' (type one of "
                         f"{', '.join(_KEY_TYPES)}; got {_got(value)})")
    return f"{parts[0]} {parts[1]}"  # the comment is not part of the key


HostKey = Annotated[str, AfterValidator(_host_key)]


class CliConnection(_Model):
    protocol: Literal["ssh"] = "ssh"
    host: Host
    port: Port = 22
    host_keys: list[HostKey] = Field(default_factory=list, description="the appliance's SSH host keys as OpenSSH "
                                     "public key lines; ctrlab testbed trust records them")


class GuiConnection(_Model):
    protocol: Literal["https", "http"] = "https"
    host: Host
    port: Port = 443


class ApiConnection(_Model):
    protocol: Literal["https", "http"] = "https"
    host: Host
    port: Port = 6443


class SmtpConnection(_Model):
    protocol: Literal["smtp", "smtps"] = "smtp"
    host: Host
    port: Port = 25


class Connections(_Model):
    """How the harness reaches one appliance: SSH CLI, web GUI, AsyncOS REST API, SMTP listener."""

    cli: CliConnection | None = None
    gui: GuiConnection | None = None
    api: ApiConnection | None = None
    smtp: SmtpConnection | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Connections:
        if not any((self.cli, self.gui, self.api, self.smtp)):
            raise ValueError("needs at least one of cli, gui, api, smtp")
        return self

    def names(self) -> list[str]:
        return [n for n in ("cli", "gui", "api", "smtp") if getattr(self, n) is not None]

    def endpoints(self) -> dict[str, tuple[str, int]]:
        """(host, port) of each interface given, in the order of :meth:`names`."""
        return {n: (str(getattr(self, n).host), int(getattr(self, n).port)) for n in self.names()}


class Device(_Model):
    """One appliance as scenarios see it (``DeviceInfo`` in the fixtures' terms)."""

    kind: Kind
    model: Text
    version: Version = Field(description="the AsyncOS version the lab expects, e.g. 13.0.0-392 (PRE-5)")
    hostname: Host = Field(description="what SSE lists as the device name")
    credentials: dict[str, Credential] = Field(default_factory=dict)
    connections: Connections

    @model_validator(mode="after")
    def _default_credential_complete(self) -> Device:
        # After inheritance: the default credential must be usable, wherever its parts were written.
        default = self.credentials.get("default")
        for part in ("username", "password"):
            if default is None or getattr(default, part) is None:
                raise ValueError(f"credentials.default has no {part}: set it under this device or under "
                                 "testbed.credentials.default")
        return self

    def credential(self, name: str = "default") -> Credential:
        """A credential set by name, falling back to ``default`` (pyATS semantics)."""
        return self.credentials.get(name) or self.credentials["default"]

    @property
    def username(self) -> str:
        return self.credential().username or ""

    @property
    def password(self) -> str:
        return self.credential().password or ""


class SseRegion(_Model):
    """SSE for one region: the admin API (the simulator, or a tenant's API key), or a pre-made token."""

    admin_url: Url | None = None
    api_key: str | None = None
    token: str | None = Field(default=None, description="a registration token generated in the SSE portal")

    @model_validator(mode="after")
    def _one_way_to_get_tokens(self) -> SseRegion:
        admin = self.admin_url is not None or self.api_key is not None
        if self.token is not None and admin:
            raise ValueError("give either admin_url and api_key (the SSE admin API) or token (a registration "
                             "token made in the portal), not both")
        if self.token is None:
            missing = [f for f in ("admin_url", "api_key") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"needs admin_url and api_key (the SSE admin API) or token (a registration token "
                                 f"made in the portal); missing: {', '.join(missing)}")
        return self


class CtrRegion(_Model):
    """Threat Response for one region: its API, private intelligence, and an API client."""

    base_url: Url
    intel_url: Url
    client_id: Text
    client_secret: str


class Retries(_Model):
    """How the cloud clients retry 5xx and 429 (harness/retries.py)."""

    attempts: int = Field(default=3, ge=0, le=10, description="retries after the first try")
    max_wait_s: Seconds = Field(default=10.0, description="the most one call waits between its tries, in total")


class Cloud(_Model):
    region: Region = Field(description="the region the appliances belong to")
    sse: dict[Region, SseRegion] = Field(default_factory=dict)
    ctr: dict[Region, CtrRegion] = Field(default_factory=dict)
    retries: Retries = Field(default_factory=Retries)

    @field_validator("sse")
    @classmethod
    def _region_has_sse(cls, value: dict[str, SseRegion], info: ValidationInfo) -> dict[str, SseRegion]:
        region = info.data.get("region")
        if region is not None and region not in value:
            raise ValueError(f"no entry for the testbed's region {region!r} (cloud.region)")
        return value


class Network(_Model):
    resolver: HostPort | None = Field(default=None, description="DNS server for the cloud FQDNs, host:port")
    ca_bundle: str | None = Field(default=None, description="CA bundle to verify the cloud and the appliances")
    https_port: Port = 443
    proxy: Url | None = Field(default=None, description="http://user:%ENV{PROXY_PASSWORD}@proxy:3128 (PRE-4)")
    probe_timeout: Seconds = Field(default=1.0, description="real seconds one network-check probe (DNS, TCP, TLS) "
                                                            "waits for an answer: a dropped FQDN costs this much")

    @field_validator("ca_bundle")
    @classmethod
    def _bundle_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        path = _path(value, info)
        if (info.context or {}).get("check_files", True) and (problem := _pem_certificates(path)):
            raise ValueError(problem)
        return str(path)

    @property
    def resolver_address(self) -> tuple[str, int] | None:
        if self.resolver is None:
            return None
        host, _, port = self.resolver.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def proxy_password(self) -> str | None:
        return urlsplit(self.proxy).password if self.proxy else None


class Deadlines(_Model):
    """Real seconds the harness may wait for what the documents call "a few minutes"."""

    cloud_ready: Seconds = Field(default=600.0, description="enable + commit -> the Registration Token field")
    registration: Seconds = Field(default=600.0, description="Register -> Registered")
    deregistration: Seconds = 300.0
    mail_tracked: Seconds = Field(default=120.0, description="a sent message shows in Message Tracking")
    poll_interval: Seconds = 5.0

    @model_validator(mode="after")
    def _interval_fits(self) -> Deadlines:
        name, shortest = min(((n, self.get(n)) for n in self.names()), key=lambda pair: pair[1])
        if self.poll_interval > shortest:
            raise ValueError(f"poll_interval ({self.poll_interval:g} s) is longer than the {name} deadline "
                             f"({shortest:g} s)")
        return self

    @classmethod
    def names(cls) -> list[str]:
        return [n for n in cls.model_fields if n != "poll_interval"]

    def get(self, name: str) -> float:
        if name not in type(self).model_fields:
            raise KeyError(f"no deadline named {name!r} (the testbed has: {', '.join(self.names())})")
        return float(getattr(self, name))


class Simulator(_Model):
    """Written by the simulator lab about itself. Unknown fields are kept, not refused: the lab may
    describe new services of its own before the harness knows them (``model_extra``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    control_url: Url = Field(description="the simulators' control plane (/_sim/...)")
    version: str = "unknown"
    clock_speed: float | None = Field(default=None, gt=0, description="simulated seconds per real second")
    proxy_url: Url | None = Field(default=None, description="the lab's HTTP CONNECT proxy (PRE-4 scenarios)")


class BreakerSettings(_Model):
    """When the run stops because the lab stopped answering (harness/breaker.py)."""

    lab_faults: int = Field(default=3, ge=1, description="scenarios in a row whose lab did not answer")


class TestbedInfo(_Model):
    __test__ = False  # not a pytest test class

    name: str = "unnamed"
    simulator: Simulator | None = None
    credentials: dict[str, Credential] = Field(default_factory=dict)
    known_hosts: str | None = Field(default=None, description="an OpenSSH known_hosts file with the appliances' "
                                    "host keys (relative to the testbed file); ctrlab testbed trust adds to it")

    @field_validator("known_hosts")
    @classmethod
    def _known_hosts_readable(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else str(_path(value, info))


def _inherit_credentials(data: Any) -> Any:
    """testbed.credentials -> devices.<name>.credentials, per credential set and per field (pyATS)."""
    if not isinstance(data, dict):
        return data
    info, devices = data.get("testbed"), data.get("devices")
    parent = info.get("credentials") if isinstance(info, dict) else None
    if not isinstance(parent, dict) or not isinstance(devices, dict):
        return data
    merged_devices: dict[Any, Any] = {}
    for name, device in devices.items():
        if not isinstance(device, dict) or not isinstance(device.get("credentials", {}), dict):
            merged_devices[name] = device
            continue
        own = device.get("credentials") or {}
        merged: dict[Any, Any] = {}
        for cred_name in [*parent, *(k for k in own if k not in parent)]:
            up, mine = parent.get(cred_name), own.get(cred_name)
            if isinstance(up, dict) and isinstance(mine, dict):
                merged[cred_name] = {**up, **{k: v for k, v in mine.items() if v is not None}}
            else:
                merged[cred_name] = mine if cred_name in own else up
        merged_devices[name] = {**device, "credentials": merged}
    return {**data, "devices": merged_devices}


class Testbed(_Model):
    """A whole lab. Load it with :func:`harness.testbed.load_testbed`, which resolves ``%ENV{NAME}``."""

    __test__ = False  # not a pytest test class

    testbed: TestbedInfo = Field(default_factory=TestbedInfo)
    devices: dict[DeviceName, Device] = Field(min_length=1)
    cloud: Cloud
    network: Network = Field(default_factory=Network)
    deadlines: Deadlines = Field(default_factory=Deadlines)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    deviations: dict[str, Any] = Field(default_factory=dict, description="how this lab differs; changes how a "
                                       "check runs, never skips it")

    _source: str = PrivateAttr(default="<testbed>")
    _env_values: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @model_validator(mode="before")
    @classmethod
    def _inherit(cls, data: Any) -> Any:
        return _inherit_credentials(data)

    # ---- what the rest of the harness asks ---------------------------------------------------------
    @property
    def source(self) -> str:
        """The file it was loaded from, as the user named it (for messages)."""
        return self._source

    @property
    def name(self) -> str:
        return self.testbed.name

    @property
    def simulator(self) -> Simulator | None:
        return self.testbed.simulator

    @property
    def is_simulator(self) -> bool:
        """A lab of bundled simulators (it has a control plane) rather than real gear."""
        return self.testbed.simulator is not None

    @property
    def region(self) -> str:
        return self.cloud.region

    def devices_of(self, kind: str) -> list[str]:
        return [name for name, d in self.devices.items() if d.kind == kind]

    def sse_for(self, region: str | None = None) -> SseRegion | None:
        return self.cloud.sse.get(region or self.cloud.region)  # type: ignore[call-overload]

    def ctr_for(self, region: str | None = None) -> CtrRegion | None:
        return self.cloud.ctr.get(region or self.cloud.region)  # type: ignore[call-overload]

    def has_region(self, region: str) -> bool:
        return region in self.cloud.sse

    def with_region(self, region: str) -> Testbed:
        """The same lab with another ``cloud.region`` (``--region``); the cloud must describe that region."""
        from .errors import TestbedError

        if region not in REGIONS:
            raise TestbedError(self._source, [f"cloud.region: must be one of {', '.join(REGIONS)} (got {region!r})"])
        if region not in self.cloud.sse:
            have = ", ".join(self.cloud.sse) or "none"
            raise TestbedError(self._source, [f"cloud.sse: no entry for region {region!r} asked with --region "
                                              f"(the testbed describes: {have})"])
        copy = self.model_copy(update={"cloud": self.cloud.model_copy(update={"region": region})})
        copy._source, copy._env_values = self._source, self._env_values
        return copy

    def secrets(self) -> set[str]:
        """Every value that must never appear in a report, a log or the terminal."""
        found: set[str] = set(self._env_values)
        creds = [*self.testbed.credentials.values(),
                 *(c for d in self.devices.values() for c in d.credentials.values())]
        found.update(c.password for c in creds if c.password)
        for sse in self.cloud.sse.values():
            found.update(v for v in (sse.api_key, sse.token) if v)
        found.update(ctr.client_secret for ctr in self.cloud.ctr.values() if ctr.client_secret)
        if pw := self.network.proxy_password:
            found.add(pw)
        peer = self.deviations.get("cluster_peer")  # a lab appliance's login, free-form under deviations
        if isinstance(peer, dict) and isinstance(peer.get("password"), str) and peer["password"]:
            found.add(peer["password"])
        return found
