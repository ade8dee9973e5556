"""The command line as a person uses it: several words to `cite`, counts that agree, "showing
N of M", and the summary error message."""
from __future__ import annotations

import json
import re

import pytest

from paperlens.cli import main


def _paper(title: str, author: str, year: str, body: str) -> str:
    return (f"{title}\n{author}1\n1University of Testing\nPreprint, {year}.\nAbstract\n{body}\n"
            f"1. Introduction\n{body}\n")


@pytest.fixture
def library(tmp_path):
    """3 bibliography entries, 2 of them with their full text (one joined by title, one by
    DOI), 1 full text without an entry, 1 draft and 1 unusable file: 4 papers, 6 records."""
    folder = tmp_path / "lib"
    (folder / "texts").mkdir(parents=True)
    (folder / "refs.bib").write_text(
        "@article{lovelace2020gaze, title={Gaze Estimation with Cheap Webcams}, author={Lovelace, Ada},"
        " year=2020, journal={J. Eyes}}\n"
        "@article{turing2021radar, title={Radar}, author={Turing, Alan}, year=2021, doi={10.1000/RADAR.1}}\n"
        "@article{hopper2018google, title={Google File Systems Revisited}, author={Hopper, Grace},"
        " year=2018}\n", encoding="utf-8")
    (folder / "texts" / "gaze.txt").write_text(_paper(
        "Gaze Estimation with Cheap Webcams", "Ada Lovelace", "2020", "We estimate gaze from webcams."),
        encoding="utf-8")
    (folder / "texts" / "radar.txt").write_text(_paper(
        "Radar Simulation Study", "Alan Turing", "2021", "doi:10.1000/radar.1 radar simulation"),
        encoding="utf-8")
    (folder / "texts" / "google.txt").write_text(_paper(
        "Google File Placement at Scale", "Barbara Liskov", "2019", "Where a file lives in a cluster."),
        encoding="utf-8")
    (folder / "draft.md").write_text("---\nbibliography: refs.bib\n---\nAs shown in [@lovelace2020gaze].\n",
                                     encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"not a pdf at all")
    return folder


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cite_takes_several_words_as_one_query(library, tmp_path, capsys):
    ix = str(tmp_path / "ix")
    code, out, _ = run(capsys, "cite", "google", "file", "--dir", str(library), "--index-path", ix, "--json")
    data = json.loads(out)
    assert code == 0 and data["query"] == "google file"
    # both words must match, as in completion: the two "Google File ..." papers, nothing else
    assert sorted(r["key"] for r in data["results"]) == ["hopper2018google", "liskov2019google"]
    assert data["total"] == 2
    # the options may come first too
    code, out, _ = run(capsys, "cite", "--dir", str(library), "--index-path", ix, "google", "placement")
    assert code == 0 and out.split("\t")[0] == "liskov2019google" and len(out.splitlines()) == 1


def test_index_and_cite_count_the_same_papers(library, tmp_path, capsys):
    ix = str(tmp_path / "ix")
    code, out, _ = run(capsys, "index", str(library), "--index-path", ix)
    assert code == 0
    _, cite_out, _ = run(capsys, "cite", "--dir", str(library), "--index-path", ix, "--json")
    total = json.loads(cite_out)["total"]
    assert total == 4          # 3 entries + the text without an entry; joined texts are not papers
    first = out.splitlines()[0]
    assert first == (f"{library}: 4 papers (6 records: 3 bibliography entries, 3 full texts, "
                     "2 of them joined to their entry)")
    assert "this run: 6 files seen, 5 parsed (1 draft), 1 skipped, 6 records written" in out
    assert "skipped broken.pdf: " in out
    # the second run changes nothing and says so; the paper count is the same
    _, again, _ = run(capsys, "index", str(library), "--index-path", ix)
    assert again.splitlines()[0] == first
    assert again.splitlines()[1].startswith("  this run: 6 files seen, nothing changed, ")
    assert again.splitlines()[2] == ("  1 unusable file in the folder, listed when first seen "
                                     "(--rebuild lists it again)")
    # --json: the schema 1 fields keep their meaning, the new ones match cite
    _, js, _ = run(capsys, "index", str(library), "--index-path", ix, "--json")
    (folder,) = json.loads(js)["folders"]
    assert folder["papers_total"] == 6 and folder["papers_indexed"] == 0 and folder["unusable"] == 1
    assert (folder["papers"], folder["records"], folder["entries"], folder["full_texts"],
            folder["joined"]) == (total, 6, 3, 3, 2)


