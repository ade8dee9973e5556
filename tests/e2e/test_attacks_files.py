"""End-to-end attacks through the files of a paper folder (issue 13, cases 6, 8 and 9), on a real
``paperlens serve`` process.

6. A symbolic link inside the paper folder to a credentials file outside it: the secret is not
   indexed (not searchable), neither by the first indexing nor after the editor reports the link
   as a changed file; the link is listed as skipped, with its reason.
8. One new file in a watched folder (the server watches it itself, with watchdog) is indexed by
   looking at that file alone: the parent folder's event no longer makes the server walk the
   whole folder again. Counted by the update's ``files_seen`` (``paperlens.server.status``).
9. A hover card of an entry whose title, authors and file name carry links, HTML and line-start
   markers shows them as text: every markdown character escaped, the file's URI percent-encoded.
   (The VS Code preview's side is tested in client-vscode/src/test/markdown.test.ts.)
"""
from __future__ import annotations

import os
import re

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, find_position, open_doc, start, wait_indexed

SECRET = "hunter2zqxvjcredential"
OUTSIDE = "symbolic link to a file outside the paper folder"
HOSTILE_BIB = "x` <img src=x onerror=alert(1)> [quit](command:workbench.action.quit) `.bib"
HOSTILE_ENTRY = """@article{evil2024,
  title = {Click [here](javascript:alert(1)) <img src=x onerror=alert(2)> &lt;b&gt;},
  author = {{# Mallory} and Eve},
  year = {2024},
}
"""

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX symbolic links and file names")


@pytest.fixture
def hostile_library(library_dir, tmp_path):
    """The example library plus: a link to a credentials file beside it, a .bib file with a
    hostile name and entry, and a draft that cites that entry."""
    creds = tmp_path / "credentials.txt"
    creds.write_text(f"Credentials\n\nAlice Admin\n\nAbstract\npassword = {SECRET}\n", encoding="utf-8")
    os.symlink(creds, library_dir / "papers" / "leak.txt")
    os.symlink("../../credentials.txt", library_dir / "papers" / "leak-relative.txt")
    (library_dir / "papers" / HOSTILE_BIB).write_text(HOSTILE_ENTRY, encoding="utf-8")
    (library_dir / "drafts" / "hostile.tex").write_text("See \\cite{evil2024}.\n", encoding="utf-8")
    return library_dir


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def hostile(lsp_client: LanguageClient, hostile_library, index_dir):
    await start(lsp_client, hostile_library, index_dir)
    yield
    await lsp_client.shutdown_session()


async def _command(client: LanguageClient, command: str, *args):
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command, arguments=list(args)))


def _skipped(status: dict) -> dict[str, str]:
    return {s["path"]: s["reason"] for r in status["last"] for s in r["skipped"]}


# --- 6. symbolic links leading outside ---------------------------------------------------------

async def test_a_link_to_a_credentials_file_is_not_indexed(hostile: LanguageClient, hostile_library):
    assert await _command(hostile, "paperlens.server.search", SECRET) == []
    status = await _command(hostile, "paperlens.server.status")
    assert {p: r for p, r in _skipped(status).items() if "leak" in p} == {
        "papers/leak.txt": OUTSIDE, "papers/leak-relative.txt": OUTSIDE}
    # the editor reports the links as created (a file watcher's events), with a real change
    # so that an update runs and can be waited for: still not read
    hostile.progress_reports.clear()
    os.utime(hostile_library / "library.bib")
    hostile.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=(hostile_library / "papers" / name).as_uri(), type=types.FileChangeType.Created)
        for name in ("leak.txt", "leak-relative.txt")] + [
        types.FileEvent(uri=(hostile_library / "library.bib").as_uri(), type=types.FileChangeType.Changed)]))
    await wait_indexed(hostile)
    assert await _command(hostile, "paperlens.server.search", SECRET) == []
    assert await _command(hostile, "paperlens.server.search", "password") == []


# --- 8. one new file, no walk of the whole folder --------------------------------------------------

async def test_one_new_file_is_indexed_without_walking_the_folder(client: LanguageClient, library_dir):
    status = await _command(client, "paperlens.server.status")
    (first,) = status["last"]
    assert first["files_seen"] > 3          # the first update looked at every file
    new = library_dir / "papers" / "fresh.txt"
    client.progress_reports.clear()
    new.write_text("Ephemeral Lattices of Citations\nUna Vale1, Rex Moor2\n1Univ\nPreprint 2026.\n"
                   "Abstract\nLattices of ephemeral citations.\n", encoding="utf-8")
    for _ in range(5):     # file events may come in more than one burst: one update each
        await wait_indexed(client)
        hits = await _command(client, "paperlens.server.search", "ephemeral lattices")
        if hits:
            break
        client.progress_reports.clear()
    assert hits and hits[0]["file"] == str(new)
    # every update since looked at the new file only (before: the folder's event made the
    # server walk the whole folder, files_seen = every file)
    (last,) = (await _command(client, "paperlens.server.status"))["last"]
    assert last["files_seen"] == 1, last


# --- 9. markdown from untrusted titles, authors and file names -------------------------------------

async def test_hover_card_of_a_hostile_entry_is_plain_text(hostile: LanguageClient, hostile_library):
    tex = hostile_library / "drafts" / "hostile.tex"
    uri = open_doc(hostile, tex, "latex")
    hover = await hostile.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=find_position(tex, "evil2024", 2)))
    assert hover is not None and hover.contents.kind == types.MarkupKind.Markdown
    lines = hover.contents.value.splitlines()
    assert lines[0] == r"**Click \[here\](javascript:alert(1)) \<img src=x onerror=alert(2)\> \&lt;b\&gt;**"
    assert lines[2].startswith(r"\# Mallory, Eve · 2024")
    name = (r"x\` \<img src=x onerror=alert(1)\> \[quit\](command:workbench.action.quit) \`.bib:1")
    link = lines[-1].split(" · ")[1]
    assert link.startswith(f"[{name}](file://") and link.endswith("#L1)")
    target = link[len(name) + 3:-1]
    assert re.fullmatch(r"file://[A-Za-z0-9%/._~:#-]+", target), target   # nothing unquoted
    for raw in ("<", "](javascript", "](command", "&lt;"):
        # each occurrence is escaped (a backslash before the character that makes it markup)
        assert all(hover.contents.value[i - 1] == "\\" for i in _starts(hover.contents.value, raw)), raw


def _starts(text: str, needle: str) -> list[int]:
    """Every offset of ``needle`` in ``text`` (its first character is the one that makes markup)."""
    out, i = [], text.find(needle)
    while i >= 0:
        out.append(i)
        i = text.find(needle, i + 1)
    return out
