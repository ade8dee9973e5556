"""lsp/status.py: the index status is pushed coalesced (at most one notification per interval,
one flag test per change while one is due), only when it changed, never after shutdown; and the
session says when it may have changed."""
from __future__ import annotations

import asyncio
import threading

import pytest

from paperlens.lsp import status as status_module
from paperlens.lsp.session import Session
from paperlens.lsp.status import METHOD, MIN_INTERVAL, StatusPublisher

HANG_GUARD = 120.0     # only so that a broken session fails instead of hanging the run


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class Loop:
    """The event loop's calls, run when the test says."""

    def __init__(self) -> None:
        self.soon: list = []
        self.later: list = []
        self.lock = threading.Lock()

    def call_soon_threadsafe(self, fn, *args):
        with self.lock:
            self.soon.append((fn, args))

    def call_later(self, delay, fn, *args):
        self.later.append((delay, fn, args))

    def run_soon(self) -> None:
        while self.soon:
            fn, args = self.soon.pop(0)
            fn(*args)

    def run_later(self) -> None:
        later, self.later = self.later, []
        for _delay, fn, args in later:
            fn(*args)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(status_module, "time", c)
    return c


def publisher(state: dict):
    sent: list = []
    pub = StatusPublisher(lambda: dict(state), lambda method, params: sent.append((method, params)))
    pub.loop = Loop()
    return pub, sent


def test_many_changes_while_one_is_due_make_one_notification_with_the_latest_status(clock):
    state = {"papers": 0}
    pub, sent = publisher(state)

    def change_many() -> None:
        for n in range(500):
            state["papers"] = n
            pub.changed()

    threads = [threading.Thread(target=change_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(pub.loop.soon) == 1            # one wake-up of the event loop, not 2000
    state["papers"] = 2000
    pub.loop.run_soon()
    assert sent == [(METHOD, {"papers": 2000})]


def test_a_change_soon_after_a_notification_waits_for_the_interval(clock):
    state = {"indexing": True}
    pub, sent = publisher(state)
    pub.changed()
    pub.loop.run_soon()
    clock.now += MIN_INTERVAL / 10
    state["indexing"] = False
    pub.changed()
    pub.loop.run_soon()
    assert sent == [(METHOD, {"indexing": True})]
    ((delay, _fn, _args),) = pub.loop.later
    assert delay == pytest.approx(MIN_INTERVAL * 0.9)
    clock.now += delay
    pub.loop.run_later()
    assert sent[1:] == [(METHOD, {"indexing": False})]
    clock.now += MIN_INTERVAL * 2            # a change long after is sent at once
    state["indexing"] = True
    pub.changed()
    pub.loop.run_soon()
    assert pub.loop.later == [] and sent[2:] == [(METHOD, {"indexing": True})]


def test_an_unchanged_status_is_not_sent_again(clock):
    pub, sent = publisher({"papers": 3})
    for _ in range(3):
        pub.changed()
        pub.loop.run_soon()
        clock.now += MIN_INTERVAL
    assert sent == [(METHOD, {"papers": 3})]


def test_nothing_is_sent_before_serving_or_after_shutdown(clock):
    state = {"papers": 1}
    pub, sent = publisher(state)
    pub.loop = None
    pub.changed()
    pub.loop = Loop()
    pub.changed()
    pub.close()
    pub.loop.run_soon()
    state["papers"] = 2
    pub.changed()
    pub.loop.run_soon()
    assert sent == []


async def test_the_session_says_when_an_update_starts_and_ends_and_settings_change(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.bib").write_text("@article{a2020, title={A Paper About Numbats}, year={2020}}\n",
                                  encoding="utf-8")
    session = Session()
    seen: list[tuple] = []
    session.on_status_changed = lambda: seen.append((session.indexing, session.counts().papers))
    session.loop = asyncio.get_running_loop()
    done = asyncio.Event()
    session.on_indexed = lambda reports: done.set()
    try:
        await session.configure_async({"paperFolders": [str(folder)], "indexPath": str(tmp_path / "ix"),
                                       "indexWorkers": 1}, [str(folder)])
        assert seen == [(True, 0)]           # new folders: not indexed yet
        session.schedule_index()
        await asyncio.wait_for(done.wait(), HANG_GUARD)
        assert seen[1] == (True, 0) and seen[-1] == (False, 1)
    finally:
        session.shutdown()
