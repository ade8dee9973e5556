"""Real editors, headless, against `paperlens serve`: what a researcher sees in Neovim and Emacs."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
pytestmark = pytest.mark.editor


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed; .ci/run installs it (scripts/bootstrap.sh --editors)")
        pytest.skip(f"{tool} is not installed (scripts/bootstrap.sh --editors installs it)")
    return path


def _env(library_dir: Path, index_dir: Path) -> dict:
    return {**os.environ, "PAPERLENS_PYTHON": sys.executable, "PAPERLENS_LIBRARY": str(library_dir),
            "PAPERLENS_INDEX": str(index_dir)}


def test_neovim_hover_and_completion(library_dir, index_dir):
    nvim = _need("nvim")
    proc = subprocess.run([nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n",
                           "-c", f"luafile {HERE / 'nvim_smoke.lua'}"],
                          env=_env(library_dir, index_dir), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    (hover,) = [e for e in events if e["what"] == "hover"]
    assert hover.get("err") is None
    assert "**Attention Is All You Need**" in hover["value"] and "Ashish Vaswani" in hover["value"]
    comps = {e["typed"]: e["labels"] for e in events if e["what"] == "completion"}
    assert comps["See [@attention"][0] == "vaswani2017attention"
    assert comps["See [@gaze"][0] == "brandt2023lightweight"
    assert len(comps["See [@"]) == 11


def test_emacs_eglot_hover_and_completion(library_dir, index_dir):
    emacs = _need("emacs")
    index = subprocess.run([sys.executable, "-m", "paperlens", "index", str(library_dir), "--json"],
                           capture_output=True, text=True, env=_env(library_dir, index_dir), timeout=120)
    assert index.returncode == 0, index.stderr
    assert json.loads(index.stdout)["folders"][0]["papers_total"] == 11
    proc = subprocess.run([emacs, "-Q", "--batch", "-l", str(HERE / "eglot_smoke.el")],
                          env=_env(library_dir, index_dir), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines() if ": " in line)
    assert "Attention Is All You Need" in lines["HOVER"]
    assert lines["COMPLETION"].split(", ")[0] == "devlin2019bert"
