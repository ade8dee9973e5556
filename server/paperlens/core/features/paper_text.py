"""The read-only text view of a library PDF: its extracted text with page markers, written next to
the index, and which line of the view each line of the paper's text is on (so that reading
features work in the view as in a paper's text file)."""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from paperlens.core.features.view import LibraryView

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """A library PDF whose text view is asked for."""
    pdf: Path
    paper_id: str
    folder: Path            # where its views are written


@dataclass(frozen=True)
class TextView:
    pdf: Path
    path: Path              # the view file
    lines: list[int]        # line of the view of each line of the PDF's text
    pages: int


def target(path: Optional[Path], view: LibraryView) -> Union[Target, dict]:
    """The library PDF at ``path``, or an error answer."""
    if path is None or path.suffix.lower() != ".pdf":
        return {"error": "not a PDF"}
    row = view.row_for_file(str(path))
    folder = view.text_view_dir(str(path))
    if row is None or folder is None:
        return {"error": "this PDF is not in the library (or not indexed yet)"}
    return Target(path, row.id, folder)


def _extract_pages(path: Path):
    """The PDF's pages, read by pdfium in a worker process that is killed when it takes too
    long (pdfium cannot be interrupted, and is not thread-safe), or an error answer."""
    from paperlens.core.index import workers
    from paperlens.core.parse.common import ParseError
    from paperlens.core.parse.pdf import extract_pages

    try:
        return workers.call(extract_pages, path)
    except TimeoutError:
        return {"error": f"reading this PDF took longer than {workers.parse_timeout():g} s; stopped"}
    except ParseError as exc:
        return {"error": str(exc)}
    except Exception:   # noqa: BLE001 - the worker died, or pdfium failed another way
        log.info("paper text view of %s failed", path, exc_info=True)
        return {"error": "this PDF could not be read (its reader stopped)"}


def _write(found: Target, pages: list[str]) -> TextView:
    """The view file, with page markers, read-only, and its sidecar (the PDF and the line map)."""
    found.folder.mkdir(parents=True, exist_ok=True)
    path = found.folder / f"{found.pdf.stem}-{found.paper_id}.txt"
    lines_out, mapping = [], []
    for n, page in enumerate(pages, 1):
        lines_out.append(f"──────── page {n} of {len(pages)} · {found.pdf.name} ────────")
        for line in page.split("\n"):
            mapping.append(len(lines_out))
            lines_out.append(line)
    if path.exists():
        os.chmod(path, 0o644)
    path.write_text("\n".join(lines_out) + "\n", encoding="utf-8")
    os.chmod(path, 0o444)                               # read-only: it is a view of the PDF
    path.with_suffix(".json").write_text(json.dumps({"pdf": str(found.pdf), "lines": mapping}), encoding="utf-8")
    return TextView(found.pdf, path, mapping, len(pages))


def make(found: Target) -> Union[TextView, dict]:
    """The PDF's pages read (in a time-limited worker process), then its view written; or an
    error answer. Blocks: call it off the event loop."""
    pages = _extract_pages(found.pdf)
    if isinstance(pages, dict):
        return pages
    try:
        return _write(found, pages)
    except OSError as exc:
        return {"error": f"cannot write the text view: {exc.strerror or type(exc).__name__}"}
