"""Confinement, end to end: the server (and the CLI) under a guard that records what it does.

A ``sitecustomize.py`` on ``PYTHONPATH`` installs a Python audit hook in the server process and
in every process it starts (index workers are spawned: they run it too). The hook records
``socket.connect``/``connect_ex``/``sendto`` and ``getaddrinfo`` (refusing any connection but
the one allowed loopback port) and every ``open`` of a watched path, to a log file. Then:

(a) with the extractive provider no socket is touched at all; with provider ``openai`` and a
    local ``baseUrl`` the only connections go to that host and port;
(b) files outside the paper folders that a ``.bib`` or a draft names are never opened;
(c) the API key is never written to stderr, the log file, logMessage or showMessage;
(d) paper text and model output are escaped in hover cards (no links, images or HTML).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import find_position, open_doc, start

GUARD = r'''
"""Test guard (tests/e2e/test_confinement.py): record connections and opens of watched paths."""
import ipaddress as _ip
import json as _json
import os as _os
import sys as _sys

_LOG = _os.environ.get("PAPERLENS_GUARD_LOG")
_WATCH = [p for p in _os.environ.get("PAPERLENS_GUARD_PATHS", "").split(_os.pathsep) if p]
_ALLOW = _os.environ.get("PAPERLENS_GUARD_ALLOW_PORT", "")


def _install():
    fd = _os.open(_LOG, _os.O_WRONLY | _os.O_APPEND | _os.O_CREAT, 0o644)
    write, getpid, fsdecode, abspath = _os.write, _os.getpid, _os.fsdecode, _os.path.abspath
    dumps = _json.dumps

    def record(kind, detail):
        write(fd, (dumps({"kind": kind, "detail": detail, "pid": getpid()}) + "\n").encode())

    def loopback(host):
        try:
            return _ip.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def hook(event, args):
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            addr = args[1] if event != "socket.sendmsg" else args[1:]
            if isinstance(addr, tuple) and len(addr) >= 2 and not isinstance(addr[0], tuple):
                record("connect", [str(addr[0]), addr[1]])
                if not (loopback(addr[0]) and _ALLOW and str(addr[1]) == _ALLOW):
                    raise ConnectionRefusedError(111, "refused by the paperlens test guard")
            else:
                record("connect", [repr(addr), None])
        elif event == "socket.getaddrinfo":
            record("getaddrinfo", [str(args[0]), args[1]])
        elif event == "open" and _WATCH and isinstance(args[0], (str, bytes, _os.PathLike)):
            path = abspath(fsdecode(args[0]))
            for w in _WATCH:
                if path == w or path.startswith(w + "/"):
                    record("open", path)

    _sys.addaudithook(hook)
    record("start", list(getattr(_sys, "orig_argv", None) or _sys.argv))


if _LOG:
    _install()
'''


@dataclass
class Guard:
    log: Path
    stderr: Path
    logfile: Path

    def records(self, kind: str | None = None) -> list[dict]:
        if not self.log.exists():
            return []
        out = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [r for r in out if kind is None or r["kind"] == kind]


def guard_env(tmp_path: Path, watch: list[Path] = (), allow_port: int | None = None,
              extra: dict | None = None) -> tuple[dict, Guard]:
    gdir = tmp_path / "guard"
    gdir.mkdir(exist_ok=True)
    (gdir / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    guard = Guard(tmp_path / "guard.jsonl", tmp_path / "server.stderr", tmp_path / "server.log")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update({
        "PYTHONPATH": os.pathsep.join(p for p in (str(gdir), os.environ.get("PYTHONPATH", "")) if p),
        "PAPERLENS_GUARD_LOG": str(guard.log),
        "PAPERLENS_GUARD_PATHS": os.pathsep.join(str(p) for p in watch),
        "PAPERLENS_GUARD_ALLOW_PORT": str(allow_port or ""),
        "PAPERLENS_STDERR_FILE": str(guard.stderr),
        **(extra or {}),
    })
    return env, guard


@contextlib.asynccontextmanager
async def guarded_server(tmp_path: Path, folder: Path, settings: dict | None = None, *,
                         watch: list[Path] = (), allow_port: int | None = None, env: dict | None = None,
                         verbose: bool = False):
    """`paperlens serve` under the guard, its stderr into a file, with a log file; initialized on
    ``folder`` and indexed."""
    env_, guard = guard_env(tmp_path, watch, allow_port, env)
    cmd = ["/bin/sh", "-c", 'exec "$@" 2>>"$PAPERLENS_STDERR_FILE"', "sh",
           sys.executable, "-m", "paperlens", "serve", "--stdio", "--log-file", str(guard.logfile)]
    if verbose:
        cmd.append("--verbose")
    client = await ClientServerConfig(server_command=cmd, server_env=env_).start()
    client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda params: None)
    try:
        await start(client, folder, tmp_path / "index", settings=settings)
        yield client, guard
    finally:
        with contextlib.suppress(Exception):
            await client.shutdown_session()
        await client.stop()
    starts = guard.records("start")
    assert any("paperlens" in " ".join(r["detail"]) for r in starts), "the guard did not run in the server"


def paperlens_commands(guard: Guard) -> list[str]:
    """The ``paperlens`` subcommands of the processes that ran the guard, sorted."""
    return sorted(r["detail"][3] for r in guard.records("start") if r["detail"][1:3] == ["-m", "paperlens"])


async def summary_ready(client: LanguageClient, key: str, timeout: float = 30) -> None:
    """Wait for the server's log line saying that the LLM summary of ``key`` is ready."""
    async def wait() -> None:
        while f"summary ready: {key} (llm)" not in [m.message for m in client.log_messages]:
            await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)

    await asyncio.wait_for(wait(), timeout)


