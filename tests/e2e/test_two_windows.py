"""Two editor windows on one library: two real servers share one index; one writes, the other
reads what it commits; neither corrupts the index or waits on the other."""
from __future__ import annotations

import sys

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, start, wait_indexed


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def window_a(lsp_client: LanguageClient, library_dir, index_dir):
    await start(lsp_client, library_dir, index_dir)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "paperlens", "serve"]))
async def window_b(lsp_client: LanguageClient, library_dir, index_dir, window_a):
    await start(lsp_client, library_dir, index_dir)
    yield
    await lsp_client.shutdown_session()


async def _search(client, query):
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=[query]))


async def test_one_writes_the_other_reads(window_a: LanguageClient, window_b: LanguageClient, library_dir):
    a, b = window_a, window_b
    assert (await _search(a, "webcam gaze"))[0]["key"] == "brandt2023lightweight"
    assert (await _search(b, "webcam gaze"))[0]["key"] == "brandt2023lightweight"
    new = library_dir / "papers" / "shared.txt"
    a.progress_reports.clear()
    b.progress_reports.clear()
    new.write_text("Concurrent Readers of One Index\nNia Vale1\n1Univ\nPreprint 2026.\nAbstract\n"
                   "Zeppelin bibliographies shared by two windows.\n", encoding="utf-8")
    for client in (a, b):     # both watch the folder; the index lock lets one of them write
        await wait_indexed(client)
    for client in (a, b):
        hits = await _search(client, "zeppelin bibliographies")
        assert hits and hits[0]["key"] == "vale2026concurrent"
    status = [await c.workspace_execute_command_async(types.ExecuteCommandParams(command="paperlens.server.status"))
              for c in (a, b)]
    assert status[0]["papers"] == status[1]["papers"] == 12
    # completion in the window that may not have written sees the new key too
    tex = library_dir / "drafts" / "survey.tex"
    b.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=tex.as_uri(), language_id="latex", version=1, text="\\cite{vale")))
    result = await b.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=tex.as_uri()), position=types.Position(line=0, character=10)))
    assert [i.label for i in result.items] == ["vale2026concurrent"]
