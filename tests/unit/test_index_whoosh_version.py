"""paperlens extends Whoosh's internals: another release of whoosh-reloaded than the one pinned
makes the index unavailable with a message that says what to do, and nothing crashes."""
from __future__ import annotations

import importlib.metadata
import logging
import re
from pathlib import Path

import pytest

from paperlens.core.index import whoosh as whoosh_impl
from paperlens.core.index.base import IndexUnavailable
from paperlens.core.library import Library

ROOT = Path(__file__).resolve().parents[2]
SAID = "paperlens needs whoosh-reloaded 2.7.5, found 2.8.0: reinstall paperlens"


@pytest.fixture
def other_whoosh(monkeypatch):
    """The installed whoosh-reloaded says it is 2.8.0 (checked afresh)."""
    real = importlib.metadata.version

    def version(name):
        return "2.8.0" if name == "whoosh-reloaded" else real(name)

    monkeypatch.setattr(whoosh_impl, "_checked", "")
    monkeypatch.setattr(importlib.metadata, "version", version)


def test_the_pin_is_the_version_required():
    pins = re.findall(r'"whoosh-reloaded([^"]*)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pins == [f"=={whoosh_impl.REQUIRED_VERSION}"]
    assert importlib.metadata.version("whoosh-reloaded") == whoosh_impl.REQUIRED_VERSION
    whoosh_impl.require()


def test_another_version_is_refused_with_a_clear_message(other_whoosh):
    with pytest.raises(IndexUnavailable) as err:
        whoosh_impl.require()
    assert str(err.value) == SAID


def test_a_missing_whoosh_is_refused_too(monkeypatch):
    def version(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(whoosh_impl, "_checked", "")
    monkeypatch.setattr(importlib.metadata, "version", version)
    with pytest.raises(IndexUnavailable, match="needs whoosh-reloaded 2.7.5, found none: reinstall paperlens"):
        whoosh_impl.require()


def test_with_another_version_the_library_says_why_and_keeps_answering(tmp_path, other_whoosh, caplog):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text("Quokka Passage Ranking\nAda Lovelace\nAbstract\nQuokkas rank.\n",
                                  encoding="utf-8")
    lib = Library([folder], str(tmp_path / "ix"), workers=1)
    with caplog.at_level(logging.WARNING, logger="paperlens"):
        (report,) = lib.update()
        assert report.error == SAID and report.papers_indexed == 0
        assert list(lib.search("quokka")) == [] and lib.graph().cites == {}
        lib.prepare()
        lib.warm_search()
    assert SAID in caplog.text and "Traceback" not in caplog.text
    lib.close()
