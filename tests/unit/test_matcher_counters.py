"""The matcher's counting of the common words an entry holds for every library title at once
(counters kept as bits of big integers): the titles it finds are those counting every title's
words one by one finds, long titles (needing more words than a counter holds) included."""
from __future__ import annotations

import random

from paperlens.core.references import LibraryEntry, ReferenceMatcher
from paperlens.core.references import matcher as matcher_module
from paperlens.core.references.matcher import COUNTER_BITS, _add_bit_sets, _bit_set, _bits_of
from test_reference_matching import every_title


def test_bit_sets_and_their_bits():
    members = [0, 7, 8, 9, 255, 1000, 16607]
    n = _bit_set(members, 16608)
    assert n == sum(1 << k for k in members)
    assert _bits_of(n) == members[::-1]
    assert _bits_of(0) == []


def test_counters_flag_the_titles_reaching_their_top_bit():
    """Counters starting at 5, 0 and 15 (4 bits): the top bit is set once 11, 16 and 1 sets
    held them, and stays set."""
    starts = [5, 0, 15]
    counters = tuple(_bit_set([k for k, v in enumerate(starts) if v >> b & 1], 3) for b in range(4)) + (0,)
    every = _bit_set([0, 1, 2], 3)
    for n in range(1, 20):
        top = _add_bit_sets(counters, [every] * n)
        assert sorted(_bits_of(top)) == [k for k, v in enumerate(starts) if v + n >= 16]


def test_counting_finds_every_title_mostly_held_long_titles_too(monkeypatch):
    rng = random.Random(11)
    common = [f"word{i}" for i in range(40)]
    lib = [LibraryEntry(f"t{i}", " ".join(rng.sample(common, rng.randint(1, 12)))) for i in range(800)]
    # titles needing more words than a counter counts (2**COUNTER_BITS), all of common words
    lib += [LibraryEntry(f"long{n}", " ".join(common[:n])) for n in (22, 23, 30, 40)]
    m = ReferenceMatcher(lib, candidates=10 ** 6)     # every title found, not the 25 most covered
    assert max(m._needs) > 1 << COUNTER_BITS
    monkeypatch.setattr(matcher_module, "LANE_RATIO", 10 ** 9)     # always counted
    m._before_other = 0

    queries = [frozenset(common[:n]) for n in range(14, 41)]
    queries += [frozenset(rng.sample(common, rng.randint(1, 40))) for _ in range(300)]
    longs = {k for k, t in enumerate(m._titles) if m.entries[t.paper].id.startswith("long")}
    found_long = False
    for held in queries:
        got = m._find_candidates(held & m._title_words)
        assert got == every_title(m, held & m._title_words)
        found_long = found_long or bool(longs & set(got))
    assert m._lanes is not None and found_long
