"""Settings: the document's own bibliography wins; bad settings are reported, not fatal."""
from __future__ import annotations


import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, find_position, open_doc, start


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client2(lsp_client: LanguageClient, library_dir, index_dir):
    other = library_dir / "other"
    other.mkdir()
    (other / "other.bib").write_text(
        "@article{vaswani2017attention, title={A Different Paper With The Same Key}, "
        "author={Other, Person}, year=1999}\n", encoding="utf-8")
    await start(lsp_client, library_dir, index_dir,
                settings={"completion": {"limit": 3}, "summary": {"provider": "nonsense"}})
    yield
    await lsp_client.shutdown_session()


async def test_document_bibliography_wins_and_limits_apply(client2: LanguageClient, library_dir):
    draft = library_dir / "other" / "draft.tex"
    draft.write_text("\\bibliography{other}\nSee \\cite{vaswani2017attention}.\n", encoding="utf-8")
    uri = open_doc(client2, draft, "latex")
    h = await client2.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=find_position(draft, "vaswani2017attention", 1)))
    assert "A Different Paper With The Same Key" in h.contents.value
    tex = library_dir / "drafts" / "survey.tex"       # names ../library.bib: the original paper
    uri = open_doc(client2, tex, "latex")
    h = await client2.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=find_position(tex, r"\cite{vaswani2017attention}", 8)))
    assert "Attention Is All You Need" in h.contents.value
    # completion.limit = 3 from the settings: 3 items, and the list says it is incomplete
    client2.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="\\cite{")]))
    result = await client2.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=6)))
    assert len(result.items) == 3 and result.is_incomplete


async def test_bad_setting_is_reported_and_default_kept(client2: LanguageClient):
    messages = [m.message for m in client2.messages]
    assert any("paperlens.summary.provider must be one of extractive, openai" in m for m in messages)
