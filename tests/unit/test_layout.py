"""The README's Layout section is the map of the code: every package and module of
server/paperlens is named there, and every file it names exists."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "server" / "paperlens"


def _layout_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def _modules() -> list[Path]:
    return sorted(p.relative_to(PKG) for p in PKG.rglob("*.py")
                  if p.name not in ("__init__.py", "__main__.py") and "__pycache__" not in p.parts)


def test_every_package_and_module_is_named():
    block = _layout_block()
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", block))
    missing = [str(m) for m in _modules() if m.stem not in words and m.stem.lstrip("_") not in words]
    packages = sorted({str(m.parent) for m in _modules() if str(m.parent) != "."})
    missing += [p + "/" for p in packages if Path(p).name + "/" not in block]
    assert not missing, f"README Layout does not name: {missing}"


def test_every_file_named_exists():
    block = _layout_block()
    named = set(re.findall(r"(?<![/\w])([a-z_]+\.py)\b", block))
    existing = {m.name for m in _modules()}
    assert named and not named - existing, f"README Layout names files that do not exist: {named - existing}"


def test_test_modules_have_unique_names():
    """pytest imports test modules by their base name (no packages): a unit and an e2e test
    module of the same name stop the whole run at collection ("import file mismatch")."""
    seen: dict[str, str] = {}
    clashes = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if "node_modules" in path.parts:
            continue
        rel = str(path.relative_to(ROOT))
        if path.name in seen:
            clashes.append((seen[path.name], rel))
        seen.setdefault(path.name, rel)
    assert clashes == []
