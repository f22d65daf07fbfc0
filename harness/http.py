"""The one way the harness speaks HTTP: a ``requests`` session with the lab's rules built in.

* every call has a timeout (``(connect, read)``; a call may pass its own),
* transport faults are retried a bounded number of times, and only faults where the request cannot
  have reached the server (connect errors),
* with a :class:`~harness.retries.RetryPolicy` (the cloud clients give one), 429 and 5xx answers are
  retried as that module describes, honouring ``Retry-After``; a 429 that outlasts the policy raises
  :class:`~harness.errors.RateLimited`, a 5xx that does is returned for the caller to raise; without a
  policy (the GUI driver) no HTTP status is ever retried,
* a transport fault that survives the retries raises :class:`harness.errors.LabUnreachable`
  (:class:`~harness.errors.DriverTimeout` for a read timeout), naming what was unreachable,
* every request and response (redirect hops included) is recorded in a
  :class:`~harness.transcript.Transcript`; HTML pages are shown as their visible text, masked, when read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from .breaker import circuit_opened
from .errors import DriverTimeout, LabUnreachable, RateLimited
from .retries import RetryPolicy, retry_after
from .transcript import MASK, SECRET_NAME, Transcript, mask_body, mask_headers, mask_url, scrub, secret_values

Timeout = float | tuple[float, float]
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
DEFAULT_CONNECT_RETRIES = 2
USER_AGENT = "ctrlab-harness/0.1"
MAX_KEPT_BODY = 512_000  # bytes of a response body a transcript keeps until it is read

def origin(url: str) -> str:
    """``scheme://host:port`` of a URL: what a LabUnreachable names as the endpoint."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


