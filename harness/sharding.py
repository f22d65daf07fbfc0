"""``--shard I/N``: run the I-th of N shards of the collected scenarios, for CI runners that each run one shard
against their own lab; one job then merges their Allure results into one report (docs/harness.md).

The split is round-robin over the items sorted by node id, after ``-k``/``-m`` deselection, so shards differ
by at most one item and every item lands in exactly one shard whatever the machine or the worker count.
"""

from __future__ import annotations

import re

import pytest

_SHARD = re.compile(r"(\d+)/(\d+)")


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> (2, 4); one-based, ``1 <= I <= N``."""
    m = _SHARD.fullmatch(text.strip())
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise pytest.UsageError(f"--shard must be I/N with 1 <= I <= N, e.g. --shard 2/4 (got {text!r})")
    return int(m.group(1)), int(m.group(2))


def shard_of(node_ids: list[str], index: int, count: int) -> set[str]:
    """The node ids of shard ``index`` of ``count``."""
    return {nid for position, nid in enumerate(sorted(node_ids)) if position % count == index - 1}


@pytest.hookimpl(trylast=True)  # after -k / -m deselection, so shards split what would run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    text = config.getoption("ctrlab_shard", None)
    if not text:
        return
    index, count = parse_shard(text)
    keep = shard_of([i.nodeid for i in items], index, count)
    deselected = [i for i in items if i.nodeid not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [i for i in items if i.nodeid in keep]
