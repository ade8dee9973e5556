"""Reading the Zotero library while another process holds it as Zotero does (WAL,
``locking_mode=EXCLUSIVE``) and keeps writing: the writer (tests/fixtures/zotero.py serve) and
the test move in lock step through its stdin/stdout pipe, never by sleeping."""
from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fixtures.zotero import Writer, build_library, file_hashes  # noqa: E402

from paperlens.core.zotero import changes, read_library  # noqa: E402




@pytest.fixture
def held(tmp_path):
    data = tmp_path / "Zotero"
    _, keys = build_library(data)
    writer = Writer(data)
    yield data, keys, writer
    writer.close()




def _in_main_file_only(data: Path, key: str, tmp: Path) -> bool:
    """Whether the item is in zotero.sqlite itself (what ``immutable=1`` would see)."""
    shutil.copyfile(data / "zotero.sqlite", tmp / "main-only.sqlite")
    conn = sqlite3.connect(f"file:{tmp / 'main-only.sqlite'}?immutable=1", uri=True)
    try:
        return conn.execute("SELECT 1 FROM items WHERE key=?", (key,)).fetchone() is not None
    finally:
        conn.close()


def test_live_writes_are_read_and_zotero_files_stay_byte_identical(held, tmp_path):
    data, k, writer = held
    # the writer holds the exclusive lock: a plain SQLite reader cannot even open the file
    with pytest.raises(sqlite3.OperationalError):
        probe = sqlite3.connect(f"file:{data / 'zotero.sqlite'}?mode=ro", uri=True, timeout=0)
        try:
            probe.execute("SELECT COUNT(*) FROM items").fetchone()
        finally:
            probe.close()

    new = writer("add", item_type="journalArticle",
                 fields={"title": "Committed While Held Open", "date": "2024", "DOI": "10.5555/live.1"},
                 creators=[["Hana", "Live"]])["key"]
    assert not _in_main_file_only(data, new, tmp_path)        # only in the WAL
    files = file_hashes(data)

    lib = read_library(data)
    assert lib.items[new].key == "live2024committed"         # the WAL was replayed
    assert file_hashes(data) == files                             # nothing written, nothing created

    writer("set_field", key=k["sparse"], name="title", value="Sparse Probing, Revised")
    writer("trash", key=k["book"])
    second = writer("add", fields={"title": "A Second Live Item", "date": "2024"},
                    creators=[["Ivo", "Live"]])["key"]
    files = file_hashes(data)
    ch = changes(lib)
    assert file_hashes(data) == files
    assert [it.item_key for it in ch.added] == [second]
    assert [it.item_key for it in ch.changed] == [k["sparse"]]
    assert ch.changed[0].paper.title == "Sparse Probing, Revised"
    assert ch.changed[0].key == lib.items[k["sparse"]].key    # the key stays
    assert [it.item_key for it in ch.removed] == [k["book"]]
    lib = ch.library
    assert k["book"] not in lib.items and lib.items[second].key == "live2024second"

    writer("delete", key=new)
    ch = changes(lib)
    assert [it.item_key for it in ch.removed] == [new] and not ch.added and not ch.changed
    assert not changes(ch.library)                            # nothing more
    # the writer still writes: no lock of ours was left on its files
    writer("add", fields={"title": "After The Reads"}, creators=[["Jo", "Live"]])
    ch.library.close()


def test_a_checkpoint_during_the_copy_is_retried(held):
    data, k, writer = held
    lib = read_library(data)
    snap = lib._snapshot
    keys = []

    def checkpoint_mid_copy():
        # between the copy of zotero.sqlite and of its WAL: commit, checkpoint into the main
        # file, truncate the WAL and commit again (a fresh WAL with new salts)
        snap.on_copied = None
        keys.append(writer("add", fields={"title": "Before The Checkpoint"}, creators=[["Kai", "Mid"]])["key"])
        assert writer("checkpoint", mode="TRUNCATE")["result"][0] == 0
        keys.append(writer("add", fields={"title": "After The Checkpoint"}, creators=[["Lea", "Mid"]])["key"])

    assert changes(lib).library is lib             # nothing written: not even copied
    keys.append(writer("add", fields={"title": "Before The Copy"}, creators=[["Jan", "Mid"]])["key"])
    snap.on_copied = checkpoint_mid_copy
    ch = changes(lib)
    assert snap.attempts == 2
    assert sorted(it.item_key for it in ch.added) == sorted(keys)
    assert len(ch.library.items) == len(lib.items) + 3
    ch.library.close()
