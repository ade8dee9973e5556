"""End-to-end robustness: odd requests never produce an error answer and never stop the server.

Out-of-range positions, documents the server never saw, a 10 MB LaTeX buffer, requests sent
while the first index is still being built, and text with lone surrogates and NULs. After all
of it a normal hover still answers."""
from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import SERVER, find_position, open_doc, start, wait_indexed

BIG = 2**31 - 1            # the largest uinteger: lsprotocol forbids negative positions


def tdi(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def hover(client, uri, pos):
    return await client.text_document_hover_async(types.HoverParams(text_document=tdi(uri), position=pos))


async def complete(client, uri, pos):
    return await client.text_document_completion_async(types.CompletionParams(text_document=tdi(uri),
                                                                             position=pos))


async def every_request(client: LanguageClient, uri: str, pos: types.Position) -> dict:
    """Every position-based request the server offers, at ``pos``, by name. None gets an error
    answer: an error answer raises in the client."""
    return {
        "hover": await hover(client, uri, pos),
        "completion": await complete(client, uri, pos),
        "definition": await client.text_document_definition_async(
            types.DefinitionParams(text_document=tdi(uri), position=pos)),
        "references": await client.text_document_references_async(types.ReferenceParams(
            text_document=tdi(uri), position=pos, context=types.ReferenceContext(include_declaration=True))),
        "code actions": await client.text_document_code_action_async(types.CodeActionParams(
            text_document=tdi(uri), range=types.Range(start=pos, end=pos),
            context=types.CodeActionContext(diagnostics=[]))),
        # not about a position: the same wherever the cursor is
        "links": await client.text_document_document_link_async(types.DocumentLinkParams(text_document=tdi(uri))),
        "lenses": await client.text_document_code_lens_async(types.CodeLensParams(text_document=tdi(uri))),
    }


def said(answers: dict) -> dict:
    """The answers that say something (None, empty lists and empty completion lists do not)."""
    return {name: a for name, a in answers.items()
            if a not in (None, [], ()) and not (isinstance(a, types.CompletionList) and not a.items)}


async def assert_normal_hover(client: LanguageClient, library_dir: Path) -> None:
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    h = await hover(client, uri, find_position(tex, r"\cite{vaswani2017attention}", len(r"\cite{") + 3))
    assert h is not None and "**Attention Is All You Need**" in h.contents.value


# --- positions and documents out of bounds -------------------------------------------------------------

async def test_out_of_range_positions(client: LanguageClient, library_dir):
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    last = tex.read_text(encoding="utf-8").count("\n")
    cite_line = find_position(tex, r"\cite{vaswani2017attention}").line
    document_wide = {k: v for k, v in said(await every_request(client, uri, types.Position(line=0, character=0))).items()
                     if k in ("links", "lenses")}
    # past the end of the document or of a line (the end of that line, where nothing is): nothing
    # about a position, the document's links and lenses as anywhere
    for pos in (types.Position(line=BIG, character=0), types.Position(line=0, character=BIG),
                types.Position(line=BIG, character=BIG), types.Position(line=last + 1, character=3),
                types.Position(line=cite_line, character=BIG)):
        assert said(await every_request(client, uri, pos)) == document_wide, pos
    sym = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="x" * 10_000))
    assert sym == []
    # a didChange whose range is far outside the document
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=BIG, character=BIG),
                              end=types.Position(line=BIG, character=BIG)),
            text="\n\\cite{he2016deep}")]))
    assert said(await every_request(client, uri, types.Position(line=BIG, character=5))) == document_wide
    await assert_normal_hover(client, library_dir)


async def test_unknown_documents(client: LanguageClient, library_dir, tmp_path):
    missing = (tmp_path / "no-such-dir" / "draft.tex").as_uri()
    # documents the editor never opened, outside the paper folders: nothing is said about them
    for uri in (missing, "untitled:Untitled-1", "file:///dev/null", "file:///tmp",
                "https://example.org/paper.tex", "not a uri at all"):
        assert said(await every_request(client, uri, types.Position(line=0, character=0))) == {}, uri
        assert said(await every_request(client, uri, types.Position(line=3, character=7))) == {}, uri
    # an untitled buffer the editor did open works like any other draft
    text = "Intro \\cite{vaswani2017attention} and \\cite{he"
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri="untitled:Untitled-2", language_id="latex", version=1, text=text)))
    h = await hover(client, "untitled:Untitled-2", types.Position(line=0, character=15))
    assert h is not None and "**Attention Is All You Need**" in h.contents.value
    c = await complete(client, "untitled:Untitled-2", types.Position(line=0, character=len(text)))
    assert c.items[0].label == "he2016deep"
    await every_request(client, "untitled:Untitled-2", types.Position(line=0, character=15))
    await assert_normal_hover(client, library_dir)


