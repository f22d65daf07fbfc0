"""Bounded retries of HTTP answers that say "not now": 5xx and 429.

The policy (``cloud.retries`` in the testbed, docs/testbed.md):

* ``attempts``: retries after the first try (3: at most four requests per call);
* ``max_wait_s``: the most one call spends waiting between its tries, in total. A ``Retry-After`` that
  asks for more than what is left is not waited out: the call gives up at once, saying what was asked.

Waits are exponential backoff with full jitter (``uniform(0, min(left, base * 2**n))``) unless the
server said how long (``Retry-After``, seconds or an HTTP date), which is honoured as given.

Which requests are retried: 429 always (the server refused the request before acting on it); 5xx only
for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE) and for POSTs the caller marks safe (a read
such as IROH's inspect/enrich, a token grant); a POST that creates something or runs an action is not
repeated after a 5xx, since the server may have acted on it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_ATTEMPTS = 3
DEFAULT_MAX_WAIT_S = 10.0
DEFAULT_BASE_S = 0.25


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = DEFAULT_ATTEMPTS
    max_wait_s: float = DEFAULT_MAX_WAIT_S
    base_s: float = DEFAULT_BASE_S  # the first backoff's ceiling; doubles per retry

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | Any | None) -> RetryPolicy:
        """From a testbed's ``cloud.retries`` (a mapping or the model object); defaults for what is missing."""
        if config is None:
            return cls()
        get = config.get if isinstance(config, Mapping) else (lambda k, d=None: getattr(config, k, d))
        return cls(attempts=int(get("attempts", DEFAULT_ATTEMPTS)),
                   max_wait_s=float(get("max_wait_s", DEFAULT_MAX_WAIT_S)),
                   base_s=float(get("base_s", DEFAULT_BASE_S)))

    def retries(self, method: str, status: int, safe: bool | None = None) -> bool:
        """Whether an answer ``status`` to ``method`` may be retried at all (see the module doc)."""
        if status == 429:
            return True
        if status not in RETRIED_STATUSES:
            return False
        return safe if safe is not None else method.upper() in IDEMPOTENT

    def backoff(self, retry: int, left: float, rng: Callable[[float, float], float] = random.uniform) -> float:
        """Full jitter: a random wait in [0, min(left, base * 2**retry)]."""
        return rng(0.0, max(0.0, min(left, self.base_s * 2.0**retry)))


def retry_after(headers: Mapping[str, str], default: float, now: Callable[[], datetime] | None = None) -> float:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP date), else ``default``.

    An HTTP date is read against this host's clock: a server clock ahead of ours asks for a longer wait,
    which the caller's ``max_wait_s`` bounds.
    """
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or (lambda: datetime.now(UTC)))()).total_seconds())


_default = RetryPolicy()


def configure_default(policy: RetryPolicy) -> None:
    """The policy of clients built without one: the plugin sets the testbed's ``cloud.retries`` here
    when the lab is provisioned, so every cloud client of the session follows the testbed."""
    global _default
    _default = policy


def default_policy() -> RetryPolicy:
    return _default
