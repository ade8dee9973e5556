"""`--backend URL` of `paperlens index/search/show/cite` (issue 19) against a real PostgreSQL
(tests/fixtures/postgres.py): `index` writes the folder's index into the database, the others
read it as the writer left it; the password is never printed or logged."""
from __future__ import annotations

import json
import logging
import socket

from paperlens.cli import main
from paperlens.core.library import Library

pytest_plugins = ["fixtures.postgres"]     # pg_server, pg_url

PASSWORD = "s3cret-pw-never-logged"        # the fixture's (tests/fixtures/postgres.py)

BIB = """@article{vaswani2017attention,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam},
  year = {2017},
  journal = {NeurIPS},
  abstract = {We propose the Transformer, based solely on attention mechanisms, dispensing with
    recurrence and convolutions entirely.}
}

@article{he2016resnet,
  title = {Deep Residual Learning for Image Recognition},
  author = {He, Kaiming and Zhang, Xiangyu},
  year = {2016},
  journal = {CVPR},
  abstract = {We present a residual learning framework to ease the training of deeper networks.}
}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def folder(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "refs.bib").write_text(BIB, encoding="utf-8")
    return lib


def test_index_writes_the_database_and_search_cite_show_read_it(tmp_path, pg_url, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    lib, ix = folder(tmp_path), str(tmp_path / "ix")
    code, out, err = run(capsys, "index", str(lib), "--backend", pg_url, "--index-path", ix, "--workers", "1")
    assert code == 0, err
    assert "index in postgresql://127.0.0.1:" in out
    code, out, _ = run(capsys, "index", str(lib), "--backend", pg_url, "--index-path", ix, "--json")
    data = json.loads(out)["folders"][0]
    assert code == 0 and data["papers_total"] == 2 and data["files_parsed"] == 0 and data["error"] == ""
    # nothing in the Whoosh store: the readers below read the database
    assert not list((tmp_path / "ix").glob("*/MAIN*"))

    code, out, err = run(capsys, "search", "attention recurrence", "--dir", str(lib), "--backend", pg_url,
                         "--index-path", ix, "--json")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert results and results[0]["key"] == "vaswani2017attention"
    assert results[0]["file"] == str(lib / "refs.bib")
    code, out, _ = run(capsys, "cite", "he", "residual", "--dir", str(lib), "--backend", pg_url,
                       "--index-path", ix, "--json")
    assert code == 0 and [r["key"] for r in json.loads(out)["results"]] == ["he2016resnet"]
    code, out, _ = run(capsys, "show", "he2016resnet", "--dir", str(lib), "--backend", pg_url,
                       "--index-path", ix, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["found"] and "residual learning framework" in shown["paper"]["abstract"]
    assert PASSWORD not in caplog.text and PASSWORD not in out + err


def test_a_reader_does_not_write_the_database(tmp_path, pg_url, capsys):
    """search/show/cite read what the writer committed: a new file is not indexed by them."""
    lib, ix = folder(tmp_path), str(tmp_path / "ix")
    assert run(capsys, "index", str(lib), "--backend", pg_url, "--index-path", ix)[0] == 0
    (lib / "more.bib").write_text(BIB.replace("vaswani2017attention", "other2020key"), encoding="utf-8")
    code, out, _ = run(capsys, "cite", "other2020key", "--dir", str(lib), "--backend", pg_url, "--index-path", ix)
    assert code == 0 and out == "no keys match 'other2020key'\n"
    assert run(capsys, "index", str(lib), "--backend", pg_url, "--index-path", ix)[0] == 0
    code, out, _ = run(capsys, "cite", "other2020key", "--dir", str(lib), "--backend", pg_url, "--index-path", ix)
    assert code == 0 and "other2020key" in out


def test_a_database_away_is_said_without_the_password(tmp_path, capsys, caplog, pg_server):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as s:          # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://paperlens:{PASSWORD}@127.0.0.1:{port}/papers"
    lib, ix = folder(tmp_path), str(tmp_path / "ix")
    code, out, err = run(capsys, "search", "attention", "--dir", str(lib), "--backend", url, "--index-path", ix)
    assert code == 1
    assert f"the library cannot be searched: cannot reach the library's database at postgresql://127.0.0.1:{port}/papers" in err
    code, out, _ = run(capsys, "search", "attention", "--dir", str(lib), "--backend", url, "--index-path", ix,
                       "--json")
    assert code == 1 and json.loads(out)["results"] == []
    assert json.loads(out)["error"].startswith(f"cannot reach the library's database at postgresql://127.0.0.1:{port}/papers")
    assert PASSWORD not in out
    code, out, err2 = run(capsys, "index", str(lib), "--backend", url, "--index-path", ix, "--json")
    assert code == 1 and "cannot reach the library's database" in json.loads(out)["folders"][0]["error"]
    for text in (out, err, err2, caplog.text):
        assert PASSWORD not in text


def test_a_wrong_backend_is_refused_without_its_password(tmp_path, capsys):
    code, out, err = run(capsys, "cite", "x", "--dir", str(tmp_path), "--backend", f"mysql://root:{PASSWORD}@db/x")
    assert code == 2 and out == ""
    assert err == ("paperlens: --backend must be whoosh or a postgresql:// URL "
                   "(postgresql://[user@]host[:port]/database), got 'mysql://db/x'\n")
    code, _, err = run(capsys, "cite", "x", "--dir", str(tmp_path), "--backend", "whoosh",
                       "--index-path", str(tmp_path / "ix"))
    assert code == 0, err


def test_the_library_opens_the_backend_per_folder(tmp_path, pg_url):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "refs.bib").write_text(BIB, encoding="utf-8")
    lib = Library([a, b], str(tmp_path / "ix"), workers=1, backend=pg_url)
    try:
        assert [type(s).__name__ for s in lib.stores] == ["PostgresIndex", "PostgresIndex"]
        assert lib.remote == lib.stores and lib.backend_status()["reachable"]
        assert PASSWORD not in json.dumps(lib.backend_status())
        lib.update()
        assert sorted(r.key for r in lib.rows()) == ["he2016resnet", "vaswani2017attention"]
        assert [s.schema for s in lib.stores] == ["paperlens_a", "paperlens_b"]
    finally:
        lib.close()
    # each folder in its own tables: b's (empty) update did not remove a's papers
    again = Library([b, a], str(tmp_path / "ix"), workers=1, backend=pg_url)
    try:
        again.writes_remote = False
        again.update()
        assert [len(s.table.rows) for s in again.stores] == [0, 2]
    finally:
        again.close()
    assert Library([a], str(tmp_path / "ix2"), backend="whoosh").remote == []


def test_the_password_may_come_from_the_environment(tmp_path, pg_server, pg_url, capsys, monkeypatch):
    lib, ix = folder(tmp_path), str(tmp_path / "ix")
    bare = pg_url.replace(f":{PASSWORD}@", "@")
    assert bare != pg_url
    monkeypatch.setenv("PGPASSWORD", "wrong")
    code, out, _ = run(capsys, "index", str(lib), "--backend", bare, "--index-path", ix, "--json")
    assert code == 1 and "password authentication failed" in json.loads(out)["folders"][0]["error"]
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    code, out, err = run(capsys, "index", str(lib), "--backend", bare, "--index-path", ix, "--json")
    assert code == 0, err
    assert json.loads(out)["folders"][0]["papers_total"] == 2


def caught_up(primary_url: str, replica_url: str) -> None:
    """Wait until the replica has replayed what the primary wrote so far (on that condition;
    ``replica_url`` names a database the replica has already: the test's may not be there yet)."""
    import psycopg

    with psycopg.connect(primary_url, autocommit=True) as p:
        lsn = p.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    with psycopg.connect(replica_url, autocommit=True) as r:
        while not r.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]:
            r.execute("SELECT pg_sleep(0.05)")


