"""pytest-lsp fixtures: a real `paperlens serve` subprocess driven over stdio."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "paperlens", "serve", "--stdio"]


async def wait_indexed(client: LanguageClient, timeout: float = 60.0) -> None:
    """Wait until the server's indexing $/progress has ended (a notification, not a sleep)."""

    def ended() -> bool:
        return any(reports and isinstance(reports[-1], types.WorkDoneProgressEnd)
                   for reports in client.progress_reports.values())

    async def loop() -> None:
        while not ended():
            await client.wait_for_notification(types.PROGRESS)

    await asyncio.wait_for(loop(), timeout)


async def start(client: LanguageClient, folder: Path, index_dir: Path, spec: str = "visual-studio-code",
                settings: dict | None = None) -> None:
    options = {"paperlens": {"indexPath": str(index_dir), **(settings or {})}}
    client.set_configuration(options)
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(spec),
        root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)],
        initialization_options=options,
    ))
    await wait_indexed(client)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, library_dir, index_dir):
    await start(lsp_client, library_dir, index_dir)
    yield
    await lsp_client.shutdown_session()


def open_doc(client: LanguageClient, path: Path, language_id: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=1,
                                             text=path.read_text(encoding="utf-8"))))
    return uri


CODECS = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in code units of a position encoding (counted by Python's codecs)."""
    codec, size = CODECS[encoding]
    return len(text.encode(codec)) // size


def position(text: str, offset: int, encoding: str = "utf-16") -> types.Position:
    """LSP position of a code-point offset of ``text`` (lines end at \\n) in ``encoding``."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return types.Position(line=line, character=units(text[start:offset], encoding))


def find_position(path: Path, needle: str, delta: int = 0) -> types.Position:
    """Line/character (UTF-16) of the first occurrence of ``needle`` in the file, plus ``delta``."""
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n")):
        col = line.find(needle)
        if col >= 0:
            prefix = line[:col + delta]
            return types.Position(line=n, character=len(prefix.encode("utf-16-le")) // 2)
    raise AssertionError(f"{needle!r} not in {path}")
