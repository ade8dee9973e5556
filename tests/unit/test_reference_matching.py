"""Matching reference entries to library papers (issue 15): the rule of
``core/references/matcher.py`` (DOI and arXiv id first, then the title with surnames and year as
evidence) and the citation graph of ``core/library.py`` that uses it, hovers saying the same."""
from __future__ import annotations

import random

import pytest

from paperlens.core.library import Library
from paperlens.core.models import Reference
from paperlens.core.references import LibraryEntry, ReferenceMatcher

LIBRARY = [
    LibraryEntry("paxos", "Paxos Made Simple", year="2001", surnames=["Lamport"]),
    LibraryEntry("parliament", "The Part-Time Parliament", year="1998", surnames=["Lamport"]),
    LibraryEntry("clocks", "Time, Clocks, and the Ordering of Events in a Distributed System", year="1978",
                 surnames=["Lamport"]),
    LibraryEntry("live", "Paxos Made Live - An Engineering Perspective", year="2007",
                 surnames=["Chandra", "Griesemer", "Redstone"]),
    LibraryEntry("bandit", "Finite-time Analysis of the Multiarmed Bandit Problem", year="2002",
                 surnames=["Auer", "Cesa-Bianchi", "Fischer"]),
    LibraryEntry("cap", "Brewer's Conjecture and the Feasibility of Consistent, Available, "
                 "Partition-Tolerant Web Services", surnames=["Gilbert", "Lynch"]),
    LibraryEntry("taming", "Taming the Monster: A Fast and Simple Algorithm for Contextual Bandits",
                 year="2014", surnames=["Agarwal", "Hsu", "Kale"]),
    # a title cut short by the PDF's metadata
    LibraryEntry("dean", "Designs, Lessons and Advice from Building Large", surnames=["Dean"]),
    LibraryEntry("w2v", "Efficient Estimation of Word Representations in Vector Space", arxiv="1301.3781",
                 year="2013", surnames=["Mikolov"]),
    LibraryEntry("ctr", "Ad Click Prediction: a View from the Trenches", doi="10.1145/2487575.2488200",
                 year="2013", surnames=["McMahan", "Holt"]),
]


@pytest.fixture(scope="module")
def matcher():
    return ReferenceMatcher(LIBRARY)


def matched(matcher, text: str):
    got = matcher.match(text)
    return got[0] if got else None


def test_abbreviated_venue_and_title_field_taken_for_the_venue(matcher):
    # "Surname, I.:" author lists; the venue abbreviated ("Comm.", "Trans.")
    assert matched(matcher, "Lamport, L.: Paxos made simple. ACM SIGACT News 32(4), 18–25 (2001)") == "paxos"
    assert matched(matcher, "Lamport, L.: The part-time parliament. ACM Trans. Computer Systems 16(2), "
                            "133–169 (1998)") == "parliament"
    assert matched(matcher, "LAMPORT, L. Paxos made simple. ACM SIGACT News 32, 4 (Dec. 2001), 18–25.") == "paxos"


def test_title_field_mis_split_is_found_in_the_whole_entry(matcher):
    ref = Reference("33", text="LAMPORT, L. Time, clocks, and the ordering of events in a distributed system. "
                               "Comm. ACM (1978).", title="Comm", year="1978")
    assert matcher.match_reference(ref)[0] == "clocks"
    ref = Reference("9", text="Auer, P., Cesa Bianchi, N., Fischer, P.: Finite-time Analysis of the Multiarmed "
                              "Bandit Problem, Machine Learning,47, 235-256, 2002.", title="", year="2002")
    assert matcher.match_reference(ref)[0] == "bandit"


def test_subtitle_present_or_left_out(matcher):
    assert matched(matcher, "Chandra, T.D., Griesemer, R., Redstone, J.: Paxos made live: an engineering "
                            "perspective. In: Proc. 26th ACM Symp. PODC, pp. 398–407 (2007)") == "live"
    assert matched(matcher, "A. Agarwal, D. Hsu, S. Kale. Taming the monster. In ICML, 2014.") == "taming"
    # the main title alone needs an author of the paper
    assert matched(matcher, "J. Smith. Taming the monster. In ICML, 2014.") is None


