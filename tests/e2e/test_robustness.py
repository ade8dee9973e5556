"""End-to-end robustness: odd requests never produce an error answer and never stop the server.

Out-of-range positions, documents the server never saw, a 10 MB LaTeX buffer, requests sent
while the first index is still being built, and text with lone surrogates and NULs. After all
of it a normal hover still answers."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import SERVER, find_position, open_doc, wait_indexed

BIG = 2**31 - 1            # the largest uinteger: lsprotocol forbids negative positions
SEQ = (list, tuple)        # how the client's converter hands back JSON arrays


def tdi(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def hover(client, uri, pos):
    return await client.text_document_hover_async(types.HoverParams(text_document=tdi(uri), position=pos))


async def complete(client, uri, pos):
    return await client.text_document_completion_async(types.CompletionParams(text_document=tdi(uri),
                                                                             position=pos))


async def every_request(client: LanguageClient, uri: str, pos: types.Position) -> None:
    """Every position-based request the server offers, at ``pos``: each answers (None, an empty
    list or a result), none with an error (an error answer raises in the client)."""
    h = await hover(client, uri, pos)
    assert h is None or isinstance(h, types.Hover)
    c = await complete(client, uri, pos)
    assert c is None or isinstance(c, (types.CompletionList, *SEQ))
    d = await client.text_document_definition_async(types.DefinitionParams(text_document=tdi(uri), position=pos))
    assert d is None or isinstance(d, (*SEQ, types.Location))
    r = await client.text_document_references_async(types.ReferenceParams(
        text_document=tdi(uri), position=pos, context=types.ReferenceContext(include_declaration=True)))
    assert r is None or isinstance(r, SEQ)
    a = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=tdi(uri), range=types.Range(start=pos, end=pos),
        context=types.CodeActionContext(diagnostics=[])))
    assert a is None or isinstance(a, SEQ)
    links = await client.text_document_document_link_async(types.DocumentLinkParams(text_document=tdi(uri)))
    assert links is None or isinstance(links, SEQ)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=tdi(uri)))
    assert lenses is None or isinstance(lenses, SEQ)


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
    for pos in (types.Position(line=BIG, character=0), types.Position(line=0, character=BIG),
                types.Position(line=BIG, character=BIG), types.Position(line=last + 1, character=3),
                types.Position(line=cite_line, character=BIG)):
        await every_request(client, uri, pos)
    # far past the end of a line is the end of that line, nothing else
    assert await hover(client, uri, types.Position(line=cite_line, character=BIG)) is None
    sym = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="x" * 10_000))
    assert isinstance(sym, SEQ)
    # a didChange whose range is far outside the document
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=BIG, character=BIG),
                              end=types.Position(line=BIG, character=BIG)),
            text="\n\\cite{he2016deep}")]))
    await every_request(client, uri, types.Position(line=BIG, character=5))
    await assert_normal_hover(client, library_dir)


async def test_unknown_documents(client: LanguageClient, library_dir, tmp_path):
    missing = (tmp_path / "no-such-dir" / "draft.tex").as_uri()
    for uri in (missing, "untitled:Untitled-1", "file:///dev/null", "file:///tmp",
                "https://example.org/paper.tex", "not a uri at all"):
        await every_request(client, uri, types.Position(line=0, character=0))
        await every_request(client, uri, types.Position(line=3, character=7))
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
    assert lenses is None or isinstance(lenses, SEQ)


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


async def test_huge_document(client: LanguageClient, library_dir, tmp_path):
    text, cites = huge_latex()
    assert len(text) >= 10 * 1024 * 1024 and cites > 2000
    uri = (tmp_path / "huge.tex").as_uri()
    t0 = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="latex", version=1, text=text)))
    lines = text.split("\n")
    # hover the last real citation (near the end of the buffer)
    n = max(i for i, l in enumerate(lines) if l.startswith("Paragraph ") and "vaswani2017attention" in l)
    pos = types.Position(line=n, character=lines[n].index("vaswani2017attention") + 2)
    h = await asyncio.wait_for(hover(client, uri, pos), 60)
    t_hover = time.perf_counter() - t0
    assert h is not None and "**Attention Is All You Need**" in h.contents.value
    assert h.range.start.line == pos.line
    # complete at the very end
    t1 = time.perf_counter()
    c = await asyncio.wait_for(complete(client, uri, types.Position(line=len(lines) - 1,
                                                                    character=len(lines[-1]))), 60)
    t_complete = time.perf_counter() - t1
    assert c is not None and c.items[0].label == "vaswani2017attention"
    # an unknown key in the middle
    m = next(i for i, l in enumerate(lines) if "\\cite{nosuchkey2099}" in l)
    h = await hover(client, uri, types.Position(line=m, character=lines[m].index("nosuchkey2099") + 1))
    assert h is not None and "Unknown citation key `nosuchkey2099`" in h.contents.value
    # the first answer includes receiving 10 MB and checking every citation of the buffer once
    assert t_hover < 30 and t_complete < 10, (t_hover, t_complete)
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


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def cold_client(lsp_client: LanguageClient, tmp_path):
    """A server on a library of 200 papers it has never indexed; the fixture does not wait for
    indexing: the test's first request follows ``initialized`` at once."""
    folder = tmp_path / "big-library"
    generated_library(folder)
    options = {"paperlens": {"indexPath": str(tmp_path / "index"), "indexWorkers": 2}}
    lsp_client.set_configuration(options)

    registered = asyncio.Event()

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    async def _register(params):
        """Accept the file watchers, slowly (as a busy editor may): the server starts indexing
        only after this answer, so the first requests certainly come before any index exists."""
        await asyncio.sleep(1.5)
        registered.set()
        return None

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)],
        initialization_options=options))
    yield
    await asyncio.wait_for(registered.wait(), 30)   # no answer of ours may be pending at exit
    await lsp_client.shutdown_session()


