"""A paper folder reads only its own regular files: a symbolic link is followed only to a file
inside the folder (issue 13, case 6), in the full walk, in the watcher's ``diff(only=...)`` and
when a file is hashed; FIFOs and devices are never opened for reading."""
from __future__ import annotations

import hashlib
import os

import pytest

from paperlens.core import corpus
from paperlens.core.index.search import search
from paperlens.core.index.whoosh.store import IndexStore

SECRET = "hunter2zqxvj"
REAL_SHA1 = hashlib.sha1
OUTSIDE = "symbolic link to a file outside the paper folder"
NOT_REGULAR = "not a regular file"

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt",
                                reason="POSIX symbolic links and FIFOs")


def paper_text(title: str, word: str) -> str:
    return (f"{title}\n\nAlice Martin, Bruno Keller\n\nAbstract\nWe study {word} retrieval for "
            f"reading assistants. The {word} method ranks passages well.\n")


@pytest.fixture
def tree(tmp_path):
    """lib/ (the paper folder) and, beside it, a credentials file and another folder."""
    lib = tmp_path / "lib"
    (lib / "sub").mkdir(parents=True)
    (lib / "real.txt").write_text(paper_text("Real Paper Inside", "inword"), encoding="utf-8")
    (tmp_path / "credentials.txt").write_text(
        paper_text("Credentials", SECRET) + f"password = {SECRET}\n", encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "paper.txt").write_text(paper_text("Outside Paper", "outword"), encoding="utf-8")
    os.symlink(tmp_path / "credentials.txt", lib / "secret.txt")            # absolute, outside
    os.symlink("../../credentials.txt", lib / "sub" / "relative.txt")       # relative, outside
    os.symlink("../real.txt", lib / "sub" / "alias.txt")                     # inside: followed
    os.symlink(tmp_path / "elsewhere", lib / "linked-dir")                   # a folder: never followed
    return tmp_path


def test_walk_follows_a_file_link_only_inside_the_folder(tree):
    lib = tree / "lib"
    found, skipped = corpus.walk(lib)
    assert sorted(found) == ["real.txt", "sub/alias.txt"]
    assert found["sub/alias.txt"].st_ino == found["real.txt"].st_ino
    assert dict(skipped) == {"secret.txt": OUTSIDE, "sub/relative.txt": OUTSIDE}


def test_walk_through_a_linked_folder_root(tree):
    """The configured folder itself may be a link (~/papers -> /data/papers): its files are in."""
    os.symlink(tree / "lib", tree / "lib-link")
    found, skipped = corpus.walk(tree / "lib-link")
    assert sorted(found) == ["real.txt", "sub/alias.txt"]
    assert dict(skipped) == {"secret.txt": OUTSIDE, "sub/relative.txt": OUTSIDE}


def test_walk_roots_widen_what_a_link_may_reach(tree):
    """``roots``: the configured folders a link may point into (the walked one is always one)."""
    lib = tree / "lib"
    os.symlink(tree / "elsewhere" / "paper.txt", lib / "other.txt")
    found, skipped = corpus.walk(lib, roots=[tree / "elsewhere"])
    assert sorted(found) == ["other.txt", "real.txt", "sub/alias.txt"]
    assert dict(skipped) == {"secret.txt": OUTSIDE, "sub/relative.txt": OUTSIDE}


def test_diff_only_refuses_links_out_and_paths_through_linked_folders(tree):
    lib = tree / "lib"
    only = ["secret.txt", "sub/relative.txt", "sub/alias.txt", "linked-dir/paper.txt",
            "../credentials.txt", str(tree / "credentials.txt"), "real.txt"]
    changes, skipped = corpus.diff(lib, {}, only)
    assert sorted(changes.added) == ["real.txt", "sub/alias.txt"]
    assert dict(skipped) == {"secret.txt": OUTSIDE, "sub/relative.txt": OUTSIDE}


def test_a_link_made_outside_after_indexing_is_removed(tree):
    """A file indexed while it was inside, then replaced by a link to a secret: the watcher's
    update drops it (and never indexes the secret)."""
    lib = tree / "lib"
    manifest = {}
    changes, _ = corpus.diff(lib, manifest, ["real.txt"])
    st = (lib / "real.txt").stat()
    manifest["real.txt"] = corpus.FileState(st.st_mtime_ns, st.st_size, changes.hashes["real.txt"], ["p1"])
    (lib / "real.txt").unlink()
    os.symlink(tree / "credentials.txt", lib / "real.txt")
    for only in (["real.txt"], None):
        changes, skipped = corpus.diff(lib, manifest, only)
        assert changes.removed == ["real.txt"] and not changes.added and not changes.changed
        # sub/alias.txt (-> ../real.txt) now leads outside too, through real.txt
        assert dict(skipped) == ({"real.txt": OUTSIDE} if only else
                                 {"real.txt": OUTSIDE, "secret.txt": OUTSIDE, "sub/alias.txt": OUTSIDE,
                                  "sub/relative.txt": OUTSIDE})


@pytest.mark.parametrize("only", [None, ["secret.txt", "sub/relative.txt", "real.txt"]])
def test_the_secret_behind_a_link_is_not_searchable(tree, only):
    lib = tree / "lib"
    store = IndexStore(lib, tree / "ix", workers=1)
    store.update()                       # the first update is a full build
    if only is not None:                 # then a watcher's update of just these files
        report = store.update(only=only)
    else:
        report = store.update()
    assert dict(report.skipped) == {"secret.txt": OUTSIDE, "sub/relative.txt": OUTSIDE}
    assert search([store], SECRET) == []
    assert {h.title for h in search([store], "inword")} == {"Real Paper Inside"}
    assert sorted(store.manifest) == ["real.txt", "sub/alias.txt"]
    store.close()


