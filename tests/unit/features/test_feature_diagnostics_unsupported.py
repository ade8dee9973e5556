"""core/features/diagnostics.py, the unsupported-citation hint (issue 17): a citation whose paper
has text and no passage matching the sentence around it; "cite instead" offers library papers
whose text matches it; the protocol adapter's code actions."""
from __future__ import annotations

from types import SimpleNamespace

from lsprotocol import types

from paperlens.core import evidence
from paperlens.core.features import diagnostics
from paperlens.lsp.features import diagnostics as adapter

from library_fixtures import REFS_BIB
from test_feature_hover import EVIDENCE_PAPER

CLICKS = r"""%! papers/clicks.txt
Predicting Clicks on Search Advertisements
Matthew Richardson
Abstract
We predict the click-through rate of new advertisements with logistic regression.
1. Features
Logistic regression over the terms of the advertisement predicts its click-through rate well,
even for advertisements that were never shown before.
"""

DRAFT = r"""%! draft.md
Logistic regression predicts the click-through rate of new advertisements [@demersepidemic].

Each site exchanges database contents with another site chosen at random [@demersepidemic].

Transformers replaced recurrent networks in translation models [@vaswani2017].

Gossip works [@demersepidemic].
"""


def test_a_citation_whose_paper_says_nothing_of_the_sentence(build):
    f = build(REFS_BIB + EVIDENCE_PAPER + CLICKS + DRAFT)
    found = diagnostics.unsupported_citations(f.snapshot("draft.md"), f.view)
    text = f.files["draft.md"]
    first = text.index("demersepidemic")
    # the second citation of the same paper fits its sentence; vaswani2017 has no text to
    # check; "Gossip works" says too little to check
    assert [(u.key, u.span.start) for u in found] == [("demersepidemic", first)]
    hint = found[0]
    assert hint.score < evidence.THRESHOLD
    assert hint.message.startswith("Nothing in 'Epidemic Gossip for Replicated Databases' matches this sentence well")
    assert hint.alternatives == ("richardsonpredicting",)
    assert hint.data()["alternatives"] == ["richardsonpredicting"]
    assert diagnostics.cite_instead(hint.data()) == [diagnostics.CiteInstead("richardsonpredicting")]
    assert diagnostics.cite_instead({"alternatives": "x"}) == [] and diagnostics.cite_instead(None) == []


def test_the_check_waits_for_the_library(build):
    f = build(EVIDENCE_PAPER + CLICKS + DRAFT, indexed=False)
    assert diagnostics.unsupported_citations(f.snapshot("draft.md"), f.view) == []


def test_its_code_actions_cite_instead_and_show_the_passages(build):
    f = build(REFS_BIB + EVIDENCE_PAPER + CLICKS + DRAFT)
    hint = diagnostics.unsupported_citations(f.snapshot("draft.md"), f.view)[0]
    assert hint.passages == ()                 # nothing of the gossip paper shares its words
    gossip = str(f.path("papers/gossip.txt"))
    data = dict(hint.data(), passages=[{"path": gossip, "line": 7, "page": 2}])
    diag = types.Diagnostic(range=types.Range(types.Position(0, 76), types.Position(0, 90)), message=hint.message,
                            severity=types.DiagnosticSeverity.Information, source="paperlens",
                            code=diagnostics.UNSUPPORTED_CITATION, data=data)
    uri = f.path("draft.md").as_uri()
    params = types.CodeActionParams(text_document=types.TextDocumentIdentifier(uri), range=diag.range,
                                    context=types.CodeActionContext(diagnostics=[diag]))
    actions = adapter.code_actions(SimpleNamespace(), params)
    cite = actions[0]
    assert cite.title == "Cite 'richardsonpredicting' instead (its text matches the sentence better)"
    assert cite.edit.changes[uri][0].new_text == "richardsonpredicting"
    [show] = actions[1:]
    assert show.title == "Show the passage of the cited paper that matches best (p. 2, line 8)"
    assert show.command.command == adapter.COMMAND_SHOW_PASSAGE
    assert show.command.arguments == [f.path("papers/gossip.txt").as_uri(), 7]
    assert diagnostics.shown_passages({"passages": [{"path": 3, "line": 1}, {"path": "/p", "line": 2}]}) == [
        ("/p", 2, None)]


# -- against the rivals: a cited paper sharing a few of the sentence's words while another
# library paper says it (issue 17: the background check compares the two) ---------------------

BLOOM = r"""%! papers/bloom.txt
Space/Time Trade-offs in Hash Coding with Allowable Errors
Burton Bloom
Abstract
We study hash coding methods that trade space for time when a small share of errors is allowed.
1. Hash areas
A hash area of bits answers membership tests for a set of messages: each message sets several
bits chosen by independent hash functions, and a test reads those bits back.
2. Errors
Independent hash functions mark bits of the hash area, so membership tests falsely accept
unseen messages at a rate that shrinks as the area grows: all their bits may be marked by
other messages.
""" + "\n".join(f"Run {n}: independent hash functions marked bits of hash area {n}; membership tests falsely "
                f"accepted unseen messages at a rate that shrank as the area grew." for n in range(40)) + "\n"