async def test_code_lens_on_the_root_uri(client: LanguageClient):
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=tdi("file:///")))
    assert lenses in (None, [], ())


# --- a 10 MB document --------------------------------------------------------------------------------------

def huge_latex(target_bytes: int = 10 * 1024 * 1024) -> tuple[str, int]:
    """A LaTeX buffer of about ``target_bytes`` with thousands of citations; (text, cites)."""
    filler = ("Dense retrievers map questions and passages to vectors; sparse probes explain "
              "their rankings with a handful of interpretable features. ")
    keys = ["vaswani2017attention", "he2016deep", "devlin2019bert", "kingma2015adam", "nosuchkey2099"]
    parts, size, cites, n = ["\\documentclass{article}\n\\begin{document}\n"], 0, 0, 0
    while size < target_bytes:
        if n % 40 == 0:
            line = f"Paragraph {n} \\cite{{{keys[n // 40 % len(keys)]}}} and \\citep[p.~{n}]{{he2016deep,{keys[n % 5]}}}.\n"
            cites += 3
        elif n % 97 == 0:
            line = f"% a comment \\cite{{commented{n}}} é 😀 中文\n"
        else:
            line = filler + "\n"
        parts.append(line)
        size += len(line)
        n += 1
    parts.append("Finally see \\cite{va")
    return "".join(parts), cites


# Installed in the server process by a sitecustomize.py on PYTHONPATH: every whole-buffer pass of
# the citation scanners (core/citations/masking.py masks the comments and code of each buffer
# they scan)
# is logged with the buffer's length, so the test can count the passes over the 10 MB buffer.
SPY = r'''
"""Test spy (tests/e2e/test_robustness.py): log the length of each buffer the citation scanners mask."""
import os as _os

_LOG = _os.environ.get("PAPERLENS_SPY_LOG")
if _LOG:
    import paperlens.core.citations.masking as _masking

    _fd = _os.open(_LOG, _os.O_WRONLY | _os.O_APPEND | _os.O_CREAT, 0o644)
    _real = getattr(_masking, "mask", None)
    if _real is None:
        _os.write(_fd, b"missing mask\n")
    else:
        def _mask(text, *args, **kwargs):
            _os.write(_fd, b"%d\n" % len(text))
            return _real(text, *args, **kwargs)

        _masking.mask = _mask
        _os.write(_fd, b"installed\n")
'''


@contextlib.asynccontextmanager
async def spied_server(tmp_path: Path, library_dir: Path):
    """`paperlens serve` on ``library_dir``, indexed, with the spy; yields (client, passes) where
    ``passes(n)`` counts the masks of buffers of ``n`` characters or more so far."""
    spy = tmp_path / "spy"
    spy.mkdir()
    (spy / "sitecustomize.py").write_text(SPY, encoding="utf-8")
    log = tmp_path / "spy.log"
    env = {**os.environ, "PAPERLENS_SPY_LOG": str(log),
           "PYTHONPATH": os.pathsep.join(p for p in (str(spy), os.environ.get("PYTHONPATH", "")) if p)}

    def passes(n: int) -> int:
        lines = log.read_text().split("\n") if log.exists() else []
        assert "missing mask" not in lines, "core/citations/masking.py has no mask any more: update the spy"
        assert "installed" in lines, "the spy did not run in the server"
        return sum(int(length) >= n for length in lines if length.isdigit())

    client = await ClientServerConfig(server_command=SERVER, server_env=env).start()
    try:
        await start(client, library_dir, tmp_path / "index")
        passes(0)
        yield client, passes
    finally:
        with contextlib.suppress(Exception):
            await client.shutdown_session()
        await client.stop()


