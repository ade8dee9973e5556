"""Shared fixtures: a private copy of the example library and an index directory per test."""
from __future__ import annotations

import logging
import shutil
import socket
import sys
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


@pytest.fixture(autouse=True)
def _logger_levels():
    """Each test starts with the logging levels the one before found: an in-process command
    line run (cli.main) sets paperlens's logger to ERROR during a progress bar, and the root
    logger's to ERROR for --json, which hid later tests' warnings from caplog."""
    names = ("", "paperlens", "httpx", "httpx2", "httpcore", "httpcore2", "openai")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def library_dir(tmp_path) -> Path:
    """A writable copy of examples/papers."""
    dest = tmp_path / "papers"
    shutil.copytree(EXAMPLES, dest)
    return dest


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def localhost_only(monkeypatch):
    """Only localhost can be reached (no tokenizer download, no real API call, no proxy), and
    no API key or endpoint comes from the environment."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"network disabled in this test ({host})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "HTTP_PROXY",
                 "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def build(tmp_path):
    """``build(spec)``: an inline multi-file fixture indexed in process (see
    tests/unit/features/feature_fixtures.py; that folder is on sys.path for its own tests).
    It lives here, not in a conftest.py of that folder: a second module named ``conftest``
    would shadow tests/e2e/conftest.py for the e2e modules that import from it."""
    features = str(ROOT / "tests" / "unit" / "features")
    if features not in sys.path:       # (a test module elsewhere run alone: test_protocol.py)
        sys.path.insert(0, features)
    from feature_fixtures import load

    made = []

    def make(spec: str, **options):
        fixture = load(tmp_path, spec, **options)
        made.append(fixture)
        return fixture

    yield make
    for fixture in made:
        fixture.close()
