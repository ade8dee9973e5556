"""scripts/bootstrap.sh and scripts/apt-install.sh say what they do, and what to do when apt's
lock is held; apt-get and the Python of a fresh machine are stand-ins here (no network, no root)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash")

FAKE_APT = """#!/bin/bash
# a stand-in for apt-get: logs its arguments; "locked" for the first $FAKE_LOCKED calls
echo "$*" >> "$FAKE_LOG"
n=$(wc -l < "$FAKE_LOG")
if [ "$n" -le "${FAKE_LOCKED:-0}" ]; then
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (unattended-upgr)" >&2
  echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
  exit 100
fi
if [ -n "${FAKE_FAIL:-}" ] && [ "$1" = install ]; then
  echo "E: Unable to locate package $FAKE_FAIL" >&2
  exit 100
fi
exit 0
"""


@pytest.fixture
def fake_apt(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text(FAKE_APT)
    apt.chmod(0o755)
    log = tmp_path / "apt.log"
    log.touch()

    def run(*packages: str, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        proc = subprocess.run([BASH, str(ROOT / "scripts" / "apt-install.sh"), *packages],
                              env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
                                   "FAKE_LOG": str(log), **env},
                              capture_output=True, text=True, timeout=120)
        return proc, log.read_text().splitlines()
    return run


def test_apt_lock_held_says_so_and_what_to_do(fake_apt):
    proc, calls = fake_apt("neovim", "emacs-nox", FAKE_LOCKED="1000", PAPERLENS_APT_LOCK_WAIT="0")
    assert proc.returncode == 1 and proc.stdout == ""
    assert calls == ["update -qq"]                       # nothing installed after a failed update
    err = proc.stderr
    assert ("bootstrap: cannot install neovim emacs-nox: another apt or dpkg process still holds "
            "the package lock (after 0 s):") in err
    assert "  E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242" in err
    assert "run this again; 'sudo fuser -v /var/lib/dpkg/lock-frontend /var/lib/apt/lists/lock'" in err


def test_apt_lock_released_while_waiting(fake_apt):
    proc, calls = fake_apt("neovim", FAKE_LOCKED="2", PAPERLENS_APT_LOCK_WAIT="60")
    assert proc.returncode == 0, proc.stderr
    assert calls == ["update -qq"] * 3 + ["install -y -qq --no-install-recommends neovim"]
    assert proc.stderr == ("bootstrap: another apt or dpkg process holds the package lock; "
                           "waiting up to 60 s for it...\n")


def test_apt_other_failure_shows_apt_error(fake_apt):
    proc, _ = fake_apt("nosuch", FAKE_FAIL="nosuch")
    assert proc.returncode == 1
    assert proc.stderr == ("bootstrap: 'apt-get install -y -qq --no-install-recommends nosuch' failed:\n"
                           "  E: Unable to locate package nosuch\n")


FAKE_PYTHON = """#!/bin/bash
# a stand-in for python3: "-m venv DIR" makes DIR/bin/python (this script); pip and imports succeed
case "$1 $2" in
  "-m venv") mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;
  "--version ") echo "Python 3.99.0" ;;
  "-m pip") echo "pip $*" >> "$(dirname "$0")/../pip.log" ;;
esac
exit 0
"""


def test_bootstrap_says_what_it_installs_then_stays_silent(tmp_path):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "bootstrap.sh", repo / "scripts")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    python = tmp_path / "python3"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)

    def bootstrap() -> subprocess.CompletedProcess:
        return subprocess.run([BASH, str(repo / "scripts" / "bootstrap.sh")], cwd=tmp_path,
                              env={**os.environ, "PYTHON": str(python)},
                              capture_output=True, text=True, timeout=60)

    first = bootstrap()
    assert first.returncode == 0 and first.stdout == ""
    assert first.stderr.splitlines() == [
        "bootstrap: creating .venv with Python 3.99.0",
        "bootstrap: installing paperlens and its dependencies into .venv (first run, about a minute)...",
        "bootstrap: done: .venv/bin/paperlens"]
    assert "-e .[test]" in (repo / ".venv" / "pip.log").read_text()
    again = bootstrap()
    assert again.returncode == 0 and again.stderr == "" and again.stdout == ""
    stamp = repo / ".venv" / ".paperlens-installed"
    os.utime(stamp, (stamp.stat().st_mtime - 10,) * 2)          # pyproject.toml is newer now
    changed = bootstrap()
    assert changed.stderr.splitlines()[0] == ("bootstrap: pyproject.toml changed: updating paperlens "
                                              "and its dependencies in .venv...")
