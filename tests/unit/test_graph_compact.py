"""The citation graph keeps its edges as tuples and gives callers dictionaries made from them:
what cards, find-references, ``[n]`` hovers and recommend read is what the edges say."""
from __future__ import annotations

from paperlens.core.graph import CitationGraph


def _filled(order) -> CitationGraph:
    g = CitationGraph()
    g.read = {cid for cid, _rid, _m in order}
    g._fill(order)
    return g


def test_the_views_read_as_the_dictionaries_of_the_edges():
    g = _filled([("a", "a", ("1", "b", "2", "c", "3", "b")),     # b cited twice: its last label
                 ("b", "b", ("1", "c")),
                 ("c", "c", ())])
    assert g.cites == {"a": {"b": "3", "c": "2"}, "b": {"c": "1"}}
    assert g.cited_by_label == {"a": {"1": "b", "2": "c", "3": "b"}, "b": {"1": "c"}}
    assert g.cited_by == {"b": {"a"}, "c": {"a", "b"}}
    assert g.read == {"a", "b", "c"}
    # what callers ask: counts, lookups of papers that cite nothing or are not cited
    assert len(g.cited_by.get("c", ())) == 2 and g.cited_by.get("a", ()) == () and "a" not in g.cited_by
    assert g.cites.get("c", {}) == {} and g.cites["a"].get("c") == "2" and len(g.cites) == 2
    assert g.cited_by_label.get("b", {}).get("1") == "c" and g.cited_by_label.get("c") is None
    assert sorted(g.cites.items()) == [("a", {"b": "3", "c": "2"}), ("b", {"c": "1"})]


def test_a_paper_citing_itself_by_either_id_is_left_out_and_merged_lists_add_up():
    # the entry "e" and its merged text "t" (row id): both lists count for "e", in reading order
    g = _filled([("e", "e", ("1", "x", "2", "e")),
                 ("e", "t", ("1", "t", "2", "y", "3", "x")),
                 ("x", "x", ("1", "e"))])
    assert g.cites == {"e": {"x": "3", "y": "2"}, "x": {"e": "1"}}
    assert g.cited_by_label["e"] == {"1": "x", "2": "y", "3": "x"}
    assert g.cited_by == {"x": {"e"}, "y": {"e"}, "e": {"x"}}        # "e" once, though it cites x twice


def test_a_graph_made_by_hand_reads_as_one_filled():
    by_hand = CitationGraph()
    for citing, cited, label in [("a", "b", "1"), ("a", "c", "2"), ("a", "b", "3"), ("b", "c", "1")]:
        by_hand.add(citing, cited, label)
    filled = _filled([("a", "a", ("1", "b", "2", "c", "3", "b")), ("b", "b", ("1", "c"))])
    for view in ("cites", "cited_by", "cited_by_label"):
        assert getattr(by_hand, view) == getattr(filled, view), view
    assert CitationGraph().cites == {} and not CitationGraph().cited_by
