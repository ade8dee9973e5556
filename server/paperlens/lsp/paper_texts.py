"""The read-only text views of PDFs (``paperlens.server.openPaperText``): which PDF a view's file
shows, and the PDF line of each of its lines."""
from __future__ import annotations

import json
from pathlib import Path

from paperlens.core.corpus import read_regular

MAX_SIDECAR = 64 << 20      # a view's sidecar: its PDF and one number per line


class PaperTextViews:
    def __init__(self) -> None:
        self.views: dict[str, str] = {}          # view file -> the PDF
        self.lines: dict[str, list[int]] = {}    # view file -> line of each text line

    def source(self, path: str) -> str:
        """A PDF text view's file -> the PDF (also after a restart, from the view's sidecar);
        any other file -> itself."""
        if path in self.views:
            return self.views[path]
        if not Path(path).name:
            return path
        sidecar = Path(path).with_suffix(".json")
        if Path(path).parent.name == "texts" and sidecar.is_file():
            try:
                data = json.loads(read_regular(sidecar, MAX_SIDECAR).decode("utf-8"))
                pdf, lines = data["pdf"], data["lines"]
                if isinstance(pdf, str) and isinstance(lines, list):
                    self.views[path], self.lines[path] = pdf, lines
                    return pdf
            except (OSError, ValueError, KeyError, TypeError, RecursionError):
                pass
        return path
