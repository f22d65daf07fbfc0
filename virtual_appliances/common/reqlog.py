"""A bounded, redacted log of what each simulator was asked, served by the control plane."""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .redact import Redactor

log = logging.getLogger("virtual_appliances")


class RequestLog:
    def __init__(self, redactor: Redactor, limit: int = 5000) -> None:
        self.redactor = redactor
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._seq = itertools.count(1)

    def record(self, service: str, **fields: Any) -> None:
        entry = {"seq": next(self._seq), "time": time.time(), "service": service}
        entry.update(self.redactor.data(fields))
        self._entries.append(entry)
        log.debug("%s %s", service, {k: v for k, v in entry.items() if k not in ("seq", "time")})

    def entries(self, since: int = 0, service: str | None = None) -> list[dict[str, Any]]:
        return [
            e for e in self._entries
            if e["seq"] > since and (service is None or e["service"].startswith(service))
        ]

    def clear(self) -> None:
        self._entries.clear()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def logging_middleware(service: str, reqlog: RequestLog) -> Callable[..., Awaitable[web.StreamResponse]]:
    """aiohttp middleware that records method, path, query and status of every request, redacted."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.monotonic()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            reqlog.record(
                service,
                method=request.method,
                path=request.path,
                query=dict(request.query),
                status=status,
                ms=round((time.monotonic() - started) * 1000, 1),
            )

    return middleware
