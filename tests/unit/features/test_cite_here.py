""""Cite a paper for this sentence" (core/features/cite_here.py, lsp/features/cite_here.py): on a
sentence that cites nothing, the best papers with why, each inserting its citation at the end of
the sentence in the document's syntax; the same list as paperlens.server.citeHere."""
from __future__ import annotations

import pytest
from lsprotocol import types

from paperlens.core.features import cite_here
from paperlens.lsp.features import cite_here as adapter

from feature_fixtures import FakeServer
from test_completion_context import LIBRARY

SENTENCE = "Large kernels help convolutional networks scale"


def apply(text: str, ins) -> str:
    return text[:ins.span.start] + ins.text + text[ins.span.end:]


@pytest.mark.parametrize("name, written, expected", [
    ("draft.tex", f"Intro. {SENTENCE}. Next.", f"Intro. {SENTENCE}~\\cite{{ding2022}}. Next."),
    ("draft.md", f"Intro. {SENTENCE}. Next.", f"Intro. {SENTENCE} [@ding2022]. Next."),
    ("draft.typ", f"Intro. {SENTENCE}. Next.", f"Intro. {SENTENCE} @ding2022. Next."),
    ("draft.org", f"Intro. {SENTENCE}. Next.", f"Intro. {SENTENCE} [cite:@ding2022]. Next."),
])
def test_the_best_papers_for_a_sentence_and_their_citation(build, name, written, expected):
    at = written.index("kernels")
    f = build(LIBRARY + f"%! {name}\n" + written[:at] + "|" + written[at:] + "\n")
    found = cite_here.cite_here(f.doc, f.offset, f.view)
    assert found.candidates[0].key == "ding2022" and len(found.candidates) <= cite_here.LIMIT
    assert "kernel" in found.candidates[0].why
    assert f.doc.text[found.sentence.start:found.sentence.end].startswith(SENTENCE)
    assert apply(f.doc.text, found.candidates[0].insertion).rstrip("\n") == expected


def test_no_offer_on_a_sentence_that_cites_or_says_nothing(build):
    f = build(LIBRARY + r"""
        %! draft.tex
        Large kernels help convolutional networks \cite{ding2022}. Yes it |is.
        """)
    assert cite_here.cite_here(f.doc, f.offset, f.view) is None                 # "Yes it is": no words
    cited = f.doc.text.index("kernels")
    assert cite_here.cite_here(f.doc, cited, f.view) is None                    # it cites already
    assert cite_here.cite_here(f.doc, f.doc.text.index("ding2022") + 2, f.view) is None


def test_the_code_actions_and_the_command(build):
    f = build(LIBRARY + f"%! draft.md\nIntro. {SENTENCE}|. Next.\n")
    server = FakeServer(f)
    uri = server.open(f.path("draft.md"), f.doc.text)
    pos = types.Position(line=0, character=f.offset)
    actions = adapter.code_actions(server, types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=pos, end=pos),
        context=types.CodeActionContext(diagnostics=[])))
    assert actions[0].title.startswith("Cite ding2022") and actions[0].is_preferred
    (edit,) = actions[0].edit.changes[uri]
    assert edit.new_text == " [@ding2022]" and edit.range.start == pos
    # a client asking only for quick fixes gets none of these
    assert adapter.code_actions(server, types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=pos, end=pos),
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix]))) == []
    # nor one asking by itself on a cursor move
    assert adapter.code_actions(server, types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=pos, end=pos),
        context=types.CodeActionContext(diagnostics=[], trigger_kind=types.CodeActionTriggerKind.Automatic))) == []
    found = adapter.cite_here_command(server, [uri, {"line": 0, "character": 10}])
    assert found["items"][0]["key"] == "ding2022" and found["items"][0]["newText"] == " [@ding2022]"
    assert found["sentence"]["start"] == {"line": 0, "character": 7}
    with pytest.raises(Exception):
        adapter.cite_here_command(server, [uri, "nowhere"])