async def test_huge_document(library_dir, tmp_path):
    """A 10 MB buffer: hover, completion and an edit answer, and the server goes over the buffer
    a bounded number of times (no pass per citation or per line; timings: bench/parse_speed.py).
    The waits are hang guards, not speed limits."""
    text, cites = huge_latex()
    assert len(text) >= 10 * 1024 * 1024 and cites > 2000
    uri = (tmp_path / "huge.tex").as_uri()
    lines = text.split("\n")
    async with spied_server(tmp_path, library_dir) as (client, passes):
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="latex", version=1, text=text)))
        # hover the last real citation (near the end of the buffer)
        n = max(i for i, l in enumerate(lines) if l.startswith("Paragraph ") and "vaswani2017attention" in l)
        pos = types.Position(line=n, character=lines[n].index("vaswani2017attention") + 2)
        h = await asyncio.wait_for(hover(client, uri, pos), 60)
        assert h is not None and "**Attention Is All You Need**" in h.contents.value
        assert h.range.start.line == pos.line
        # complete at the very end
        c = await asyncio.wait_for(complete(client, uri, types.Position(line=len(lines) - 1,
                                                                        character=len(lines[-1]))), 60)
        assert c is not None and c.items[0].label == "vaswani2017attention"
        # an unknown key in the middle
        m = next(i for i, l in enumerate(lines) if "\\cite{nosuchkey2099}" in l)
        h = await hover(client, uri, types.Position(line=m, character=lines[m].index("nosuchkey2099") + 1))
        assert h is not None and "Unknown citation key `nosuchkey2099`" in h.contents.value
        # a small edit of the huge buffer keeps working
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=len(lines) - 1, character=len(lines[-1])),
                                  end=types.Position(line=len(lines) - 1, character=len(lines[-1]))),
                text="swani2017attention}")]))
        h = await hover(client, uri, types.Position(line=len(lines) - 1, character=len(lines[-1]) + 2))
        assert h is not None and "**Attention Is All You Need**" in h.contents.value
        client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=tdi(uri)))
        await assert_normal_hover(client, library_dir)
        # 4 requests on the buffer and 2 versions of it: a few passes for each (a hover reads
        # the key under the cursor and the bibliography files; a version, its diagnostics and
        # its LaTeX project), never one per citation (3,000) or per line (90,000)
        whole = passes(len(text))
        assert whole <= 3 * (4 + 2), f"{whole} passes over the 10 MB buffer"


# --- requests before the first index is built ----------------------------------------------------------

N_PAPERS = 200


def generated_library(folder: Path, n: int = N_PAPERS) -> None:
    """``n`` text papers and a .bib with an entry for each (keys gen0000 ...)."""
    folder.mkdir(parents=True, exist_ok=True)
    bib = []
    for i in range(n):
        title = f"Generated Study Number {i} of Passage Ranking"
        body = " ".join(f"Sentence {k} about topic{i} and retrieval of scientific passages." for k in range(60))
        (folder / f"paper-{i:04d}.txt").write_text(
            f"{title}\n\nAda Lovelace, Alan Turing\n\nAbstract\nWe study topic{i}. {body}\n\n"
            f"1. Introduction\n{body}\n\n2. Method\n{body}\n", encoding="utf-8")
        bib.append(f"@article{{gen{i:04d},\n  title = {{{title}}},\n  author = {{Lovelace, Ada}},\n"
                   f"  year = {{{2000 + i % 25}}},\n  abstract = {{About topic{i}.}},\n}}\n")
    (folder / "generated.bib").write_text("\n".join(bib), encoding="utf-8")
    (folder / "draft.tex").write_text("Intro \\cite{gen0042} and \\cite{gen", encoding="utf-8")