def test_cite_says_when_it_shows_only_some_matches(tmp_path, capsys):
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "refs.bib").write_text("".join(
        f"@article{{k{n:02d}, title={{Webcam Study Number {n}}}, author={{Author, Ann}}, year={2000 + n}}}\n"
        for n in range(25)), encoding="utf-8")
    ix = str(tmp_path / "ix")
    _, out, _ = run(capsys, "cite", "webcam", "--dir", str(folder), "--index-path", ix, "--limit", "10")
    lines = out.splitlines()
    assert len(lines) == 11 and all(re.match(r"k\d\d\t", line) for line in lines[:10])
    assert lines[-1] == "(showing 10 of 25; type more words to narrow)"
    _, js, _ = run(capsys, "cite", "webcam", "--dir", str(folder), "--index-path", ix, "--limit", "10", "--json")
    data = json.loads(js)
    assert data["total"] == 25 and len(data["results"]) == 10
    # all shown: no note
    _, out, _ = run(capsys, "cite", "number", "7", "--dir", str(folder), "--index-path", ix)
    assert out.splitlines() == ["k07\t2007\tWebcam Study Number 7"]
    _, out, _ = run(capsys, "cite", "nothing", "like", "it", "--dir", str(folder), "--index-path", ix)
    assert out == "no keys match 'nothing like it'\n"


def test_summary_errors_are_said_once_without_a_doubled_prefix(library, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PAPERLENS_TEST_NO_KEY", raising=False)
    code, out, err = run(capsys, "summarize", str(library), "--index-path", str(tmp_path / "ix"),
                         "--provider", "openai", "--api-key-env", "PAPERLENS_TEST_NO_KEY")
    assert code == 1
    said = [line for line in err.splitlines() if "PAPERLENS_TEST_NO_KEY" in line]
    assert said == ["summaries: set PAPERLENS_TEST_NO_KEY or paperlens.summary.baseUrl; "
                    "showing extractive summaries"]
    # per paper, under its key: a text joined to its entry under the entry's key
    assert sorted(line.split(":")[0] for line in out.splitlines()[1:]) == [
        "  liskov2019google", "  lovelace2020gaze", "  turing2021radar"]


FILLER = "\n".join(f"Passage {n}: sparse indexes are cheap to build and quick to query." for n in range(20))


def test_show_gives_the_papers_citing_it_and_what_each_reference_cites(tmp_path, capsys):
    """issue 15, point 3: `show --json` has `cited_by` (key, title, year, path; the card's order)
    and each reference entry's `matched_key` (null when the library has not that paper)."""
    folder = tmp_path / "lib"
    (folder / "texts").mkdir(parents=True)
    (folder / "refs.bib").write_text(
        "@article{hopper2018google, title={Google File Systems Revisited}, author={Hopper, Grace},"
        " year=2018}\n"
        "@article{turing2021radar, title={Radar}, author={Turing, Alan and Lovelace, Ada}, year=2021,"
        " doi={10.1000/RADAR.1}}\n", encoding="utf-8")
    refs = ("References\n[1] Grace Hopper. Google file systems revisited. In OSDI, 2018.\n"
            "[2] Nobody Known. A paper the library does not have at all. In Nowhere, 2001.\n")
    (folder / "texts" / "radar.txt").write_text(   # joined to turing2021radar by its DOI
        _paper("Radar Simulation Study", "Alan Turing", "2021", "doi:10.1000/radar.1 radar simulation")
        + FILLER + "\n" + refs, encoding="utf-8")
    (folder / "texts" / "gaze.txt").write_text(
        _paper("Gaze Estimation with Cheap Webcams", "Ada Lovelace", "2020", "We estimate gaze.")
        + FILLER + "\n" + refs, encoding="utf-8")
    ix = str(tmp_path / "ix")
    code, out, _ = run(capsys, "show", "hopper2018google", "--dir", str(folder), "--index-path", ix, "--json")
    data = json.loads(out)
    assert code == 0 and data["paper"]["references"] == []
    assert data["cited_by"] == [      # most recent first; a joined entry by its key, at its text
        {"key": "turing2021radar", "title": "Radar", "year": "2021", "path": str(folder / "texts" / "radar.txt")},
        {"key": "lovelace2020gaze", "title": "Gaze Estimation with Cheap Webcams", "year": "2020",
         "path": str(folder / "texts" / "gaze.txt")}]
    assert "Cited by 2 papers in your library\n\n- [Radar](" in data["card"]
    # an entry joined to its text: its text's reference list, each entry with what it cites
    _, out, _ = run(capsys, "show", "turing2021radar", "--dir", str(folder), "--index-path", ix, "--json")
    data = json.loads(out)
    assert [(r["label"], r["matched_key"]) for r in data["paper"]["references"]] == [
        ("1", "hopper2018google"), ("2", None)]
    assert data["paper"]["references"][0]["title"] == "Google file systems revisited"
    assert data["cited_by"] == []
    # the human output is the card
    _, human, _ = run(capsys, "show", "hopper2018google", "--dir", str(folder), "--index-path", ix)
    assert human.startswith("**Google File Systems Revisited**") and "- [Radar](" in human
