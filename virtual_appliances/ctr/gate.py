"""The checks in front of every IROH and private intel route: faults, bearer JWT, rate limit, scopes.

Handlers declare what they need with ``@requires("inspect:read")`` (any of the listed scopes) or
``@public`` (the token endpoint); a route without a declaration needs a valid token and no scope.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from . import errors, scopes
from .oauth import Principal, principal

if TYPE_CHECKING:
    from .cloud import CTRCloud

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
F = TypeVar("F", bound=Callable[..., Any])
PRINCIPAL = web.RequestKey("ctr.principal", Principal)
IROH_VERSION = "1.0.107"


def requires(*required: str) -> Callable[[F], F]:
    def mark(handler: F) -> F:
        handler.required_scopes = list(required)  # type: ignore[attr-defined]
        return handler
    return mark


def public(handler: F) -> F:
    handler.public = True  # type: ignore[attr-defined]
    return handler


def caller(request: web.Request) -> Principal:
    return request[PRINCIPAL]


class Gate:
    def __init__(self, ctr: CTRCloud, region: str) -> None:
        self.ctr = ctr
        self.region = region

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        state = self.ctr.region_state(self.region)
        if state.faults.api_status is not None:
            raise errors.injected(state.faults.api_status)
        route_handler = request.match_info.route.handler
        if getattr(route_handler, "public", False) or request.match_info.http_exception is not None:
            return await handler(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise errors.unauthorized("invalid_request", errors.NO_JWT)
        self.ctr.redactor.add(token)
        now = self.ctr.clock.now()
        who = principal(state.authority.verify(token, now.timestamp()))
        if who.client_id not in state.clients:
            raise errors.unauthorized("invalid_token", "The API client of this JWT no longer exists.")
        retry_after = state.rate.hit(now)
        if retry_after is not None:
            # Retry-After tells the client how long to wait on its own (wall) clock.
            raise errors.too_many_requests(max(1, math.ceil(self.ctr.clock.real_seconds(retry_after))))
        required = getattr(route_handler, "required_scopes", [])
        if not scopes.allowed(who.scopes, required):
            raise errors.forbidden(required, who.scopes, who.user_id, who.org_id)
        request[PRINCIPAL] = who
        return await handler(request)

    async def add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """on_response_prepare: the rate limit header on every response (ctr-api.md section 2)."""
        response.headers["X-Ratelimit-Org-Limit"] = str(self.ctr.region_state(self.region).rate.limit)
        response.headers["X-Iroh-Version"] = IROH_VERSION