def run_cli(args: list[str], env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paperlens", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


async def hover(client, uri, pos):
    return await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos))


async def exercise(client: LanguageClient, library_dir: Path) -> None:
    """Index (done), hover (a .bib entry, a paper with full text: its summary), completion and
    its resolve, workspace/symbol, the search command, references and code lenses; each answers
    what it should (so the guard saw each feature do its work)."""
    tex = library_dir / "drafts" / "survey.tex"
    paper = library_dir / "papers" / "sparse-retrieval-notes.txt"
    uri = open_doc(client, tex, "latex")
    h = await hover(client, uri, find_position(tex, r"\cite{vaswani2017attention}", 8))
    assert h.contents.value.startswith("**Attention Is All You Need**\n")
    h = await hover(client, uri, find_position(tex, "okafor2024sparse", 2))
    assert h.contents.value.startswith("**Sparse Passage Retrieval for Scientific Reading Assistants**\n")
    text = tex.read_text(encoding="utf-8") + "\n\\cite{va"
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    comp = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=text.count("\n"), character=len("\\cite{va"))))
    assert [i.label for i in comp.items] == ["vaswani2017attention"]
    item = await client.completion_item_resolve_async(comp.items[0])
    assert item.documentation.value.startswith("**Attention Is All You Need**\n")
    syms = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="sparse retrieval"))
    assert syms[0].name.startswith("Sparse Passage Retrieval for Scientific Reading Assistants — ")
    assert syms[0].location.uri == paper.as_uri()
    found = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=["attention transformer", 5]))
    assert found[0]["key"] == "vaswani2017attention" and "**attention**" in found[0]["snippet"]
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=paper.as_uri())))
    assert [lens.command.title for lens in lenses] == ["Cites 3 papers of your library · okafor2024sparse"]
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=find_position(tex, "okafor2024sparse", 2),
        context=types.ReferenceContext(include_declaration=True)))
    assert [(r.uri, r.range.start.line) for r in refs] == [
        (paper.as_uri(), 0), (uri, find_position(tex, "okafor2024sparse").line)]


# --- (a) no network but the configured LLM endpoint ------------------------------------------------------

def test_the_guard_records_and_refuses(tmp_path):
    """The guard itself works: a connection to a public address is recorded and refused."""
    env, guard = guard_env(tmp_path, watch=[tmp_path / "watched"])
    (tmp_path / "watched").mkdir()
    (tmp_path / "watched" / "f.txt").write_text("x")
    code = ("import socket, pathlib\n"
            "pathlib.Path(%r).read_text()\n"
            "try:\n    socket.create_connection(('192.0.2.1', 80), timeout=1)\n"
            "except ConnectionRefusedError as e:\n    print('refused', e)\n") % str(tmp_path / "watched" / "f.txt")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert "refused" in out.stdout, out.stderr
    assert [r["detail"] for r in guard.records("connect")] == [["192.0.2.1", 80]]
    assert [r["detail"] for r in guard.records("open")] == [str(tmp_path / "watched" / "f.txt")]