def test_hyphenation_and_split_words(matcher):
    assert matched(matcher, "Auer, P., Cesa-Bianchi, N., Fischer, P.: Finite time analysis of the multi-"
                            "armed bandit problem. Mach. Learn. 47 (2002)") == "bandit"
    assert matched(matcher, "S. Gilbert, N. Lynch. Brewer's conjecture and the feasibility of consistent "
                            "available partitiontolerant web services. SIGACT News, 2002.") == "cap"


def test_hyphenation_in_an_entry_kept_without_its_text():
    # the citation graph may read only an entry's title field
    m = ReferenceMatcher([LibraryEntry("uct", "Bandit based Monte-Carlo Planning", surnames=["Kocsis"])])
    assert m.match_reference(Reference("7", title="Bandit-based monte-carlo planning"))[0] == "uct"
    # a short title needs the surnames: the entry's text decides
    short = ReferenceMatcher(LIBRARY)
    assert short.match_reference(Reference("1", title="Paxos made simple")) is None
    assert short.could_match(Reference("1", title="Paxos made simple"))
    assert not short.could_match(Reference("1", title="Paxos made complicated"))


def test_a_title_field_alone_is_scored_once_and_checked_per_entry(monkeypatch):
    """The graph reads entries as the index keeps them (a title field alone): a field's
    candidates and scores are computed once, but each entry's year and arXiv id still decide,
    and a library title whose length keeps its score under the thresholds is not compared."""
    from rapidfuzz import fuzz

    m = ReferenceMatcher(LIBRARY)
    field = "Efficient estimation of word representations in vector space"
    assert m.match_reference(Reference("1", title=field))[0] == "w2v"
    assert m.match_reference(Reference("2", title=field, year="2014"))[0] == "w2v"
    assert m.match_reference(Reference("3", title=field, year="1990")) is None
    assert m.match_reference(Reference("4", title=field, arxiv="1706.03762")) is None
    assert m.match_reference(Reference("5", title=field.upper(), year="2013"))[0] == "w2v"
    # near miss without a surname in the field: not linked, the entry's text may decide
    assert m.match_and_candidates(Reference("6", title="Efficient estirnation of word representatlons in "
                                                       "vector space")) == (None, True)
    assert m.match_and_candidates(Reference("7", title="Efficient estirnation of word representatlons in "
                                                       "vector space", year="1990")) == (None, False)
    calls = []
    for name in ("ratio", "token_sort_ratio"):
        real = getattr(fuzz, name)
        monkeypatch.setattr(fuzz, name, lambda *a, _r=real, _n=name, **kw: calls.append(_n) or _r(*a, **kw))
    # holds the main title "Taming the Monster" but is three times as long: nothing compared
    long = "Taming the monster under the bed: monsters of children's literature over five centuries"
    assert m.match_and_candidates(Reference("8", title=long)) == (None, False)
    assert calls == []


def test_ocr_errors(matcher):
    # a ligature lost, letters misread: a near miss with an author of the paper
    assert matched(matcher, "Mikolov, T. Efficient estirnation of word representatlons in vector space. 2013.") == "w2v"
    # the same near miss by someone else is another paper
    assert matched(matcher, "Smith, J. Efficient estirnation of word representatlons in vector space. 2013.") is None


def test_missing_year_and_library_title_cut_short(matcher):
    assert matched(matcher, "S. Gilbert and N. Lynch. Brewer's conjecture and the feasibility of consistent, "
                            "available, partition-tolerant web services. SIGACT News.") == "cap"
    assert matched(matcher, "J. Dean. Designs, lessons and advice from building large distributed systems "
                            "(keynote). In LADIS, 2009.") == "dean"
    assert matched(matcher, "J. Smith. Designs, lessons and advice from building large ships. 2009.") is None


