"""core/recommend.py does bounded work per completion in a large library (issue 16: p95 <= 15 ms at
10k papers): the titles' BM25 reads at most TITLE_POSTINGS postings (the most telling words
first), a short list is the head of the long one (only the rows that can make it are ranked), and
the words around a document's citations are read paragraph by paragraph (typing in a paragraph
reads that paragraph again, nothing else)."""
from __future__ import annotations

from itertools import groupby
from types import SimpleNamespace

from paperlens.core import recommend
from paperlens.core.lru import LRU


def rows(titles):
    return [SimpleNamespace(id=f"id{i}", key=f"k{i}", title=t, surnames=["Okafor"], year="2020", source="s",
                            file="") for i, t in enumerate(titles)]


def test_the_titles_are_scored_from_a_bounded_number_of_postings(monkeypatch):
    monkeypatch.setattr(recommend, "TITLE_POSTINGS", 40)
    # 1000 titles: "graph" and "vision" in 91 each (under a tenth: looked up), "kernels" in one
    titles = [f"Study of {'graph' if i % 11 == 0 else 'other'} {'vision' if i % 11 == 1 else 'things'}"
              for i in range(999)] + ["Large kernels for graph vision"]
    index = recommend.TitleIndex(rows(titles))
    assert 80 < index.postings("graph") < 100 and 80 < index.postings("vision") < 100
    query = {st: 1.0 for st, _ in recommend.terms("kernels graph vision")}
    assert len(index.score(query)) <= 40                  # (all of them: 183 rows)
    assert max(index.score(query), key=index.score(query).get) == 999    # the rarest word is read first
    monkeypatch.setattr(recommend, "TITLE_POSTINGS", 10_000)
    assert len(index.score(query)) == 183


WORDS = ["qz" + a + b for a in "bcdfk" for b in "bcdfghjk"]     # 40 words no stemming changes


def _library():
    # titles sharing words in many ways (ties, near ties; each word in about 20 of the 300), more
    # rows than a short list keeps
    titles = [" ".join(WORDS[(i * k + k) % len(WORDS)] for k in range(1, 2 + i % 5)) + " study"
              for i in range(300)]
    return rows(titles)


def _groups(ranked):
    """(score, keys) per run of equal scores: rows that tie may come in any order."""
    return [(round(score, 9), {s.row.key for s in run}) for score, run in groupby(ranked, key=lambda s: s.score)]


def test_a_short_list_is_the_head_of_the_long_one():
    library = _library()
    ctx = recommend.Context(sentence=" ".join(WORDS[:7]), paragraph=" ".join(WORDS[30:34]),
                            earlier={"k250": 800, "k17": 50}, nearby=("k3",), groups=(("k3", "k290"),),
                            excluded=frozenset({"k5"}))

    def search(query):
        return [SimpleNamespace(key="k299", paper_id="id299", score=3.0, text="Dense passages", page=2),
                SimpleNamespace(key="k120", paper_id="id120", score=1.0, text="Sparse ranking", page=None)]
    whole = recommend.rank(ctx, library, search=search, keep=len(library))
    assert len(whole) > 100 and "k5" not in {s.row.key for s in whole}
    for keep in (1, 5, 12, 40):
        short = recommend.rank(ctx, library, search=search, keep=keep)
        assert [s.score for s in short] == [s.score for s in whole[:keep]]
        head = _groups(whole[:keep])
        assert _groups(short)[:-1] == head[:-1]                   # (the last run may be cut elsewhere)
        assert _groups(short)[-1][1] <= {s.row.key for s in whole if round(s.score, 9) == head[-1][0]}
        assert [s.reason() for s in short if s.row.key in ("k299", "k17", "k290")] == \
            [s.reason() for s in whole[:keep] if s.row.key in ("k299", "k17", "k290")]


FILLER = "Words about nothing in particular fill this paragraph of the chapter. " * 40


def _chapter() -> str:
    paragraphs = []
    for n in range(12):
        paragraphs.append(f"{FILLER}Sparse retrieval with term weights number {n} \\cite{{k{n}}} is cited.")
    return "\n\n".join(paragraphs)


def test_typing_in_a_paragraph_reads_that_paragraph_only(monkeypatch):
    text = _chapter()
    at = text.index(r"\cite{k6}") - len(" is used here ")
    text = text[:at] + r" is used here \cite{}" + text[at:]
    cursor = at + len(r" is used here \cite{")
    read = []
    real = recommend._read_profiles
    monkeypatch.setattr(recommend, "_read_profiles", lambda window, *a, **k: read.append(window) or real(window, *a, **k))
    first = recommend.context(text, cursor, "latex")
    assert {"k0", "k5", "k7", "k11"} <= set(first.profiles)
    read.clear()
    typed = text[:cursor] + "x" + text[cursor:]       # a key typed in the citation
    again = recommend.context(typed, cursor + 1, "latex")
    paragraph = len(FILLER) + 200
    assert len(read) == 1 and len(read[0]) < paragraph      # the cursor's paragraph only
    assert again.profiles == first.profiles


def test_the_profiles_read_by_paragraph_are_the_whole_documents():
    text = _chapter() + "\n\nMore dense passages \\cite{k3,k4} again and \\cite{k9}.\n\nThe end."
    cursor = text.index(r"\cite{k9}") + len(r"\cite{")
    ctx = recommend.context(text, cursor, "latex")
    whole = recommend._read_profiles(text, "latex", None, (ctx.span[0], ctx.span[1]))
    assert ctx.profiles == {k: v for k, v in whole.items() if k not in ctx.excluded}
    assert ctx.excluded == {"k9"} and ctx.profiles["k3"]["dense"] == 1 and ctx.profiles["k3"]["sparse"] == 1


def test_the_papers_the_citation_graph_links_to_a_nearby_one_rank_first_for_each_graph():
    library = rows([f"Unrelated title number {w}" for w in WORDS[:10]])
    ctx = recommend.Context(sentence="nothing in common", paragraph="", nearby=("k1",))
    # k1 cites k4; k7 cites k1 and k9: k4 (1), then k7 and k9 (0.5 each)
    graph = SimpleNamespace(cites={"id1": {"id4": 1}, "id7": {"id1": 1, "id9": 1}}, cited_by={"id1": ["id7"]})
    ranked = recommend.rank(ctx, library, graph=graph)
    assert [s.row.key for s in ranked] == ["k4", "k7", "k9"]
    assert ranked[0].score == 2 * ranked[1].score == 2 * ranked[2].score
    # the library changed: its new graph is walked (not the links kept for the last one)
    changed = SimpleNamespace(cites={"id1": {"id2": 1}}, cited_by={})
    assert [s.row.key for s in recommend.rank(ctx, library, graph=changed)] == ["k2"]


def test_the_paragraphs_kept_are_bounded_in_number_and_characters(monkeypatch):
    kept = LRU(4096, 10 * len(FILLER))
    monkeypatch.setattr(recommend, "_parts", kept)
    for n in range(30):
        recommend._part_profiles((f"{FILLER} paragraph {n} \\cite{{k{n}}}.", len(FILLER) + 30), "latex", None)
    assert len(kept) <= 10
    assert kept.size == sum(len(key[2][0]) for key in kept) <= 10 * len(FILLER)
    kept.most = 3
    recommend._part_profiles(("Short \\cite{k99}.", 17), "latex", None)
    assert len(kept) == 3 and set(kept.peek(list(kept)[-1])) == {"k99"}
