"""``POST /iroh/oauth2/token``: OAuth2 client credentials (ctr-api.md section 2).

HTTP Basic ``client_id:client_password`` and the form ``grant_type=client_credentials``; the JSON body
variant of the SX docs (``client_id``, ``client_password``, ``grant_type``) is accepted as well.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from aiohttp import web

from .gate import public
from .oauth import TOKEN_LIFETIME_S, basic_credentials, oauth_error

if TYPE_CHECKING:
    from .cloud import CTRCloud


class TokenApi:
    def __init__(self, ctr: CTRCloud, region: str) -> None:
        self.ctr = ctr
        self.region = region

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/iroh/oauth2/token", self.token)]

    @public
    async def token(self, request: web.Request) -> web.Response:
        form: dict[str, str] = {}
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                form = {k: v for k, v in body.items() if isinstance(v, str)}
        else:
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        credentials = basic_credentials(request)
        if credentials is None and form.get("client_id"):
            credentials = (form["client_id"], form.get("client_password") or form.get("client_secret") or "")
        if credentials is None:
            raise oauth_error(401, "invalid_client", "Client authentication failed: send HTTP Basic "
                                                     "client_id:client_password.")
        client_id, secret = credentials
        self.ctr.redactor.add(secret)
        state = self.ctr.region_state(self.region)
        client = state.clients.get(client_id)
        # A client of another region is unknown here, as on the real regional token URLs.
        if client is None or not hmac.compare_digest(secret.encode(), client.secret.encode()):
            raise oauth_error(401, "invalid_client", "Client authentication failed: unknown client or wrong "
                                                     "client password.")
        grant = form.get("grant_type")
        if not grant:
            raise oauth_error(400, "invalid_request", "grant_type is required: grant_type=client_credentials")
        if grant != "client_credentials":
            raise oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported; "
                                                             "use client_credentials")
        granted = list(client.scopes)
        if form.get("scope"):
            wanted = form["scope"].split()
            extra = [s for s in wanted if s not in client.scopes]
            if extra:
                raise oauth_error(400, "invalid_scope", f"The client has no scope {extra[0]!r}")
            granted = wanted
        token = state.authority.issue(client, granted, self.ctr.clock.now().timestamp())
        self.ctr.redactor.add(token)
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME_S,
                                  "scope": " ".join(granted)},
                                 headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
