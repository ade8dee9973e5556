"""A folder full of bad input: every bad file is refused with its own clear reason, every good
file is indexed and searchable, and the index opens afterwards. In one process and with the
worker-process pool (>= POOL_MIN_FILES files)."""
from __future__ import annotations

import codecs
import os
import shutil
import sys
from pathlib import Path

import pytest

from fixtures.pdfs import (make_broken_pdf, make_encrypted_pdf, make_image_only_pdf,
                           make_paper_pdf)

from paperlens.core import corpus
from paperlens.core.index.whoosh import store as store_mod
from paperlens.core.index.search import search
from paperlens.core.index.whoosh.store import POOL_MIN_FILES, IndexStore

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

# --- what bad files are refused with (exact reasons) ---------------------------------------------

BROKEN = "broken PDF: damaged or not a PDF file"
ENCRYPTED = "encrypted PDF (password required)"
NO_TEXT = "no text layer (image-only or scanned PDF)"
EMPTY_PDF = "broken PDF: empty file"
TOO_LARGE = "too large for a text file (105 MB > 21 MB)"
BINARY = "binary data, not text"
EMPTY = "empty file"
MISSING = "cannot read: No such file or directory"
NOT_REGULAR = "not a regular file"


def paper_text(title: str, word: str, authors: str = "Alice Martin, Bruno Keller") -> str:
    """A small paper text; ``word`` is a made-up word only this paper contains."""
    return (f"{title}\n\n{authors}\n\nAbstract\nWe study {word} retrieval for reading assistants. "
            f"The {word} method ranks passages well.\n\n1. Introduction\nReaders search libraries "
            f"with questions. Our {word} probes explain rankings.\n\n2. Method\nA linear model over "
            f"sparse features.\n")


BIB_UNBALANCED = """@article{bibgood1,
  title = {Quokka Ranking of Passages},
  author = {Martin, Alice},
  year = 2020,
}
@article{bibbroken,
  title = {Unbalanced {brace,
  year = {2021}

@article{bibgood2,
  title = {Wombat Passage Search},
  author = {Keller, Bruno},
  year = {2019},
}
"""

BIB_DUPLICATE = """@article{dupkey,
  title = {Platypus Indexing First},
  year = {2018},
}
@article{dupkey,
  title = {Platypus Indexing Second},
  year = {2018},
}
"""

BIB_MISSING_COMMA = """@article{nocomma2018
  title = {No Comma After The Key},
}
@article{afternocomma,
  title = {Echidna Citation Graphs},
  year = {2017},
}
"""

BIB_MACROS_ACCENTS = r"""@string{nips = {Advances in Neural Information Processing Systems}}
@string{jmlr = "Journal of Machine Learning Research"}
@inproceedings{macro2017,
  title = {Caf{\'e} na{\"\i}ve {\L}{\'o}d{\'z} \v{S}koda Stra{\ss}e},
  author = {J{\'e}gou, Herv{\'e} and M{\"u}ller, J{\"o}rg and {\O}stergaard, S{\o}ren},
  booktitle = nips,
  year = 2017,
}
@article{macro2018,
  title = {Concatenated Macro Venues},
  journal = jmlr # { (special issue)},
  year = 2018,
}
"""


