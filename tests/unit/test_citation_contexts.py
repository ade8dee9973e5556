"""What the library's other papers cite a paper for (issue 17): the sentences citing it
(core/evidence.citing_sentences), how well the best covers a claim (context_support), and the
background check's decision weighing it (evidence.decision, hover.cited_for)."""
from __future__ import annotations

from types import SimpleNamespace

from paperlens.core import evidence
from paperlens.core.features import diagnostics, hover
from paperlens.core.graph import CitationGraph
from paperlens.core.models import Passage


def _p(text: str, line: int = 0, section: str = "body") -> Passage:
    return Passage("x", text, "/lib/x.pdf", line, line + 1, section=section)


CITING = [
    _p("Epidemic algorithms spread database updates by random gossip between sites [3]. "
       "We build on them.", 1),
    _p("Our cache uses consistent hashing [3, 7] for placement of the objects.", 5),
    _p("Many systems replicate data [1, 2, 3, 4, 5, 6] across sites and regions.", 9),
    _p("As Demers and Greene (1987) showed, anti-entropy converges quickly in practice.", 12),
    _p("[3] A. Demers, D. Greene. Epidemic algorithms for replicated database maintenance. 1987.", 20,
       section="References"),
]


def test_the_sentences_citing_an_entry_by_number_key_or_author_and_year():
    found = evidence.citing_sentences(CITING, "3", "Demers", "1987", limit=10)
    assert [how for _, how in found] == ["numeric", "numeric", "author-year"]
    sentences = [s for s, _ in found]
    assert sentences[0].startswith("Epidemic algorithms spread database updates by random gossip")
    assert "[3]" not in sentences[0]
    # a list of six entries cites a field, not a claim; the reference list is not a citation
    assert not any("replicate data" in s for s in sentences)
    assert not any("maintenance" in s for s in sentences)
    assert evidence.citing_sentences(CITING, "3", "Demers", "1987", limit=1) == found[:1]
    keyed = [_p("Time stamps order events as in [Lam78] and later work.", 1)]
    assert evidence.citing_sentences(keyed, "Lam78") == [("Time stamps order events as in and later work.", "key")]
    assert evidence.citing_sentences(CITING, "8") == []


def test_the_context_covering_more_of_the_claim_scores_higher():
    claim = "Random gossip spreads database updates between sites."
    assert evidence.context_support(claim, []) is None
    near = evidence.context_support(claim, ["Random gossip spreads database updates between all sites."])
    far = evidence.context_support(claim, ["Consistent hashing places cached objects."])
    both = evidence.context_support(claim, ["Consistent hashing places cached objects.",
                                            "Random gossip spreads database updates between all sites."])
    assert near == both and near > 0.9 and far == 0.0


def test_a_paper_cited_for_the_claim_is_judged_better_than_one_unknown_or_cited_for_another():
    cited, unknown, other = (evidence.decision(0.2, 0.3, c) for c in (0.8, None, 0.0))
    assert cited > unknown > other
    assert unknown == evidence.decision(0.2, 0.3, evidence.CONTEXT_UNKNOWN)


class _View:
    """A library of three papers: b and c cite a (b twice), c is the draft's own copy."""

    def __init__(self, built: bool = True):
        self.rows_ = {i: SimpleNamespace(id=i, key=i, source=f"/lib/{i}.pdf", title=t, surnames=s, year=y,
                                         alias_of="")
                      for i, t, s, y in [("a", "Epidemic algorithms", ["Demers"], "1987"),
                                         ("b", "Gossip in practice", ["Other"], "2001"),
                                         ("c", "A draft", ["Me"], "2024")]}
        self.texts = {"a": [_p("We study epidemic algorithms.")], "b": CITING,
                      "c": [_p("Random gossip spreads database updates between sites [1].")]}
        graph = CitationGraph()
        graph.add("b", "a", "3")
        graph.add("c", "a", "1")
        self._graph = graph if built else None

    def graph(self, wait: bool = False):
        return self._graph

    def row(self, i):
        return self.rows_.get(i)

    def rows(self):
        return list(self.rows_.values())

    def canonical(self, row):
        return row

    def passages(self, row):
        return self.texts.get(row.id)


def test_cited_for_reads_the_other_papers_citing_it_leaving_out_the_draft():
    view = _View()
    a = view.row("a")
    contexts = hover.citation_contexts(view, a)
    assert len(contexts) == 4 and any(s.startswith("Random gossip spreads") for s in contexts)
    mine = hover.citation_contexts(view, a, exclude=frozenset({"/lib/c.pdf"}))
    assert len(mine) == 3 and not any(s.startswith("Random gossip spreads") for s in mine)
    claim = "Anti-entropy converges quickly in practice."
    assert hover.cited_for(view, a, claim) > hover.cited_for(view, a, "Transformers translate text.")
    assert hover.cited_for(view, view.row("b"), claim) is None          # nothing cites b
    assert hover.cited_for(_View(built=False), a, claim) is None      # the graph is being built


def test_the_hint_says_why_it_was_given():
    from paperlens.core.models import Span

    def hint(score, rival_score, context):
        return diagnostics.Unsupported("k", Span(0, 1), "Epidemic algorithms", score, rival="Gossip in practice",
                                       rival_score=rival_score, context=context).message
    assert hint(0.0, 0.5, None).startswith("Nothing in 'Epidemic algorithms' matches this sentence well")
    assert hint(0.2, 0.5, 0.0).startswith("'Gossip in practice' matches this sentence much better")
    assert hint(0.2, 0.1, 0.0) == ("'Epidemic algorithms' matches this sentence weakly (support 0.20) and the "
                                   "library's papers citing it cite it for other things: is this the paper that says it?")
    assert hint(0.2, 0.1, None) == ("'Epidemic algorithms' matches this sentence weakly (support 0.20): "
                                    "is this the paper that says it?")