async def test_requests_before_indexing_finished(cold_client: LanguageClient, tmp_path):
    client = cold_client
    folder = tmp_path / "big-library"
    draft = folder / "draft.tex"
    uri = open_doc(client, draft, "latex")
    text = draft.read_text(encoding="utf-8")

    def ended() -> bool:
        return any(r and isinstance(r[-1], types.WorkDoneProgressEnd) for r in client.progress_reports.values())

    rounds = early = 0
    answers: list[str] = []
    while True:
        was_indexing = not ended()
        h = await hover(client, uri, types.Position(line=0, character=text.index("gen0042") + 2))
        c = await complete(client, uri, types.Position(line=0, character=len(text)))
        s = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="topic42 retrieval"))
        assert h is None or isinstance(h, types.Hover)
        assert c is None or isinstance(c, types.CompletionList)
        assert isinstance(s, SEQ)
        if h is not None:
            answers.append(h.contents.value)
        rounds += 1
        early += was_indexing
        if not was_indexing or rounds > 2000:
            break
    assert early >= 1, "every request came after indexing had finished"
    await wait_indexed(client, timeout=120)
    h = await hover(client, uri, types.Position(line=0, character=text.index("gen0042") + 2))
    assert "**Generated Study Number 42 of Passage Ranking**" in h.contents.value
    c = await complete(client, uri, types.Position(line=0, character=len(text)))
    assert len(c.items) == 50 and c.is_incomplete
    s = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="topic42"))
    assert s and s[0].location.uri.endswith(("paper-0042.txt", "generated.bib"))
    # requests were answered while the index was being built, not only before it started
    assert any("(indexing is still running)" in a for a in answers)
    # before the card, the hover said the key is unknown (for now)
    assert all("Generated Study Number 42" in a or a.startswith("Unknown citation key `gen0042`")
               for a in answers)


async def test_first_hover_says_indexing_is_running(cold_client: LanguageClient, tmp_path):
    draft = tmp_path / "big-library" / "draft.tex"
    uri = open_doc(cold_client, draft, "latex")
    h = await hover(cold_client, uri, types.Position(line=0, character=draft.read_text().index("gen0042") + 2))
    assert "Generated Study Number 42" in h.contents.value or "indexing is still running" in h.contents.value


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
    sym = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="\ud800\x00 attention"))
    assert isinstance(sym, SEQ)
    res = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.search", arguments=["\udfff\x00 transformer", 5]))
    assert res is None or isinstance(res, (*SEQ, dict))
    await assert_normal_hover(client, library_dir)


async def test_search_command_with_a_bad_limit(client: LanguageClient):
    res = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.search", arguments=["transformer", "ten"]))
    assert isinstance(res, SEQ)


async def test_server_still_answers_after_all(client: LanguageClient, library_dir):
    """The same server, after a burst of every odd request at once (concurrently)."""
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(client, tex, "latex")
    jobs = [every_request(client, u, types.Position(line=l, character=c))
            for u in (uri, "untitled:x", "file:///nonexistent.tex")
            for l, c in ((0, 0), (BIG, BIG), (5, BIG))]
    await asyncio.gather(*jobs)
    await assert_normal_hover(client, library_dir)
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="paperlens.status"))
    assert status["indexing"] is False and status["papers"] >= 10
