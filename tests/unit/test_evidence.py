"""core/evidence.py: which passages of a cited paper support a sentence, and how much."""
from __future__ import annotations

from paperlens.core import evidence
from paperlens.core.cards import file_uri
from paperlens.core.models import Passage


def _p(text: str, line: int, page=None) -> Passage:
    return Passage("p", text, "/lib/paper.pdf", line, line + 2, page=page)


PASSAGES = [
    _p("Consistent hashing assigns requests to caches so that few keys move when a cache joins.", 10, 2),
    _p("We measure latency of web pages under load.", 20, 3),
    _p("Prior work [4] assigns requests to caches with consistent hashing and random trees.", 30, 4),
]


def test_the_passage_holding_the_claims_words_ranks_first_with_its_words():
    found = evidence.support("Consistent hashing assigns requests to caches.", PASSAGES)
    best = found.evidence[0]
    assert best.passage.line_start == 10 and found.supported and best.support == 1.0
    assert best.words == ("Consistent", "hashing", "assigns", "requests", "caches")
    assert [e.passage.line_start for e in found.evidence] == [10]     # the others share nothing of its own


def test_words_of_a_sentence_citing_other_work_do_not_count():
    only_cited = [PASSAGES[2]]
    assert evidence.support("random trees for consistent hashing", only_cited).evidence == ()
    own = [_p("We build random trees for consistent hashing.", 1)]
    found = evidence.support("random trees for consistent hashing", own)
    assert found.supported and found.evidence[0].support == 1.0


def test_rare_words_weigh_more():
    rarity = evidence.Rarity.of_texts(["web latency pages"] * 9 + ["hashing"])
    claim = "hashing of web pages"
    a = evidence.support(claim, [_p("hashing is cheap", 1)], rarity).score
    b = evidence.support(claim, [_p("web pages are slow", 1)], rarity).score
    assert a > b


def test_no_text_and_no_match():
    assert evidence.support("anything at all", []).has_text is False
    nothing = evidence.support("quantum chromodynamics", PASSAGES)
    assert nothing.has_text and nothing.evidence == () and not nothing.supported
    assert "no text" in evidence.markdown(evidence.support("x", []))


def test_markdown_links_each_passage_and_escapes_its_text():
    found = evidence.support("hashing caches", [_p("Hashing *caches* [x](y) <b>", 4, 7)])
    shown = evidence.markdown(found, "A *title*")
    assert shown.startswith(r"**Evidence for A \*title\***")
    uri = file_uri("/lib/paper.pdf", 4)
    assert shown.endswith(f"\n- [p. 7, l. 5]({uri}): **Hashing** \\***caches**\\* \\[x\\](y) \\<b\\>")


def test_the_sentence_of_a_paper_around_a_numeric_citation():
    text = "First sentence here. Caches use consistent hashing [3, 4] widely. Next one."
    at = text.index("[3")
    assert evidence.plain_sentence_at(text, at) == "Caches use consistent hashing widely."


def test_a_claim_of_words_every_paper_holds_is_discounted():
    # "web pages" is in nearly every paper of the library: a passage holding it all supports the
    # claim less than one holding a claim of words few papers have
    rarity = evidence.Rarity.of_texts(["web pages load"] * 8 + ["consistent hashing caches", "web pages"])
    common = evidence.support("web pages", [_p("web pages are slow", 1)], rarity)
    rare = evidence.support("consistent hashing", [_p("consistent hashing is cheap", 1)], rarity)
    assert common.evidence[0].support == rare.evidence[0].support == 1.0
    assert rarity.background({"web": 1.0, "page": 1.0}) == 0.9      # 9 papers of 10
    assert rare.score > 2 * common.score
    assert not evidence.Rarity().background({"web": 1.0})


def test_a_large_librarys_title_rarity_is_read_on_a_thread_and_fills_the_one_returned(monkeypatch):
    import threading
    from types import SimpleNamespace

    monkeypatch.setattr(evidence, "TITLES_NOW", 2)
    rows = [SimpleNamespace(title=t, alias_of="") for t in ("Consistent hashing", "Web caches", "Web pages")]
    made = evidence.title_rarity(rows)           # returns at once: the titles are read on a thread
    for thread in threading.enumerate():
        if thread.name == "paperlens-title-rarity":
            thread.join()
    assert made.n == 3 and made.count("web") == 2 and made.idf("hash") > made.idf("web")
    assert evidence.title_rarity(rows) is made   # kept for the same rows
    waited = evidence.title_rarity(list(rows[:2]), wait=True)
    assert waited.n == 2 and waited.count("web") == 1