async def test_extractive_provider_makes_no_connection_at_all(tmp_path, library_dir):
    async with guarded_server(tmp_path, library_dir) as (client, guard):
        await exercise(client, library_dir)
    env, _ = guard_env(tmp_path)
    for args in (["summarize", str(library_dir)], ["search", "sparse retrieval", "--dir", str(library_dir)],
                 ["show", "okafor2024sparse", "--dir", str(library_dir)], ["cite", "vas", "--dir", str(library_dir)],
                 ["index", str(library_dir), "--rebuild", "--workers", "2"]):
        out = run_cli(args + ["--index-path", str(tmp_path / "cli-index")], env)
        assert out.returncode == 0, out.stderr
    assert guard.records("connect") == [] and guard.records("getaddrinfo") == []
    # the guard ran in the server and in each CLI run (and their workers): none connected
    assert paperlens_commands(guard) == ["cite", "index", "search", "serve", "show", "summarize"]


def _completion(content: str) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


async def test_openai_provider_connects_only_to_its_base_url(tmp_path, library_dir, httpserver):
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        _completion("A summary from the local model [P1]."))
    settings = {"summary": {"provider": "openai", "model": "test-model", "baseUrl": httpserver.url_for("/v1"),
                            "apiKeyEnv": "PAPERLENS_TEST_KEY", "timeoutSeconds": 10}}
    async with guarded_server(tmp_path, library_dir, settings, allow_port=httpserver.port,
                              env={"PAPERLENS_TEST_KEY": "sk-local"}) as (client, guard):
        await exercise(client, library_dir)
        tex = library_dir / "drafts" / "survey.tex"
        await summary_ready(client, "okafor2024sparse")
        card = (await hover(client, tex.as_uri(), find_position(tex, "okafor2024sparse", 2))).contents.value
        assert "\n\nSummary (test-model): A summary from the local model \\[P1\\].\n\n" in card
    connects = guard.records("connect")
    assert connects, "the LLM request did not go through the guard"
    assert {(host in ("127.0.0.1", "::1"), port) for host, port in (r["detail"] for r in connects)} == \
        {(True, httpserver.port)}
    assert {host for host, _ in (r["detail"] for r in guard.records("getaddrinfo"))} <= {"localhost", "127.0.0.1", "::1"}
    # one request: the summary of the one paper with full text that was hovered (cached after)
    assert [(r.method, r.path, r.get_json()["model"]) for r, _ in httpserver.log] == \
        [("POST", "/v1/chat/completions", "test-model")]


# --- (b) files outside the paper folders are never read ------------------------------------------------

OUTSIDE_BIB = r"""
@article{outside2020passwd,
  title = {Paper Whose File Is the Password Database},
  author = {Mallory, Eve},
  year = {2020},
  file = {/etc/passwd},
}
@article{outside2021secret,
  title = {Paper Whose File Is Outside the Library},
  author = {Mallory, Eve},
  year = {2021},
  file = {Full Text PDF:../../outside/secret.pdf:application/pdf;../../outside/secret.txt},
}
@article{outside2022relative,
  title = {Sparse Passage Retrieval for Scientific Reading Assistants},
  author = {Mallory, Eve},
  year = {2022},
  file = {../../outside/secret.txt},
}
"""


