"""core/lru.py: the one bounded LRU the core's caches keep their values in."""
from __future__ import annotations

import sys
import threading

import pytest

from paperlens.core.lru import LRU

MISS = object()


def test_past_the_bound_the_least_recently_used_go_first():
    kept: LRU[str, int] = LRU(3)
    for n, key in enumerate("abcde"):
        kept.put(key, n)
    assert len(kept) == 3
    assert list(kept) == ["c", "d", "e"]
    assert kept.get("a") is None and kept.get("b") is None
    assert [kept.get(k) for k in "cde"] == [2, 3, 4]


def test_get_is_a_use_and_peek_is_not():
    kept: LRU[str, int] = LRU(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1           # a is now the most recent: b goes next
    kept.put("c", 3)
    assert list(kept) == ["a", "c"]
    assert kept.peek("a") == 1          # a stays the least recent: a goes next
    kept.put("d", 4)
    assert list(kept) == ["c", "d"]


def test_put_replaces_and_makes_the_entry_the_most_recent():
    kept: LRU[str, int] = LRU(2)
    kept.put("a", 1)
    kept.put("b", 2)
    kept.put("a", 10)
    assert len(kept) == 2 and list(kept) == ["b", "a"]
    kept.put("c", 3)
    assert kept.peek("a") == 10 and "b" not in kept


def test_a_kept_none_is_told_from_a_miss_by_the_default():
    kept: LRU[str, object] = LRU(4)
    kept.put("none", None)
    assert "none" in kept and "other" not in kept
    assert kept.get("none", MISS) is None and kept.peek("none", MISS) is None
    assert kept.get("other", MISS) is MISS and kept.peek("other", MISS) is MISS
    assert kept.get("other") is None


def test_falsy_values_are_hits():
    kept: LRU[str, object] = LRU(4)
    for key, value in (("zero", 0.0), ("empty", ()), ("list", [])):
        kept.put(key, value)
        assert kept.get(key, MISS) == value and kept.get(key, MISS) is not MISS


def test_with_a_total_the_sizes_bound_it_too():
    kept: LRU[str, str] = LRU(100, total=10)
    kept.put("a", "x", 4)
    kept.put("b", "y", 4)
    assert kept.size == 8
    kept.put("c", "z", 4)               # 12 > 10: a goes
    assert list(kept) == ["b", "c"] and kept.size == 8
    kept.put("b", "w", 1)               # replaced: its old size no longer counts
    assert list(kept) == ["c", "b"] and kept.size == 5
    kept.put("huge", "h", 11)           # alone past the total: nothing stays
    assert len(kept) == 0 and kept.size == 0


def test_without_a_total_sizes_only_count():
    kept: LRU[str, str] = LRU(2)
    kept.put("a", "x", 1_000_000)
    kept.put("b", "y", 1_000_000)
    assert len(kept) == 2 and kept.size == 2_000_000


def test_clear_forgets_everything():
    kept: LRU[str, int] = LRU(3, total=10)
    kept.put("a", 1, 3)
    kept.put("b", 2, 3)
    kept.clear()
    assert len(kept) == 0 and kept.size == 0 and list(kept) == [] and kept.get("a") is None


def test_iterating_reads_a_copy_of_the_keys():
    kept: LRU[int, int] = LRU(10)
    for n in range(5):
        kept.put(n, n)
    for n in kept:                      # changing it meanwhile raises nothing
        kept.put(n + 100, n)
    assert len(kept) == 10 and list(kept)[-5:] == [100, 101, 102, 103, 104]


def test_it_keeps_at_least_one():
    with pytest.raises(ValueError):
        LRU(0)
    one: LRU[str, int] = LRU(1)
    one.put("a", 1)
    one.put("b", 2)
    assert list(one) == ["b"]


def test_threads_putting_and_getting_at_once_keep_it_bounded_and_its_sizes_exact():
    """Eight threads put, get and peek over the same keys at once (switching threads every
    microsecond): the bound holds, and the size counted is the sum of the sizes kept."""
    kept: LRU[int, int] = LRU(50, total=400)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            start.wait()
            for n in range(3000):
                key = (n * 7 + seed * 13) % 120
                kept.put(key, key, 1 + key % 9)
                kept.get((key + seed) % 120)
                kept.peek((key + 2 * seed) % 120)
                if n % 500 == seed:
                    kept.clear()
        except BaseException as e:       # an error in a thread fails the test
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    keys = list(kept)
    assert 0 < len(keys) <= 50
    assert kept.size == sum(1 + k % 9 for k in keys) <= 400
    assert all(kept.peek(k) == k for k in keys)
