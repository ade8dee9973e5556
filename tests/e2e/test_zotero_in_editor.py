"""Issue 18's "Show", end to end: a real `paperlens serve` reading a Zotero library that another
process holds as Zotero does (WAL, ``PRAGMA locking_mode=EXCLUSIVE``, the lock taken) and keeps
writing. After that process commits, a new item becomes citable (completion offers its key), an
edited title shows in the hover, a trashed item is no longer offered; Zotero's files are
byte-identical to what the writer left, and nothing is created beside them.

The test waits for what it asserts (it asks again until the server answers so), never for a
fixed time; GUARD only keeps a broken server from hanging the run. How long a commit takes to
become citable is measured in bench/zotero_bench.py, not here.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, start

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fixtures.zotero import Writer, build_library, file_hashes  # noqa: E402

GUARD = 180.0






DRAFT = ("\\documentclass{article}\n\\begin{document}\nAs \\cite{brown2020learned} shows.\n"
         "Probes \\cite{martin2021sparse} explain rankers.\n")


async def _until(check, what: str):
    """Ask ``check()`` (a coroutine) again until it returns something true; that value."""
    async def loop():
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.05)
    try:
        return await asyncio.wait_for(loop(), GUARD)
    except asyncio.TimeoutError:
        raise AssertionError(f"never: {what}") from None


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def zotero_client(lsp_client: LanguageClient, tmp_path):
    data = tmp_path / "Zotero"
    _db, keys = build_library(data)
    writer = Writer(data)
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "main.tex").write_text(DRAFT, encoding="utf-8")
    await start(lsp_client, folder, tmp_path / "index", settings={"zotero": {"dataDir": str(data)}})
    lsp_client.zotero = (data, keys, writer, folder)
    lsp_client.zotero_files = None
    yield
    await lsp_client.shutdown_session()
    if lsp_client.zotero_files is not None:      # after the server's exit too: nothing written
        assert file_hashes(data) == lsp_client.zotero_files
    writer.close()


async def test_a_held_zotero_library_stays_current_in_the_editor(zotero_client: LanguageClient):
    client = zotero_client
    data, k, writer, folder = client.zotero
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.status", arguments=[]))
    assert status["zotero"]["dataDir"] == str(data.resolve()) and status["zotero"]["found"] == "configured"
    assert status["zotero"]["items"] == 7 and not status["zotero"]["error"]

    tex = folder / "main.tex"
    uri = tex.as_uri()
    text = DRAFT
    version = 1
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="latex", version=version, text=text)))

    async def complete(typed: str) -> list[str]:
        nonlocal text, version
        version += 1
        text = DRAFT + "\\cite{" + typed
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        pos = types.Position(line=text.count("\n"), character=len(text.rsplit("\n", 1)[1]))
        result = await client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
        items = result.items if isinstance(result, types.CompletionList) else (result or [])
        return [i.label for i in items]

    async def hover() -> str:
        h = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=2, character=text.split("\n")[2].index("brown") + 2)))
        return h.contents.value if h is not None else ""

    assert "martin2021sparse" in await complete("martin")
    assert "Learned Dense Representations" in await hover()
    # an item with a PDF: its definition is the PDF; its text is searched, pages kept
    found = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=3, character=text.split("\n")[3].index("martin") + 2)))
    locations = found if isinstance(found, list) else [found]
    assert locations and all(loc.uri.startswith((data / "storage").resolve().as_uri()) and
                             loc.uri.endswith(".pdf") for loc in locations), locations
    hits = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=["sparse probing budget"]))
    assert hits[0]["key"] == "martin2021sparse" and hits[0]["page"], hits

    # a new item, committed while the writer holds the database: citable
    writer("add", item_type="journalArticle",
           fields={"title": "Committed While Held Open", "date": "2024", "DOI": "10.5555/live.1"},
           creators=[["Hana", "Live"]])
    after_add = file_hashes(data)
    await _until(lambda: _has(complete("live"), "live2024committed"), "the new item is offered")

    # an edited title: the hover shows it (the key stays)
    writer("set_field", key=k["dense"], name="title", value="Learned Dense Representations, Second Edition")
    await _until(lambda: _contains(hover(), "Second Edition"), "the hover shows the edited title")

    # a trashed item: no longer offered
    writer("trash", key=k["sparse"])
    written = file_hashes(data)
    assert set(written) == set(after_add)             # nothing created beside Zotero's files
    await _until(lambda: _lacks(complete("martin"), "martin2021sparse"), "the trashed item is gone")
    assert "live2024committed" in await complete("live")
    assert file_hashes(data) == written                   # read, never written

    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.status", arguments=[]))
    assert status["zotero"]["items"] == 7             # 7 + 1 new - 1 trashed
    assert file_hashes(data) == written
    client.zotero_files = written


async def _has(labels, key: str) -> bool:
    return key in await labels


async def _lacks(labels, key: str) -> bool:
    return key not in await labels


async def _contains(text, words: str) -> bool:
    return words in await text
