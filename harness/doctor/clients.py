"""The drivers the doctor reads through: the harness's one driver factory (:mod:`harness.drivers`), with
a cloud region the testbed does not describe answered by None (the doctor reports it as "cannot check")."""

from __future__ import annotations

from ..cloud import SseAdmin, ThreatResponseClient
from ..drivers import Drivers, MissingConnection
from ..testbed import Testbed

__all__ = ["Clients", "MissingConnection"]


class Clients(Drivers):
    def __init__(self, testbed: Testbed, timeout: float) -> None:
        super().__init__(testbed, connect_timeout=max(timeout, 5.0), read_timeout=max(timeout, 10.0),
                         connect_attempts=2)
        self.timeout = timeout  # seconds per connection attempt / HTTP read

    def sse(self, region: str | None = None) -> SseAdmin | None:  # type: ignore[override]
        """The region's SSE admin API, or None when the testbed only holds a hand-made token."""
        region = region or self.testbed.region
        return super().sse(region) if self.has_sse_admin(region) else None

    def ctr(self, region: str | None = None) -> ThreatResponseClient | None:  # type: ignore[override]
        region = region or self.testbed.region
        return super().ctr(region) if self.testbed.ctr_for(region) is not None else None
