"""--shard I/N: every scenario in exactly one shard, shards balanced, bad values refused in one line."""

from __future__ import annotations

import pytest

from harness.sharding import parse_shard, shard_of

pytest_plugins = ["pytester"]


def test_shards_partition_the_items_and_differ_by_at_most_one() -> None:
    ids = [f"features/x.feature::scenario_{i}" for i in range(205)]
    shards = [shard_of(ids, i, 4) for i in range(1, 5)]
    assert set().union(*shards) == set(ids)
    assert sum(len(s) for s in shards) == len(ids)  # disjoint
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


@pytest.mark.parametrize("text", ["0/2", "3/2", "a/b", "1", "1/0"])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(pytest.UsageError, match="--shard must be I/N"):
        parse_shard(text)


def test_shard_option_selects_a_shard(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_many="\n".join(f"def test_{i}(): pass" for i in range(7)))
    counts = []
    for index in (1, 2, 3):
        result = pytester.runpytest("-p", "no:cacheprovider", "--shard", f"{index}/3", "-q",
                                    "--alluredir", str(pytester.path / f"allure-{index}"))
        counts.append(result.parseoutcomes().get("passed", 0))
    assert counts == [3, 2, 2]
