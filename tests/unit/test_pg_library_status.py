"""What a library on PostgreSQL says of its database (``Library.backend_status``, the server's
status ``index``), against a real PostgreSQL 15 (tests/fixtures/postgres.py): a database that
answers but holds tables of an older index format is reachable, outdated; one that does not
answer is not reachable."""
from __future__ import annotations

import json
import socket

import pytest

from paperlens.core.index.postgres import schema as sch
from paperlens.core.library import Library, schema_for

pytest_plugins = ["fixtures.postgres"]     # pg_server, pg_url

PASSWORD = "s3cret-pw-never-logged"        # the fixture's (tests/fixtures/postgres.py)
OLDER = "the library's database was written by an older paperlens; run paperlens index --backend"


def make_folder(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "zebra.txt").write_text("Zebra Stripes Theory\nAda One\nAbstract\nWe explain animal coats.\n",
                                      encoding="utf-8")
    return folder


def reader(folder, ix, url) -> Library:
    """A library that reads the database as the server does (never writes it)."""
    lib = Library([folder], str(ix), workers=1, backend=url)
    lib.writes_remote = False
    lib.update()
    return lib


def test_a_database_of_an_older_format_is_reachable_and_outdated(tmp_path, pg_url):
    import psycopg

    folder = make_folder(tmp_path)
    writer = Library([folder], str(tmp_path / "ix-w"), workers=1, backend=pg_url)
    writer.update()
    lib = reader(folder, tmp_path / "ix", pg_url)
    try:
        assert lib.backend_status() == {"kind": "postgresql", "url": pg_url.replace(f"paperlens:{PASSWORD}@", ""),
                                        "reachable": True, "outdated": False, "error": ""}
    finally:
        lib.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:    # as an older paperlens left them
        conn.execute(f'UPDATE "{schema_for(folder)}".meta SET format = %s', (sch.FORMAT - 1,))
    lib = reader(folder, tmp_path / "ix", pg_url)
    try:
        status = lib.backend_status()
        assert status["reachable"] is True and status["outdated"] is True
        assert status["error"].startswith(OLDER) and PASSWORD not in json.dumps(status)
        assert [r.title for r in lib.rows()] == ["Zebra Stripes Theory"]       # completion answers
    finally:
        lib.close()
    # indexed again in this format: the status is clear again
    writer.update(force_rebuild=True)
    writer.close()
    lib = reader(folder, tmp_path / "ix", pg_url)
    try:
        assert lib.backend_status()["error"] == ""
        assert lib.backend_status()["reachable"] and not lib.backend_status()["outdated"]
    finally:
        lib.close()


def test_a_database_that_does_not_answer_is_not_reachable(tmp_path):
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[postgres]')")
    with socket.socket() as s:          # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lib = reader(make_folder(tmp_path), tmp_path / "ix", f"postgresql://paperlens:{PASSWORD}@127.0.0.1:{port}/papers")
    try:
        status = lib.backend_status()
        assert status["reachable"] is False and status["outdated"] is False
        assert status["error"].startswith(f"cannot reach the library's database at postgresql://127.0.0.1:{port}/papers")
        assert PASSWORD not in json.dumps(status)
    finally:
        lib.close()