def test_doi_and_arxiv_id_come_first(matcher):
    # the identifier wins over a title that names another library paper
    assert matcher.match_reference(Reference("1", text="Lamport, L. Paxos made simple. 2001. arXiv:1301.3781",
                                             arxiv="1301.3781")) == ("w2v", 100.0)
    assert matcher.match_reference(Reference("2", text="Whatever. doi:10.1145/2487575.2488200",
                                             doi="10.1145/2487575.2488200")) == ("ctr", 100.0)


def test_ambiguous_entries_are_not_linked():
    lib = [LibraryEntry("a", "Learning to Rank with Sparse Passages", year="2020", surnames=["Okafor"]),
           LibraryEntry("b", "Learning to Rank with Sparse Passage", year="2020", surnames=["Okafor"])]
    m = ReferenceMatcher(lib)
    assert m.match("M. Okafor. Learning to rank with sparse passages. 2020.")[0] == "a"
    # one entry naming two library papers (two entries run together): no guess
    two = ReferenceMatcher(LIBRARY)
    assert two.match("Lamport, L. Paxos made simple. ACM SIGACT News (2001). Lamport, L. The part-time "
                     "parliament. ACM TOCS (1998)") is None


def test_a_title_inside_a_longer_one_gives_way():
    m = ReferenceMatcher(LIBRARY + [LibraryEntry("short", "Paxos Made Live", year="2007", surnames=["Chandra"])])
    assert matched(m, "T. Chandra, R. Griesemer, J. Redstone. Paxos made live: an engineering perspective. "
                      "PODC, 2007.") == "live"
    assert matched(m, "T. Chandra. Paxos made live. PODC, 2007.") == "short"



def test_an_exact_title_wins_over_its_near_twins():
    """An entry whose title is exactly a library paper's title names it, though a twin title
    (the same in the plural) scores within the margin and holds it: read with its text, and read
    as the index keeps it (a title field alone, which is compared with nothing else)."""
    lib = [LibraryEntry("plural", "Learning to Rank with Sparse Passages", year="2020", surnames=["Okafor"]),
           LibraryEntry("one", "Learning to Rank with Sparse Passage", year="2020", surnames=["Okafor"])]
    m = ReferenceMatcher(lib)
    assert m.match("M. Okafor. Learning to rank with sparse passage. 2020.")[0] == "one"
    assert m.match("M. Okafor. Learning to rank with sparse passages. 2020.")[0] == "plural"
    field = "Learning to rank with sparse passage"
    hits = m.field_hits(field)
    assert [m.entries[m._titles[k].paper].id for k, *_ in hits] == ["one"]
    assert {m.entries[m._titles[k].paper].id for k, *_ in m._all_hits(field)} == {"one", "plural"}
    for ref in (Reference("1", title=field, year="2020"),
                Reference("2", title=field, year="2020", authors="M. Okafor.", after="")):
        assert m.match_reference(ref) == ("one", 100.0)
        assert m.match_field(ref, hits) == ("one", 100.0)


def test_an_exact_title_the_evidence_refuses_leaves_the_titles_close_to_it():
    """An entry naming a library title exactly, in a year that title's paper was not written, is
    decided on the other titles close to it, as any entry: here the plural one of that year."""
    lib = [LibraryEntry("old", "Learning to Rank with Sparse Passage", year="2001", surnames=["Okafor"]),
           LibraryEntry("new", "Learning to Rank with Sparse Passages", year="2020", surnames=["Lee"])]
    m = ReferenceMatcher(lib)
    field = "Learning to rank with sparse passage"
    for ref in (Reference("1", title=field, year="2020"),
                Reference("2", title=field, year="2020", authors="K. Lee.", after="")):
        assert m.match_reference(ref)[0] == "new"
        assert m.match_field(ref, m.field_hits(field))[0] == "new"
    assert m.match("K. Lee. Learning to rank with sparse passage. 2020.")[0] == "new"
    assert m.match_reference(Reference("3", title=field, year="2001"))[0] == "old"
    assert m.match_reference(Reference("4", title=field, year="1980")) is None


