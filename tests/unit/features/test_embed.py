"""core/embed.py: completion's optional word embeddings (``pip install paperlens[embed]``, issue 16).
The model is read from inside the wordllama wheel (never downloaded), loaded and the titles
embedded on background threads (a completion never waits for them), nothing of it is imported
before it is needed, and completion ranks without it when it is off, missing or broken."""
from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from paperlens.core import embed, recommend
from paperlens.core.features import completion
from paperlens.core.features.document import make_snapshot

needs_model = pytest.mark.skipif(not embed.installed(), reason="paperlens[embed] is not installed")

TITLES = ["Self-driving cars on motorways", "Protein structure prediction with deep learning",
          "A history of medieval trade routes", "Sparse retrieval with inverted indexes",
          "Bird migration and magnetic fields", "Quantum error correction codes",
          "Graph neural networks for molecules", "Monetary policy and inflation"]


def rows(titles=TITLES):
    return [SimpleNamespace(id=f"id{i}", key=f"k{i}", title=t, surnames=["Okafor"], year="2020", source="s",
                            file="", fulltext="", alias_of="") for i, t in enumerate(titles)]


def test_nothing_of_the_model_is_imported_with_completion():
    code = ("import sys, paperlens.core.features.completion, paperlens.core.features.cite_here, "
            "paperlens.config; "
            "print([m for m in ('numpy', 'tokenizers', 'wordllama') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@needs_model
def test_the_model_is_read_from_the_wheel_without_the_network():
    # every connection refused; wordllama's own package (its __init__ sets up the root logger)
    # is not imported, only its files read
    code = """
import logging, socket, sys
def refuse(*a, **k):
    raise OSError("no network in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
from paperlens.core import embed
m = embed.model(wait=True)
v = m.embed(["autonomous vehicles", ""])
print(v.shape, round(float((v[0] ** 2).sum()), 3), float(abs(v[1]).sum()),
      "wordllama" in sys.modules, logging.getLogger().handlers)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == f"({2}, {embed.DIM}) 1.0 0.0 False []"


@needs_model
def test_titles_that_share_no_word_with_the_sentence_are_found():
    library = rows()
    vectors = embed.title_vectors(library, wait=True)
    assert vectors is embed.title_vectors(library)                  # kept for the same rows
    for sentence, title in [("autonomous vehicles navigating highways", "Self-driving cars on motorways"),
                            ("how central banks control rising prices", "Monetary policy and inflation"),
                            ("qubits need fault tolerance", "Quantum error correction codes")]:
        ctx = recommend.Context(sentence=sentence, paragraph="")
        assert recommend.rank(ctx, library) == []                      # no word in common
        ranked = recommend.rank(ctx, library, vectors=vectors)
        assert ranked[0].row.title == title, sentence


@needs_model
def test_the_titles_are_kept_compact():
    library = rows(TITLES * 3)                  # (an entry and its PDF share a title)
    vectors = embed.title_vectors(library, wait=True)
    assert vectors.codes.shape == (len(TITLES), embed.DIM) and vectors.codes.dtype.name == "int8"
    assert vectors.nbytes < vectors.codes.nbytes + 4 * embed.DIM + 16 * len(library) + 64   # (scales, rows)
    at = {n for n, _ in vectors.scores("protein folding", "", "", [], [], top=1)}
    assert at == {1, 9, 17}                      # the three rows of the title


@needs_model
def test_papers_like_those_cited_nearby_rank_higher():
    library = rows()
    vectors = embed.title_vectors(library, wait=True)
    found = vectors.scores("", "", "", nearby=[6], earlier=[], top=2)    # near graph neural networks
    assert [n for n, _ in found][:2] == [6, 1]       # itself (dropped by rank), then proteins


@needs_model
def test_completion_never_waits_for_the_model_and_uses_it_once_made(tmp_path):
    library = rows()
    view = _View(library)
    text = "Autonomous vehicles navigating highways were studied \\cite{"
    doc = make_snapshot((tmp_path / "d.tex").as_uri(), text, "latex", tmp_path / "d.tex")
    completion._kept.clear()
    embed._titles = None                       # (another test's rows are not these)
    first = completion.complete(doc, len(text), view, 5, embeddings=True)
    assert first is not None                   # answered, whatever the background threads do
    embed.idle()
    ranked = completion.complete(doc, len(text), view, 5, embeddings=True)
    assert ranked.items[0].key == "k0" and ranked.items[0].why == "title close in meaning"
    lexical = completion.complete(doc, len(text), view, 5, embeddings=False)
    assert all(i.why == "" for i in lexical.items)        # no word in common: nothing ranked


def test_without_the_model_completion_ranks_as_before(tmp_path, monkeypatch):
    monkeypatch.setattr(embed, "_failed", False)
    monkeypatch.setattr(embed, "_model", None)
    monkeypatch.setattr(embed, "_loading", None)
    monkeypatch.setattr(embed, "_titles", None)

    def missing():
        raise FileNotFoundError("wordllama is not installed (pip install paperlens[embed])")
    monkeypatch.setattr(embed, "_files", missing)
    library = rows()
    assert embed.model(wait=True) is None and not embed.available()
    assert embed.title_vectors(library, wait=True) is None
    view = _View(library)
    text = "Sparse retrieval needs inverted indexes \\cite{"
    doc = make_snapshot((tmp_path / "d.tex").as_uri(), text, "latex", tmp_path / "d.tex")
    completion._kept.clear()
    got = completion.complete(doc, len(text), view, 5, embeddings=True)
    assert got.items[0].key == "k3"


class _View:
    """The little of a library view completion reads."""

    def __init__(self, library):
        self._rows = library
        self.state = object()

    def rows(self):
        return self._rows

    def complete(self, prefix, limit):
        hits = [r for r in self._rows if r.key.startswith(prefix)]
        return hits[:limit], len(hits)

    def search(self, query, limit, per_paper=1):
        return []

    def graph(self, wait=False):
        return None

    def row_for_file(self, path):
        return None
