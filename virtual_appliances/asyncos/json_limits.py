"""Bounded JSON request bodies for the REST API: a size cap and a nesting-depth cap, checked before
``json.loads`` so a hostile body (100,000 nested brackets) is a 400 that names the limit, never a
RecursionError and a 500 (issue 15)."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

MAX_BODY_BYTES = 1024 * 1024  # as aiohttp's default; the API's bodies (login, remediation) are far smaller
MAX_JSON_DEPTH = 64
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)  # brackets inside strings are text
_BRACKET = re.compile(rb"[\[\]{}]")


class BodyLimitError(ValueError):
    """The body breaks a limit; ``str(exc)`` names it."""


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise BodyLimitError(f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(65536):
        size += len(chunk)
        if size > limit:
            raise BodyLimitError(f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def check_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                raise BodyLimitError(f"The JSON nesting of the request body is deeper than {limit} levels.")
        else:
            depth -= 1


async def read_json(request: web.Request) -> Any:
    """The body as JSON. ``BodyLimitError`` for a broken limit, ``ValueError`` for anything not JSON."""
    body = await read_body(request)
    check_depth(body)
    return json.loads(body)
