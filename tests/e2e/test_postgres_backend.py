"""An editor on a team's library in PostgreSQL (issue 19), against a real PostgreSQL 15
(tests/fixtures/postgres.py): the server configured with ``paperlens.index.backend`` completes
the keys ``paperlens index --backend URL`` wrote, searches the database, picks up what the
writer commits next (NOTIFY), and while the database is stopped keeps completing from the
table it read, its status and one message saying so; started again, search works again."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, start
from test_status import Pushed

pytest_plugins = ["fixtures.postgres"]     # pg_server, pg_url

PASSWORD = "s3cret-pw-never-logged"        # the fixtures' (tests/fixtures/postgres.py)
HANG_GUARD = 60.0      # only so that a missing answer fails instead of hanging the run
LOG = Path(tempfile.mkdtemp(prefix="paperlens-pg-e2e-")) / "server.log"

BIB = """@article{vaswani2017attention,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam},
  year = {2017},
  journal = {NeurIPS},
  abstract = {We propose the Transformer, based solely on attention mechanisms, dispensing with
    recurrence and convolutions entirely.}
}
"""
MORE = """@article{he2016resnet,
  title = {Deep Residual Learning for Image Recognition},
  author = {He, Kaiming and Zhang, Xiangyu},
  year = {2016},
  journal = {CVPR},
  abstract = {We present a residual learning framework to ease the training of deeper networks.}
}
"""


def index_with_cli(folder: Path, url: str, index_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "paperlens", "index", str(folder), "--backend", url,
                           "--index-path", str(index_path), "--workers", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def make_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "team-library"
    folder.mkdir()
    (folder / "refs.bib").write_text(BIB, encoding="utf-8")
    return folder


async def complete(client: LanguageClient, folder: Path, typed: str) -> list[str]:
    doc = folder.parent / "draft.tex"
    uri = doc.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="latex", version=1, text=typed)))
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=len(typed))))
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    return [item.label for item in (result.items if result else [])]


async def search(client: LanguageClient, query: str) -> list[dict]:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=[query]))


async def search_fails(client: LanguageClient, query: str) -> str:
    """The error a search gets while the database cannot be reached (RequestFailed, its
    reason): an editor shows it instead of an empty list that would mean "nothing found"."""
    from pygls.exceptions import JsonRpcException

    try:
        got = await search(client, query)
    except JsonRpcException as exc:
        assert exc.code == types.LSPErrorCodes.RequestFailed.value
        return exc.message
    raise AssertionError(f"the search answered {got!r}")


async def said(client: LanguageClient, words: str) -> list[str]:
    """The window messages holding ``words``, once there is one (waited for)."""
    async def first() -> list[str]:
        while True:
            found = [m.message for m in client.messages if words in m.message]
            if found:
                return found
            await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)

    return await asyncio.wait_for(first(), HANG_GUARD)


async def status(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.status", arguments=[]))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER[:-1] + ["--log-file", str(LOG)]))
async def client(lsp_client: LanguageClient):
    lsp_client.pushed = Pushed(lsp_client)
    lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda params: None)    # file watching
    yield
    await lsp_client.shutdown_session()


async def test_an_editor_completes_and_searches_what_the_writer_indexed(client: LanguageClient, tmp_path, pg_url):
    folder, ix = make_folder(tmp_path), tmp_path / "ix"
    index_with_cli(folder, pg_url, ix)
    await start(client, tmp_path, ix, settings={"paperFolders": [str(folder)], "index": {"backend": pg_url}})
    assert "vaswani2017attention" in await complete(client, folder, "\\cite{vasw")
    hits = await search(client, "attention recurrence")
    assert hits and hits[0]["key"] == "vaswani2017attention" and hits[0]["file"] == str(folder / "refs.bib")
    got = await status(client)
    assert got["index"] == {"backend": "postgresql", "url": pg_url.replace(f"paperlens:{PASSWORD}@", ""),
                            "reachable": True, "outdated": False, "error": ""}
    assert got["papers"] == 1

    # the writer commits more: the server's table follows (NOTIFY), without indexing itself
    since = len(client.pushed.statuses)
    (folder / "more.bib").write_text(MORE, encoding="utf-8")
    index_with_cli(folder, pg_url, ix)
    await client.pushed.until(lambda s: s["papers"] == 2, since)
    assert "he2016resnet" in await complete(client, folder, "\\cite{he2016")
    assert (await search(client, "residual learning"))[0]["key"] == "he2016resnet"
    assert not list(ix.glob("*/MAIN*"))        # no Whoosh index made by the server
    assert PASSWORD not in LOG.read_text(encoding="utf-8")


async def test_a_database_away_keeps_completion_and_comes_back(client: LanguageClient, tmp_path, pg_server):
    """(pg_server: skipped, saying why, without PostgreSQL)"""
    from fixtures import postgres as pg

    cluster = pg.start_cluster()          # this test's own cluster: it stops and starts it
    try:
        url = cluster.url()
        folder, ix = make_folder(tmp_path), tmp_path / "ix"
        index_with_cli(folder, url, ix)
        await start(client, tmp_path, ix, settings={"paperFolders": [str(folder)], "index": {"backend": url}})
        assert (await search(client, "attention"))[0]["key"] == "vaswani2017attention"

        since = len(client.pushed.statuses)
        stop(pg, cluster)
        why = await search_fails(client, "attention")       # cannot reach it: not "nothing found"
        assert why.startswith("the library cannot be searched") and PASSWORD not in why
        away = await client.pushed.until(lambda s: s["index"].get("reachable") is False, since)
        assert away["index"]["url"] == f"postgresql://127.0.0.1:{cluster.port}/postgres"
        assert "database" in away["index"]["error"] and PASSWORD not in str(away)
        told = await said(client, "Completion and hover answer from the papers read before")
        assert len(told) == 1 and PASSWORD not in told[0]
        assert "vaswani2017attention" in await complete(client, folder, "\\cite{vasw")    # the last table
        assert (await status(client))["papers"] == 1

        since = len(client.pushed.statuses)
        assert pg._start(cluster, pg.bin_dir()).returncode == 0
        await client.pushed.until(lambda s: s["index"].get("reachable") is True, since)
        assert (await search(client, "attention"))[0]["key"] == "vaswani2017attention"
        assert len([m for m in client.messages if "Completion and hover answer" in m.message]) == 1
        assert PASSWORD not in LOG.read_text(encoding="utf-8")
    finally:
        pg.stop_cluster(cluster)


def stop(pg, cluster) -> None:
    out = pg._run([os.path.join(pg.bin_dir(), "pg_ctl"), "stop", "-w", "-m", "fast", "-D",
                   str(cluster.root / "data")], cluster.run_as)
    assert out.returncode == 0, out.stderr



async def test_a_database_away_at_start_is_said_once(client: LanguageClient, tmp_path, pg_server):
    import socket

    with socket.socket() as s:          # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://paperlens:{PASSWORD}@127.0.0.1:{port}/papers"
    folder = make_folder(tmp_path)
    await start(client, tmp_path, tmp_path / "ix", settings={"paperFolders": [str(folder)], "index": {"backend": url}})
    got = await client.pushed.until(lambda s: s["index"].get("reachable") is False)
    assert got["index"]["url"] == f"postgresql://127.0.0.1:{port}/papers"
    assert got["index"]["error"].startswith(f"cannot reach the library's database at postgresql://127.0.0.1:{port}/papers")
    assert (await search_fails(client, "attention")).startswith("the library cannot be searched")
    assert await complete(client, folder, "\\cite{vasw") == []        # the server did not index it itself
    told = await said(client, "cannot reach the library's database")
    assert PASSWORD not in await search_fails(client, "attention")
    told = [m.message for m in client.messages if "cannot reach the library's database" in m.message]
    assert len(told) == 1 and PASSWORD not in told[0] and PASSWORD not in str(got)


async def test_an_editor_on_a_database_of_an_older_format_says_to_index_again(client: LanguageClient, tmp_path,
                                                                               pg_url):
    """Tables an older paperlens wrote (another schema.FORMAT): the status and one message say
    to index again (not a logged "search failed"); completion answers from their table."""
    import psycopg

    from paperlens.core.index.postgres import schema as sch

    folder, ix = make_folder(tmp_path), tmp_path / "ix"
    index_with_cli(folder, pg_url, ix)
    with psycopg.connect(pg_url, autocommit=True) as conn:      # as an older paperlens left them
        schemas = [r[0] for r in conn.execute("SELECT table_schema FROM information_schema.tables"
                                              " WHERE table_name = 'meta'").fetchall()]
        assert len(schemas) == 1
        conn.execute(f'UPDATE "{schemas[0]}".meta SET format = %s', (sch.FORMAT - 1,))
    await start(client, tmp_path, ix, settings={"paperFolders": [str(folder)], "index": {"backend": pg_url}})
    got = await client.pushed.until(lambda s: s["index"].get("error"))
    older = "the library's database was written by an older paperlens; run paperlens index --backend"
    assert got["index"]["error"].startswith(older) and PASSWORD not in str(got)
    assert got["index"]["reachable"] is True and got["index"]["outdated"] is True   # it answers: old tables
    assert (await search_fails(client, "attention")).startswith(f"the library cannot be searched: {older}")
    told = await said(client, older)
    assert len(told) == 1 and PASSWORD not in told[0]
    assert told[0].endswith("search waits until the library is indexed again") and "reconnects" not in told[0]
    assert "vaswani2017attention" in await complete(client, folder, "\\cite{vasw")
    assert "search failed" not in LOG.read_text(encoding="utf-8")
