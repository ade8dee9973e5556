"""End-to-end: typing in a big document and the citation graph (issue 13, case 4), on a real
``paperlens serve`` process.

4. Every keystroke in a 2 MB LaTeX chapter rescanned the whole chapter and recomputed the
   diagnostics, and every hover and completion scanned it again, on the event loop: hovers
   queued behind the typing.  Now a keystroke reads a window around itself, a hover a window
   around the cursor (counted by the server's ``work`` in ``paperlens.server.status``: characters the
   citation finders read, scans of whole documents, LaTeX buffers read whole for their project
   facts), and the diagnostics of the last keystroke are right.
   Find references built the citation graph on the event loop (a second at 10k papers): after a
   library change, the graph is built on a background thread with $/progress, and the server
   answers a hover while it builds (the build is held back by a test gate until the hover has
   been answered: an observable order, not a sleep).
"""
from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, find_position, open_doc, start

WORDS = "sparse dense retrieval passage ranking citation library reader summary transformer".split()
KEYS = ["vaswani2017attention", "he2016deep", "devlin2019bert"]
TYPED = "Later work \\cite{zzunknown2031} disagrees. "


def chapter(size: int = 2_000_000) -> str:
    """A LaTeX chapter of ``size`` characters citing library keys, one sentence a line."""
    rng = random.Random(4)
    parts = ["\\documentclass{article}\n\\begin{document}\nThe reader hovers \\cite{vaswani2017attention}.\n"]
    total = len(parts[0])
    while total < size:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 25)))
        parts.append(f"{words.capitalize()} \\cite{{{rng.choice(KEYS)}}}.\n")
        total += len(parts[-1])
    parts.append("\\bibliography{library}\n\\end{document}\n")
    return "".join(parts)


async def _status(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="paperlens.server.status"))


async def _diagnostics_with(client: LanguageClient, uri: str, key: str) -> list[types.Diagnostic]:
    """Wait for the published diagnostics of ``uri`` to hold an unknown ``key`` (notifications)."""
    while not any(d.data and d.data.get("key") == key for d in client.diagnostics.get(uri, [])):
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[uri]


async def test_typing_in_a_2mb_chapter_reads_windows_not_the_chapter(client: LanguageClient, library_dir):
    text = chapter()
    path = library_dir / "drafts" / "chapter.tex"
    uri = path.as_uri()
    doc = types.TextDocumentIdentifier(uri=uri)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="latex", version=1, text=text + "Old \\cite{zzfirst}.\n")))
    await _diagnostics_with(client, uri, "zzfirst")            # the first full scan is done
    before = (await _status(client))["work"]
    hover_at = types.Position(line=2, character=len("The reader hovers \\cite{") + 3)
    line = text.count("\n", 0, len(text) // 2)                 # type in the middle, on a new line
    version, col = 1, 0
    for n, ch in enumerate("\n" + TYPED):
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=col),
                                  end=types.Position(line=line, character=col)), text=ch)]))
        line, col = (line + 1, 0) if ch == "\n" else (line, col + 1)
        h = await client.text_document_hover_async(types.HoverParams(text_document=doc, position=hover_at))
        assert h is not None and "Attention Is All You Need" in h.contents.value
    diags = await _diagnostics_with(client, uri, "zzunknown2031")
    (typed,) = [d for d in diags if d.data["key"] == "zzunknown2031"]
    start = len("Later work \\cite{")
    assert typed.range == types.Range(start=types.Position(line=line, character=start),
                                      end=types.Position(line=line, character=start + len("zzunknown2031")))
    after = (await _status(client))["work"]
    # 46 keystrokes and 46 hovers: no scan of the whole chapter (each hover alone read all of
    # it before), a window each, together less than the chapter twice over
    assert after["whole_document_scans"] == before["whole_document_scans"]
    assert after["citation_chars_read"] - before["citation_chars_read"] < 2 * len(text)
    assert after["project_fact_scans"] == before["project_fact_scans"]
    # a completion in the chapter still completes
    res = await client.text_document_completion_async(types.CompletionParams(
        text_document=doc, position=types.Position(line=line, character=len("Later work \\cite{"))))
    assert res is not None and "vaswani2017attention" in [i.label for i in res.items]