SUMMARY_CACHE = r"""%! papers/cache.txt
Summary Cache: A Scalable Wide-Area Web Cache Sharing Protocol
Li Fan
Abstract
Proxies share their caches to cut the traffic of the web.
1. Sharing
Each proxy keeps a compact summary of the directory of every other proxy, and a proxy asks
another proxy only when its summary says the document may be there.
2. Summaries
A summary of a directory keeps a few bits for each area of the cache.
"""

# papers on other subjects: what makes the sentence's words rare in the library
OTHERS = "".join(f"%! papers/other{n}.txt\n{title}\nAda Writer\nAbstract\n{body}\n" for n, (title, body) in enumerate([
    ("Glacier Retreat in the Alps", "Alpine glaciers lost a third of their ice since 1980."),
    ("Sourdough Fermentation Kinetics", "Wild yeasts and lactic bacteria leaven rye dough."),
    ("Medieval Trade Routes of the Baltic", "Hanseatic merchants shipped timber, furs and grain."),
    ("Coral Bleaching under Heat Stress", "Warm water expels the algae that feed reef corals."),
    ("Volcanic Ash and Aviation", "Jet engines ingest ash clouds and lose thrust."),
    ("Bird Song Dialects", "Sparrows in cities sing at a higher pitch than rural ones."),
    ("Roman Concrete Durability", "Seawater grows crystals that strengthen harbour concrete."),
    ("Tea Polyphenols and Oxidation", "Black tea leaves oxidise after rolling."),
]))

CLAIM = ("Independent hash functions mark bits of a hash area, so membership tests falsely accept unseen "
         "messages at a rate that shrinks as the area grows")
RIVALS_DRAFT = f"""%! draft.md
{CLAIM} [@fansummary].

{CLAIM} [@bloomspace].

Anti-entropy: each site exchanges database contents with a site chosen at random [@demersepidemic].
"""


def _rivals_library(build):
    return build(REFS_BIB + EVIDENCE_PAPER + CLICKS + BLOOM + SUMMARY_CACHE + OTHERS + RIVALS_DRAFT)


def test_a_citation_whose_paper_a_rival_beats_by_far_is_flagged_and_the_best_match_is_not(build):
    from paperlens.core.features import hover

    f = _rivals_library(build)
    doc = f.snapshot("draft.md")
    text = f.files["draft.md"]
    lexical = {c.cite.key: c.support.score for c in hover.cited_evidence(doc, f.view)}
    # the summary cache paper shares a few of the words: its support alone passes
    assert lexical["fansummary"] >= evidence.THRESHOLD
    assert lexical["bloomspace"] > 5 * lexical["fansummary"]
    found = diagnostics.unsupported_citations(doc, f.view)
    # flagged: the cited paper against Bloom's; Bloom's citation of the same sentence is not (it
    # is the best match), nor the gossip paper's (it says what its sentence says)
    assert [(u.key, u.span.start) for u in found] == [("fansummary", text.index("fansummary"))]
    hint = found[0]
    assert hint.score == lexical["fansummary"] and hint.rival_score == lexical["bloomspace"]
    assert hint.message.startswith("'Space/Time Trade-offs in Hash Coding with Allowable Errors' matches this "
                                   "sentence much better than 'Summary Cache: A Scalable Wide-Area Web Cache")
    assert hint.alternatives == ("bloomspace",)      # "cite instead": the rival
    assert diagnostics.cite_instead(hint.data()) == [diagnostics.CiteInstead("bloomspace")]


def test_the_decision_is_kept_apart_from_the_hovers_support_and_a_hover_never_searches(build, monkeypatch):
    from paperlens.core.features import hover

    f = _rivals_library(build)
    doc = f.snapshot("draft.md")
    [fan] = [c for c in hover.cited_evidence(doc, f.view) if c.cite.key == "fansummary"]
    decided = hover.decide(f.view, fan.row, fan.claim)
    assert decided.flagged and decided.support.score == fan.support.score
    assert [r.row.key for r in decided.rivals][0] == "bloomspace"
    # without its rivals the same support would pass
    assert decided.score < evidence.DECISION_THRESHOLD <= evidence.decision(fan.support.score, 0.0)
    searched = []
    monkeypatch.setattr(type(f.view), "search", lambda self, *a, **k: searched.append(a) or [])
    at = f.files["draft.md"].index("fansummary")
    shown = hover.hover(doc, at, f.view).markdown
    assert f"support {fan.support.score:.2f})" in shown          # the support alone, not weak
    assert hover.support(f.view, fan.row, fan.claim).score == fan.support.score
    assert hover.decide(f.view, fan.row, fan.claim) is decided   # kept: nothing searched again
    assert searched == []


def test_a_stop_ends_the_check_between_citations_and_rivals(build):
    from paperlens.core.features import hover

    f = _rivals_library(build)
    doc = f.snapshot("draft.md")
    asked = []

    def stop():
        asked.append(1)
        return len(asked) > 2          # during the first citation's rivals
    assert diagnostics.unsupported_citations(doc, f.view, stop=stop) is None
    [fan] = [c for c in hover.cited_evidence(doc, f.view) if c.cite.key == "fansummary"]
    assert hover.decide(f.view, fan.row, fan.claim, stop=lambda: True) is None   # nothing was kept
    assert [u.key for u in diagnostics.unsupported_citations(doc, f.view, stop=lambda: False)] == ["fansummary"]
