"""Every paper of a library is found by search: by its exact title, two of its title words, its
first author's surname and year, and its key, whatever else it has (issue 12).

The library mixes every kind of paper: .bib entries with and without abstracts, CSL-JSON items,
text papers with and without a body, title-only text files, a .bib entry merged with its full
text, and papers whose keys are generated (two of them from the same base). Titles share words
from a small vocabulary and authors share surnames, so ranking matters."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from itertools import combinations

import pytest

from paperlens.core.index.whoosh import fast
from paperlens.core.keys import base_key
from paperlens.core.library import Library
from paperlens.core.models import Paper

VOCAB = ("graph neural network attention diffusion sparse retrieval scene depth robust "
         "federated learning segmentation tumor radar gaze tracking motion language prompt "
         "contrastive mesh point cloud fusion token memory planning quantum wavelet").split()
SURNAMES = ["Chen", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Novak", "Ferreira", "Kowalski"]
FIRST = ["Ada", "Bo", "Cleo", "Dario", "Eun", "Femi", "Gita", "Hugo"]
YEARS = [str(y) for y in range(2012, 2025)]
LAMPORT = "Time, Clocks, and the Ordering of Events in a Distributed System"


def _library(folder):
    """Write the library; return the intended papers (kind, title) for a sanity check."""
    rnd = random.Random(12)
    pairs = [(s, y) for s in SURNAMES for y in YEARS]
    rnd.shuffle(pairs)                     # unique (first author, year) for every paper
    titles: set[str] = set()

    def title() -> str:
        while True:
            words = rnd.sample(VOCAB, rnd.randint(4, 6))
            t = " ".join(w.capitalize() for w in words)
            if t not in titles:
                titles.add(t)
                return t

    def authors(first: str) -> list[tuple[str, str]]:
        co = [(rnd.choice(FIRST), s) for s in rnd.sample([s for s in SURNAMES if s != first], rnd.randint(0, 3))]
        return [(rnd.choice(FIRST), first)] + co

    def body(n: int) -> str:
        out = []
        for _ in range(n):
            words = [rnd.choice(VOCAB) for _ in range(rnd.randint(40, 80))]
            s, y = rnd.choice(pairs)     # citations in the text: "Chen et al. 2019"
            words.insert(rnd.randrange(len(words)), f"as {s} et al. {y} showed")
            out.append(" ".join(words) + ".")
        return "\n\n".join(out)

    papers = []
    bib = [f"@inproceedings{{lamport1978time, title={{{LAMPORT}}}, author={{Lamport, Leslie}}, year={{1978}}}}\n"]
    papers.append(("bib", LAMPORT))
    merged = None
    for i in range(20):
        surname, year = pairs.pop()
        t = title()
        people = authors(surname)
        names = " and ".join(f"{s}, {f}" for f, s in people)
        key = f"{surname.lower()}{year}{t.split()[0].lower()}"
        fields = [f"title={{{t}}}", f"author={{{names}}}", f"year={{{year}}}",
                  f"booktitle={{Proceedings of the Conference on {rnd.choice(VOCAB).capitalize()}}}"]
        if i % 2 == 0:
            fields.append(f"abstract={{{body(1)}}}")
        if i == 5:                             # its full text is in the library too
            fields.append("doi={10.5555/merged.5}")
            merged = (t, people, year)
        bib.append(f"@inproceedings{{{key},\n  " + ",\n  ".join(fields) + "\n}\n")
        papers.append(("bib", t))
    # an entry with LaTeX accents: found as "Müller" and as "Muller"
    bib.append("@article{mueller2011wavelet, title={Wavelet Memory for Quantum Planning}, "
               "author={M{\\\"u}ller, J{\\\"o}rg}, year={2011}, journal={Journal of Wavelets}}\n")
    papers.append(("bib", "Wavelet Memory for Quantum Planning"))
    (folder / "library.bib").write_text("\n".join(bib), encoding="utf-8")

    items = []
    for i in range(6):
        surname, year = pairs.pop()
        t = title()
        item = {"id": f"csl-{i}", "type": "paper-conference", "title": t,
                "author": [{"family": s, "given": f} for f, s in authors(surname)],
                "issued": {"date-parts": [[int(year)]]}, "container-title": "Journal of Tests"}
        if i % 2:
            item["abstract"] = body(1)
        items.append(item)
        papers.append(("csl", t))
    (folder / "zotero.json").write_text(json.dumps(items, indent=2), encoding="utf-8")

    texts = folder / "papers"
    texts.mkdir()
    for i in range(10):
        if i == 0:                               # the full text of entry 5: same title and DOI
            t, people, year = merged
            names = ", ".join(f"{f} {s}{n + 1}" for n, (f, s) in enumerate(people))
            doi = "doi:10.5555/merged.5\n"
        else:
            surname, year = pairs.pop()
            t = title()
            names = ", ".join(f"{f} {s}{n + 1}" for n, (f, s) in enumerate(authors(surname)))
            doi = ""
            papers.append(("text", t))
        (texts / f"paper{i}.txt").write_text(
            f"{t}\n{names}\n1University of Testing\nPreprint {year}.\n{doi}Abstract\n{body(1)}\n\n"
            f"1. Introduction\n{body(2)}\n\n2. Method\n{body(2)}\n", encoding="utf-8")
    for i in range(4):                           # metadata, no body at all
        surname, year = pairs.pop()
        t = title()
        people = "; ".join(f"{f} {s}" for f, s in authors(surname))
        (texts / f"note{i}.md").write_text(f"---\ntitle: {t}\nauthor: {people}\nyear: {year}\n---\n",
                                           encoding="utf-8")
        papers.append(("text", t))
    # two bodiless papers with the same generated key base: keys "...x" and "...xa"
    surname, year = pairs.pop()
    for i in range(2):
        t = "Quantum " + title()
        (texts / f"twin{i}.md").write_text(f"---\ntitle: {t}\nauthor: Zed {surname}\nyear: {year}\n---\n",
                                           encoding="utf-8")
        papers.append(("text", t))
    (texts / "paxos.txt").write_text("Paxos Made Simple\n", encoding="utf-8")      # only a title
    papers.append(("text", "Paxos Made Simple"))
    (texts / "wavelets.md").write_text("# Sparse Wavelet Fusion Revisited\n", encoding="utf-8")
    papers.append(("text", "Sparse Wavelet Fusion Revisited"))
    return papers


@pytest.fixture(params=["default", "side-files"])
def library(request, tmp_path, monkeypatch):
    if request.param == "side-files":            # common words read from the side files
        monkeypatch.setenv("PAPERLENS_SEARCH_TOPK", "4")
        monkeypatch.setattr(fast, "TOPK", 4)
        monkeypatch.setattr(fast, "MIN_SEGMENT_DOCS", 16)
    folder = tmp_path / "lib"
    folder.mkdir()
    intended = _library(folder)
    lib = Library([folder], str(tmp_path / "ix"), workers=1)
    (report,) = lib.update()
    assert not report.skipped, report.skipped
    return lib, folder, intended


def _canonical(lib):
    return [r for r in lib.rows() if not r.alias_of]


def _words(lib, text: str) -> list[str]:
    an = lib.stores[0].ix().schema["title"].analyzer
    return [t.text for t in an(text, mode="query")]


def _rank(hits, key: str):
    keys = [h.key for h in hits]
    return keys.index(key) + 1 if key in keys else None


def test_the_generated_library_is_what_the_test_means(library):
    lib, _, intended = library
    rows = _canonical(lib)
    assert sorted(r.title for r in rows) == sorted(t for _, t in intended)
    assert len(rows) >= 40
    kinds = {r.source_kind for r in rows}
    assert kinds == {"bib", "csl", "text"}
    assert sum(1 for r in lib.rows() if r.alias_of) == 1              # the merged full text
    keys = [r.key for r in rows]
    assert len(set(keys)) == len(keys)
    twins = sorted(r.key for r in rows if r.title.startswith("Quantum ") and r.source_kind == "text")
    assert twins[1] == twins[0] + "a"                                # generated, made unique
    store = lib.stores[0]
    without = [r for r in rows if not store.passages(r.id)]
    assert len(without) >= 15                                        # the papers this is about


def test_every_paper_is_found_by_title_title_words_surname_year_and_key(library):
    lib, _, _ = library
    rows = _canonical(lib)
    tokens = {r.key: set(_words(lib, r.title)) for r in rows}
    failures = []
    for r in rows:
        # (a) the exact title: top 5
        rank = _rank(lib.search(r.title, limit=10), r.key)
        if rank is None or rank > 5:
            failures.append(("title", r.key, r.title, rank))
        # (b) the two of its title words that the fewest papers share: top 10
        words = [w for w in r.title.split() if _words(lib, w)]
        pair = min(combinations(words, 2), key=lambda p: sum(
            1 for t in tokens.values() if set(_words(lib, " ".join(p))) <= t))
        sharing = sum(1 for t in tokens.values() if set(_words(lib, " ".join(pair))) <= t)
        assert sharing <= 5, (r.title, pair, sharing)
        rank = _rank(lib.search(" ".join(pair), limit=10), r.key)
        if rank is None:
            failures.append(("two words", r.key, pair, rank))
        # (c) first author's surname and year: top 5, first among that author's papers
        if r.surnames and r.year:
            q = f"{r.surnames[0]} {r.year}"
            hits = lib.search(q, limit=10)
            rank = _rank(hits, r.key)
            above = [lib.canonical(lib.row(h.paper_id)) for h in hits[:(rank or 11) - 1]]
            same_author = [a.key for a in above if a.surnames[:1] == r.surnames[:1] and a.year != r.year]
            if rank is None or rank > 5 or same_author:
                failures.append(("surname year", r.key, q, rank, same_author))
        # (d) its key, generated or not: first
        if _rank(lib.search(r.key, limit=10), r.key) != 1:
            failures.append(("key", r.key, _rank(lib.search(r.key, limit=10), r.key)))
    assert not failures, failures


def test_a_bib_entry_without_abstract_is_found_at_its_line(library):
    lib, folder, _ = library
    for q in ("ordering of events", "Lamport", "lamport1978time", "Lamport 1978", LAMPORT):
        hits = lib.search(q)
        assert hits, q
        top = hits[0]
        assert (top.key, top.path, top.line_start, top.section) == (
            "lamport1978time", str(folder / "library.bib"), 0, "record"), q
        assert top.title == LAMPORT and "Lamport" in top.text and "1978" in top.text
    assert "**Lamport**" in lib.search("Lamport")[0].snippet


def test_a_title_only_text_is_found_at_its_first_line(library):
    lib, folder, _ = library
    for q in ("paxos", "Paxos Made Simple", "paxos made"):
        top = lib.search(q)[0]
        assert (top.title, top.path, top.line_start) == ("Paxos Made Simple", str(folder / "papers" / "paxos.txt"), 0)
    top = lib.search("wavelet fusion revisited")[0]
    assert top.path == str(folder / "papers" / "wavelets.md")


def test_accented_surnames_are_found_as_written_and_without_accents(library):
    lib, _, _ = library
    for q in ("Müller 2011", "Muller 2011", "mueller2011wavelet"):
        assert lib.search(q)[0].key == "mueller2011wavelet", q


def test_queries_with_syntax_find_papers_without_passages(library):
    lib, folder, _ = library
    for q in ('"ordering of events"', "lamport AND 1978", "authors:lamport", '"paxos made simple"'):
        hits = lib.search(q)
        assert hits, q
        assert hits[0].title in (LAMPORT, "Paxos Made Simple"), q
    top = lib.search('"ordering of events"')[0]
    assert top.path == str(folder / "library.bib") and top.line_start == 0
    # a pasted title with a colon or a question mark is not Whoosh syntax
    from paperlens.core.index.whoosh.queries import has_syntax

    schema = lib.stores[0].ix().schema
    assert not has_syntax("BERT: Pre-training of Deep Bidirectional Transformers", schema)
    assert not has_syntax("Is Attention All You Need?", schema)
    assert has_syntax("title:attention", schema) and has_syntax('"attention is"', schema)
    assert has_syntax("te?t", schema)


def test_an_entry_merged_with_its_text_is_one_paper_under_the_entry_key(library):
    lib, folder, _ = library
    (text,) = [r for r in lib.rows() if r.alias_of]
    entry = lib.row(text.alias_of)
    for q in (entry.title, entry.key, f"{entry.surnames[0]} {entry.year}", text.key):
        hits = lib.search(q, limit=10, per_paper=3)
        mine = [h for h in hits if h.key == entry.key]
        assert mine, q
        assert all(h.path == str(folder / "papers" / "paper0.txt") for h in mine), q   # the text speaks
        assert all(h.paper_id == text.id for h in mine)
        assert all(h.key != text.key for h in hits)
    # through Whoosh too: the entry's record shows as the text's, once
    hits = lib.search(f'"{entry.title}"', limit=10, per_paper=3)
    mine = [h for h in hits if h.key == entry.key]
    assert mine and all(h.path == str(folder / "papers" / "paper0.txt") for h in mine)


def test_an_entry_added_later_is_found(library):
    lib, folder, _ = library
    bib = folder / "library.bib"
    bib.write_text(bib.read_text(encoding="utf-8") + "\n@misc{liskov1987abstraction, title={Data "
                   "Abstraction and Hierarchy}, author={Liskov, Barbara}, year={1987}}\n", encoding="utf-8")
    (folder / "papers" / "late.md").write_text("---\ntitle: Viewstamped Replication\nauthor: Brian Oki\n"
                                               "year: 1988\n---\n", encoding="utf-8")
    lib.update()
    for q in ("data abstraction hierarchy", "Liskov 1987", "liskov1987abstraction"):
        assert lib.search(q)[0].key == "liskov1987abstraction", q
    for q in ("viewstamped replication", "Oki 1988", "oki1988viewstamped"):
        assert lib.search(q)[0].key == "oki1988viewstamped", q


def test_cli_search_finds_a_bib_entry_without_abstract(tmp_path):
    folder = tmp_path / "D"
    folder.mkdir()
    (folder / "refs.bib").write_text(
        "% my thesis\n@inproceedings{lamport1978time, title={" + LAMPORT + "}, author={Lamport, Leslie}, "
        "year={1978}}\n", encoding="utf-8")
    (folder / "paxos.txt").write_text("Paxos Made Simple\n", encoding="utf-8")
    paxos = base_key(Paper(id="", key="", title="Paxos Made Simple"))      # generated
    for q, key, file, line in (("ordering of events", "lamport1978time", "refs.bib", 2),
                               ("Lamport", "lamport1978time", "refs.bib", 2),
                               ("lamport1978time", "lamport1978time", "refs.bib", 2),
                               ("Paxos", paxos, "paxos.txt", 1), (paxos, paxos, "paxos.txt", 1)):
        out = subprocess.run([sys.executable, "-m", "paperlens", "search", q, "--dir", str(folder),
                              "--index-path", str(tmp_path / "ix"), "--json"],
                             capture_output=True, text=True, timeout=120, check=True)
        results = json.loads(out.stdout)["results"]
        assert results, (q, out.stderr[-2000:])
        top = results[0]
        assert (top["key"], top["file"], top["line"], top["section"]) == (key, str(folder / file), line, "record")
