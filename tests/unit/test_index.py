"""The index store, the paper table and the library on real (small) folders."""
import json
import os
import shutil

from paperlens.config import index_dir_for
from paperlens.core.index.whoosh.store import IndexStore
from paperlens.core.index.table import PaperTable
from paperlens.core.library import Library


def _paper(title: str, author: str, year: str, body: str) -> str:
    return f"{title}\n{author}1\n1University of Testing\nPreprint, {year}.\nAbstract\n{body}\n1. Introduction\n{body}\n"


def test_index_search_and_incremental_update(tmp_path, monkeypatch):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(_paper("Gaze Estimation with Webcams", "Ada Lovelace", "2020",
                                         "We estimate eye gaze from cheap webcams. 2020."), encoding="utf-8")
    (folder / "b.txt").write_text(_paper("Radar Object Detection", "Alan Turing", "2021",
                                         "Radar simulation closes the synthetic to real gap."), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix")
    report = store.update()
    assert report.rebuilt == "no index yet" and report.papers_total == 2
    hits = Library.__new__(Library)
    hits.stores = [store]
    found = hits.search("eye gaze webcam")
    top = found[0]
    assert top.title == "Gaze Estimation with Webcams" and top.path == str(folder / "a.txt")
    assert top.snippet == "We estimate **eye** **gaze** from cheap **webcams**. 2020."
    # the abstract and the introduction say the same: the abstract ranks first; b.txt never
    assert [(h.path, h.section) for h in found] == [(str(folder / "a.txt"), "abstract"),
                                                     (str(folder / "a.txt"), "1. Introduction")]

    # an untouched folder is re-opened without parsing anything
    store2 = IndexStore(folder, tmp_path / "ix")
    parsed = []
    import paperlens.core.index.whoosh.store as store_mod
    monkeypatch.setattr(store_mod, "_parse_job", lambda folder, rel: parsed.append(rel))
    assert store2.update().files_parsed == 0 and parsed == []
    monkeypatch.undo()

    # touched but same bytes: no parse; changed: re-parsed and searchable; deleted: gone
    os.utime(folder / "a.txt", (1, 1))
    assert store2.update().files_parsed == 0
    (folder / "b.txt").write_text(_paper("Radar Object Detection", "Alan Turing", "2021",
                                         "Lidar point clouds replace radar."), encoding="utf-8")
    r = store2.update()
    assert r.files_parsed == 1 and r.papers_total == 2
    assert hits.search("lidar")[0].path == str(folder / "b.txt")
    (folder / "a.txt").unlink()
    r = store2.update()
    assert r.files_removed == 1 and r.papers_total == 1
    assert all(h.path != str(folder / "a.txt") for h in hits.search("gaze webcam"))


def test_schema_change_and_damage_trigger_rebuild(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(_paper("One Paper Title", "Ada Lovelace", "2020", "Text."), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix")
    store.update()
    meta = json.loads((tmp_path / "ix" / "meta.json").read_text())
    meta["schema"] = -1
    (tmp_path / "ix" / "meta.json").write_text(json.dumps(meta))
    assert IndexStore(folder, tmp_path / "ix").update().rebuilt.startswith("schema changed")
    shutil.rmtree(tmp_path / "ix" / "whoosh")
    r = IndexStore(folder, tmp_path / "ix").update()
    assert r.rebuilt == "index files missing" and r.papers_total == 1


def test_bad_files_are_skipped_with_a_reason(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "ok.txt").write_text(_paper("A Fine Paper", "Ada Lovelace", "2020", "Fine."), encoding="utf-8")
    (folder / "latin1.txt").write_bytes(_paper("Caf\u00e9 Studies", "Jos\u00e9 Garc\u00eda", "2019", "Na\u00efve.").encode("latin-1"))
    r = IndexStore(folder, tmp_path / "ix").update()
    reasons = dict(r.skipped)
    assert reasons == {"binary.txt": "binary data, not text", "empty.txt": "empty file"}
    assert r.papers_total == 2


def test_generated_keys_unique_and_stable(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "refs.bib").write_text("@article{lovelace2020gaze, title={Gaze}, author={Lovelace, Ada}, year=2020}\n")
    (folder / "a.txt").write_text(_paper("Gaze Estimation", "Ada Lovelace", "2020", "x. 2020"), encoding="utf-8")
    (folder / "b.txt").write_text(_paper("Gaze Tracking", "Ada Lovelace", "2020", "y. 2020"), encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix")
    store.update()
    keys = sorted(r.key for r in store.table.rows)
    assert keys == ["lovelace2020gaze", "lovelace2020gazea", "lovelace2020gazeb"]
    before = {r.source: r.key for r in store.table.rows}
    (folder / "b.txt").write_text(_paper("Gaze Tracking", "Ada Lovelace", "2020", "changed. 2020"), encoding="utf-8")
    store.update()
    assert {r.source: r.key for r in store.table.rows} == before


def test_table_completion_ranking():
    from paperlens.core.index.table import Row
    rows = [Row(str(i), k, t, s, y, "", "/x.bib", i, "bib", "") for i, (k, t, s, y) in enumerate([
        ("vaswani2017attention", "Attention Is All You Need", ["Vaswani"], "2017"),
        ("bahdanau2015neural", "Neural Machine Translation by Jointly Learning to Align", ["Bahdanau"], "2015"),
        ("velickovic2018graph", "Graph Attention Networks", ["Veličković"], "2018"),
    ])]
    table = PaperTable(rows)

    def ranked(query, limit=50):
        found, total = table.complete(query, limit)
        return [r.key for _, r in found], total

    assert ranked("vaswani") == (["vaswani2017attention"], 1)
    assert ranked("attention 2017") == (["vaswani2017attention"], 1)
    # the same title-word score: the newer paper first
    assert ranked("attention") == (["velickovic2018graph", "vaswani2017attention"], 2)
    assert ranked("velick") == (["velickovic2018graph"], 1)                  # accents folded
    assert ranked("va") == (["vaswani2017attention"], 1)                       # key prefix
    assert ranked("a") == (["velickovic2018graph", "vaswani2017attention", "bahdanau2015neural"], 3)
    # no query: the library, newest first, cut at the limit but counted whole
    assert ranked("", limit=2) == (["velickovic2018graph", "vaswani2017attention"], 3)


def test_cli_and_server_share_the_default_index_location(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERLENS_INDEX_DIR", str(tmp_path / "cache"))
    a = index_dir_for(tmp_path / "lib")
    b = index_dir_for(str(tmp_path / "lib") + "/")
    assert a == b and a.parent == tmp_path / "cache"
    assert index_dir_for(tmp_path / "lib", str(tmp_path / "elsewhere")).parent == tmp_path / "elsewhere"


def test_bib_entry_and_its_paper_text_become_one_paper(tmp_path, monkeypatch):
    folder = tmp_path / "lib"
    (folder / "pdfs").mkdir(parents=True)
    (folder / "refs.bib").write_text(
        "@article{lovelace2020gaze, title={Gaze Estimation with Cheap Webcams}, author={Lovelace, Ada},"
        " year=2020, journal={J. Eyes}}\n"
        "@article{turing2021radar, title={Radar}, author={Turing, Alan}, year=2021, doi={10.1000/RADAR.1},"
        " abstract={Entry abstract.}}\n"
        "@article{byron2019other, title={Something Else}, author={Byron, Ada}, year=2019,"
        " file={Full Text PDF:pdfs/other.txt:text/plain}}\n", encoding="utf-8")
    (folder / "pdfs" / "gaze.txt").write_text(_paper("Gaze Estimation with Cheap Webcams", "Ada Lovelace", "2020",
                                                     "We estimate gaze from webcams."), encoding="utf-8")
    (folder / "pdfs" / "radar.txt").write_text(_paper("Radar Simulation Study", "Alan Turing", "2021",
                                                      "doi:10.1000/radar.1 radar simulation"), encoding="utf-8")
    (folder / "pdfs" / "other.txt").write_text(_paper("Untitled Draft Text", "Ada Byron", "2019",
                                                      "Completely different words here."), encoding="utf-8")
    monkeypatch.setenv("PAPERLENS_INDEX_DIR", str(tmp_path / "ix"))
    lib = Library([folder])
    lib.update()
    # completion lists each paper once, under its bibliography key
    keys = [r.key for r in lib.complete("", 50)[0]]
    assert keys == ["turing2021radar", "lovelace2020gaze", "byron2019other"]      # newest first
    # title match, DOI match (case-insensitive) and the entry's file field all merge
    for key, text in [("lovelace2020gaze", "gaze.txt"), ("turing2021radar", "radar.txt"),
                      ("byron2019other", "other.txt")]:
        row = lib.resolve(key)
        assert row.fulltext == str(folder / "pdfs" / text)
        assert lib.paper(row).file == str(folder / "pdfs" / text)
    # search hits in the full text are reported under the entry
    hit = lib.search("webcams gaze")[0]
    assert hit.key == "lovelace2020gaze" and hit.path == str(folder / "pdfs" / "gaze.txt")
    # the entry's card shows bib metadata; missing abstract comes from the full text
    gaze = lib.paper(lib.resolve("lovelace2020gaze"))
    assert gaze.venue == "J. Eyes" and gaze.abstract.startswith("We estimate gaze")
    assert lib.paper(lib.resolve("turing2021radar")).abstract == "Entry abstract."
    # the generated key of a merged text still resolves, to the entry
    text_key = next(r.key for r in lib.rows() if r.source.endswith("gaze.txt"))
    assert lib.resolve(text_key).key == "lovelace2020gaze"


def test_a_parser_crash_costs_only_its_own_file(tmp_path, monkeypatch):
    """A worker process that dies (as pdfium can) does not stop the batch or the indexer."""
    folder = tmp_path / "lib"
    folder.mkdir()
    for i in range(30):
        (folder / f"p{i:02d}.txt").write_text(_paper(f"Paper Number {i} About Things", "Ada Lovelace",
                                                     "2020", f"Body {i}."), encoding="utf-8")
    (folder / "p07.txt").rename(folder / "crash-me.txt")
    monkeypatch.setenv("PAPERLENS_FAULT_CRASH_ON", "crash-me.txt")
    report = IndexStore(folder, tmp_path / "ix", workers=2).update()
    assert report.skipped == [("crash-me.txt", "the parser crashed on this file (its worker process died)")]
    assert report.papers_total == 29