SECTION = """
{n}. Section {n}
We measure retrieval quality on passage ranking benchmarks and report the latency of every
stage of the reader; the sparse index stays competitive as the corpus grows, and the dense
encoder closes the vocabulary gap that the sparse index leaves open on long queries.
"""
# a paper text citing the Transformer in its reference list, long enough that the cited title
# is not on its first page (the title on the first page would join it to that entry)
CITING = ("A Paper Citing the Transformer\n\nAda Lovelace\n\nAbstract\nWe build on the Transformer.\n\n"
          "1. Introduction\nAttention [1] is what we use.\n" + "".join(SECTION.format(n=n) for n in range(2, 14))
          + "\nReferences\n[1] A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, "
          "L. Kaiser, and\nI. Polosukhin. Attention is all you need. In NeurIPS, 2017.\n")


@pytest.fixture(autouse=True)
def gate(tmp_path, monkeypatch) -> Path:
    """Citation-graph builds wait until this file exists (PAPERLENS_FAULT_GRAPH_GATE; set
    before any server of this module starts: pytest-lsp starts it before the fixture's own
    arguments are made)."""
    path = tmp_path / "gate"
    path.touch()                                   # the first graph (at start) builds at once
    monkeypatch.setenv("PAPERLENS_FAULT_GRAPH_GATE", str(path))
    return path


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def gated(lsp_client: LanguageClient, library_dir, index_dir, gate):
    assert gate.exists()
    await start(lsp_client, library_dir, index_dir)
    yield
    gate.touch()
    await lsp_client.shutdown_session()


def _progress(client: LanguageClient, title: str) -> list[list]:
    """The reports of every $/progress whose begin has ``title``."""
    return [reports for reports in client.progress_reports.values()
            if reports and isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].title == title]


def _ended(client: LanguageClient, title: str) -> int:
    return sum(1 for reports in _progress(client, title) if isinstance(reports[-1], types.WorkDoneProgressEnd))


async def test_references_after_a_library_change_build_the_graph_off_the_loop(gated: LanguageClient, gate,
                                                                               library_dir):
    client = gated
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    pos = find_position(tex, r"\cite{vaswani2017attention}", 8)

    async def references(token=None) -> list[types.Location]:
        return await client.text_document_references_async(types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=pos, work_done_token=token,
            context=types.ReferenceContext(include_declaration=False)))

    citing = {Path(loc.uri.removeprefix("file://")).name for loc in await references()}
    assert "sparse-retrieval-notes.txt" in citing and "new-citing.txt" not in citing
    builds = (await _status(client))["work"]["graph_builds"]
    # the library changes while the gate is closed: a new paper citing the Transformer
    gate.unlink()
    indexed = _ended(client, "paperlens: indexing")
    new = library_dir / "papers" / "new-citing.txt"
    new.write_text(CITING, encoding="utf-8")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=new.as_uri(), type=types.FileChangeType.Created)]))
    while _ended(client, "paperlens: indexing") == indexed:
        await client.wait_for_notification(types.PROGRESS)
    client.progress_reports["refs-graph"] = []                 # the client's own token
    pending = asyncio.ensure_future(references("refs-graph"))
    while not client.progress_reports.get("refs-graph"):       # the graph is being built
        await client.wait_for_notification(types.PROGRESS)
    (begin,) = client.progress_reports["refs-graph"]
    assert begin.title == "paperlens: citation graph"
    # the event loop answers while the graph waits at the gate
    h = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
    assert h is not None and "Attention Is All You Need" in h.contents.value
    c = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
    assert c is not None and "vaswani2017attention" in [i.label for i in c.items]
    assert not pending.done()
    gate.touch()
    citing = {Path(loc.uri.removeprefix("file://")).name for loc in await pending}
    assert {"sparse-retrieval-notes.txt", "new-citing.txt"} <= citing
    assert isinstance(client.progress_reports["refs-graph"][-1], types.WorkDoneProgressEnd)
    assert (await _status(client))["work"]["graph_builds"] == builds + 1
