"""Completion by context never waits for the full-text search in a large library: the
sentence's passages are searched on a background thread and used from the next request on.
(At 10k papers the first search of a sentence's words read their postings for seconds: the
10k bench's first completion took 6.15 s.)"""
from __future__ import annotations

import threading

from paperlens.core.features import completion


class _View:
    def __init__(self):
        self.calls = []

    def search(self, query, limit, per_paper=1):
        self.calls.append((query, threading.current_thread().name))
        return [f"hit for {query}"]


def _drain(searches):
    searches._executor.submit(lambda: None).result()     # one thread: everything before it ran


def test_a_sentence_is_searched_in_the_background_and_its_hits_used_next_time():
    searches = completion._Searches()
    view = _View()
    assert searches.get(view, "large kernels") == []           # not waited for
    _drain(searches)
    assert view.calls == [("large kernels", view.calls[0][1])]
    assert view.calls[0][1].startswith("paperlens-cite-search")
    assert searches.get(view, "large kernels") == ["hit for large kernels"]
    assert len(view.calls) == 1                                 # found once, then reused


def test_a_search_asked_twice_before_it_ends_runs_once():
    searches = completion._Searches()
    view = _View()
    gate = threading.Event()
    searches.get(view, "warm")
    _drain(searches)
    searches._executor.submit(gate.wait)                        # the thread is busy
    assert searches.get(view, "new words") == []
    assert searches.get(view, "new words") == []
    gate.set()
    _drain(searches)
    assert [q for q, _ in view.calls] == ["warm", "new words"]


def test_only_the_last_searches_are_kept():
    searches = completion._Searches()
    view = _View()
    for n in range(completion._Searches.KEPT + 5):
        searches.get(view, f"q{n}")
    _drain(searches)
    assert len(searches._done) == completion._Searches.KEPT
    assert "q0" not in {query for _state, query in searches._done}
