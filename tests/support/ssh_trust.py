"""Host keys for tests that start their own SSH servers: the drivers verify every host key, so a test
names the key its server presents (or, for a throw-away guest it just booted, fetches it first)."""

from __future__ import annotations

import asyncssh

from harness.trust import HostTrust


def trusting(key: asyncssh.SSHKey, port: int, name: str = "appliance", host: str = "127.0.0.1") -> HostTrust:
    """The trust for a server whose host key the test generated itself."""
    line = " ".join(key.export_public_key("openssh").decode().split()[:2])
    return HostTrust(name, host, port, (line,))


def fetched(port: int, name: str = "appliance", host: str = "127.0.0.1") -> HostTrust:
    """Trust on first use, for a guest the test itself booted moments ago on loopback."""
    from harness.testbed.trust_cmd import fetch_host_key

    return HostTrust(name, host, port, (fetch_host_key(host, port),))


def from_testbed_dict(conn: dict[str, object], name: str) -> HostTrust:
    """The trust a simulator lab wrote into its testbed (``connections.cli``, as a parsed YAML dict)."""
    keys = conn.get("host_keys") or []
    assert isinstance(keys, list) and keys, f"the testbed records no host key for {name}"
    return HostTrust(name, str(conn["host"]), int(str(conn["port"])), tuple(str(k) for k in keys))
