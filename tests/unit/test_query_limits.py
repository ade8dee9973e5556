"""What one search may cost (attack finding 10, issue 13: nothing heavy on the event loop).

A 20,000-term OR query held the event loop 11-14 s, 100k plain words 3-4.5 s; 5,000 nested
parentheses raised RecursionError inside Whoosh's parser (a traceback per search); a query
with syntax was scored by Whoosh posting by posting ("model OR learning" 9 s, a 32-word AND
query 7 s at 10k papers); a pattern (``a*``, ``word~9``) brought in every matching word of
the index. Work is counted here (words handed on, postings scored, words brought in), never
timed. Also: the index's files deleted or truncated under a running reader.
"""
from __future__ import annotations

import logging
import random
import subprocess
import sys
import textwrap

import pytest

from paperlens.core.index import search as search_mod
from paperlens.core.index.search import limit_query, search
from paperlens.core.index.whoosh import fast, queries
from paperlens.core.index.whoosh.store import IndexStore

FILLER = ("data results method approach training evaluation benchmark network layer feature "
          "signal image video scene object robot sensor camera depth point cloud model").split()


def _paper(i: int, rnd: random.Random) -> str:
    title = ("Quokka " if i % 6 == 0 else "") + f"Study {i} of " + " ".join(rnd.sample(FILLER, 3))
    paras = []
    for p in range(3):
        words = [rnd.choice(FILLER) for _ in range(rnd.randint(30, 60))]
        if i < 8 and p != 1:
            words.insert(rnd.randrange(len(words)), "quokka")
        if 4 <= i < 12 and p != 0:
            words.insert(rnd.randrange(len(words)), "numbat")
        if i % 5 == 0:
            words[5:5] = ["passage", "ranking"]
        words.insert(rnd.randrange(len(words)), f"zeta{i:02d}")
        paras.append(f"{p + 1}. Section {p + 1}\n" + " ".join(words) + ".")
    return (f"{title}\nAda Writer{i}, Bruno Keller\nAbstract\nWe study things number {i} with care.\n\n"
            + "\n\n".join(paras) + "\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("querylimits")
    folder = tmp / "lib"
    folder.mkdir()
    rnd = random.Random(5)
    for i in range(24):
        (folder / f"p{i:02d}.txt").write_text(_paper(i, rnd), encoding="utf-8")
    store = IndexStore(folder, tmp / "ix", workers=1)
    assert store.update().papers_total == 24
    store.close()
    return folder, tmp / "ix"


@pytest.fixture
def store(built):
    s = IndexStore(*built, workers=1)
    yield s
    s.close()


def _titles(hits) -> set[str]:
    return {h.title for h in hits}


# -- the query's text ---------------------------------------------------------------------------------

def _depth(q: str) -> int:
    depth = most = 0
    for ch in q:
        depth += ch == "("
        most = max(most, depth)
        depth -= ch == ")" and depth > 0
    return most


def test_limit_query():
    assert limit_query("  graph attention networks ") == ("graph attention networks", [])
    assert limit_query("(a OR (b AND c)) d") == ("(a OR (b AND c)) d", [])
    q, notes = limit_query(" OR ".join(f"w{i}" for i in range(20000)))
    assert len(q.split()) <= search_mod.MAX_QUERY_TERMS and len(q) <= search_mod.MAX_QUERY_CHARS
    assert q.startswith("w0 OR w1 OR") and notes[0].startswith("the query was cut to its first")
    q, notes = limit_query(" ".join(f"word{i}" for i in range(100000)))
    assert q.split() == [f"word{i}" for i in range(len(q.split()))] and len(q.split()) <= 64
    q, notes = limit_query("(" * 5000 + "attention" + ")" * 5000)
    assert q == "(" * 8 + "attention" + ")" * 8
    assert notes == ["parentheses nested deeper than 8 levels were ignored"]
    q, notes = limit_query("((((((((((a) b) c) d) e) f) g) h) i) j) k")
    assert q == "((((((((a b c) d) e) f) g) h) i) j) k"          # the innermost groups go
    q, _ = limit_query("(" * 5000)
    assert q == "(" * 8


def test_huge_queries_reach_the_search_cut(store, monkeypatch):
    """Every query string the search looks at is within the limits (20k OR terms, 100k plain
    words, 20k AND terms): counted at has_syntax, where both paths start."""
    seen: list[str] = []
    real = queries.has_syntax

    def spy(query, schema):
        seen.append(query)
        return real(query, schema)

    monkeypatch.setattr(queries, "has_syntax", spy)
    for joiner in (" OR ", " ", " AND "):
        seen.clear()
        query = joiner.join(["quokka"] + [f"w{i}" for i in range(20000)])
        hits = search([store], query, limit=5)
        assert seen and all(len(q.split()) <= 64 and len(q) <= 1000 for q in seen), joiner
        assert hits.note.startswith("the query was cut to its first 1000 characters"), joiner
    # the OR query: plain words, ranked by fast.py (its first word is found)
    hits = search([store], " OR ".join(["quokka"] + [f"w{i}" for i in range(20000)]), limit=5)
    assert hits and all("Study" in h.title for h in hits)
    assert len(fast.query_words(store.searcher().schema, [f"word{i}" for i in range(500)])) == 64


def test_nested_parentheses_are_searched_quietly(store, caplog):
    with caplog.at_level(logging.INFO, logger="paperlens"):
        hits = search([store], "(" * 5000 + "quokka" + ")" * 5000)
        none = search([store], "(" * 5000)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert hits and {h.title for h in hits} <= {h.title for h in search([store], "quokka")}
    assert "parentheses nested deeper than 8 levels were ignored" in hits.note
    assert list(none) == []


# -- queries with syntax: bounded work ----------------------------------------------------------------

def _count_collects(monkeypatch) -> list[int]:
    from whoosh import collectors

    count = [0]
    real = collectors.ScoredCollector.collect

    def collect(self, sub_docnum):
        count[0] += 1
        return real(self, sub_docnum)

    monkeypatch.setattr(collectors.ScoredCollector, "collect", collect)
    return count


def test_common_words_are_not_scored_posting_by_posting(store, monkeypatch):
    """Whoosh scored every passage with "model" or "data" in Python: at 10k papers 185k of them.
    Over EXACT_POSTINGS postings, the query is checked on bounded candidates instead."""
    collects = _count_collects(monkeypatch)
    monkeypatch.setattr(queries, "EXACT_POSTINGS", 40, raising=False)
    hits = search([store], "model AND data", limit=10)
    assert collects[0] == 0
    assert len(hits) == 10 and hits.note.startswith("the query's words are in more than 40 passages")
    # rare words: scored by Whoosh, every match, as before
    hits = search([store], "zeta03 AND NOT zeta04", limit=10)
    assert collects[0] > 0 and hits.note == ""
    assert {h.title for h in hits} == {h.title for h in search([store], "zeta03")}


# (under the parser's OR grouping, "a NOT b" is "a OR NOT b": every document without b)
QUERIES = ["quokka AND numbat", "quokka AND NOT numbat", "numbat AND NOT (quokka OR zeta05)", '"passage ranking"',
           "quokka OR (numbat AND zeta09)", "quok*", "numbat~1", "title:quokka", "authors:keller AND quokka",
           "zeta1?", "model AND NOT quokka AND zeta0*"]


@pytest.mark.parametrize("query", QUERIES)
def test_the_candidates_find_the_papers_whoosh_finds(store, monkeypatch, query):
    """In a library where every list fits in fast.py's bounds, checking the query on the
    candidates finds the papers Whoosh finds (their passages or records)."""
    with store.reading() as reading:       # held for the test (the store is not updated meanwhile)
        pass
    searcher, schema = reading.searcher, reading.schema

    def papers(exact: int) -> set[str]:
        monkeypatch.setattr(queries, "EXACT_POSTINGS", exact)
        out = set()
        for q in queries._queries(schema, query, searcher.reader(), set()):
            out |= {searcher.stored_fields(d)["paper_id"]
                    for _, d in queries._whoosh_search(reading, q, 10000, set()).top_n}
        return out

    whoosh, candidates = papers(10 ** 9), papers(-1)
    assert whoosh and candidates == whoosh


def test_patterns_bring_in_a_bounded_number_of_words(store, monkeypatch):
    from whoosh.query import Term

    monkeypatch.setattr(queries, "MAX_EXPANSION", 2, raising=False)
    monkeypatch.setattr(queries, "MAX_EXPANDED", 5, raising=False)
    terms: list[tuple[str, str]] = []
    real = Term.matcher

    def matcher(self, searcher, context=None):
        terms.append((self.fieldname, self.text))
        return real(self, searcher, context)

    monkeypatch.setattr(Term, "matcher", matcher)
    hits = search([store], "zeta*", limit=50)
    zetas = {t for f, t in terms}
    assert 0 < len(zetas) <= 5 and len(terms) <= 5     # 24 words in the index, each in two fields
    assert hits and "a pattern brought in at most 2 words of the index" in hits.note


def test_a_fuzzy_word_reaches_two_edits(store):
    """The parser here makes no fuzzy words (``~`` is dropped), but a FuzzyTerm of nine edits
    without a fixed prefix would match nearly every word of the index: at most two."""
    from whoosh.query import FuzzyTerm, Or

    notes: set[str] = set()
    reader = store.searcher().reader()
    q = queries._bounded(FuzzyTerm("body", "quokka", maxdist=9, prefixlength=0), reader,
                         {"left": queries.MAX_EXPANDED, "notes": notes})
    assert isinstance(q, Or) and {t.text for t in q.subqueries} == {"quokka"}
    assert notes == {"a fuzzy word reaches at most 2 edits"}
    assert search([store], "quokka~9").note == ""          # no fuzzy syntax: the word itself


def test_a_lone_not_or_star_names_nothing_to_look_for(store):
    for query in ("NOT quokka", "*", "body:*"):
        hits = search([store], query)
        assert list(hits) == [] and hits.note == "the query names no word to look for"


# -- the index's files under a running reader ------------------------------------------------------------

def test_deleted_index_files_keep_answering_then_rebuild(built, tmp_path, caplog):
    import shutil

    folder = tmp_path / "lib"
    shutil.copytree(built[0], folder)
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    store.update()
    expected = [(h.title, h.line_start) for h in search([store], "quokka AND numbat")]
    assert expected
    for f in store.whoosh_dir.iterdir():
        f.unlink()
    with caplog.at_level(logging.INFO, logger="paperlens"):
        # the searcher already open answers from the files it holds
        assert [(h.title, h.line_start) for h in search([store], "quokka AND numbat")] == expected
        assert [(h.title, h.line_start) for h in search([store], "quokka AND numbat")] == expected
        assert store.paper(store.table.rows[0].id) is not None
        fresh = IndexStore(folder, tmp_path / "ix", workers=1)      # a new process: nothing to read
        assert list(search([fresh], "quokka")) == [] and fresh.paper(store.table.rows[0].id) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert len(warnings) == 1 and "cannot be opened" in warnings[0] and "rebuilt by the next update" in warnings[0]
    assert store.update().rebuilt == "index files missing"
    assert [(h.title, h.line_start) for h in search([store], "quokka AND numbat")] == expected
    fresh.close()
    store.close()


SIDE_SCRIPT = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from paperlens.core.index.search import search
    from paperlens.core.index.whoosh import fast
    from paperlens.core.index.whoosh.store import IndexStore
    store = IndexStore(Path(sys.argv[1]), Path(sys.argv[2]), workers=1)
    before = [(h.title, h.line_start) for h in search([store], "model data")]
    (side,) = store.side_dir.glob("*" + fast.SUFFIX)
    if sys.argv[3] == "truncate":
        os.truncate(side, 64)                 # under the open reader
    else:
        side.write_bytes(side.read_bytes()[:12] + b"[" * 100000)
    store.close() if sys.argv[3] == "header" else None     # read again from the file
    after = [(h.title, h.line_start) for h in search([store], "model data")]
    print("same" if after == before and before else f"differ {before} {after}")
    print("side file", "kept" if side.exists() else "removed")
    report = store.update()
    print("rewritten" if side.exists() or list(store.side_dir.glob("*" + fast.SUFFIX)) else "missing")
""")


@pytest.mark.parametrize("damage", ["truncate", "header"])
def test_a_damaged_side_file_is_searched_without_and_written_again(tmp_path, damage):
    """A side file truncated under a running reader stopped the process with SIGBUS (it was
    memory-mapped); a damaged header was ignored for good. Run in a child process, which a
    SIGBUS would kill (not pytest)."""
    folder = tmp_path / "lib"
    folder.mkdir()
    rnd = random.Random(5)
    for i in range(24):
        (folder / f"p{i:02d}.txt").write_text(_paper(i, rnd), encoding="utf-8")
    env = {**__import__("os").environ, "PAPERLENS_SEARCH_TOPK": "4"}
    build = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                            "from paperlens.core.index.whoosh.store import IndexStore; "
                            "IndexStore(Path(sys.argv[1]), Path(sys.argv[2]), workers=1).update()",
                            str(folder), str(tmp_path / "ix")], env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    sides = tmp_path / "ix" / "topk"
    assert len(list(sides.glob("*" + fast.SUFFIX))) == 1
    run = subprocess.run([sys.executable, "-c", SIDE_SCRIPT, str(folder), str(tmp_path / "ix"), damage],
                         env=env, capture_output=True, text=True)
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    assert run.stdout.split("\n")[:3] == ["same", "side file removed", "rewritten"], run.stdout + run.stderr[-2000:]
    assert "search side file" in run.stderr and "Traceback" not in run.stderr
