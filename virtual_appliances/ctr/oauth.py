"""API clients, OAuth2 client credentials and the access tokens (JWTs) of one region's IROH.

Tokens are HS256 JWTs signed with a key of the region, so a token of another region fails to verify
there, as a real regional token does. Expiry (600 s) is checked against the simulated clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import errors

TOKEN_LIFETIME_S = 600  # ctr-api.md section 2: "expires_in":600
CLAIMS = "https://schemas.cisco.com/iroh/identity/claims"
ISSUERS = {"nam": "IROH Auth NAM", "eu": "IROH Auth EU", "apjc": "IROH Auth APJC"}


@dataclass
class ApiClient:
    client_id: str
    secret: str = field(repr=False)
    name: str
    scopes: list[str]
    user_id: str
    created: str

    def public(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "name": self.name, "scopes": list(self.scopes),
                "user_id": self.user_id, "created": self.created}


@dataclass
class Principal:
    """Who is calling, from a verified access token."""

    client_id: str
    user_id: str
    org_id: str
    scopes: list[str]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuthority:
    """Issues and verifies the region's access tokens."""

    def __init__(self, region: str, org_id: str) -> None:
        self.region = region
        self.issuer = ISSUERS.get(region, f"IROH Auth {region.upper()}")
        self.org_id = org_id
        self.rotate()

    def rotate(self) -> None:
        """A new signing key: every token issued so far stops verifying (a 401 on a 'valid' JWT)."""
        self._key = secrets.token_bytes(32)

    def _sign(self, signing_input: str) -> str:
        return _b64url(hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest())

    def issue(self, client: ApiClient, scopes: list[str], now_s: float) -> str:
        now = int(now_s)
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": self.region}).encode())
        claims = {
            "iss": self.issuer, "sub": client.user_id, "jti": f"jti-{uuid.uuid4()}",
            "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME_S,
            f"{CLAIMS}/version": "v1.2",
            f"{CLAIMS}/user/id": client.user_id,
            f"{CLAIMS}/org/id": self.org_id,
            f"{CLAIMS}/oauth/client/id": client.client_id,
            f"{CLAIMS}/oauth/kind": "client-credentials",
            f"{CLAIMS}/scopes": list(scopes),
        }
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{payload}.{self._sign(f'{header}.{payload}')}"

    def verify(self, token: str, now_s: float) -> dict[str, Any]:
        """The claims of a token this region issued and that is still valid, else a 401."""
        try:
            header_b64, payload_b64, signature = token.split(".")
            claims = json.loads(_b64url_decode(payload_b64))
        except (ValueError, binascii.Error):
            raise errors.unauthorized("invalid_token", "The JWT is malformed.") from None
        if not isinstance(claims, dict):
            raise errors.unauthorized("invalid_token", "The JWT is malformed.")
        if not hmac.compare_digest(signature, self._sign(f"{header_b64}.{payload_b64}")):
            issuer = claims.get("iss")
            if isinstance(issuer, str) and issuer != self.issuer:
                # A token of another region: say so, it is the usual cause (TS-2, wrong cloud).
                raise errors.unauthorized("invalid_token", f"The JWT was issued by {issuer!r}, not by "
                                                           f"{self.issuer!r}: use the token URL of this region.")
            raise errors.unauthorized("invalid_token", "The JWT signature is not valid.")
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= now_s:
            raise errors.unauthorized("invalid_token", "The JWT has expired; request a new access token.")
        return claims


def principal(claims: dict[str, Any]) -> Principal:
    return Principal(client_id=str(claims.get(f"{CLAIMS}/oauth/client/id", "")),
                     user_id=str(claims.get(f"{CLAIMS}/user/id", "")),
                     org_id=str(claims.get(f"{CLAIMS}/org/id", "")),
                     scopes=[str(s) for s in claims.get(f"{CLAIMS}/scopes", [])])


def basic_credentials(request: web.Request) -> tuple[str, str] | None:
    """``(client_id, client_password)`` from HTTP Basic, or None."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (client_id, password) if sep else None
    return None


def oauth_error(status: int, error: str, description: str) -> web.HTTPException:
    """RFC 6749 section 5.2 shape; IROH's own token error body is not published (inferred)."""
    headers = {"WWW-Authenticate": 'Basic realm="IROH Auth"'} if status == 401 else None
    return errors.http_error(status, {"error": error, "error_description": description}, headers=headers)
