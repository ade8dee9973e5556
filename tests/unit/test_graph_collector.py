"""A graph's computation pauses the cyclic garbage collector (it makes no cycles, and the
collector traversed its containers again and again) and leaves it as it found it: on again after
a build, after an update, and after a build that fails; off when it was off."""
from __future__ import annotations

import gc

import pytest

import paperlens.core.graph as graph_mod
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
