"""lsp/features/_doc.py and _view.py: what a request may read. Open documents, else regular files inside the
configured folders (after resolving symlinks and ``..``), at most a size cap; never a FIFO, a
device, /proc, a folder or a file outside."""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from paperlens.lsp.features import _doc, _view


def fake_ls(folders: list[Path], open_docs: dict | None = None):
    session = SimpleNamespace(workspace_folders=[str(f) for f in folders], folders=lambda: [],
                              library=SimpleNamespace(readable_folders=lambda: []))
    workspace = SimpleNamespace(text_documents=open_docs or {})
    return SimpleNamespace(session=session, workspace=workspace)


@pytest.fixture
def tree(tmp_path):
    inside, outside = tmp_path / "papers", tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    (inside / "draft.tex").write_text("\\cite{a} é 😀\n", encoding="utf-8")
    (outside / "secret.md").write_text("https://user:pw@example.org\n", encoding="utf-8")
    return inside, outside


def test_open_documents_win_and_are_never_read_from_disk(tree):
    inside, _ = tree
    uri = (inside / "draft.tex").as_uri()
    doc = SimpleNamespace(source="the editor's text", language_id="latex", version=3)
    got = _view.text_document(fake_ls([inside], {uri: doc}), uri)
    assert (got.source, got.language_id, got.version) == ("the editor's text", "latex", 3)
    # an open document outside every folder (an untitled buffer, a file elsewhere) is served too
    assert _view.text_document(fake_ls([], {"untitled:1": doc}), "untitled:1").source == "the editor's text"


def test_a_regular_file_inside_is_read(tree):
    inside, _ = tree
    got = _view.text_document(fake_ls([inside]), (inside / "draft.tex").as_uri())
    assert got.source == "\\cite{a} é 😀\n" and got.language_id is None


def test_nothing_outside_is_read(tree, tmp_path):
    inside, outside = tree
    (inside / "link.md").symlink_to(outside / "secret.md")
    (inside / "sub").symlink_to(outside, target_is_directory=True)
    ls = fake_ls([inside])
    for uri in ((outside / "secret.md").as_uri(), (inside / "link.md").as_uri(),
                (inside / "sub" / "secret.md").as_uri(), inside.as_uri() + "/../outside/secret.md",
                "file:///proc/self/environ", "file:///dev/zero", "file:///dev/null", inside.as_uri(),
                (inside / "missing.tex").as_uri(), "file:///papers/%00draft.tex", "https://example.org/a.tex",
                "untitled:1", 5):
        assert _view.text_document(ls, uri) is None, uri
    # a symlink inside to a file inside is fine
    (inside / "alias.tex").symlink_to(inside / "draft.tex")
    assert _view.text_document(ls, (inside / "alias.tex").as_uri()).source.startswith("\\cite{a}")


def test_fifos_are_never_opened(tree):
    inside, _ = tree
    fifo = inside / "pipe.tex"
    os.mkfifo(fifo)
    # opening a FIFO to read would block until a writer comes (none does: the test would hang)
    assert _view.text_document(fake_ls([inside]), fifo.as_uri()) is None


def test_size_cap(tree):
    inside, _ = tree
    big = inside / "big.md"
    big.write_text("https://example.org\n", encoding="utf-8")
    os.truncate(big, _doc.MAX_FILE_BYTES + 1)        # sparse
    assert _view.text_document(fake_ls([inside]), big.as_uri()) is None
    assert _doc.read_confined(inside / "draft.tex", [str(inside)], max_bytes=5) is None
    assert _doc.read_confined(inside / "draft.tex", [os.path.realpath(inside)], max_bytes=100) is not None


def test_a_pseudo_file_reads_as_its_stated_size():
    """/proc files say 0 bytes: even with / configured, /proc/self/environ gives nothing."""
    assert _doc.read_confined(Path("/proc/self/environ"), ["/"]) == ""


def test_not_initialized_reads_nothing(tree):
    inside, _ = tree

    class Unready:
        @property
        def text_documents(self):
            raise RuntimeError("The workspace is not available")

    ls = SimpleNamespace(session=fake_ls([inside]).session, workspace=Unready())
    assert _view.text_document(ls, (inside / "draft.tex").as_uri()) is None


@pytest.mark.parametrize("language, text", [
    ("markdown", "---\nbibliography: a\x00b.bib\n---\n[@key]\n"),
    ("org", "#+bibliography: a\x00b.bib\n[cite:@key]\n")])
def test_a_bibliography_name_that_cannot_be_a_path_is_skipped(tmp_path, language, text):
    """A NUL in a document's bibliography name made every hover, definition and find
    references on it an internal error (Path.resolve raised)."""
    path = tmp_path / f"draft.{language}"
    doc = SimpleNamespace(source=text, language_id=language, version=1)
    ls = fake_ls([tmp_path], {path.as_uri(): doc})
    snapshot = _view.snapshot(ls, path.as_uri())
    assert snapshot is not None and snapshot.language == language and snapshot.bib_files == ()