def test_an_exact_title_cut_off_from_the_candidates_is_still_compared():
    """A field that is exactly a library title holding all the words of 35 shorter titles
    before it (more than ``candidates``): its title is still compared, in the graph's way (a
    title field) as in the hover's (the entry's text)."""
    from itertools import combinations

    words = "alpha beta gamma delta epsilon zeta".split()
    lib = [LibraryEntry(f"s{i}", " ".join(c).capitalize(), year="2020", surnames=["Lee"])
           for i, c in enumerate(c for n in (2, 3) for c in combinations(words, n))]
    title = " ".join(words).capitalize()
    m = ReferenceMatcher(lib + [LibraryEntry("exact", title, year="2020", surnames=["Okafor"])])
    assert len(m._candidates_of(frozenset(words))) == m.candidates < len(lib)
    assert [m.entries[m._titles[k].paper].id for k, *_ in m._all_hits(title)] == ["exact"]
    ref = Reference("1", title=title, year="2020", authors="J. Okafor.", after="2020.")
    assert m.match_reference(ref) == m.match_field(ref, m._all_hits(title)) == ("exact", 100.0)
    assert m.match(f"J. Okafor. {title}. 2020.") == ("exact", 100.0)


def test_a_title_a_word_longer_is_no_near_twin():
    """The title read from an entry stops at a full stop: "... sparse text" exactly, though the
    entry names "... sparse text. Part II", a library title a word longer, not a near twin: the
    entry is decided on its text, also when the index keeps it as its title field and the text
    around it (the graph's way) as when it is read whole (a hover's)."""
    from paperlens.core.references import parse_references
    from paperlens.core.references.matcher import stored_evidence

    lib = [LibraryEntry("partI", "Learning deep generative models of sparse text", year="2015",
                        surnames=["Salakhutdinov"]),
           LibraryEntry("partII", "Learning deep generative models of sparse text. Part II", year="2016",
                        surnames=["Salakhutdinov"])]
    m = ReferenceMatcher(lib)
    assert "learning deep generative models of sparse text" in m._starts
    for tail, cited in (("Part II. In Proc. NIPS, 2016.", "partII"), ("In Proc. NIPS, 2015.", "partI"),
                        ("Part II. 2016.", "partII")):
        text = f"R. Salakhutdinov. Learning deep generative models of sparse text. {tail}"
        assert m.match(text)[0] == cited
        ref = parse_references(f"Title\n\nReferences\n[1] {text}\n")[0]
        assert ref.title == "Learning deep generative models of sparse text"
        authors, after, years = stored_evidence(ref)
        kept = Reference(ref.label, title=ref.title, year=ref.year, authors=authors, after=after, years=years)
        assert m.match_reference(kept)[0] == cited
        assert m.match_field(kept, m.field_hits(kept.title))[0] == cited
    # kept without the text after it: its title alone
    assert m.match_reference(Reference("1", title="Learning deep generative models of sparse text",
                                       year="2016", authors="R. Salakhutdinov.", after=""))[0] == "partI"


