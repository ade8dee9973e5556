"""Library._folded_keys (completion by key prefix while word indexes are built): updated after a
change of a few keys, it is the list folded and sorted from scratch."""
from __future__ import annotations

import random

from paperlens.core.index.table import fold
from paperlens.core.library import Library


def test_folded_keys_after_small_changes_are_the_full_sort(tmp_path):
    lib = Library([], str(tmp_path / "ix"))
    rnd = random.Random(3)
    words = ["smith", "Śmith", "muller", "Müller", "zhang", "ángel", "o'neil", "lee"]
    keys = frozenset(f"{rnd.choice(words)}{rnd.randint(1990, 2024)}{rnd.choice('abcxyz')}" for _ in range(300))
    assert lib._folded_keys(keys) == sorted((fold(k), k) for k in keys)
    for step in range(20):
        gone = set(rnd.sample(sorted(keys), rnd.randint(0, 3)))
        new = {f"{rnd.choice(words)}{2030 + step}{c}" for c in rnd.sample("abcdef", rnd.randint(0, 3))}
        keys = frozenset((keys - gone) | new)
        assert lib._folded_keys(keys) == sorted((fold(k), k) for k in keys)
    lib.close()
