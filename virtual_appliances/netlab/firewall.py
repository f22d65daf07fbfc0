"""The firewall between the appliances and the cloud: a policy per (FQDN, port).

- allow: the site listens (default).
- reject: the site's listener is closed, so the kernel answers a SYN with RST ("connection refused").
- drop: nothing answers. With a kernel firewall (root + nftables) a real rule drops the packets and
  a connect times out. Without one, a black-hole listener accepts the TCP connection and never says
  a word: the closest userspace approximation, where the TCP handshake completes and the client times
  out on its TLS handshake instead of on connect.
"""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum
from typing import Any

from .listeners import BlackHole, Listener
from .nft import NftDropRules

log = logging.getLogger("virtual_appliances.netlab")


class Action(StrEnum):
    ALLOW = "allow"
    REJECT = "reject"
    DROP = "drop"


class Firewall:
    def __init__(self, loop: asyncio.AbstractEventLoop, addresses: dict[str, str], https_port: int,
                 sites: dict[str, Listener], kernel: NftDropRules | None) -> None:
        self._loop = loop
        self._addresses = addresses
        self._https_port = https_port
        self._sites = sites
        self.kernel = kernel
        self._policy: dict[tuple[str, int], Action] = {}
        self._holes: dict[tuple[str, int], Listener] = {}
        # Connections each black hole swallowed; aborted when the hole closes, since on a real
        # network they would have stayed unanswered rather than reach the site.
        self._swallowed: dict[tuple[str, int], set[asyncio.Transport]] = {}

    @property
    def drop_mode(self) -> str:
        return "nftables" if self.kernel is not None else "emulated"

    def action(self, fqdn: str, port: int) -> Action:
        return self._policy.get((fqdn, port), Action.ALLOW)

    def set(self, fqdn: str, port: int, action: Action) -> None:
        """Put the policy in force before returning (listeners and kernel rules alike)."""
        key = (fqdn, port)
        previous = self.action(fqdn, port)
        if action is Action.ALLOW:
            self._policy.pop(key, None)
        else:
            self._policy[key] = action
        try:
            self._enforce(fqdn, port)
        except Exception:
            self._restore(key, previous)
            try:
                self._enforce(fqdn, port)
            except Exception as exc:  # report the first failure, not this one
                log.error("firewall: could not restore %s:%s: %s", fqdn, port, exc)
            raise

    def reset(self) -> None:
        changed = list(self._policy)
        self._policy.clear()
        for fqdn, port in changed:
            self._enforce(fqdn, port, kernel=False)
        if self.kernel is not None:
            self.kernel.remove()

    def drops(self, fqdn: str) -> bool:
        """Whether a rule drops traffic to ``fqdn`` (on any port): a client of it waits in vain."""
        return any(action is Action.DROP for (name, _port), action in self._policy.items() if name == fqdn)

    def rules(self) -> list[dict[str, Any]]:
        return [{"fqdn": f, "port": p, "action": str(a)} for (f, p), a in sorted(self._policy.items())]

    async def aclose(self) -> None:
        for key, hole in list(self._holes.items()):
            await hole.aclose()
            self._close_hole(key)
        if self.kernel is not None:
            self.kernel.remove()

    def _close_hole(self, key: tuple[str, int]) -> None:
        hole = self._holes.pop(key, None)
        if hole is not None:
            hole.close()
        for transport in list(self._swallowed.pop(key, set())):
            transport.abort()

    def _restore(self, key: tuple[str, int], previous: Action) -> None:
        if previous is Action.ALLOW:
            self._policy.pop(key, None)
        else:
            self._policy[key] = previous

    def _enforce(self, fqdn: str, port: int, kernel: bool = True) -> None:
        action = self.action(fqdn, port)
        site = self._sites.get(fqdn) if port == self._https_port else None
        emulate_drop = action is Action.DROP and self.kernel is None
        # Close before opening: the black hole and the site share address:port.
        hole = self._holes.get((fqdn, port))
        if hole is not None and not emulate_drop:
            self._close_hole((fqdn, port))
        if site is not None and (action is Action.REJECT or emulate_drop):
            site.close()
        if emulate_drop and (fqdn, port) not in self._holes:
            swallowed = self._swallowed.setdefault((fqdn, port), set())
            hole = Listener(self._loop, self._addresses[fqdn], port, lambda: BlackHole(swallowed))
            hole.open()
            self._holes[(fqdn, port)] = hole
        if site is not None and action is not Action.REJECT and not emulate_drop:
            site.open()
        if kernel and self.kernel is not None:
            self.kernel.apply(
                (self._addresses[f], p) for (f, p), a in self._policy.items() if a is Action.DROP)