def test_a_title_field_decided_on_its_exact_title_as_on_all_its_hits():
    """A title field that is exactly a library title has that title's hits alone: each entry is
    decided as it is on all the field's hits, in libraries of near twins (a plural, a word more
    or less, words swapped, another name before the colon, the same title twice, accents and
    hyphens, more titles than ``candidates`` fully held), for entries of every year, surname,
    identifier and text after the title."""
    rng = random.Random(11)
    words = "sparse dense passage ranking neural graph learning retrieval query model deep fast".split()
    words += ["naïve", "über", "self-attention"]
    names = ["Okafor", "Lee", "Ng", "Smith", "Gödel"]
    seen = set()
    for _ in range(30):
        lib = []
        for i in range(rng.choice([12, 40])):     # (40: fields of more than 25 candidates)
            t = " ".join(rng.sample(words, rng.randint(2, 7))).capitalize()
            lib.append(LibraryEntry(f"p{i}", t, year=str(rng.choice([2001, 2019, 2020])),
                                    surnames=rng.sample(names, rng.randint(0, 2))))
            for _ in range(rng.randint(0, 3)):
                twin = rng.choice([t + "s", t + " " + rng.choice(words), " ".join(t.split()[1:]) or t,
                                   " ".join(reversed(t.split())), "Xnet: " + t, t])
                lib.append(LibraryEntry(f"p{i}t{len(lib)}", twin, year=str(rng.choice([2001, 2019, 2020])),
                                        surnames=rng.sample(names, rng.randint(0, 2))))
        m = ReferenceMatcher(lib)
        for e in lib:
            field = rng.choice([e.title, e.title.upper(), e.title.replace(" ", "-", 1)])
            hits = m.field_hits(field)
            for year in ("", "2001", "2020", "1980"):
                for authors in (None, "", "J. " + rng.choice(names) + "."):
                    # the text after the title: a venue, or another library title (two entries)
                    after = rng.choice(["", "In Proc. SIGIR.", rng.choice(lib).title + "."])
                    ref = Reference("1", title=field, year=year, authors=authors, after=after,
                                    arxiv=rng.choice(["", "", "1706.03762"]), years=rng.choice(["", "2019"]))
                    got, every = m._decide(ref, hits), m._decide(ref, m._all_hits(field))
                    # (whether its text might change the answer: asked when there is none)
                    assert got[0] == every[0] and (got[0] or got[1] == every[1]), (field, ref, lib)
                    if hits.__class__.__name__ == "_ExactHits":
                        own = m.entries[m._titles[hits[0][0]].paper].id
                        seen.add("own" if got[0] and got[0][0] == own else "other" if got[0] else "none")
    # exact titles linked, and refused: then another paper, or none
    assert seen == {"own", "other", "none"}


def test_work_does_not_grow_with_the_library(monkeypatch):
    """An entry is compared only with library titles whose words it mostly holds: none for an
    entry of words no title has, a handful otherwise, for 1,000 titles as for 20,000."""
    from rapidfuzz import fuzz, process

    calls = []
    for mod, name in ((fuzz, "ratio"), (fuzz, "token_sort_ratio"), (process, "extractOne")):
        real = getattr(mod, name)
        monkeypatch.setattr(mod, name, lambda *a, _r=real, _n=name, **kw: calls.append(_n) or _r(*a, **kw))
    words = ("deep learning neural network image video point cloud diffusion model transformer graph "
             "segmentation detection estimation pose depth scene shape").split()
    for n in (1_000, 20_000):
        rng = random.Random(5)
        lib = [LibraryEntry(f"s{i}", " ".join(rng.choice(words) for _ in range(rng.randint(3, 10))),
                            year=str(rng.randint(1995, 2024))) for i in range(n)] + LIBRARY
        m = ReferenceMatcher(lib)
        assert calls == []
        assert matched(m, "Lamport, L.: Paxos made simple. ACM SIGACT News 32(4), 18–25 (2001)") == "paxos"
        assert 1 <= len(calls) <= 3 * m.candidates
        calls.clear()
        assert m.match("Nobody. Quantum annealing of spin glasses. Phys. Rev., 2019.") is None
        assert calls == []


def every_title(m: ReferenceMatcher, held: frozenset) -> tuple:
    """The candidates of an entry holding ``held`` found the plain way: every title's words
    counted one by one (what both of the matcher's ways must give)."""
    scored = sorted((-n / len(tk), k) for k, tk in enumerate(m._title_tokens)
                    if (n := len(tk & held)) >= m._needs[k])
    return tuple(k for _, k in scored[:m.candidates])