class HttpSession(requests.Session):
    """A ``requests.Session`` with default timeouts, connect-only retries, masking and recording."""

    def __init__(self, what: str, *, verify: bool | str = True, timeout: Timeout = DEFAULT_TIMEOUT,
                 connect_retries: int = DEFAULT_CONNECT_RETRIES, transcript: Transcript | None = None,
                 proxies: Mapping[str, str] | None = None, retry: RetryPolicy | None = None) -> None:
        super().__init__()
        self.what = what
        self.retry = retry
        self._closed = threading.Event()  # interrupts a wait between retries on close()
        self.verify = verify
        self.timeout = timeout
        self.transcript = transcript if transcript is not None else Transcript(what)
        # Why no environment: a stray HTTPS_PROXY or ~/.netrc would silently change what a scenario
        # exercises. A lab that needs a proxy to reach the cloud says so explicitly.
        self.trust_env = False
        if proxies:
            self.proxies.update(proxies)
        self.headers["User-Agent"] = USER_AGENT
        retry = Retry(total=connect_retries, connect=connect_retries, read=0, status=0, other=0, redirect=None,
                      backoff_factor=0.1, backoff_max=2.0, allowed_methods=None, raise_on_status=False,
                      respect_retry_after_header=False)
        adapter = HTTPAdapter(max_retries=retry)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, retry_safe: bool | None = None,
                **kwargs: Any) -> requests.Response:
        """One call; ``retry_safe`` says whether a 5xx to this request may be retried (default: the method
        is idempotent). Only with a retry policy; see the module doc."""
        method_s = method.decode() if isinstance(method, bytes) else method
        url_s = url.decode() if isinstance(url, bytes) else url
        policy = self.retry
        if policy is None:
            return self._exchange(method_s, url_s, *args, **kwargs)
        deadline = time.monotonic() + policy.max_wait_s
        retry = 0
        while True:
            response = self._exchange(method_s, url_s, *args, **kwargs)
            status = response.status_code
            if not policy.retries(method_s, status, retry_safe):
                return response
            left = deadline - time.monotonic()
            asked = retry_after(response.headers, default=-1.0)
            wait = asked if asked >= 0 else policy.backoff(retry, left)
            if retry >= policy.attempts or wait > left or self._closed.is_set():
                if status != 429:
                    return response  # the caller raises its ApiError with the body
                why = (f"the API asked to retry after {asked:.0f}s, beyond this call's {policy.max_wait_s:g}s budget"
                       if asked > left else f"still 429 after {retry + 1} tries within {policy.max_wait_s:g}s")
                raise RateLimited(self.what, method_s, url_s, 429,
                                  f"rate limited: {why} (X-Ratelimit-Org-Limit: "
                                  f"{response.headers.get('X-Ratelimit-Org-Limit', 'n/a')})")
            response.close()
            if self._closed.wait(wait):  # honoured, bounded, and interruptible by close()
                return response
            retry += 1

    def close(self) -> None:
        self._closed.set()
        super().close()

    def _exchange(self, method_s: str, url_s: str, *args: Any, **kwargs: Any) -> requests.Response:
        if (opened := circuit_opened()) is not None:
            raise LabUnreachable(self.what, origin(url_s), f"not tried, the run is stopping: {opened}")
        kwargs.setdefault("timeout", self.timeout)
        started = datetime.now(UTC)
        t0 = time.monotonic()
        try:
            response = super().request(method_s, url_s, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            self._record_failure(method_s, url_s, kwargs, exc, started, time.monotonic() - t0)
            if _is_read_timeout(exc):
                raise DriverTimeout(self.what, origin(url_s), f"no response within the read timeout: {exc}") from exc
            raise LabUnreachable(self.what, origin(url_s), _cause(exc)) from exc
        elapsed = time.monotonic() - t0
        for hop in [*response.history, response]:
            self._record(hop, started, elapsed)
        return response

    # ---- recording ----------------------------------------------------------------------------
    def _record(self, response: requests.Response, started: datetime, elapsed: float) -> None:
        request = response.request
        # Secrets sent or received (credentials, tokens) are learned first, so that an echo of one
        # anywhere in this or a later exchange is masked too.
        self.transcript.add_secret(*secret_values(request.headers, request.body,
                                                  str(request.headers.get("Content-Type", ""))))
        if response._content_consumed:
            self.transcript.add_secret(*secret_values(response.headers, response.content,
                                                      response.headers.get("Content-Type", "")))
        # Rendered when the exchange is read (a report attaches it), not for every request.
        # Kept raw (bounded: about what the 64,000 characters a transcript shows take as HTML).
        body = response.content[:MAX_KEPT_BODY] if response._content_consumed else b""  # never consume a stream
        req_text = partial(render_request, request.method or "", request.url or "", request.headers, request.body)
        resp_text = partial(_render_response, response.status_code, response.reason, response.headers, body)
        ctype = response.headers.get("Content-Type", "")
        page = partial(bytes.decode, body, "utf-8", "replace") if body and "html" in ctype.lower() else ""
        self.transcript.record("http", self.what, origin(request.url or ""), req_text, resp_text, started,
                               elapsed, str(response.status_code), html=page)

    def _record_failure(self, method: str, url: str, kwargs: Mapping[str, Any], exc: Exception,
                        started: datetime, elapsed: float) -> None:
        headers = {**self.headers, **(kwargs.get("headers") or {})}
        req_text = render_request(method, url, headers, None)
        self.transcript.record("http", self.what, origin(url), req_text, "", started, elapsed,
                               f"error: {_cause(exc)}")


def make_session(what: str, **options: Any) -> HttpSession:
    """The shared factory: ``make_session("esa1 GUI", verify=ca_bundle, transcript=t)``."""
    return HttpSession(what, **options)


def _is_read_timeout(exc: BaseException) -> bool:
    """A read timeout, also when urllib3's retry accounting wrapped it into a ConnectionError."""
    if isinstance(exc, requests.ReadTimeout):
        return True
    inner = exc.args[0] if exc.args else None
    return isinstance(getattr(inner, "reason", None), ReadTimeoutError)


def _cause(exc: BaseException) -> str:
    """The innermost useful reason (urllib3 wraps the socket error twice)."""
    text = str(exc)
    inner = exc.args[0] if exc.args else None
    reason = getattr(inner, "reason", None)
    return scrub(f"{type(exc).__name__}: {reason or text}")  # it ends up in exception messages


# Headers every exchange has; they would only bury the ones a reader needs (auth, cookies, types).
BOILERPLATE_HEADERS = frozenset({"user-agent", "accept-encoding", "connection", "content-length", "date", "server",
                                 "keep-alive"})


def _header_lines(headers: Mapping[str, str]) -> list[str]:
    return [f"{k}: {v}" for k, v in mask_headers(dict(headers)).items() if k.lower() not in BOILERPLATE_HEADERS]


def render_request(method: str, url: str, headers: Mapping[str, str], body: bytes | str | None) -> str:
    lines = [f"{method} {mask_url(url)}"]
    lines += _header_lines(headers)
    ctype = str(headers.get("Content-Type", ""))
    if body:
        lines += ["", _body_text(body, ctype)]
    return "\n".join(lines)


def render_response(response: requests.Response) -> str:
    body = response.content if response._content_consumed else b""  # never consume a stream here
    return _render_response(response.status_code, response.reason, response.headers, body)


def _render_response(status: int, reason: str | None, headers: Mapping[str, str], body: bytes) -> str:
    lines = [f"HTTP {status} {reason or ''}".rstrip()]
    lines += _header_lines(headers)
    ctype = headers.get("Content-Type", "")
    if body:
        lines += ["", _body_text(body, ctype)]
    return "\n".join(lines)


def _body_text(body: bytes | str, ctype: str) -> str:
    if "multipart/" in ctype.lower():
        return f"<{len(body)} bytes of {ctype.split(';')[0]}>"
    if "html" in ctype.lower():
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return html_to_text(text)
    return mask_body(body, ctype)


class _TextExtractor(HTMLParser):
    SKIP = frozenset({"script", "style", "head", "title"})
    BREAK = frozenset({"p", "div", "tr", "br", "li", "ul", "h1", "h2", "h3", "h4", "table", "caption", "form",
                       "dt", "dd", "option", "select"})
    INLINE = frozenset({"td", "th", "a", "span", "label", "button", "b", "strong", "em"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag in self.BREAK:
            self.parts.append("\n")
        elif tag == "input":
            a = dict(attrs)
            kind = (a.get("type") or "text").lower()
            if kind == "password":
                self.parts.append(" [password] ")
            elif kind in ("text", "checkbox", "radio", "submit"):
                name = a.get("name") or ""
                value = MASK if SECRET_NAME.search(name) and a.get("value") else a.get("value") or ""
                mark = " [x]" if kind in ("checkbox", "radio") and "checked" in a else ""
                self.parts.append(f" [{name}={value}{mark}] ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BREAK or tag in self.INLINE:
            self.parts.append("\n" if tag in self.BREAK else " ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """What a person sees on a page, roughly: the report shows this instead of raw markup."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