async def test_files_outside_the_library_are_never_opened(tmp_path, library_dir):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret Paper Title\n\nEve Mallory\n\nAbstract\nsecret words.\n",
                                        encoding="utf-8")
    (outside / "secret.pdf").write_bytes(b"%PDF-1.4\nnot really\n")
    (outside / "refs.bib").write_text("@article{fromoutside, title={Outside Entry}}\n", encoding="utf-8")
    (library_dir / "papers" / "outside.bib").write_text(OUTSIDE_BIB, encoding="utf-8")
    draft = library_dir / "drafts" / "outside.tex"
    draft.write_text("\\addbibresource{/etc/passwd}\n\\bibliography{../../outside/refs}\n"
                     "\\input{../../outside/secret}\n"
                     "See \\cite{outside2020passwd} and \\cite{outside2021secret} and "
                     "\\cite{outside2022relative} and \\cite{fromoutside}.\n", encoding="utf-8")
    md = library_dir / "drafts" / "outside.md"
    md.write_text("---\nbibliography: ../../outside/refs.bib\n---\nSee [@outside2021secret] and [@fromoutside].\n",
                  encoding="utf-8")
    for i in range(24):     # enough files for the first index to parse in worker processes
        (library_dir / "papers" / f"filler-{i:02d}.txt").write_text(
            f"Filler Paper {i} on Retrieval\n\nAda Lovelace\n\nAbstract\nFiller text {i}.\n", encoding="utf-8")
    inside = library_dir / "library.bib"      # opened for sure: shows that the hook sees opens
    watch = [outside, Path("/etc/passwd"), inside]
    entries = library_dir / "papers" / "outside.bib"
    cards = {   # the card of each key: its .bib entry (never the file it names), or unknown
        "outside2020passwd": "**Paper Whose File Is the Password Database**\n",
        "outside2021secret": "**Paper Whose File Is Outside the Library**\n",
        "outside2022relative": "**Sparse Passage Retrieval for Scientific Reading Assistants**\n",
        "fromoutside": "Unknown citation key `fromoutside`: not in the library.",   # outside/refs.bib unread
    }
    async with guarded_server(tmp_path, library_dir, {"indexWorkers": 2}, watch=watch) as (client, guard):
        workers = [r for r in guard.records("start") if "multiprocessing.spawn" in " ".join(r["detail"])]
        assert len(workers) >= 1, "the index was not built in worker processes (under the guard)"
        for path, lang in ((draft, "latex"), (md, "markdown")):
            uri = open_doc(client, path, lang)
            text = path.read_text(encoding="utf-8")
            for key in ("outside2020passwd", "outside2021secret", "outside2022relative", "fromoutside"):
                if key not in text:
                    continue
                pos = find_position(path, key, 2)
                card = (await hover(client, uri, pos)).contents.value
                assert card.startswith(cards[key]), (key, card)
                assert "secret words" not in card and "root:" not in card, (key, card)
                found = await client.text_document_definition_async(types.DefinitionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
                assert [loc.uri for loc in found or []] == ([] if key == "fromoutside" else [entries.as_uri()])
                await client.text_document_references_async(types.ReferenceParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=pos,
                    context=types.ReferenceContext(include_declaration=True)))
            await client.text_document_document_link_async(types.DocumentLinkParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))
            await client.text_document_code_action_async(types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=5, character=0)),
                context=types.CodeActionContext(diagnostics=list(client.diagnostics.get(uri, [])))))
        comp = await client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=md.as_uri()), position=find_position(md, "@outside", 4)))
        assert sorted(i.label for i in comp.items) == ["outside2020passwd", "outside2021secret", "outside2022relative"]
        for item in comp.items[:10]:
            doc = (await client.completion_item_resolve_async(item)).documentation.value
            assert "secret words" not in doc and "root:" not in doc
        res = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="paperlens.server.openPaperText", arguments=[(outside / "secret.pdf").as_uri()]))
        assert res == {"error": "this PDF is not in the library (or not indexed yet)"}
        await client.workspace_execute_command_async(types.ExecuteCommandParams(command="paperlens.server.reindex"))
        hits = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="paperlens.server.search", arguments=["secret words", 5]))
        assert [h["file"] for h in hits if not h["file"].startswith(str(library_dir))] == []
        assert not any("secret" in h["snippet"].lower() for h in hits), hits
        bib = library_dir / "papers" / "outside.bib"
        await client.text_document_code_lens_async(types.CodeLensParams(
            text_document=types.TextDocumentIdentifier(uri=bib.as_uri())))
    env, _ = guard_env(tmp_path, watch=watch)
    for args in (["show", "outside2021secret", "--dir", str(library_dir)],
                 ["summarize", str(library_dir)], ["search", "secret words", "--dir", str(library_dir)]):
        out = run_cli(args + ["--index-path", str(tmp_path / "cli-index")], env)
        assert out.returncode == 0, out.stderr
        assert "secret words" not in out.stdout and "Secret Paper Title" not in out.stdout
        if args[0] == "show":
            assert out.stdout.startswith("**Paper Whose File Is Outside the Library**\n")
    opened = {r["detail"] for r in guard.records("open")}
    assert opened == {str(inside)}, opened
    assert paperlens_commands(guard) == ["search", "serve", "show", "summarize"]   # all under the guard


