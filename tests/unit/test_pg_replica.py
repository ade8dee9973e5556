"""Beyond one server (issue 19): the writer on the primary, an editor on a streaming replica."""
import psycopg

from paperlens.core.index import search as search_mod
from paperlens.core.index.postgres.store import PostgresIndex

pytest_plugins = ["fixtures.postgres"]     # pg_server, pg_url, pg_replica


def caught_up(primary_url: str, replica_url: str) -> None:
    """Wait until the replica has replayed everything the primary wrote so far (the replica
    reports its replay position; no sleeps, the wait is on that condition)."""
    with psycopg.connect(primary_url, autocommit=True) as p:
        lsn = p.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    # the replica's own postgres database: the test's database may not have been replayed yet
    # ("database ... does not exist" when the replica was started by an earlier test)
    replica_url = replica_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(replica_url, autocommit=True) as r:
        while not r.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]:
            r.execute("SELECT pg_sleep(0.05)")


def test_an_editor_on_a_replica_sees_what_the_primary_committed(tmp_path, pg_server, pg_replica, pg_url):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text("Graph Transformers\nAda One\nAbstract\nWe study message passing.\n")
    dbname = pg_url.rsplit("/", 1)[1]
    replica_url = pg_replica.url(dbname)
    writer = PostgresIndex(folder, pg_url, workers=1)
    assert writer.update().papers_total == 1
    caught_up(pg_url, replica_url)
    editor = PostgresIndex(folder, replica_url, workers=1)
    assert editor.is_ready() and [r.title for r in editor.table.rows] == ["Graph Transformers"]
    assert search_mod.search([editor], "message passing")[0].title == "Graph Transformers"
    # the replica cannot be written: an update there fails clearly and changes nothing
    (folder / "b.txt").write_text("Sparse Attention\nBo Two\nAbstract\nAttention made sparse.\n")
    refused = editor.update()
    assert "cannot write the index at postgresql://paperlens@127.0.0.1" in refused.error
    assert "read-only" in refused.error and len(editor.table.rows) == 1
    # the writer commits on the primary; the editor (no LISTEN on a replica) sees it on its
    # next reload once the replica replayed it
    assert writer.update().papers_indexed == 1
    caught_up(pg_url, replica_url)
    assert editor.reload_if_changed()
    assert sorted(r.title for r in editor.table.rows) == ["Graph Transformers", "Sparse Attention"]
    assert search_mod.search([editor], "sparse")[0].title == "Sparse Attention"
    assert not editor.reload_if_changed()
    editor.close()
    writer.close()