def test_both_ways_of_finding_candidates_find_every_title_mostly_held(monkeypatch):
    """A library title is a candidate when the entry holds ``_need`` of its words, the most
    covered first: the pairs of rare words and the counting of common words in 4-bit counters
    kept as bits of big integers (the library's titles sharing many words: many counted at once)
    give the titles that counting every title's words gives."""
    from paperlens.core.references import matcher as matcher_module

    rng = random.Random(7)
    common = ("learning image segmentation medical deep neural networks point cloud graph "
              "diffusion models video detection").split()
    rare = [f"name{i}" for i in range(60)]
    lib = [LibraryEntry(f"t{i}", " ".join(rng.sample(common, rng.randint(1, 9)) + rng.sample(rare, rng.randint(0, 2))))
           for i in range(600)]
    lib += [LibraryEntry("one", "Segmentation"), LibraryEntry("long", " ".join(rare[:40]))]
    m = ReferenceMatcher(lib)
    vocab = sorted(m._title_words)
    queries = [m._title_tokens[k] for k in range(0, len(m._titles), 7)]
    queries += [frozenset(rng.sample(vocab, rng.randint(1, 14))) for _ in range(300)]
    counted_ways = set()

    real_counted = ReferenceMatcher._counted
    monkeypatch.setattr(ReferenceMatcher, "_counted",
                        lambda self, *a: counted_ways.add("counted") or real_counted(self, *a))
    for ratio, way in ((10 ** 9, "counted"), (0, "paired")):
        monkeypatch.setattr(matcher_module, "LANE_RATIO", ratio)
        m._before_other = 0
        counted_ways.clear()
        for held in queries:
            held = held & m._title_words
            assert m._find_candidates(held) == every_title(m, held)
        assert counted_ways == ({"counted"} if way == "counted" else set())
    assert any(len(every_title(m, q)) > 1 for q in queries)


def test_a_title_field_scored_at_once_as_one_by_one():
    """A title field's candidates are scored by one call of each comparison for them all: the
    scores that may count (``_low`` or more), and how each was found (a library title cut
    short: the start of the field), are those of comparing them one by one."""
    lib = [LibraryEntry(f"v{i}", t) for i, t in enumerate([
        "Deep learning for medical image segmentation",
        "Deep learning for medical image segmentation with point clouds",
        "Deep-learning for medical image segmentation",
        "Learning medical image segmentation deep",
        "Deep learning for medical image",
        "Deep learning for medical image segmentation: a survey of methods",
        "Medical image segmentation for deep learning in video",
    ])]
    m = ReferenceMatcher(lib)
    from paperlens.core.references.matcher import _Query

    kinds = set()
    for field in ("Deep learning for medical image segmentation",
                  "Deep learning for medical image segmentation with point clouds and graphs",
                  "Deep learning for medical image segmentation a survey",
                  "Segmentation image medical learning deep"):
        norm = " ".join(field.lower().replace("-", "").split())
        q = _Query("", norm, "", "", frozenset(norm.split()))
        ks = list(range(len(m._titles)))
        one_by_one = [m._score(q, m._titles[k]) for k in ks]
        assert m._scores(q, ks) == {i: got for i, got in enumerate(one_by_one) if got[0] >= m._low}
        assert any(0 < got[0] < m._low for got in one_by_one) or len(m._scores(q, ks)) < len(ks)
        kinds.update(kind for score, kind in one_by_one if score >= m.threshold)
    assert kinds == {"title", "start"}



def test_a_whole_title_found_as_the_start_of_a_longer_field_is_a_hit_whatever_its_words():
    """A library title cut short (bad metadata) found as the start of a longer title field is
    a hit, also when it is short of ``min_partial_words`` and needs a surname: the surname is
    then looked for in the entry's author list (_decide_entry). Its whole length keeps its
    comparison with the whole field under ``_low``: that alone does not rule it out (it did for
    a moment, when the hits were bounded by the whole lengths, 779bf4b)."""
    title = "Bayesian beta reinforcement neural networks"
    m = ReferenceMatcher([LibraryEntry("b1", title, year="2020", surnames=["Smith"])], min_partial_words=7)
    field = "bayesian beta reinforcement nebral networks optimal gradient transformer"
    hits = m.field_hits(field)
    assert [(m._titles[k].norm, kind, author) for k, _score, kind, author in hits] == \
        [("bayesian beta reinforcement neural networks", "start", -1)]
    ref = Reference("1", title=field, year="2020", authors="J. Smith and K. Lee.", after="")
    assert m.match_field(ref, hits) == ("b1", round(hits[0][1], 2))

# ---------------------------------------------------------------------------------------
# the library: the graph links what the matcher links, and hovers say what the graph says
# ---------------------------------------------------------------------------------------

