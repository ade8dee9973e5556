"""Shared fixtures: a private copy of the example library and an index directory per test."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "papers"


@pytest.fixture(scope="session")
def _tiktoken_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("tiktoken")


@pytest.fixture(autouse=True)
def _private_index_root(tmp_path_factory, monkeypatch, _tiktoken_cache):
    """Never touch the user's cache: indexes and tokenizer files go to the test's tmp dirs."""
    monkeypatch.setenv("PAPERLENS_INDEX_DIR", str(tmp_path_factory.mktemp("index-root")))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(_tiktoken_cache))


@pytest.fixture
def library_dir(tmp_path) -> Path:
    """A writable copy of examples/papers."""
    dest = tmp_path / "papers"
    shutil.copytree(EXAMPLES, dest)
    return dest


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "index"
