"""End-to-end attacks through the index's own files and the search box (attack findings 7, 8
and 10), on a real ``paperlens serve`` process.

7. A .bib entry with ``year={²⁰²⁰}`` (``str.isdigit()`` is true, ``int()`` raises): completion of
   the whole library, ``paperlens.server.papers`` and ``paperlens cite`` failed.
8. A damaged table.json in an existing index: nested 200,000 levels deep it made initialize fail
   (the server then served nothing, for good); rows with fields of other types made hover and
   completion fail; nothing repaired it. Now the index is rebuilt, and says why.
10. Search bombs: a 20,000-term OR query held the event loop 11-14 s, 100k words 3-4.5 s, 5,000
   nested parentheses logged a traceback per search. Now each answers, with a note in the log,
   and the server keeps answering.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, find_position, open_doc, start

from paperlens.config import index_dir_for

PAPERLENS = [sys.executable, "-m", "paperlens"]

DAMAGED_TABLES = {
    "deep-nesting": "[" * 200000 + "]" * 200000,
    "wrong-types": json.dumps([[1, 2, 3, 4, 5, 6, "\u0001library.bib", "x", 9, "", 11, 12, 13, ""]]),
    "null-fields": json.dumps([["id1", "vaswani2017attention", None, None, None, None, "\u0001library.bib",
                                None, "bib", None, None, None, None, None]]),
}


async def _command(client: LanguageClient, command: str, *args):
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command, arguments=list(args)))


# --- 8. a damaged table.json -------------------------------------------------------------------------

@pytest.fixture(params=list(DAMAGED_TABLES), ids=list(DAMAGED_TABLES))
def damaged_index(request, library_dir, index_dir):
    """The example library indexed by ``paperlens index``, then its table.json damaged."""
    run = subprocess.run([*PAPERLENS, "index", str(library_dir), "--index-path", str(index_dir)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    table = index_dir_for(library_dir, str(index_dir)) / "table.json"
    assert json.loads(table.read_text(encoding="utf-8"))
    table.write_text(DAMAGED_TABLES[request.param], encoding="utf-8")
    return library_dir


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def damaged(lsp_client: LanguageClient, damaged_index, index_dir):
    await start(lsp_client, damaged_index, index_dir)     # initialize answered, indexing ended
    yield
    await lsp_client.shutdown_session()


async def test_a_damaged_table_is_rebuilt(damaged: LanguageClient, damaged_index):
    status = await _command(damaged, "paperlens.server.status")
    (last,) = status["last"]
    assert last["rebuilt"].startswith("paper table damaged (") and last["error"] == ""
    assert status["papers"] == last["papers_total"] > 3
    tex = damaged_index / "drafts" / "survey.tex"
    uri = open_doc(damaged, tex, "latex")
    hover = await damaged.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=find_position(tex, "vaswani2017attention}", 3)))
    assert hover is not None and "**Attention Is All You Need**" in hover.contents.value
    items = await damaged.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=find_position(tex, "vaswani2017attention}", 3)))
    labels = [i.label for i in (items.items if hasattr(items, "items") else items)]
    assert "vaswani2017attention" in labels
    assert not [m for m in damaged.log_messages if "Traceback" in m.message]


# --- 7. a year in superscript digits -----------------------------------------------------------------

YEAR_BIB = ("@article{good2017, title={A Good Paper}, author={Good, Ann}, year={2017}}\n"
            "@article{bad2020, title={A Paper With a Superscript Year}, author={Bad, Bob}, year={²⁰²⁰}}\n")


@pytest.fixture
def year_library(tmp_path):
    folder = tmp_path / "years"
    folder.mkdir()
    (folder / "refs.bib").write_text(YEAR_BIB, encoding="utf-8")
    (folder / "a.tex").write_text("\\cite{} \\cite{Good}\n", encoding="utf-8")
    return folder


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def years(lsp_client: LanguageClient, year_library, index_dir):
    await start(lsp_client, year_library, index_dir)
    yield
    await lsp_client.shutdown_session()


async def test_a_superscript_year_breaks_nothing(years: LanguageClient, year_library, index_dir):
    uri = open_doc(years, year_library / "a.tex", "latex")
    got = {}
    for name, character in (("all", 6), ("good", 17)):
        items = await years.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=character)))
        got[name] = [i.label for i in (items.items if hasattr(items, "items") else items)]
    assert got == {"all": ["good2017", "bad2020"], "good": ["good2017"]}
    papers = await _command(years, "paperlens.server.papers", "", 10)
    assert [(p["key"], p["year"]) for p in papers] == [("good2017", "2017"), ("bad2020", "²⁰²⁰")]
    cite = subprocess.run([*PAPERLENS, "cite", "--dir", str(year_library), "--index-path", str(index_dir)],
                          capture_output=True, text=True, timeout=600)
    assert cite.returncode == 0 and "Traceback" not in cite.stderr, cite.stderr[-2000:]


# --- 10. search bombs ---------------------------------------------------------------------------------

@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, library_dir, index_dir):
    await start(lsp_client, library_dir, index_dir)
    yield
    await lsp_client.shutdown_session()


BOMBS = {
    "20k-or": " OR ".join(["attention"] + [f"w{i}" for i in range(20000)]),
    "100k-words": " ".join(["attention"] + [f"word{i}" for i in range(100000)]),
    "nested-5000": "(" * 5000 + "attention" + ")" * 5000,
    "20k-and": " AND ".join(["attention"] + [f"w{i}" for i in range(20000)]),
}


async def test_search_bombs_are_answered(client: LanguageClient):
    for name, query in BOMBS.items():
        hits = await _command(client, "paperlens.server.search", query, 50)
        assert isinstance(hits, list), name
        symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
        assert isinstance(symbols, list), name
        if name != "20k-and":        # the AND of words no paper has finds nothing
            assert hits and hits[0]["key"] == "vaswani2017attention", name
    # still answering, and no traceback sent to the editor
    hits = await _command(client, "paperlens.server.search", "attention recurrence")
    assert hits[0]["key"] == "vaswani2017attention"
    assert not [m for m in client.log_messages if "Traceback" in m.message]
