"""Write the settings schema of server/paperlens/config.py where it is shown:
client-vscode/package.json's ``contributes.configuration``, the README's settings table (for
editors other than VS Code) and client-vscode/README.md's (every VS Code setting).

    .venv/bin/python scripts/gen_settings.py           # rewrite both
    .venv/bin/python scripts/gen_settings.py --check   # exit 1 and name the files that drifted

Edit a setting in config.py, never in those files: tests/unit/test_config_schema.py fails when
one disagrees with the schema.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from paperlens.config import readme_table, vscode_configuration  # noqa: E402

PACKAGE_JSON = ROOT / "client-vscode" / "package.json"
README = ROOT / "README.md"
CLIENT_README = ROOT / "client-vscode" / "README.md"
# a table sits between these two lines of a README (Markdown comments: not rendered)
README_BEGIN = ("<!-- settings table: generated from server/paperlens/config.py by "
                "scripts/gen_settings.py; edit it there -->\n")
README_END = "<!-- end of the settings table -->\n"


def package_json(text: str) -> str:
    """package.json ``text`` with the configuration of the schema (the rest as it was)."""
    data = json.loads(text)
    data["contributes"]["configuration"] = vscode_configuration()
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def readme(text: str, vscode: bool = False) -> str:
    """README ``text`` with the table of the schema between its marks (``vscode``: the table of
    every VS Code setting)."""
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise SystemExit(f"the settings table marks are missing:\n{README_BEGIN}{README_END}")
    return text[:begin + len(README_BEGIN)] + readme_table(vscode) + text[end:]


def main(argv: list[str]) -> int:
    check = "--check" in argv
    drifted = []
    targets = ((PACKAGE_JSON, package_json), (README, readme),
               (CLIENT_README, lambda text: readme(text, vscode=True)))
    for path, render in targets:
        text = path.read_text(encoding="utf-8")
        wanted = render(text)
        if wanted == text:
            continue
        drifted.append(path)
        if not check:
            path.write_text(wanted, encoding="utf-8")
    for path in drifted:
        print(f"{path.relative_to(ROOT)}: {'differs from' if check else 'rewritten from'} "
              "the settings schema (server/paperlens/config.py)")
    return 1 if check and drifted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
