"""The protocol adapters of lsp/features in process, on a fixture's library and a fake session
(what lsp/features/_view.py reads of the server's state): params -> snapshot and offset -> core
feature -> lsprotocol, positions in the negotiated encoding; the citationInsert command."""
from __future__ import annotations

import json

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from paperlens.lsp.features import citing, completion, definition, diagnostics, hover, links, symbols, usages

from feature_fixtures import FakeServer, as_received
from library_fixtures import PAPER, REFS_BIB

LINE = "😀 é \\cite{vaswani2017} \\cite{vas"       # an emoji: 2 UTF-16 units, 4 UTF-8 bytes


def _doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


@pytest.mark.parametrize("encoding, width", [("utf-16", 2), ("utf-8", 4), ("utf-32", 1)])
def test_hover_completion_and_definition_speak_the_negotiated_encoding(build, encoding, width):
    f = build(REFS_BIB + "%! draft.tex\n\\relax\n")
    server = FakeServer(f, encoding)
    uri = server.open(f.path("draft.tex"), LINE)
    extra = width - 1 + (1 if encoding == "utf-8" else 0)            # the emoji, and é in UTF-8
    start = LINE.index("vaswani2017") + extra
    found = hover.hover(server, types.HoverParams(text_document=_doc(uri),
                                                  position=types.Position(line=0, character=start + 2)))
    assert found.contents.kind == types.MarkupKind.Markdown
    assert found.contents.value.startswith("**Attention is all you need**")
    assert (found.range.start.character, found.range.end.character) == (start, start + len("vaswani2017"))
    (loc,) = definition.definition(server, types.DefinitionParams(
        text_document=_doc(uri), position=types.Position(line=0, character=start)))
    assert loc.uri == f.path("refs.bib").as_uri() and loc.range.start == types.Position(line=0, character=0)
    end = len(LINE) + extra
    result = as_received(completion.completion(server, types.CompletionParams(
        text_document=_doc(uri), position=types.Position(line=0, character=end))), types.CompletionList)
    (item,) = result.items
    assert item.label == "vaswani2017" and item.kind == types.CompletionItemKind.Reference
    assert (item.text_edit.range.start.character, item.text_edit.range.end.character) == (end - 3, end)
    assert completion.resolve(server, item).documentation.value.startswith("**Attention is all you need**")


def test_citation_insert_command(build):
    f = build(REFS_BIB + "%! draft.md\n\\relax\n")
    server = FakeServer(f)
    uri = server.open(f.path("draft.md"), "😀 See [@devlin2019].\nNext line.")
    answer = citing.citation_insert_command(server, [uri, {"line": 0, "character": 19}, "vaswani2017"])
    assert answer == {"range": {"start": {"line": 0, "character": 19}, "end": {"line": 0, "character": 19}},
                      "newText": "; @vaswani2017"}
    answer = citing.citation_insert_command(server, [uri, {"line": 1, "character": 4}, "vaswani2017"])
    assert answer["newText"] == "[@vaswani2017]" and answer["range"]["start"] == {"line": 1, "character": 4}
    # a document the server cannot read: no answer; arguments of the wrong shape: InvalidParams
    assert citing.citation_insert_command(server, ["file:///elsewhere/x.md", {"line": 0, "character": 0}, "k"]) is None
    for args in ([], [uri], [uri, {"line": 0}, "k"], [uri, {"line": -1, "character": 0}, "k"],
                 [uri, {"line": 0, "character": 0}, ""], [5, {"line": 0, "character": 0}, "k"],
                 [uri, [0, 0], "k"], [uri, {"line": True, "character": 0}, "k"]):
        with pytest.raises(JsonRpcInvalidParams):
            citing.citation_insert_command(server, args)


def test_references_lens_links_symbols_and_commands(build):
    f = build(REFS_BIB + PAPER + "%! draft.tex\n\\relax\n")
    server = FakeServer(f)
    text = "Links: 😀 \\cite{vaswani2017} doi:10.1000/xyz"
    uri = server.open(f.path("draft.tex"), text)
    locs = usages.references(server, types.ReferenceParams(
        text_document=_doc(uri), position=types.Position(line=0, character=19),
        context=types.ReferenceContext(include_declaration=False)))
    here = [loc.range for loc in locs if loc.uri == uri]
    assert [(r.start.character, r.end.character) for r in here] == [(16, 27)]       # after a 2-unit emoji
    assert any(loc.uri.endswith("retrieval-notes.txt") for loc in locs)
    # the graph find references waited for: the hover lists the paper citing it, linked
    card = hover.hover(server, types.HoverParams(text_document=_doc(uri), position=types.Position(line=0, character=19)))
    paper_uri = f.path("papers/retrieval-notes.txt").as_uri()
    assert f"Cited by 1 paper in your library\n\n- [Sparse Passage Retrieval for Reading Assistants]({paper_uri}#L1)" \
           " · Okafor\n" in card.contents.value
    (lens,) = usages.code_lenses(server, types.CodeLensParams(text_document=_doc(f.path(
        "papers/retrieval-notes.txt").as_uri())))
    assert lens.command.title == "Cites 2 papers of your library · okaforsparse"
    (link,) = links.document_links(server, types.DocumentLinkParams(text_document=_doc(uri)))
    assert link.target == "https://doi.org/10.1000/xyz" and link.range.start.character == text.index("10.1000") + 1
    found = as_received(json.loads(symbols.workspace_symbol(server, types.WorkspaceSymbolParams(query="attention need"))),
                        list[types.SymbolInformation])
    assert any(s.kind == types.SymbolKind.Object and s.container_name.startswith("vaswani2017") for s in found)
    papers = symbols.papers_command(server, ["devl", 5])
    assert papers == [{"key": "devlin2019", "title": "BERT: Pre-training of deep bidirectional transformers for "
                       "language understanding", "year": "2019", "authors": ["Devlin", "Chang"], "venue": ""}]
    hits = symbols.search_command(server, ["sparse indexes cheap", 3])
    assert hits and hits[0]["key"] == "okaforsparse" and hits[0]["uri"].endswith("retrieval-notes.txt")


def test_unknown_key_diagnostics_and_their_quick_fix(build):
    f = build(REFS_BIB + "%! draft.tex\n\\relax\n")
    server = FakeServer(f)
    uri = server.open(f.path("draft.tex"), "😀 \\cite{vaswani2071}")
    (diag,) = diagnostics.draft_diagnostics(server, uri)
    assert (diag.code, diag.source, diag.data) == ("unknown-key", "paperlens",
                                                   {"key": "vaswani2071", "suggestions": ["vaswani2017"]})
    assert (diag.range.start.character, diag.range.end.character) == (9, 20)
    (fix,) = diagnostics.code_actions(server, types.CodeActionParams(
        text_document=_doc(uri), range=diag.range, context=types.CodeActionContext(diagnostics=[diag])))
    assert fix.title == "Replace with 'vaswani2017'" and fix.is_preferred
    assert fix.edit.changes[uri] == [types.TextEdit(range=diag.range, new_text="vaswani2017")]