def test_file_sha1_confined_to_roots(tree):
    lib = tree / "lib"
    want = hashlib.sha1((lib / "real.txt").read_bytes()).hexdigest()
    assert corpus.file_sha1(lib / "sub" / "alias.txt", roots=[lib]) == want
    with pytest.raises(corpus.NotAllowed) as info:
        corpus.file_sha1(lib / "secret.txt", roots=[lib])
    assert info.value.reason == OUTSIDE


class _CountingSha1:
    """hashlib.sha1 that refuses to hash more than ``cap`` bytes (a device would never end)."""

    def __init__(self, cap: int):
        self.cap, self.n, self.h = cap, 0, REAL_SHA1()

    def update(self, data: bytes) -> None:
        self.n += len(data)
        assert self.n <= self.cap, "read past the size cap"
        self.h.update(data)

    def hexdigest(self) -> str:
        return self.h.hexdigest()


def test_file_sha1_never_reads_a_device_or_a_fifo(tmp_path, monkeypatch):
    """A link to /dev/zero named like a paper, and a FIFO: refused at open, nothing read (before,
    /dev/zero was hashed without end and opening the FIFO waited for a writer forever)."""
    monkeypatch.setattr(corpus.hashlib, "sha1", lambda: _CountingSha1(64 << 20))
    os.symlink("/dev/zero", tmp_path / "zero.txt")
    with pytest.raises(OSError) as info:
        corpus.file_sha1(tmp_path / "zero.txt")
    assert getattr(info.value, "reason", "") == NOT_REGULAR
    os.mkfifo(tmp_path / "fifo.txt")
    with pytest.raises(OSError) as info:
        corpus.file_sha1(tmp_path / "fifo.txt")
    assert getattr(info.value, "reason", "") == NOT_REGULAR


def test_file_sha1_reads_no_more_than_the_cap_of_a_growing_file(tmp_path, monkeypatch):
    """The size is checked when the file is opened; the read stops at the cap even if the
    file grew since (a log-like file appended to while it is hashed)."""
    from paperlens.core.parse import MAX_TEXT_BYTES

    path = tmp_path / "grow.txt"
    path.write_bytes(b"a" * 1024)
    real_open = corpus.os.fdopen

    def fdopen_then_grow(fd, *args, **kwargs):
        f = real_open(fd, *args, **kwargs)
        with open(path, "ab") as g:
            g.truncate(MAX_TEXT_BYTES + (8 << 20))
        return f

    monkeypatch.setattr(corpus.os, "fdopen", fdopen_then_grow)
    monkeypatch.setattr(corpus.hashlib, "sha1", lambda: _CountingSha1(MAX_TEXT_BYTES + 1))
    digest = corpus.file_sha1(path)
    assert digest.startswith("oversize:")


def test_diff_only_expands_a_folder_to_the_files_under_it(tmp_path):
    """A created, moved or deleted folder (a watcher's directory event) is checked file by file
    under it, not by walking the whole paper folder."""
    lib = tmp_path / "lib"
    (lib / "a" / "deep").mkdir(parents=True)
    (lib / "b").mkdir()
    (lib / "a" / "one.txt").write_text(paper_text("One", "w1"), encoding="utf-8")
    (lib / "a" / "deep" / "two.bib").write_text("@misc{k, title={T}}\n", encoding="utf-8")
    (lib / "a" / "notes.log").write_text("not a paper", encoding="utf-8")
    (lib / "b" / "three.txt").write_text(paper_text("Three", "w3"), encoding="utf-8")
    (lib / "a" / ".hidden").mkdir()
    (lib / "a" / ".hidden" / "h.txt").write_text(paper_text("Hidden", "wh"), encoding="utf-8")
    walks = []
    real_walk = corpus.walk

    def spy(folder, *args, **kwargs):
        walks.append(folder)
        return real_walk(folder, *args, **kwargs)

    corpus_walk, corpus.walk = corpus.walk, spy
    try:
        changes, skipped = corpus.diff(lib, {}, ["a"])
        assert sorted(changes.added) == ["a/deep/two.bib", "a/one.txt"] and not skipped
        # deleted (or moved away): what the manifest had under it is removed, nothing else
        manifest = {rel: corpus.FileState(1, 1, "x", []) for rel in ("a/one.txt", "a/deep/two.bib",
                                                                      "ab.txt", "b/three.txt")}
        import shutil
        shutil.rmtree(lib / "a")
        changes, skipped = corpus.diff(lib, manifest, ["a"])
        assert sorted(changes.removed) == ["a/deep/two.bib", "a/one.txt"] and not changes.added
        # a hidden or tool folder is not looked into, as in the walk
        changes, _ = corpus.diff(lib, {}, [".git", "b/.hidden", "node_modules"])
        assert changes.empty
        # the folder itself: everything
        changes, _ = corpus.diff(lib, {}, ["."])
        assert changes.added == ["b/three.txt"]
    finally:
        corpus.walk = corpus_walk
    assert walks == [lib]             # only the "." request walked the whole folder
