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


def test_counters_of_any_width_add_as_numbers():
    """Counters of 2 to 5 bits (4, the matcher's, has a path of its own) starting anywhere: the
    top bit of each after adding random sets is whether start + the sets holding it reached
    2**bits, set once and for good."""
    rng = random.Random(5)
    size = 70
    for bits in (2, 3, 4, 5):
        for _ in range(40):
            starts = [rng.randrange(1 << bits) for _ in range(size)]
            counters = tuple(_bit_set([k for k, v in enumerate(starts) if v >> b & 1], size)
                             for b in range(bits)) + (0,)
            sets = [[k for k in range(size) if rng.random() < 0.4] for _ in range(rng.randint(1, 40))]
            top = _add_bit_sets(counters, [_bit_set(s, size) for s in sets])
            held = [sum(k in s for s in sets) for k in range(size)]
            assert sorted(_bits_of(top)) == [k for k in range(size) if starts[k] + held[k] >= 1 << bits]


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

    # a title field's candidates: all of them, in no order, when there are 25 at most (else the
    # 25 first, in order), long titles holding 2**COUNTER_BITS of the words but not their need left out
    m = ReferenceMatcher(lib)
    m._before_other = 0
    if m._lanes is None:
        m._lanes = m._make_lanes()
    queries += [frozenset(common[:n]) | {"rare"} for n in range(16, 23)]
    taken = cut = 0
    for held in queries:
        got, ordered = m._field_candidates(held & m._title_words)
        every = every_title(m, held & m._title_words)
        if ordered:
            assert got == every
            cut += len(every) == m.candidates
        else:
            assert set(got) == set(every) and len(every) <= m.candidates
            taken += 1
    assert taken and cut

    # few candidates, and long titles of which the field holds 2**COUNTER_BITS words or more
    # (their counters' top bits set) but not their need
    lib = [LibraryEntry(f"long{n}", " ".join(common[:n])) for n in (22, 23, 30, 40)]
    lib += [LibraryEntry(f"f{i}", f"{common[i % 40]} {common[(i + 7) % 40]} odd{i} even{i}") for i in range(400)]
    m = ReferenceMatcher(lib)
    m._before_other = 0
    if m._lanes is None:
        m._lanes = m._make_lanes()
    for n in range(16, 41):
        held = frozenset(common[:n])
        got, ordered = m._field_candidates(held)
        assert not ordered and set(got) == set(every_title(m, held))
    assert sorted(m.entries[m._titles[k].paper].id for k in m._field_candidates(frozenset(common[:18]))[0]) == ["long22", "long23"]


def test_title_fields_counted_in_no_order_have_the_hits_of_the_ordered_candidates(monkeypatch):
    """A title field with 25 candidates at most takes them counted, in no order (its hits are put
    in order after): the hits are those of its candidates found the usual way (most covered
    first, the 25 first), for fields with more candidates than that too, long titles among them
    (needing more words than a counter counts), subtitles and library titles that are only the
    start of a field."""
    rng = random.Random(5)
    common = [f"word{i}" for i in range(30)]
    rare = [f"rare{i}" for i in range(400)]

    def title() -> str:
        words = rng.sample(common, rng.randint(1, 9)) + rng.sample(rare, rng.randint(0, 2))
        rng.shuffle(words)
        if len(words) > 4 and rng.random() < 0.3:        # a subtitle
            return " ".join(words[:3]).capitalize() + ": " + " ".join(words[3:])
        return " ".join(words).capitalize()

    # (first: the 25 candidates of a field are the most covered, the first titles among equals)
    lib = [LibraryEntry(f"long{n}", " ".join(common[:n]), surnames=["Long"]) for n in (22, 25, 30)]
    lib += [LibraryEntry(f"t{i}", title(), surnames=[rng.choice(["Smith", "Lee", "Ng"])]) for i in range(1200)]
    # near twins (hits of the same field, in order of the share of their words held): a word
    # more, a word in the plural
    lib += [LibraryEntry(f"more{i}", e.title + " " + rng.choice(common)) for i, e in enumerate(lib[:600:4])]
    lib += [LibraryEntry(f"plural{i}", e.title + "s") for i, e in enumerate(lib[1:600:4])]
    fields = [e.title for e in lib[::3]]
    fields += [e.title + " " + " ".join(rng.sample(common, 3)) for e in lib[::7]]     # a title, then more
    fields += [" ".join(rng.sample(common, rng.randint(2, 24))) for _ in range(300)]
    fields += [e.title.replace(" ", "-", 1) + " Smith" for e in lib[::11]]           # hyphens, a surname

    def hits(unordered: bool) -> tuple[list, int]:
        m = ReferenceMatcher(lib)
        monkeypatch.setattr(matcher_module, "LANE_RATIO", 10 ** 9)     # always counted
        m._before_other = 0
        if m._lanes is None:
            m._lanes = m._make_lanes()
        seen = [0]
        if unordered:
            counted = m._field_candidates

            def field_candidates(held):
                got = counted(held)
                seen[0] += not got[1]
                return got
            m._field_candidates = field_candidates
        else:
            m._field_candidates = lambda held: (m._candidates_of(held), True)
        got = [m._all_hits(f) for f in fields]      # (also of fields that are a library title)
        monkeypatch.undo()
        return got, seen[0]

    ordered, _ = hits(False)
    unordered, taken = hits(True)
    assert unordered == ordered
    assert taken > 100 and sum(len(h) > 1 for h in ordered) > 50 and any(h for h in ordered)
    # some fields have more than 25 candidates (some cut off), and long titles are among the hits
    m = ReferenceMatcher(lib)
    assert any(len(m._candidates_of(frozenset(f.lower().split()) & m._title_words)) == 25 for f in fields)
    longs = {k for k, t in enumerate(m._titles) if m.entries[t.paper].id.startswith("long")}
    assert any(longs & {k for k, *_ in h} for h in ordered)
