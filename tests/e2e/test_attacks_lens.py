"""Code lenses while the citation graph is being built (after an index update it is built in
the background): the lens waits for the graph, with $/progress, and says how the library cites
the paper; before, it answered "Not cited by other papers in your library" until the graph was
ready (test_confinement's "Cites 3 papers" failed now and then on a busy machine).

The graph's build is held at a gate file (PAPERLENS_FAULT_GRAPH_GATE) that the test opens: no
sleep, no timing."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, start


@pytest.fixture(autouse=True)
def gate(tmp_path, monkeypatch) -> Path:
    """Graph builds wait until this file exists (set before the server starts; closed)."""
    path = tmp_path / "gate"
    monkeypatch.setenv("PAPERLENS_FAULT_GRAPH_GATE", str(path))
    return path


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def gated(lsp_client: LanguageClient, library_dir, index_dir, gate):
    assert not gate.exists()
    await start(lsp_client, library_dir, index_dir)
    yield
    gate.touch()
    await lsp_client.shutdown_session()


async def test_a_code_lens_waits_for_the_citation_graph(gated: LanguageClient, gate, library_dir):
    client = gated
    paper = library_dir / "papers" / "sparse-retrieval-notes.txt"
    client.progress_reports["lens-graph"] = []
    pending = asyncio.ensure_future(client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=paper.as_uri()), work_done_token="lens-graph")))
    while not client.progress_reports.get("lens-graph") and not pending.done():
        await asyncio.wait([pending, asyncio.ensure_future(client.wait_for_notification(types.PROGRESS))],
                           return_when=asyncio.FIRST_COMPLETED)
    assert not pending.done(), f"answered before the graph was built: {pending.result()}"
    (begin,) = client.progress_reports["lens-graph"]
    assert begin.title == "paperlens: citation graph"
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.status", arguments=[]))          # the event loop answers meanwhile
    assert status["papers"] > 0
    assert not pending.done()
    gate.touch()
    lenses = await pending
    assert [lens.command.title for lens in lenses] == ["Cites 3 papers of your library · okafor2024sparse"]
