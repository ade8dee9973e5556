"""End-to-end: a real `paperlens serve` process, the example library, every feature."""
from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import find_position, open_doc, wait_indexed


def _hover_text(h: types.Hover | None) -> str:
    assert h is not None, "no hover"
    assert isinstance(h.contents, types.MarkupContent) and h.contents.kind == types.MarkupKind.Markdown
    return h.contents.value


async def _hover(client, uri, pos):
    return await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos))


async def test_indexing_reports_progress(client: LanguageClient):
    (reports,) = [r for r in client.progress_reports.values() if r]
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert any(isinstance(r, types.WorkDoneProgressReport) and "files" in (r.message or "") for r in reports)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and "11 papers" in reports[-1].message


async def test_hover_latex_cite_shows_card(client: LanguageClient, library_dir):
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    pos = find_position(tex, r"\cite{vaswani2017attention}", len(r"\cite{") + 3)
    h = await _hover(client, uri, pos)
    text = _hover_text(h)
    assert "**Attention Is All You Need**" in text
    assert "Ashish Vaswani" in text and "2017" in text
    assert "Advances in Neural Information Processing Systems" in text
    assert "`vaswani2017attention`" in text and "library.bib" in text
    assert h.range.start.line == pos.line and h.range.end.character - h.range.start.character == len("vaswani2017attention")


async def test_hover_every_draft_syntax(client: LanguageClient, library_dir):
    md = library_dir / "drafts" / "notes.md"
    uri = open_doc(client, md, "markdown")
    text = _hover_text(await _hover(client, uri, find_position(md, "@he2016deep", 2)))
    assert "Deep Residual Learning" in text
    typ = library_dir / "drafts" / "outline.typ"
    uri = open_doc(client, typ, "typst")
    text = _hover_text(await _hover(client, uri, find_position(typ, "#cite(<he2016deep>)", 8)))
    assert "Deep Residual Learning" in text


async def test_hover_generated_key_of_a_text_paper(client: LanguageClient, library_dir):
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    text = _hover_text(await _hover(client, uri, find_position(tex, "okafor2024sparse", 1)))
    assert "Sparse Passage Retrieval for Scientific Reading Assistants" in text
    assert "2024" in text and "sparse-retrieval-notes.txt" in text


async def test_hover_unknown_key_suggests_the_right_one(client: LanguageClient, library_dir):
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    text = _hover_text(await _hover(client, uri, find_position(tex, "vaswani2017atention", 1)))
    assert "Unknown citation key" in text and "`vaswani2017attention`" in text


async def test_hover_outside_citations_is_empty(client: LanguageClient, library_dir):
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    assert await _hover(client, uri, types.Position(line=0, character=1)) is None
    # out-of-range positions and unknown documents answer empty, they never crash the server
    assert await _hover(client, uri, types.Position(line=10_000, character=5)) is None
    assert await _hover(client, "file:///nonexistent/x.tex", types.Position(line=0, character=0)) is None


async def test_definition_goes_to_bib_entry_or_paper_file(client: LanguageClient, library_dir):
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    locs = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=find_position(tex, "vaswani2017attention}", 2)))
    (loc,) = locs
    bib = library_dir / "library.bib"
    assert loc.uri == bib.as_uri()
    entry_line = next(i for i, l in enumerate(bib.read_text().split("\n")) if "{vaswani2017attention," in l)
    assert loc.range.start.line == entry_line
    locs = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=find_position(tex, "okafor2024sparse", 2)))
    assert locs[0].uri == (library_dir / "papers" / "sparse-retrieval-notes.txt").as_uri()


