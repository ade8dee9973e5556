"""End-to-end: workspace/symbol finds papers that have no abstract and no text (issue 12)."""
from __future__ import annotations

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, start

LAMPORT = "Time, Clocks, and the Ordering of Events in a Distributed System"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def thesis_client(lsp_client: LanguageClient, tmp_path):
    """A thesis folder: a .bib whose entries have no abstracts, and a text that is only a title."""
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "thesis.bib").write_text(
        "% references of chapter 2\n"
        "@inproceedings{lamport1978time,\n  title={" + LAMPORT + "},\n  author={Lamport, Leslie},\n"
        "  year={1978}\n}\n\n"
        "@article{fischer1985impossibility,\n  title={Impossibility of Distributed Consensus with One "
        "Faulty Process},\n  author={Fischer, Michael J. and Lynch, Nancy A. and Paterson, Michael S.},\n"
        "  year={1985},\n  journal={Journal of the ACM}\n}\n", encoding="utf-8")
    (folder / "paxos.txt").write_text("Paxos Made Simple\n", encoding="utf-8")
    await start(lsp_client, folder, tmp_path / "index")
    yield
    await lsp_client.shutdown_session()


async def _symbols(client: LanguageClient, query: str):
    return await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))


async def test_workspace_symbol_finds_entries_without_abstract(thesis_client: LanguageClient, tmp_path):
    client = thesis_client
    folder = tmp_path / "thesis"
    bib = (folder / "thesis.bib").as_uri()
    for query, line, key in (("ordering of events", 1, "lamport1978time"), ("Lamport", 1, "lamport1978time"),
                             ("lamport1978time", 1, "lamport1978time"), ("Lamport 1978", 1, "lamport1978time"),
                             ("Lynch 1985", 7, "fischer1985impossibility"),
                             ('"distributed consensus"', 7, "fischer1985impossibility")):
        symbols = await _symbols(client, query)
        assert symbols, query
        top = symbols[0]
        assert top.location.uri == bib and top.location.range.start.line == line, query
        assert top.container_name.startswith(key), query
        assert top.kind == types.SymbolKind.Object
    top = (await _symbols(client, "Lamport 1978"))[0]
    assert top.name.startswith(LAMPORT) and "Lamport" in top.name and "1978" in top.name
    top = (await _symbols(client, "paxos made"))[0]
    assert top.location.uri == (folder / "paxos.txt").as_uri() and top.location.range.start.line == 0