def make_corpus(folder: Path, n_good: int = 4) -> tuple[dict[str, str], dict[str, str]]:
    """Write the bad-input corpus. Returns (expected skipped {rel: reason}, expected good
    papers {title: a word to search for})."""
    folder.mkdir(parents=True, exist_ok=True)
    skipped: dict[str, str] = {}
    good: dict[str, str] = {}

    # PDFs
    make_broken_pdf(folder / "truncated.pdf")
    make_broken_pdf(folder / "garbage.pdf", mode="garbage")
    make_encrypted_pdf(folder / "locked.pdf")
    make_image_only_pdf(folder / "scan.pdf")
    (folder / "zero.pdf").write_bytes(b"")
    skipped.update({"truncated.pdf": BROKEN, "garbage.pdf": BROKEN, "locked.pdf": ENCRYPTED,
                    "scan.pdf": NO_TEXT, "zero.pdf": EMPTY_PDF})
    make_paper_pdf(folder / "good.pdf", title="Sparse Probing of Dense Retrievers")
    good["Sparse Probing of Dense Retrievers"] = "probes"

    # text files that are not text, or too big to be text
    with open(folder / "huge.txt", "wb") as f:          # sparse: 100 MB without writing them
        f.truncate(100 * 1024 * 1024)
    (folder / "binary.txt").write_bytes(bytes((i * 37 + 11) % 256 for i in range(20000)))
    (folder / "zero.txt").write_bytes(b"")
    (folder / "blank.md").write_bytes(b"  \n\n\t\n")
    skipped.update({"huge.txt": TOO_LARGE, "binary.txt": BINARY, "zero.txt": EMPTY,
                    "blank.md": EMPTY})

    # encodings: all of these are good papers
    enc = {
        "utf16le.txt": ("Études Éparses en UTF-16 Little Endian", "kiwiberry",
                        lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le")),
        "utf16be.txt": ("Überblick über UTF-16 Big Endian", "gooseberry",
                        lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be")),
        "latin1.txt": ("Café Naïve Señor Latin-1 Paper", "mulberry",
                       lambda t: t.encode("latin-1")),
        "badutf8.txt": ("Invalid UTF-8 Bytes in a Paper", "cloudberry",
                        lambda t: t.encode("utf-8").replace(b"Readers", b"Read\xff\xfeers\xc3(")),
    }
    for name, (title, word, encode) in enc.items():
        (folder / name).write_bytes(encode(paper_text(title, word)))
        good[title] = word

    # .bib files: broken entries reported, the others kept
    (folder / "unbalanced.bib").write_text(BIB_UNBALANCED, encoding="utf-8")
    (folder / "duplicate.bib").write_text(BIB_DUPLICATE, encoding="utf-8")
    (folder / "missing-comma.bib").write_text(BIB_MISSING_COMMA, encoding="utf-8")
    (folder / "macros.bib").write_text(BIB_MACROS_ACCENTS, encoding="utf-8")

    # a symlink loop: a folder linking to its parent (never followed)
    (folder / "sub").mkdir()
    (folder / "sub" / "inner.txt").write_text(paper_text("Inner Folder Paper Title", "lingonberry"),
                                              encoding="utf-8")
    good["Inner Folder Paper Title"] = "lingonberry"
    os.symlink("..", folder / "sub" / "loop")

    # unreadable: as root chmod 000 does not stop reading, so a dangling symlink and a FIFO
    os.symlink(folder / "gone-target.txt", folder / "dangling.txt")
    os.mkfifo(folder / "fifo.txt")
    skipped.update({"dangling.txt": MISSING, "fifo.txt": NOT_REGULAR})

    # plain good papers (enough of them for the process pool when asked)
    for i in range(n_good):
        word = f"zq{i:03d}berry"
        title = f"Generated Paper Number {i} on Ranking"
        (folder / f"paper-{i:03d}.txt").write_text(paper_text(title, word), encoding="utf-8")
        good[title] = word
    return skipped, good


BIB_WARNINGS = [
    "duplicate.bib:5: skipped entry duplicate key 'dupkey'; the first entry is kept",
    "missing-comma.bib:1: skipped entry '@article{nocomma2018': Expected comma after entry key, but found =",
    "unbalanced.bib:6: skipped entry '@article{bibbroken,': Unexpected block start: `@article`. "
    "Was still looking for field-value closing `}`",
]
BIB_TITLES = {"bibgood1": "Quokka Ranking of Passages", "bibgood2": "Wombat Passage Search",
              "dupkey": "Platypus Indexing First", "afternocomma": "Echidna Citation Graphs",
              "macro2017": "Café naïve Łódź Škoda Straße", "macro2018": "Concatenated Macro Venues"}


def check_index(folder: Path, ix: Path, report, skipped: dict[str, str], good: dict[str, str]) -> None:
    assert dict(report.skipped) == skipped
    assert len(report.skipped) == len(skipped), "each bad file is reported once"
    assert sorted(report.warnings) == BIB_WARNINGS
    assert not any("loop" in rel for rel in report.skipped)
    # every good paper is in the table and its own word finds it
    store = IndexStore(folder, ix)          # the index opens afterwards, with nothing to redo
    assert store.needs_rebuild() == ""
    titles = {r.title for r in store.table.rows}
    for title, word in good.items():
        assert title in titles, title
        hits = search([store], word, limit=5)
        assert hits and hits[0].title == title, (word, [h.title for h in hits])
    by_key = {r.key: r for r in store.table.rows}
    for key, title in BIB_TITLES.items():
        assert by_key[key].title == title
    macro = store.paper(by_key["macro2017"].id)
    assert macro.venue == "Advances in Neural Information Processing Systems"
    assert macro.authors == ["Jégou, Hervé", "Müller, Jörg", "Østergaard, Søren"]
    assert store.paper(by_key["macro2018"].id).venue == "Journal of Machine Learning Research (special issue)"
    assert "bibbroken" not in by_key and "nocomma2018" not in by_key
    # papers come from nowhere but the folder itself (the loop was not followed)
    assert all(Path(r.source).resolve().is_relative_to(folder.resolve()) for r in store.table.rows)
    assert not any("/loop/" in r.source for r in store.table.rows)
    assert len(store.table.rows) == len(good) + len(BIB_TITLES)
    # an update with nothing changed parses nothing and refuses nothing new from the manifest
    again = store.update()
    assert again.files_parsed == 0 and again.papers_indexed == 0
    assert set(dict(again.skipped)) <= {"dangling.txt", "fifo.txt"}   # found by the walk again
    assert again.unusable == len(skipped) - 2
    store.close()


@pytest.fixture
def watch_opens():
    """Record which of the watched files are opened (a Python audit hook, on only in this test)."""
    state = _AuditState.get()
    state.watched.clear()
    state.opened.clear()
    state.active = True
    yield state
    state.active = False


class _AuditState:
    _instance = None

    def __init__(self) -> None:
        self.active = False
        self.watched: set[str] = set()
        self.opened: list[str] = []

    @classmethod
    def get(cls) -> "_AuditState":
        if cls._instance is None:
            cls._instance = cls()
            inst = cls._instance

            def hook(event, args):
                if inst.active and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
                    p = os.fsdecode(args[0])
                    if p in inst.watched:
                        inst.opened.append(p)

            sys.addaudithook(hook)
        return cls._instance


def test_bad_input_folder_one_process(tmp_path, watch_opens):
    folder = tmp_path / "lib"
    skipped, good = make_corpus(folder)
    watch_opens.watched.add(str((folder / "huge.txt").resolve()))
    watch_opens.watched.add(str(folder / "huge.txt"))
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    report = store.update()
    store.close()
    assert report.rebuilt == "no index yet"
    # the 100 MB file is refused by its size: it is never even opened (neither parsed nor hashed)
    assert dict(report.skipped)["huge.txt"] == TOO_LARGE
    assert watch_opens.opened == []
    check_index(folder, tmp_path / "ix", report, skipped, good)


def test_bad_input_folder_worker_pool(tmp_path, monkeypatch):
    folder = tmp_path / "lib"
    skipped, good = make_corpus(folder, n_good=POOL_MIN_FILES)
    seen = []
    real = store_mod.IndexStore._parallel_segments

    def spy(self, *args, **kwargs):
        seen.append(True)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(store_mod.IndexStore, "_parallel_segments", spy)
    store = IndexStore(folder, tmp_path / "ix", workers=2)
    report = store.update()
    store.close()
    monkeypatch.undo()
    assert seen, "the process pool was not used"
    check_index(folder, tmp_path / "ix", report, skipped, good)


def test_incremental_update_meets_the_same_bad_files(tmp_path):
    """Bad files added to an indexed folder are refused by the incremental path too."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "first.txt").write_text(paper_text("A First Good Paper", "blueberry"), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    assert store.update().papers_total == 1
    skipped, good = make_corpus(folder)
    good["A First Good Paper"] = "blueberry"
    report = store.update()
    store.close()
    assert not report.rebuilt
    check_index(folder, tmp_path / "ix", report, skipped, good)
    # only=: the paths an editor reports, bad ones included
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    (folder / "fifo2.txt").unlink(missing_ok=True)
    os.mkfifo(folder / "fifo2.txt")
    r = store.update(only=["fifo2.txt", "huge.txt", "first.txt"])
    assert dict(r.skipped) == {"fifo2.txt": NOT_REGULAR}
    store.close()


@pytest.mark.skipif(IS_ROOT, reason="running as root: chmod 000 does not stop root from reading "
                                    "(the FIFO and dangling-symlink cases stand in for it)")
def test_unreadable_file_chmod_000(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "ok.txt").write_text(paper_text("A Readable Paper", "elderberry"), encoding="utf-8")
    secret = folder / "locked.txt"
    secret.write_text(paper_text("An Unreadable Paper", "boysenberry"), encoding="utf-8")
    secret.chmod(0)
    try:
        store = IndexStore(folder, tmp_path / "ix", workers=1)
        report = store.update()
        assert dict(report.skipped) == {"locked.txt": "cannot read: Permission denied"}
        assert [r.title for r in store.table.rows] == ["A Readable Paper"]
        store.close()
    finally:
        secret.chmod(0o644)


# --- files that disappear or change while the folder is being indexed ----------------------------

@pytest.mark.parametrize("workers,n_good", [(1, 3), (2, POOL_MIN_FILES)])
def test_file_deleted_between_walk_and_parse(tmp_path, monkeypatch, workers, n_good):
    folder = tmp_path / "lib"
    folder.mkdir()
    for i in range(n_good):
        (folder / f"p{i:03d}.txt").write_text(paper_text(f"Kept Paper {i} Title", f"kq{i}berry"),
                                              encoding="utf-8")
    (folder / "vanish.txt").write_text(paper_text("A Paper That Vanishes", "dewberry"), encoding="utf-8")
    make_paper_pdf(folder / "vanish.pdf", title="A PDF That Vanishes")
    real_walk = corpus.walk

    def walk_then_delete(f):
        found, skipped = real_walk(f)
        (folder / "vanish.txt").unlink()
        (folder / "vanish.pdf").unlink()
        return found, skipped

    monkeypatch.setattr(corpus, "walk", walk_then_delete)
    store = IndexStore(folder, tmp_path / "ix", workers=workers)
    report = store.update()
    monkeypatch.setattr(corpus, "walk", real_walk)
    assert dict(report.skipped) == {"vanish.txt": MISSING, "vanish.pdf": MISSING}
    assert report.papers_total == n_good
    assert {r.title for r in store.table.rows} == {f"Kept Paper {i} Title" for i in range(n_good)}
    again = store.update()
    assert again.files_removed == 2 and not again.skipped and again.unusable == 0
    store.close()
    assert IndexStore(folder, tmp_path / "ix").needs_rebuild() == ""


def test_next_file_deleted_by_the_parser_fault_hook(tmp_path, monkeypatch):
    """``parse_file`` wrapped so that parsing one file deletes the next one."""
    folder = tmp_path / "lib"
    folder.mkdir()
    names = [f"f{i}.txt" for i in range(4)]
    for i, name in enumerate(names):
        (folder / name).write_text(paper_text(f"Paper Number {i} Title", f"fq{i}berry"), encoding="utf-8")
    real = store_mod.parse_file

    def parse_and_delete_next(path, data=None):
        res = real(path, data)
        if path.name == "f1.txt":
            (folder / "f2.txt").unlink()
        return res

    monkeypatch.setattr(store_mod, "parse_file", parse_and_delete_next)
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    report = store.update()
    assert dict(report.skipped) == {"f2.txt": MISSING}
    assert sorted(r.title for r in store.table.rows) == ["Paper Number 0 Title", "Paper Number 1 Title",
                                                          "Paper Number 3 Title"]
    # the same in an incremental update
    for name in ("f0.txt", "f1.txt", "f2.txt", "f3.txt"):
        (folder / name).write_text(paper_text(f"Changed {name} Title", f"cq{name[1]}berry"), encoding="utf-8")
    report = store.update()
    assert dict(report.skipped) == {"f2.txt": MISSING} and not report.rebuilt
    assert sorted(r.title for r in store.table.rows) == ["Changed f0.txt Title", "Changed f1.txt Title",
                                                          "Changed f3.txt Title"]
    monkeypatch.setattr(store_mod, "parse_file", real)
    assert "f2.txt" not in store.manifest          # gone: nothing left to remove later
    again = store.update()
    assert again.files_parsed == 0 and again.files_removed == 0 and not again.skipped
    store.close()


def test_file_changed_between_walk_and_parse_is_indexed_as_it_is_now(tmp_path, monkeypatch):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(paper_text("Original Zebra Findings", "zebraword"), encoding="utf-8")
    (folder / "b.txt").write_text(paper_text("Other Giraffe Paper", "giraffeword"), encoding="utf-8")
    real_walk = corpus.walk

    def walk_then_change(f):
        found, skipped = real_walk(f)
        (folder / "a.txt").write_text(paper_text("Replaced Walrus Results Text", "walrusword"), encoding="utf-8")
        return found, skipped

    monkeypatch.setattr(corpus, "walk", walk_then_change)
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    store.update()
    monkeypatch.setattr(corpus, "walk", real_walk)
    assert sorted(r.title for r in store.table.rows) == ["Other Giraffe Paper", "Replaced Walrus Results Text"]
    store.update()
    assert sorted(r.title for r in store.table.rows) == ["Other Giraffe Paper", "Replaced Walrus Results Text"]
    assert {h.title for h in search([store], "walrusword")} == {"Replaced Walrus Results Text"}
    assert search([store], "zebraword") == []
    store.close()


@pytest.mark.parametrize("path", ["rebuild", "incremental"])
def test_file_changed_while_being_parsed_is_picked_up_next_time(tmp_path, monkeypatch, path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(paper_text("Original Zebra Findings", "zebraword"), encoding="utf-8")
    (folder / "b.txt").write_text(paper_text("Other Giraffe Paper", "giraffeword"), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    if path == "incremental":
        store.update()
        (folder / "a.txt").write_text(paper_text("Original Zebra Findings Two", "zebraword"), encoding="utf-8")
    real = store_mod.parse_file

    def parse_then_change(p, data=None):
        res = real(p, data)
        if p.name == "a.txt":       # the file is written again just after it was read
            p.write_text(paper_text("Replaced Walrus Results Text", "walrusword"), encoding="utf-8")
        return res

    monkeypatch.setattr(store_mod, "parse_file", parse_then_change)
    store.update()
    monkeypatch.setattr(store_mod, "parse_file", real)
    store.update()                  # the next update (a file watcher's, say) sees the change
    titles = sorted(r.title for r in store.table.rows)
    store.close()
    assert titles == ["Other Giraffe Paper", "Replaced Walrus Results Text"]


def test_corpus_file_sha1_does_not_read_oversized_files(tmp_path, watch_opens):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(100 * 1024 * 1024)
    watch_opens.watched.add(str(big))
    digest = corpus.file_sha1(big)
    assert digest == f"oversize:{100 * 1024 * 1024}" and watch_opens.opened == []
    small = tmp_path / "small.txt"
    small.write_bytes(b"abc")
    assert corpus.file_sha1(small) == "a9993e364706816aba3e25717850c26c9cd0d89d"


def test_copy_of_examples_is_unaffected(library_dir, tmp_path):
    """Sanity: the example library still indexes without a single refusal."""
    report = IndexStore(library_dir, tmp_path / "ix").update()
    assert report.skipped == [] and report.papers_total >= 10
    shutil.rmtree(tmp_path / "ix")
