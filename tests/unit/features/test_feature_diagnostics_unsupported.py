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