class Gate:
    """The client's answer to the server's file-watcher registration, held until the test opens
    the gate: the server starts indexing only after that answer, so every request answered
    before the gate opens certainly came before any index existed."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()       # the server sent client/registerCapability
        self.open = asyncio.Event()        # the test lets the answer go
        self.answered = asyncio.Event()


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def cold_client(lsp_client: LanguageClient, tmp_path, gate: Gate):
    """A server on a library of 200 papers it has never indexed, held before indexing by
    ``gate``."""
    folder = tmp_path / "big-library"
    generated_library(folder)
    options = {"paperlens": {"indexPath": str(tmp_path / "index"), "indexWorkers": 2}}
    lsp_client.set_configuration(options)

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    async def _register(params):
        gate.asked.set()
        await gate.open.wait()
        gate.answered.set()
        return None

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)],
        initialization_options=options))
    yield
    gate.open.set()
    await asyncio.wait_for(gate.answered.wait(), 30)   # no answer of ours may be pending at exit
    await lsp_client.shutdown_session()


UNKNOWN_WHILE_INDEXING = "Unknown citation key `gen0042`: not in the library. (indexing is still running)"
CARD_42 = "**Generated Study Number 42 of Passage Ranking**"


async def test_requests_before_indexing_finished(cold_client: LanguageClient, gate: Gate, tmp_path):
    client = cold_client
    folder = tmp_path / "big-library"
    draft = folder / "draft.tex"
    uri = open_doc(client, draft, "latex")
    text = draft.read_text(encoding="utf-8")

    def ended() -> bool:
        return any(r and isinstance(r[-1], types.WorkDoneProgressEnd) for r in client.progress_reports.values())

    async def one_round() -> str | None:
        h = await hover(client, uri, types.Position(line=0, character=text.index("gen0042") + 2))
        await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="topic42 retrieval"))
        await complete(client, uri, types.Position(line=0, character=len(text)))
        return None if h is None else h.contents.value

    # before any index exists (the server waits for our answer to start indexing)
    await asyncio.wait_for(gate.asked.wait(), 60)
    assert await one_round() == UNKNOWN_WHILE_INDEXING
    assert not any(client.progress_reports.values()), "indexing began before the gate opened"
    # while the index is being built: as many rounds as fit before its end (none need to)
    gate.open.set()
    answers: list[str] = []
    rounds = 0
    while not ended() and rounds < 2000:
        answers.append(await one_round())
        rounds += 1
    # each answer: unknown for now, or already the card
    assert all(a == UNKNOWN_WHILE_INDEXING or (a or "").startswith(CARD_42) for a in answers), answers
    await wait_indexed(client, timeout=120)
    h = await hover(client, uri, types.Position(line=0, character=text.index("gen0042") + 2))
    assert h.contents.value.startswith(CARD_42)
    c = await complete(client, uri, types.Position(line=0, character=len(text)))
    assert len(c.items) == 50 and c.is_incomplete
    s = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="topic42"))
    assert s and s[0].location.uri.endswith(("paper-0042.txt", "generated.bib"))


async def test_first_hover_says_indexing_is_running(cold_client: LanguageClient, gate: Gate, tmp_path):
    draft = tmp_path / "big-library" / "draft.tex"
    uri = open_doc(cold_client, draft, "latex")
    await asyncio.wait_for(gate.asked.wait(), 60)
    h = await hover(cold_client, uri, types.Position(line=0, character=draft.read_text().index("gen0042") + 2))
    assert h.contents.value == UNKNOWN_WHILE_INDEXING


# --- text the protocol can carry but nobody should write -------------------------------------------------

async def test_lone_surrogates_and_nuls(client: LanguageClient, library_dir, tmp_path):
    weird = ("\x00\\cite{vaswani2017attention}\x00 \ud800 \\cite{bad\udfffkey} \\cite{\x00nul}\n"
             "😀\ud83d\\citep{he2016deep,\udc00} [@x\ud800y] \\cite{")
    for n, (lang, name) in enumerate((("latex", "w.tex"), ("markdown", "w.md"), ("typst", "w.typ"),
                                      ("org", "w.org"), ("plaintext", "w.txt"))):
        uri = (tmp_path / name).as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id=lang, version=1, text=weird)))
        for line in range(3):
            for ch in range(0, 60, 3):
                await every_request(client, uri, types.Position(line=line, character=ch))
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=0, character=2), end=types.Position(line=1, character=1)),
                text="\udbff\x00\\cite{he")]))
        await every_request(client, uri, types.Position(line=0, character=12))
    # keys next to NULs and lone surrogates are still found, at the right UTF-16 columns
    uri = (tmp_path / "w2.tex").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="latex", version=1, text=weird)))
    h = await hover(client, uri, types.Position(line=0, character=9))
    assert h is not None and "**Attention Is All You Need**" in h.contents.value
    assert (h.range.start.character, h.range.end.character) == (7, 7 + len("vaswani2017attention"))
    h = await hover(client, uri, types.Position(line=1, character=12))   # 😀 is 2 units, \ud83d 1
    assert h is not None and "**Deep Residual Learning for Image Recognition**" in h.contents.value
    assert h.range.start.character == 10
    # in queries, lone surrogates and NULs are no words: the rest is searched as it is
    sym = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="\ud800\x00 attention"))
    plain = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="attention"))
    assert plain and [(s.name, s.location.uri) for s in sym] == [(s.name, s.location.uri) for s in plain]
    res = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=["\udfff\x00 transformer", 5]))
    plain = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=["transformer", 5]))
    assert len(plain) == 5 and res == plain
    await assert_normal_hover(client, library_dir)


async def test_search_command_with_a_bad_limit(client: LanguageClient):
    """A limit that is no number is the default limit."""
    res = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=["transformer", "ten"]))
    default = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=["transformer"]))
    assert default and res == default


async def test_server_still_answers_after_all(client: LanguageClient, library_dir):
    """The same server, after a burst of every odd request at once (concurrently)."""
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    before = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="paperlens.server.status"))
    jobs = [every_request(client, u, types.Position(line=l, character=c))
            for u in (uri, "untitled:x", "file:///nonexistent.tex")
            for l, c in ((0, 0), (BIG, BIG), (5, BIG))]
    for answers in await asyncio.gather(*jobs):      # no citation at any of these places
        assert {k for k in said(answers) if k not in ("links", "lenses")} == set()
    await assert_normal_hover(client, library_dir)
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="paperlens.server.status"))
    assert status["indexing"] is False and status["papers"] == before["papers"] == 11