def test_the_writer_at_the_primary_readers_at_the_replica(tmp_path, pg_url, pg_replica, capsys):
    lib, ix = folder(tmp_path), str(tmp_path / "ix")
    replica_url = pg_replica.url(pg_url.rsplit("/", 1)[1])
    assert run(capsys, "index", str(lib), "--backend", pg_url, "--index-path", ix)[0] == 0
    caught_up(pg_url, pg_replica.url())
    (lib / "more.bib").write_text(BIB.replace("vaswani2017attention", "other2020key"), encoding="utf-8")
    # a reader on the replica reads (a replica refuses writes: a reader that wrote would fail)
    code, out, err = run(capsys, "search", "attention", "--dir", str(lib), "--backend", replica_url,
                         "--index-path", ix, "--json")
    assert code == 0 and err == "", err
    assert [r["key"] for r in json.loads(out)["results"]][:1] == ["vaswani2017attention"]
    code, out, err = run(capsys, "cite", "he", "--dir", str(lib), "--backend", replica_url, "--index-path", ix)
    assert code == 0 and err == "" and out.startswith("he2016resnet\t2016\t")
    # the writer indexes the new file at the primary; the replica's readers see it
    assert run(capsys, "index", str(lib), "--backend", pg_url, "--index-path", ix)[0] == 0
    caught_up(pg_url, pg_replica.url())
    code, out, _ = run(capsys, "cite", "other2020key", "--dir", str(lib), "--backend", replica_url, "--index-path", ix)
    assert code == 0 and out.startswith("other2020key\t")
