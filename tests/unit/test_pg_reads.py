"""Reads of the index on PostgreSQL while other things happen (issue 19), against a real
PostgreSQL 15 (tests/fixtures/postgres.py): two reloads at once, a server that stops answering."""
import threading

from paperlens.core.index import search as search_mod
from paperlens.core.index.postgres import store
from paperlens.core.index.postgres.store import PostgresIndex

pytest_plugins = ["fixtures.postgres"]     # pg_server, pg_url, pg_gate


def paper(folder, name: str, title: str) -> None:
    (folder / f"{name}.txt").write_text(f"{title}\nAda {name.capitalize()}mann\nAbstract\nWe study {title.lower()}.\n",
                                        encoding="utf-8")


def titles(index) -> set[str]:
    return {r.title for r in index.table.rows}


class _Announcing:
    """A lock that says when the thread named ``who`` is about to take it."""

    def __init__(self, lock, who: str, said: threading.Event):
        self.lock, self.who, self.said = lock, who, said

    def _say(self) -> None:
        if threading.current_thread().name == self.who:
            self.said.set()

    def acquire(self, *args, **kwargs):
        self._say()
        return self.lock.acquire(*args, **kwargs)

    def release(self):
        self.lock.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


def test_two_reloads_at_once_never_put_back_the_older_table(tmp_path, pg_url, monkeypatch):
    """The server's poller and a request reload at the same time: the one that read the older
    generation must not put its table in place after the other put the newer one (the NOTIFY
    of the newer one is consumed: nothing would reload it again)."""
    folder = tmp_path / "lib"
    folder.mkdir()
    paper(folder, "a", "Alpha Networks")
    writer = PostgresIndex(folder, pg_url, workers=1)
    assert writer.update().error == ""
    reader = PostgresIndex(folder, pg_url, workers=1)           # listens for the writer's NOTIFY
    assert titles(reader) == {"Alpha Networks"}

    paused, go = threading.Event(), threading.Event()
    real = store.PaperTable

    class Table(real):           # the first reload stops after reading, before its table is in place
        def __init__(self, rows=()):
            if threading.current_thread().name == "first":
                paused.set()
                go.wait()
            super().__init__(rows)

    monkeypatch.setattr(store, "PaperTable", Table)

    def reload_until_changed():
        while not reader.reload_if_changed():     # until the NOTIFY has arrived
            pass

    paper(folder, "b", "Beta Graphs")
    assert writer.update().papers_indexed == 1                  # change 1
    first = threading.Thread(target=reload_until_changed, name="first")
    first.start()
    paused.wait()                                               # it read change 1's rows
    paper(folder, "c", "Gamma Fields")
    assert writer.update().papers_indexed == 1                  # change 2
    ready = threading.Event()        # the second reload is done, or about to wait for the first
    lock = getattr(reader, "_reload_lock", None)
    if lock is not None:
        reader._reload_lock = _Announcing(lock, "second", ready)
    second = threading.Thread(target=lambda: (reload_until_changed(), ready.set()), name="second")
    second.start()
    ready.wait()
    go.set()
    first.join()
    second.join()
    assert titles(reader) == {"Alpha Networks", "Beta Graphs", "Gamma Fields"}
    assert not reader.reload_if_changed()
    reader.close()
    writer.close()


def test_a_search_answers_at_once_while_the_server_does_not_answer(tmp_path, pg_url, pg_server, pg_gate,
                                                                   monkeypatch):
    """The server stops answering (its connections dropped, new ones accepted and never
    answered): searches say at once that the library cannot be reached, while the reconnect
    waits in the background; once the server answers again, the index reconnects by itself.
    (The gate lets a waiting connection go after 30 s only so that a search still waiting
    for the server fails this test instead of hanging it.)"""
    folder = tmp_path / "lib"
    folder.mkdir()
    paper(folder, "a", "Attention Networks")
    index = PostgresIndex(folder, pg_gate.url(pg_url, pg_server), workers=1)
    assert index.update().error == ""
    assert {h.title for h in search_mod.search([index], "attention")} == {"Attention Networks"}
    monkeypatch.setattr(store, "CONNECT_TIMEOUT", 3600)    # a connect waits for the server that long
    pg_gate.guard = 30     # ... or until the gate lets it go (three such waits stay within pytest's timeout)
    pg_gate.cut()
    # the first read finds the connection gone
    assert list(search_mod.search([index], "attention")) == []
    assert index.unavailable.startswith("lost the library's database at postgresql://paperlens@127.0.0.1")
    # the next reads do not wait for a connection to the silent server
    assert list(search_mod.search([index], "attention")) == []
    assert index.paper(index.table.rows[0].id) is None and index.passages(index.table.rows[0].id) == []
    assert pg_gate.released_by_guard == 0
    assert index.unavailable.startswith("lost the library's database")
    assert titles(index) == {"Attention Networks"}              # the table stays for completion and hover
    # the server answers again: the attempt that waited fails, the next one connects
    pg_gate.restore()
    index._reconnector.join()
    for _ in range(10):               # (a try refused while the gate was switching: one more)
        if index.is_ready():
            break
        index._reconnector.join()
    assert {h.title for h in search_mod.search([index], "attention")} == {"Attention Networks"}
    assert index.unavailable == "" and pg_gate.released_by_guard == 0
    index.close()
