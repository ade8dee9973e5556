"""Write server/paperlens/lsp/capabilities.py: the server capabilities pygls computes for
paperlens (without the position encoding, chosen per client), which the start-up front
(lsp/front.py) answers ``initialize`` with before pygls is loaded. Run it after changing the
features a server registers; tests/unit/features/test_front.py fails until it is run.

    .venv/bin/python scripts/gen_capabilities.py
"""
from __future__ import annotations

import pprint
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from paperlens.lsp.server import initialize_result  # noqa: E402

MODULE = ROOT / "server" / "paperlens" / "lsp" / "capabilities.py"
HEADER = '''"""The server capabilities pygls computes for paperlens, without the position encoding (chosen
per client): the start-up front (front.py) answers ``initialize`` with them before pygls is
loaded. Written by scripts/gen_capabilities.py (run it after changing what the server
registers; tests/unit/features/test_front.py fails until then): do not edit."""

'''


def server_capabilities() -> dict:
    caps = initialize_result({})["capabilities"]
    caps.pop("positionEncoding", None)
    return caps


def module_text() -> str:
    return HEADER + "SERVER = " + pprint.pformat(server_capabilities(), width=100) + "\n"


def main() -> int:
    text = module_text()
    if MODULE.exists() and MODULE.read_text(encoding="utf-8") == text:
        print(f"{MODULE.relative_to(ROOT)}: up to date")
        return 0
    MODULE.write_text(text, encoding="utf-8")
    print(f"wrote {MODULE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
