"""A graph's computation pauses the cyclic garbage collector (it makes no cycles, and the
collector traversed its containers again and again) and leaves it as it found it: on again after
a build, after an update, and after a build that fails; off when it was off."""
from __future__ import annotations

import contextlib
import gc

import pytest

import paperlens.core.graph as graph_mod
from paperlens.core.collector import gc_paused
from paperlens.core.graph import build, update

from test_graph_evidence import BIB, CITING, library_of


@pytest.fixture
def library(tmp_path):
    lib = library_of(tmp_path, BIB, CITING)
    yield lib
    lib.close()


@pytest.fixture(autouse=True)
def collector_back():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_is_off_while_a_graph_is_computed_and_on_again_after(library, monkeypatch):
    gc.enable()
    seen = []
    real = graph_mod._Matching.matches_columns

    def spy(self, *args):
        seen.append(gc.isenabled())
        return real(self, *args)

    monkeypatch.setattr(graph_mod._Matching, "matches_columns", spy)
    g = build(library)
    assert g.cites and seen and not any(seen)
    assert gc.isenabled()
    update(library, g)
    assert gc.isenabled()


def test_a_failed_build_turns_the_collector_on_again(library, monkeypatch):
    gc.enable()

    def broken(self, *args):
        raise RuntimeError("broken")

    monkeypatch.setattr(graph_mod._Matching, "matches_columns", broken)
    monkeypatch.setattr(graph_mod._Matching, "matches", broken)
    with pytest.raises(RuntimeError):
        build(library)
    assert gc.isenabled()


def test_a_collector_found_off_stays_off(library):
    gc.disable()
    assert build(library).cites
    assert not gc.isenabled()


def test_a_pause_begun_during_a_build_keeps_the_collector_off_until_it_ends(library, monkeypatch):
    """Another pause (the indexing's, on another thread) that begins while a graph is computed
    and ends after it: the collector stays off until that pause ends too (the graph's pause
    is the same counted one, not an enable of its own at its end)."""
    gc.enable()
    other = contextlib.ExitStack()
    real = graph_mod._Matching.matches_columns

    def spy(self, *args):
        if not other._exit_callbacks:
            other.enter_context(gc_paused())
        return real(self, *args)

    monkeypatch.setattr(graph_mod._Matching, "matches_columns", spy)
    try:
        assert build(library).cites
        assert not gc.isenabled()
    finally:
        other.close()
    assert gc.isenabled()
