"""GUI sessions: created at a successful login only, kept in a bounded store that expires lazily.

The login form still needs an anti-CSRF key before anyone has logged in. It is stateless: an HMAC of a
timestamp and a nonce, sent both as a cookie and in the form (double submit), so an anonymous visitor
costs the appliance nothing to remember (issue 15: every anonymous /login used to store a session).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

SESSION_COOKIE = "sid"
LOGIN_KEY_COOKIE = "login_csrf"
IDLE_TIMEOUT_S = 30 * 60  # the default GUI session timeout; real seconds, so advancing the lab clock keeps you in
MAX_SESSIONS = 256  # logged-in sessions kept at once; beyond, the least recently used is logged out

Now = Callable[[], float]


@dataclass
class Session:
    sid: str
    csrf: str  # the CSRFKey every POST of this session must carry
    username: str
    last_seen: float
    flashes: list[tuple[str, str]] = field(default_factory=list)

    def flash(self, kind: str, text: str) -> None:
        self.flashes.append((kind, text))

    def take_flashes(self) -> list[tuple[str, str]]:
        out, self.flashes = self.flashes, []
        return out


SESSION = web.RequestKey("session", Session)  # the caller's session; absent for anonymous callers


class SessionStore:
    """Logged-in sessions, least recently used first: expiry pops from the front and stops at the first
    live one, so no request scans the whole store; the size is capped."""

    def __init__(self, idle_s: float = IDLE_TIMEOUT_S, limit: int = MAX_SESSIONS, now: Now = time.monotonic) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._idle_s = idle_s
        self._limit = limit
        self._now = now

    def __len__(self) -> int:
        return len(self._sessions)

    def new(self, username: str) -> Session:
        self._expire()
        while len(self._sessions) >= self._limit:
            self._sessions.popitem(last=False)
        session = Session(sid=secrets.token_urlsafe(24), csrf=secrets.token_hex(16), username=username,
                          last_seen=self._now())
        self._sessions[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        self._expire()
        session = self._sessions.get(sid or "")
        if session is None:
            return None
        session.last_seen = self._now()
        self._sessions.move_to_end(session.sid)
        return session

    def drop(self, sid: str) -> None:
        self._sessions.pop(sid, None)

    def _expire(self) -> None:
        cutoff = self._now() - self._idle_s
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if oldest.last_seen >= cutoff:
                return
            del self._sessions[oldest.sid]


class LoginKeys:
    """The login form's CSRFKey without server state: ``<issued>.<nonce>.<hmac>``, valid for the idle time."""

    def __init__(self, lifetime_s: float = IDLE_TIMEOUT_S, now: Now = time.time) -> None:
        self._secret = secrets.token_bytes(32)
        self._lifetime_s = lifetime_s
        self._now = now

    def _sign(self, head: str) -> str:
        return hmac.new(self._secret, head.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        head = f"{int(self._now())}.{secrets.token_hex(8)}"
        return f"{head}.{self._sign(head)}"

    def valid(self, key: str) -> bool:
        head, _, signature = key.rpartition(".")
        issued = head.partition(".")[0]
        if not (head and issued.isdigit() and hmac.compare_digest(signature, self._sign(head))):
            return False
        return 0 <= self._now() - int(issued) <= self._lifetime_s


def set_cookie(response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", httponly=True, secure=True, samesite="Lax")