def test_british_spellings_meet_american_ones():
    found = evidence.support("the preferred criterion is linearisability",
                             [_p("Linearizability is a correctness condition.", 1),
                              _p("The criterion holds in general cases.", 5)])
    assert found.evidence[0].passage.line_start == 1 and found.evidence[0].words == ("Linearizability",)
    assert evidence.stems("behaviour of neighbours, optimised") == evidence.stems("behavior of neighbors, optimized")


def test_a_passage_of_a_few_words_is_not_ranked_first_for_its_shortness():
    # a one-line "future work" passage holding two of the sentence's words ranked above a
    # paragraph holding three (BM25's length normalisation): it counts as half an average one
    filler = " ".join(f"Section {i} explains the replicated system design with several examples of its protocol."
                      for i in range(3))
    passages = [_p("Future work: CRDTs and structures.", 1),
                _p("Metadata of a CRDT accumulates and slows it down, with a big impact on performance, and must "
                   "be garbage-collected from time to time by a commitment protocol among the replicas of the "
                   "system, which is inefficient.", 5),
                _p(filler, 9), _p(filler + " More.", 13)]
    claim = "CRDTs become inefficient, as tombstones accumulate and internal data structures become unbalanced."
    found = evidence.support(claim, passages)
    assert [e.passage.line_start for e in found.evidence] == [5, 1]


def test_a_paper_using_the_claims_words_throughout_supports_it_more_than_one_passage_does():
    # both papers hold the claim's words in one passage alike; the first is about them (its
    # other passages use them too), the second mentions them once among other things
    rarity = evidence.Rarity.of_texts(["consensus replicas leader"] * 3 + ["web pages load"] * 7)
    claim = "Paxos reaches consensus among replicas despite failures."
    best = _p("Paxos reaches consensus among replicas despite failures of a leader.", 1)
    about = [best] + [_p(f"Paxos replicas agree on value {i}; a failed leader is replaced.", 10 + i) for i in range(4)]
    aside = [best] + [_p(f"Web pages load slowly under condition {i} of the network.", 10 + i) for i in range(4)]
    on_topic, in_passing = evidence.support(claim, about, rarity), evidence.support(claim, aside, rarity)
    assert on_topic.evidence[0].passage is in_passing.evidence[0].passage is best
    assert on_topic.evidence[0].support == in_passing.evidence[0].support
    assert on_topic.score > in_passing.score


def test_the_rarity_of_words_keeps_counts_not_words():
    import sys

    texts = ["consistent hashing of caches", "web caches and pages", "web pages"]
    made = evidence.Rarity.of_texts(iter(texts))          # read one at a time
    counts = {w: made.count(evidence.stems(w)[0]) for w in ("consistent", "hashing", "caches", "web", "pages")}
    assert counts == {"consistent": 1, "hashing": 1, "caches": 2, "web": 2, "pages": 2}
    assert made.count("quantum") == 0 and made.idf("quantum") == made.idf("unseen") > made.idf("web")
    assert len(made) == 5 and made.nbytes == 5 * (8 + 4)
    assert sys.getsizeof(made) < 100                     # slots: two arrays, no dict of words
    same = evidence.Rarity({evidence.stems(w)[0]: n for w, n in zip(("consistent", "web"), (1, 2))}, 3)
    assert same.count("web") == 2 and same.idf("web") == made.idf("web")


def test_reading_a_rarity_leaves_the_shared_word_cache_as_it_was():
    evidence.clear_caches()
    evidence.Rarity.of_texts(["zygomorphic ventricles of the brain"])
    assert "zygomorphic" not in evidence._stem_cache      # noqa: SLF001 - 200 papers' words stayed there


def test_a_name_the_sentence_gives_weighs_more_than_a_common_word_as_rare():
    # "Paxos" and "agreement" are in as many papers: a passage holding the name the sentence
    # gives supports it more than one holding the other word (ranking a paper's passages is
    # by rarity alone)
    rarity = evidence.Rarity.of_texts(["paxos agreement"] * 3 + ["other words"] * 7)
    claim = "Replicas reach agreement with Paxos."
    name = evidence.support(claim, [_p("Paxos is used here.", 1)], rarity)
    word = evidence.support(claim, [_p("Agreement is found here.", 1)], rarity)
    assert name.evidence[0].support > 1.1 * word.evidence[0].support and name.score > word.score
    assert name.evidence[0].rank == word.evidence[0].rank
    assert evidence._named("Paxos made simple, as in CAP and DryadLINQ; Spark too.") == {
        evidence._stem_of("CAP"), evidence._stem_of("DryadLINQ"), evidence._stem_of("Spark")}
    # a sentence in title case or capitals names nothing
    assert evidence._named("Consensus In The Presence Of Partial Synchrony With Paxos") == set()
    assert evidence._named("A FAST CONSENSUS PROTOCOL FOR DATACENTERS") == set()
