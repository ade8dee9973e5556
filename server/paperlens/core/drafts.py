"""The user's own writing in the workspace (LaTeX, Markdown, Typst, Org): which keys it cites.

Used for "find references" of a paper. Files are re-read only when their mtime changes; the
editor's open buffers take precedence (the caller passes them in).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional

from paperlens.core import citations
from paperlens.core.corpus import SKIP_DIRS
from paperlens.core.models import CitationKey

DRAFT_SUFFIXES = {".tex", ".ltx", ".md", ".markdown", ".qmd", ".rmd", ".typ", ".org"}
MAX_DRAFT_BYTES = 5 * 1024 * 1024


class DraftIndex:
    def __init__(self, folders: Iterable[str]):
        self.folders = [Path(f) for f in folders]
        self._cache: dict[str, tuple[int, str, list[CitationKey]]] = {}

    def _files(self):
        for folder in self.folders:
            for root, dirs, files in os.walk(folder, followlinks=False):
                dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
                for name in files:
                    if Path(name).suffix.lower() in DRAFT_SUFFIXES:
                        yield os.path.join(root, name)

    def citations(self, open_docs: Optional[dict[str, str]] = None) -> dict[str, tuple[str, list[CitationKey]]]:
        """{path: (text, keys)} for every draft that cites something."""
        open_docs = open_docs or {}
        out = {}
        for path in set(self._files()) | set(open_docs):
            if path in open_docs:
                text = open_docs[path]
                lang = citations.language_for(path)
                keys = citations.find_citations(text, lang) if lang else []
            else:
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                cached = self._cache.get(path)
                if cached is None or cached[0] != st.st_mtime_ns:
                    if st.st_size > MAX_DRAFT_BYTES:
                        continue
                    try:
                        with open(path, encoding="utf-8", errors="replace") as f:
                            text = f.read()
                    except OSError:
                        continue
                    lang = citations.language_for(path)
                    keys = citations.find_citations(text, lang) if lang else []
                    cached = (st.st_mtime_ns, text, keys)
                    self._cache[path] = cached
                _, text, keys = cached
            if keys:
                out[path] = (text, keys)
        return out