# --- (c) the API key never shows in logs ---------------------------------------------------------------

SECRET = "sk-paperlens-TEST-SECRET-8d1f3a9c27b4e6"


@pytest.mark.parametrize("verbose", [False, True], ids=["normal", "verbose"])
async def test_api_key_never_appears_in_logs(tmp_path, library_dir, httpserver, verbose):
    # a server that refuses the key and quotes it back, as OpenAI's does
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        {"error": {"message": f"Incorrect API key provided: {SECRET}. You can find your API key at "
                              "https://platform.openai.com/account/api-keys.",
                   "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}, status=401)
    settings = {"summary": {"provider": "openai", "model": "test-model", "baseUrl": httpserver.url_for("/v1"),
                            "apiKeyEnv": "PAPERLENS_SECRET_KEY", "timeoutSeconds": 10}}
    async with guarded_server(tmp_path, library_dir, settings, allow_port=httpserver.port, verbose=verbose,
                              env={"PAPERLENS_SECRET_KEY": SECRET}) as (client, guard):
        tex = library_dir / "drafts" / "survey.tex"
        uri = open_doc(client, tex, "latex")
        pos = find_position(tex, "okafor2024sparse", 2)
        cards = [(await hover(client, uri, pos)).contents.value]

        def reported() -> bool:
            return any("API key was refused" in m.message for m in [*client.log_messages, *client.messages])

        async def until_reported() -> None:
            while not reported():
                await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)

        await asyncio.wait_for(until_reported(), 30)
        cards.append((await hover(client, uri, pos)).contents.value)
        # the request did carry the key (so a leak would have had something to leak)
        (request, _), *_ = httpserver.log
        assert request.headers.get("Authorization") == f"Bearer {SECRET}"
        messages = [m.message for m in [*client.log_messages, *client.messages]]
    stderr = guard.stderr.read_text(encoding="utf-8", errors="replace")
    logfile = guard.logfile.read_text(encoding="utf-8", errors="replace")
    assert "API key was refused" in logfile and "API key was refused" in stderr
    for where, text in (("stderr", stderr), ("log file", logfile), ("messages", "\n".join(messages)),
                        ("hover", "\n".join(cards))):
        assert SECRET not in text, where
        assert SECRET[-12:] not in text, where          # not even a part of it


# --- (d) untrusted text renders as plain text ------------------------------------------------------------

INJECT_TITLE = "Evil [click](command:workbench.action.terminal.new) <img src=x onerror=alert(1)> **bold**"
INJECT_ABSTRACT = ("We show [run me](command:workbench.action.terminal.new?%5B%5D) and "
                   "<img src=x onerror=alert(1)> plus <script>alert(2)</script> and ![i](http://x/y.png) "
                   "and **bold** `code` [x]: command:evil")
MODEL_OUTPUT = ("Summary with [a command link](command:workbench.action.terminal.new) "
                "<img src=x onerror=alert(1)> **bold** and ![img](http://example.org/t.png) [P1].")


def assert_plain(card: str, *escaped: str) -> None:
    """No link, image or HTML of the untrusted text's making survives in the markdown card, and
    each of the ``escaped`` texts is in it, as written."""
    assert not re.search(r"(?<!\\)\]\(command:", card), card
    assert "](command:" not in card.replace("\\]", ""), card
    assert not re.search(r"(?<!\\)<(img|script)", card), card
    assert not re.search(r"(?<!\\)!(?<!\\)\[", card), card
    for text in escaped:
        assert text in card, (text, card)


# how the untrusted texts must appear: every markdown character escaped
TITLE_ESCAPED = ("\\[click\\](command:workbench.action.terminal.new) \\<img src=x onerror=alert(1)\\> "
                 "\\*\\*bold\\*\\*")
ABSTRACT_ESCAPED = ("We show \\[run me\\](command:workbench.action.terminal.new?%5B%5D) and "
                    "\\<img src=x onerror=alert(1)\\> plus \\<script\\>alert(2)\\</script\\> and "
                    "!\\[i\\](http://x/y.png)")
MODEL_ESCAPED = ("Summary with \\[a command link\\](command:workbench.action.terminal.new) "
                 "\\<img src=x onerror=alert(1)\\> \\*\\*bold\\*\\* and !\\[img\\](http://example.org/t.png) \\[P1\\].")


async def test_untrusted_text_is_escaped_in_cards(tmp_path, library_dir, httpserver):
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(_completion(MODEL_OUTPUT))
    (library_dir / "papers" / "evil.bib").write_text(
        "@article{evil2024bib,\n  title = {" + INJECT_TITLE + "},\n  author = {Mallory, Eve},\n"
        "  year = {2024},\n  abstract = {" + INJECT_ABSTRACT + "},\n}\n", encoding="utf-8")
    (library_dir / "papers" / "evil-text.txt").write_text(
        INJECT_TITLE.replace("Evil", "Wicked") + "\n\nEve Mallory, Mal Doer\n\nAbstract\n" + INJECT_ABSTRACT +
        "\n\n1. Introduction\nWe study sparse retrieval of passages in papers. " * 3 + "\n", encoding="utf-8")
    draft = library_dir / "drafts" / "evil.md"
    draft.write_text("See [@evil2024bib] and the text paper.\n", encoding="utf-8")
    settings = {"summary": {"provider": "openai", "model": "test-model", "baseUrl": httpserver.url_for("/v1"),
                            "apiKeyEnv": "PAPERLENS_TEST_NO_KEY", "timeoutSeconds": 10}}
    async with guarded_server(tmp_path, library_dir, settings, allow_port=httpserver.port) as (client, guard):
        uri = open_doc(client, draft, "markdown")
        card = (await hover(client, uri, find_position(draft, "@evil2024bib", 3))).contents.value
        assert card.startswith(f"**Evil {TITLE_ESCAPED}**\n")
        assert_plain(card, TITLE_ESCAPED, ABSTRACT_ESCAPED)
        # the text paper: find its generated key, hover it once the model's summary is ready
        comp = await client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=find_position(draft, "@evil2024bib", 1)))
        keys = [i.label for i in comp.items]
        # (the list is ranked by the draft's sentence: the bib entry need not be among the first)
        picked = list(comp.items[:5]) + [i for i in comp.items[5:] if i.label == "evil2024bib"]
        resolved = [await client.completion_item_resolve_async(i) for i in picked]
        for item in resolved:
            assert_plain(item.documentation.value)
        (evil,) = [item for item in resolved if item.label == "evil2024bib"]
        assert_plain(evil.documentation.value, TITLE_ESCAPED, ABSTRACT_ESCAPED)
        text_key = next(k for k in keys if k != "evil2024bib" and k.startswith("mallory"))
        text = draft.read_text(encoding="utf-8") + f"\nAlso [@{text_key}].\n"
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        pos = types.Position(line=text.count("\n") - 1, character=len("Also [@") + 2)
        await hover(client, uri, pos)            # asks for the summary
        await summary_ready(client, text_key)
        card = (await hover(client, uri, pos)).contents.value
        assert card.startswith(f"**Wicked {TITLE_ESCAPED}**\n")
        assert_plain(card, TITLE_ESCAPED, f"Summary (test-model): {MODEL_ESCAPED}")


EVIL_KEY = "moreau2023`[x](command:workbench.action.terminal.new)`"


async def test_hostile_citation_key_in_reading_hover(tmp_path, library_dir):
    """A .bib entry (from anywhere on the web) with a hostile key, matched to a paper's reference."""
    (library_dir / "papers" / "hostile.bib").write_text(
        "@inproceedings{" + EVIL_KEY + ",\n  title = {Citation-aware query expansion for literature search},\n"
        "  author = {Moreau, Karine and Ibsen, Jonas},\n  year = {2023},\n  booktitle = {CIKM},\n}\n",
        encoding="utf-8")
    async with guarded_server(tmp_path, library_dir) as (client, guard):
        paper = library_dir / "papers" / "sparse-retrieval-notes.txt"
        uri = open_doc(client, paper, "plaintext")
        h = await hover(client, uri, find_position(paper, "expansion [4]", len("expansion [")))
        assert h is not None and "Citation-aware" in h.contents.value     # the entry was matched
        card = h.contents.value
    # a code span never ends inside the key: no command link outside one
    outside_code = re.sub(r"`[^`]*`", "", card)
    assert "](command:" not in outside_code.replace("\\]", ""), card
