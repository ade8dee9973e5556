"""The index status is pushed (``paperlens/status``) when it changes, carrying what the
``paperlens.server.status`` command answers: an editor shows the counts without polling."""
from __future__ import annotations

import asyncio
from typing import Callable

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, start

STATUS = "paperlens/status"
HANG_GUARD = 60.0     # only so that a missing notification fails instead of hanging the run


class Pushed:
    """Every ``paperlens/status`` the client received, in order."""

    def __init__(self, client: LanguageClient) -> None:
        self.statuses: list[dict] = []
        self._arrived = asyncio.Event()

        @client.feature(STATUS)
        def on_status(params) -> None:
            self.statuses.append(as_dict(params))
            self._arrived.set()

    async def until(self, wanted: Callable[[dict], bool], since: int = 0) -> dict:
        """The first status from the ``since``-th on that is ``wanted`` (waited for)."""
        async def first() -> dict:
            while True:
                self._arrived.clear()
                for status in self.statuses[since:]:
                    if wanted(status):
                        return status
                await self._arrived.wait()

        return await asyncio.wait_for(first(), HANG_GUARD)


def as_dict(params) -> dict:
    """The params as JSON objects (pygls hands unknown notifications' params over as they came
    or as named tuples)."""
    if hasattr(params, "_asdict"):
        params = params._asdict()
    if isinstance(params, dict):
        return {k: as_dict(v) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return [as_dict(v) for v in params]
    return params


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, library_dir, index_dir):
    """The client, with ``client.pushed`` collecting from before initialize (the pushes of the
    first update too)."""
    lsp_client.pushed = Pushed(lsp_client)
    await start(lsp_client, library_dir, index_dir)
    yield
    await lsp_client.shutdown_session()


async def _command(client: LanguageClient, command: str, *args):
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command, arguments=list(args)))


def _paper(title: str, word: str) -> str:
    return (f"{title}\nNia Vale1\n1Univ\nPreprint 2026.\nAbstract\n"
            + f"We study {word} at length. " * 40 + "\n")


async def test_a_reindex_pushes_the_new_counts(client: LanguageClient, library_dir):
    pushed: Pushed = client.pushed
    first = await pushed.until(lambda s: not s["indexing"] and s["last"])     # the first update's
    assert first["folders"] == [str(library_dir)] and first["papers"] > 0
    since = len(pushed.statuses)
    (library_dir / "papers" / "pushed.txt").write_text(_paper("Pushed Counts Of One Library", "numbats"),
                                                       encoding="utf-8")
    assert await _command(client, "paperlens.server.reindex") == {"scheduled": True}
    after = await pushed.until(lambda s: not s["indexing"] and s["papers"] == first["papers"] + 1, since)
    status = await _command(client, "paperlens.server.status")
    assert after["papers"] == status["papers"] == first["papers"] + 1
    assert after["records"] == status["records"] == first["records"] + 1
    # (the update may be the watcher's, seeing the new file, or the reindex's behind it)
    assert [r["folder"] for r in after["last"]] == [str(library_dir)] and not after["last"][0]["error"]
    assert after["folders"] == status["folders"] == [str(library_dir)]
    assert after["progress"] is None and after.keys() == status.keys()


async def test_a_folder_added_in_the_settings_is_pushed_with_its_papers(client: LanguageClient, library_dir,
                                                                         tmp_path):
    pushed: Pushed = client.pushed
    first = await pushed.until(lambda s: not s["indexing"] and s["last"])
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "one.txt").write_text(_paper("A Paper In Another Folder", "quokkas"), encoding="utf-8")
    since = len(pushed.statuses)
    settings = {"paperFolders": [str(library_dir), str(extra)], "indexPath": str(tmp_path / "index")}
    client.set_configuration({"paperlens": settings})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"paperlens": settings}))
    after = await pushed.until(lambda s: not s["indexing"] and len(s["folders"]) == 2, since)
    assert after["folders"] == [str(library_dir), str(extra)]
    assert after["papers"] == first["papers"] + 1
    assert [r["folder"] for r in after["last"]] == [str(library_dir), str(extra)]