BIB = """@article{lamport2001, title={Paxos Made Simple}, author={Lamport, Leslie}, year={2001}}
@article{lamport1978, title={Time, Clocks, and the Ordering of Events in a Distributed System},
  author={Lamport, Leslie}, year={1978}}
@article{other1990, title={Paxos Made Simple}, author={Someone, Else}, year={1990}}
@article{auer2002, title={Finite-time Analysis of the Multiarmed Bandit Problem},
  author={Auer, Peter and Cesa-Bianchi, Nicolo}, year={2002}}
@article{mikolov2013, title={Efficient Estimation of Word Representations in Vector Space},
  author={Mikolov, Tomas}, year={2013}}
@article{agarwal2014, title={Taming the Monster: A Fast and Simple Algorithm for Contextual Bandits},
  author={Agarwal, Alekh and Hsu, Daniel}, year={2014}}
@article{dean2009, title={Designs, Lessons and Advice from Building Large}, author={Dean, Jeff}}
"""

FILLER = "\n".join(f"Method sentence {i} about replicas and logs." for i in range(40))

PAPER = f"""Consensus for Replicated Logs in Practice
Mira Okafor
Preprint, 2020.
Abstract
We replicate logs.
1. Introduction
Paxos [1] orders events [2] as clocks do [3], and more [4, 5, 6, 7, 8].
2. Method
{FILLER}
References
[1] Leslie Lamport. Paxos made simple. ACM SIGACT News, 32(4):18–25, 2001.
[2] L. Lamport. Time, clocks, and the ordering of events in a distributed system. Commun. ACM, 21(7), 1978.
[3] J. Smith. Paxos made simple for everyone. Blog, 2015.
[4] P. Auer and N. Cesa-Bianchi. Finite time analysis of the multi-armed bandit problem. Mach. Learn., 2002.
[5] T. Mikolov. Efficient estirnation of word representatlons in vector space. In ICLR Workshop, 2013.
[6] A. Agarwal and D. Hsu. Taming the monster. In ICML, 2014.
[7] J. Dean. Designs, lessons and advice from building large distributed systems (keynote). In LADIS, 2009.
[8] L. Lamport. Paxos made simple. 2001. T. Mikolov. Efficient estimation of word representations in vector space. 2013.
"""

EXPECTED = {"1": "lamport2001", "2": "lamport1978", "3": None, "4": "auer2002", "5": "mikolov2013",
            "6": "agarwal2014", "7": "dean2009", "8": None}


@pytest.fixture()
def library(tmp_path):
    folder = tmp_path / "lib"
    (folder / "papers").mkdir(parents=True)
    (folder / "refs.bib").write_text(BIB, encoding="utf-8")
    (folder / "papers" / "consensus.txt").write_text(PAPER, encoding="utf-8")
    lib = Library([folder], index_path=str(tmp_path / "index"), workers=1)
    lib.update()
    yield lib
    lib.close()


def test_the_graph_links_what_the_matcher_links_and_hovers_agree(library):
    """Short titles by their author, hyphenation, OCR errors, a subtitle left out, a library
    title cut short; a run-together entry naming two papers is not linked."""
    citing = next(r for r in library.rows() if r.title.startswith("Consensus for Replicated"))
    refs = library.references_of(citing)
    assert [r.label for r in refs] == list(EXPECTED)
    before = [library.match_reference(r, citing=citing) for r in refs]      # no graph yet
    graph = library.graph()
    me = library.canonical(citing).id
    keys = {r.id: r.key for r in library.rows()}
    got = {label: keys[cited] for label, cited in graph.cited_by_label.get(me, {}).items()}
    assert got == {k: v for k, v in EXPECTED.items() if v}
    assert set(graph.cites[me]) == {r.id for r in library.rows() if r.key in got.values()}
    after = [library.match_reference(r, citing=citing) for r in refs]     # the graph answers
    assert [r.key if r else None for r in after] == list(EXPECTED.values())
    assert [r.key if r else None for r in before] == list(EXPECTED.values())
