"""Library.complete over several folders: each folder's table lists its matches best first, then
newest, then by key; the library merges those lists into the same order as sorting all their
rows together (ties to the first folder's row), for every query and limit."""
from __future__ import annotations

import random

from paperlens.core.index.table import year_int
from paperlens.core.library import Library

WORDS = ["attention", "graph", "sparse", "neural", "zhang", "zhou", "learning", "deep", "vision", "model"]
SURNAMES = ["Zhang", "Zhou", "Li", "Vaswani", "He", "Smith", "Zhao"]


def bib(rng: random.Random, prefix: str, n: int) -> str:
    out = []
    for i in range(n):
        title = " ".join(rng.sample(WORDS, 3)).title()
        author = rng.choice(SURNAMES)
        year = rng.choice(["2016", "2017", "2018", "2020", "", "n.d."])
        key = f"{author.lower()}{year or 'x'}{prefix}{i}"
        out.append(f"@article{{{key},\n  title = {{{title}}},\n  author = {{{author}, Ann}},\n"
                   + (f"  year = {{{year}}},\n" if year else "") + "}\n")
    return "\n".join(out)


def expected(lib: Library, query: str, limit: int) -> tuple[list, int]:
    scored, total = [], 0
    for s in lib.stores:
        rows, n = s.table.complete(query, limit)
        scored.extend(rows)
        total += n
    scored.sort(key=lambda sr: (-sr[0], -(year_int(sr[1].year) or 0), sr[1].key))
    return [r for _, r in scored[:limit]], total


def test_the_folders_matches_are_merged_in_one_order(tmp_path):
    rng = random.Random(7)
    folders = []
    for name in ("a", "b", "c"):
        f = tmp_path / name
        f.mkdir()
        (f / "refs.bib").write_text(bib(rng, name, 40), encoding="utf-8")
        folders.append(f)
    lib = Library(folders, str(tmp_path / "ix"), workers=1)
    try:
        lib.update()
        lib.build_tables()
        assert all(len(s.table.rows) == 40 for s in lib.stores)
        for query in ["", "zh", "zhang", "attention", "graph 2017", "z", "zhou2018", "nothing-here"]:
            for limit in (1, 5, 50, 200):
                got = lib.complete(query, limit)
                assert got == expected(lib, query, limit), (query, limit)
        assert len(lib.complete("", 200)[0]) == 120
        assert lib.complete("zh", 5)[0]                   # (a query that matches something)
    finally:
        lib.close()
