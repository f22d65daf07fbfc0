"""``GET /iroh/profile/whoami``: who the token belongs to (the threatresponse client's ``profile.whoami``).

The real body is not published; this one carries the user, the organisation and the granted scopes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .gate import caller, requires
from .modules import ORG_NAME

if TYPE_CHECKING:
    from .cloud import CTRCloud


class ProfileApi:
    def __init__(self, ctr: CTRCloud, region: str) -> None:
        self.ctr = ctr
        self.region = region

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/iroh/profile/whoami", self.whoami)]

    @requires("profile:read")
    async def whoami(self, request: web.Request) -> web.Response:
        who = caller(request)
        client = self.ctr.region_state(self.region).clients.get(who.client_id)
        return web.json_response({
            "user": {"user-id": who.user_id, "user-name": client.name if client else "", "org-id": who.org_id,
                     "role": "admin", "scopes": who.scopes, "client-id": who.client_id},
            "org": {"id": who.org_id, "name": f"{ORG_NAME} {self.region.upper()}", "region": self.region},
        })
