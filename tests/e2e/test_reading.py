"""Reading inside papers: numeric citations, the library's citation graph, diagnostics with quick
fixes, document links and the text view of a PDF — against a real `paperlens serve`."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import find_position, open_doc, wait_indexed


async def _hover(client, uri, pos):
    return await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos))


async def _graph_ready(client, uri, pos, needle, tries=50):
    """The citation graph is built in the background after indexing: ask until the card shows
    it (each try is a request answered by the server, not a sleep)."""
    for _ in range(tries):
        h = await _hover(client, uri, pos)
        if h and needle in h.contents.value:
            return h.contents.value
        await client.workspace_execute_command_async(types.ExecuteCommandParams(command="paperlens.server.status"))
    raise AssertionError(f"{needle!r} never appeared")


async def test_hover_numeric_citation_inside_a_paper(client: LanguageClient, library_dir):
    paper = library_dir / "papers" / "sparse-retrieval-notes.txt"
    uri = open_doc(client, paper, "plaintext")
    h = await _hover(client, uri, find_position(paper, "Transformer [6]", len("Transformer [")))
    text = h.contents.value
    assert "**[6]** A. Vaswani" in text                     # the paper's own entry 6
    assert "in your library: **Attention Is All You Need** `vaswani2017attention`" in text
    assert "**Attention Is All You Need**" in text.split("---")[-1]   # and its card
    # [1, 6]: both entries; [2] (not in the library): the entry alone
    text = (await _hover(client, uri, find_position(paper, "encoder [1, 6]", len("encoder [")))).contents.value
    assert "**[1]** Jacob Devlin" in text and "`devlin2019bert`" in text and "**[6]**" in text
    text = (await _hover(client, uri, find_position(paper, "relies on [2]", len("relies on [")))).contents.value
    assert "Dehyphenating PDF text" in text and "in your library" not in text


async def test_definition_to_entry_and_from_entry_to_library(client: LanguageClient, library_dir):
    paper = library_dir / "papers" / "sparse-retrieval-notes.txt"
    uri = open_doc(client, paper, "plaintext")
    lines = paper.read_text(encoding="utf-8").split("\n")
    (loc,) = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=find_position(paper, "Transformer [6]", len("Transformer ["))))
    assert loc.uri == uri and lines[loc.range.start.line].startswith("[6] A. Vaswani")
    (loc,) = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=find_position(paper, "[6] A. Vaswani", 8)))
    bib = library_dir / "library.bib"
    assert loc.uri == bib.as_uri()
    assert "{vaswani2017attention," in bib.read_text(encoding="utf-8").split("\n")[loc.range.start.line]


async def test_cited_by_in_card_lens_and_references(client: LanguageClient, library_dir):
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    pos = find_position(tex, r"\cite{vaswani2017attention}", 8)
    card = await _graph_ready(client, uri, pos, "Cited by 1 paper in your library")
    assert "Attention Is All You Need" in card
    locs = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos,
        context=types.ReferenceContext(include_declaration=False)))
    where = {(Path(l.uri.replace("file://", "")).name, l.range.start.line) for l in locs}
    paper = library_dir / "papers" / "sparse-retrieval-notes.txt"
    entry_line = next(i for i, l in enumerate(paper.read_text().split("\n")) if l.startswith("[6] A. Vaswani"))
    assert ("sparse-retrieval-notes.txt", entry_line) in where            # the library paper citing it
    assert {"survey.tex", "notes.md", "outline.typ"} <= {n for n, _ in where}   # and every draft
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=paper.as_uri())))
    assert lenses and lenses[0].command.title.startswith("Cites 3 papers of your library")   # BERT, Adam, Attention


async def test_unknown_key_diagnostic_and_quick_fix(client: LanguageClient, library_dir):
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    for _ in range(50):                       # diagnostics are pushed: wait for the notification
        diags = client.diagnostics.get(uri)
        if diags:
            break
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    (diag,) = [d for d in client.diagnostics[uri] if d.code == "unknown-key"]
    assert "'vaswani2017atention' is not in the library" in diag.message
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag])))
    fix = actions[0]
    assert fix.is_preferred and fix.title == "Replace with 'vaswani2017attention'"
    (edit,) = fix.edit.changes[uri]
    lines = tex.read_text(encoding="utf-8").split("\n")
    line = lines[edit.range.start.line]
    fixed = line[:edit.range.start.character] + edit.new_text + line[edit.range.end.character:]
    assert r"\cite{vaswani2017attention}" in fixed and "atention" not in fixed


async def test_document_links(client: LanguageClient, library_dir):
    doc = library_dir / "drafts" / "links.md"
    doc.write_text("See doi:10.48550/arXiv.1706.03762, arXiv:2010.11929v2 and https://example.org/x.\n",
                   encoding="utf-8")
    uri = open_doc(client, doc, "markdown")
    links = await client.text_document_document_link_async(types.DocumentLinkParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    targets = sorted(l.target for l in links)
    assert targets == ["https://arxiv.org/abs/2010.11929v2", "https://doi.org/10.48550/arXiv.1706.03762",
                       "https://example.org/x"]


async def test_pdf_text_view_has_pages_and_numeric_hovers(client: LanguageClient, library_dir):
    from fixtures.pdfs import make_paper_pdf
    pdf = library_dir / "papers" / "probing.pdf"
    make_paper_pdf(pdf, references=[
        "A. Vaswani, N. Shazeer, N. Parmar. Attention is all you need. In NeurIPS, 2017.",
        "K. He, X. Zhang, S. Ren, J. Sun. Deep residual learning for image recognition. In CVPR, 2016."],
        sections=[("Introduction", "Transformers [1] and residual networks [2] changed the field. " * 3)])
    client.progress_reports.clear()
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=pdf.as_uri(), type=types.FileChangeType.Created)]))
    await wait_indexed(client)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.openPaperText", arguments=[pdf.as_uri()]))
    view = Path(result["uri"].replace("file://", ""))
    assert result["pages"] >= 1 and not os.stat(view).st_mode & stat.S_IWUSR     # read-only
    text = view.read_text(encoding="utf-8")
    assert text.startswith("──────── page 1 of") and "residual networks [2]" in text
    uri = open_doc(client, view, "plaintext")
    h = await _hover(client, uri, find_position(view, "residual networks [2]", len("residual networks [")))
    assert "Deep residual learning" in h.contents.value and "`he2016deep`" in h.contents.value
    (loc,) = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=find_position(view, "residual networks [2]", len("residual networks ["))))
    assert text.split("\n")[loc.range.start.line].startswith("[2] K. He")