async def _complete_after(client, path, language_id, typed: str):
    """Append a line with ``typed`` to the document and complete at its end."""
    text = path.read_text(encoding="utf-8") + "\n" + typed
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language_id, version=1, text=text)))
    line = text.count("\n")
    pos = types.Position(line=line, character=len(typed.encode("utf-16-le")) // 2)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert result is None or isinstance(result, types.CompletionList)
    return result, pos


@pytest.mark.parametrize("typed,first", [
    ("See [@vaswani", "vaswani2017attention"),
    ("See [@attention", "vaswani2017attention"),
    ("See [@gaze", "brandt2023lightweight"),
    ("See [@histopathology", "marchetti2025conditional"),
    ("See [@kingma", "kingma2015adam"),
    ("See [@2016", "he2016deep"),
])
async def test_markdown_completion_ranked_by_typed_words(client: LanguageClient, library_dir, typed, first):
    result, pos = await _complete_after(client, library_dir / "drafts" / "notes.md", "markdown", typed)
    assert result.items[0].label == first
    edit = result.items[0].text_edit
    prefix = typed.split("@")[-1]
    assert edit.new_text == first
    assert edit.range.end == pos and edit.range.start.character == pos.character - len(prefix)


async def test_completion_lists_library_and_is_bounded(client: LanguageClient, library_dir):
    result, _ = await _complete_after(client, library_dir / "drafts" / "notes.md", "markdown", "See [@")
    labels = [i.label for i in result.items]
    assert len(labels) == 11 and len(set(labels)) == 11 and not result.is_incomplete
    # empty prefix: ranked by what the note is about (issue 16), not by year: a key the note
    # already cites comes first, and it says why
    from paperlens.core import citations
    cited = {c.key for c in citations.find_citations(
        (library_dir / "drafts" / "notes.md").read_text(encoding="utf-8"), "markdown")}
    assert labels[0] in cited and "marchetti2025conditional" in labels
    first = result.items[0]
    assert first.label_details is not None and first.label_details.description


async def test_latex_completion_after_brace_and_comma(client: LanguageClient, library_dir):
    tex = library_dir / "drafts" / "survey.tex"
    result, _ = await _complete_after(client, tex, "latex", r"\citep[see][]{vaswani2017attention, devl")
    assert result.items[0].label == "devlin2019bert"
    result, _ = await _complete_after(client, tex, "latex", r"\cite{")
    assert len(result.items) == 11
    result, _ = await _complete_after(client, tex, "latex", r"\section{Intro")
    assert result is None                                   # not a citation: no completion


async def test_completion_resolve_gives_the_card(client: LanguageClient, library_dir):
    result, _ = await _complete_after(client, library_dir / "drafts" / "notes.md", "markdown", "[@devlin")
    item = await client.completion_item_resolve_async(result.items[0])
    assert isinstance(item.documentation, types.MarkupContent)
    assert "BERT" in item.documentation.value and "Abstract:" in item.documentation.value


async def test_workspace_symbol_is_passage_search(client: LanguageClient, library_dir):
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="histopathology diffusion tiles"))
    assert symbols and symbols[0].location.uri == (library_dir / "papers" / "diffusion-pathology.md").as_uri()
    assert symbols[0].container_name.startswith("marchetti2025conditional")
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="BM25 passage retrieval"))
    assert symbols[0].location.uri.endswith("sparse-retrieval-notes.txt")
    line = symbols[0].location.range.start.line
    text = (library_dir / "papers" / "sparse-retrieval-notes.txt").read_text().split("\n")
    window = " ".join(text[line:symbols[0].location.range.end.line]).lower()
    # the passage the symbol points at holds the query's words, not just the paper's title
    assert "bm25" in window and "passage" in window and "retriev" in window


async def test_search_command(client: LanguageClient):
    hits = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=["webcam gaze", 3]))
    assert hits[0]["key"] == "brandt2023lightweight" and hits[0]["uri"].endswith("gaze-lite.txt")
    assert len(hits) <= 3 and "**" in hits[0]["snippet"]


async def test_new_file_is_indexed_after_watched_file_event(client: LanguageClient, library_dir):
    new = library_dir / "papers" / "new-paper.txt"
    new.write_text("Quantum Annealing for Citation Graphs\nZed Quux1, Ada Byron2\n1Univ\nPreprint 2026.\n"
                   "Abstract\nWe anneal citation graphs with qubits.\n", encoding="utf-8")
    client.progress_reports.clear()
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=new.as_uri(), type=types.FileChangeType.Created)]))
    await wait_indexed(client)
    hits = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=["qubits annealing"]))
    assert hits[0]["key"] == "quux2026quantum"


async def test_changes_behind_the_editors_back_are_picked_up(client: LanguageClient, library_dir):
    """No editor event at all: the server watches the folder itself (this client cannot watch)."""
    new = library_dir / "papers" / "watched.txt"
    client.progress_reports.clear()
    new.write_text("Holographic Bibliometrics\nIvy Quill1, Oz Reed2\n1Univ\nPreprint 2026.\n"
                   "Abstract\nHolograms of citation networks.\n", encoding="utf-8")
    for _ in range(3):   # file events may arrive in more than one burst: one index run each
        await wait_indexed(client)
        hits = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="paperlens.server.search", arguments=["holograms citation networks"]))
        if hits:
            break
        client.progress_reports.clear()
    assert hits and hits[0]["key"] == "quill2026holographic"
    # atomic replacement, as Zotero/Better BibTeX write: temp file, then rename over the original
    bib = library_dir / "library.bib"
    tmp = library_dir / ".library.bib.tmp"
    tmp.write_text(bib.read_text(encoding="utf-8").replace("Attention Is All You Need",
                                                           "Attention Is Still All You Need"), encoding="utf-8")
    client.progress_reports.clear()
    tmp.replace(bib)
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    for _ in range(3):   # a late burst of the first file's events may end an index run before the rename's
        await wait_indexed(client)
        text = _hover_text(await _hover(client, uri, find_position(tex, r"\cite{vaswani2017attention}", 8)))
        if "Attention Is Still All You Need" in text:
            break
        client.progress_reports.clear()
    assert "Attention Is Still All You Need" in text
