"""pytest plugin of ``bench/suite.py``: when this process began its first scenario and ended its last.

Loaded with ``-p phase_clock`` (``bench/plugins/`` on ``PYTHONPATH``) in the serial run and in every xdist worker. Each
process that ran a scenario appends one JSON line to ``$CTRLAB_BENCH_PHASES``: ``time.monotonic()`` (the
system's monotonic clock, the same in every process, and the one the benchmark reads when it starts pytest)
at the start of its first scenario's setup and at the end of its last scenario's teardown.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator

import pytest

PHASES_ENV = "CTRLAB_BENCH_PHASES"
_spans: list[float] = []  # [first start, last end] once a scenario has run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    started = time.monotonic()
    yield
    if not _spans:
        _spans.extend((started, started))
    _spans[1] = time.monotonic()


def pytest_unconfigure(config: pytest.Config) -> None:
    path = os.environ.get(PHASES_ENV)
    if path and _spans:
        line = json.dumps({"first": _spans[0], "last": _spans[1]})
        with open(path, "a", encoding="utf-8") as out:  # one short append per process: lines do not interleave
            out.write(line + "\n")
