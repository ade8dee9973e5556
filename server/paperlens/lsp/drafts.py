"""The user's drafts in the workspace and paper folders (for find references and diagnostics):
one :class:`~paperlens.core.drafts.DraftIndex` for the folders in force, made anew when they
change.  The index walks the folders on a thread of its own (requests take what is known)."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional

from paperlens.core.drafts import DraftIndex


class Drafts:
    def __init__(self) -> None:
        self._index: Optional[DraftIndex] = None
        self._lock = threading.Lock()         # requests ask from the loop and from worker threads

    def index(self, folders: list[str]) -> DraftIndex:
        """The drafts under ``folders`` (no walk happens here: the index walks when asked)."""
        wanted = sorted(set(folders))
        with self._lock:
            if self._index is None or self._index.folders != [Path(f) for f in wanted]:
                self._index = DraftIndex(wanted)
            return self._index

    @property
    def project_fact_scans(self) -> int:
        """LaTeX buffers read whole for their project facts so far (the tests count work)."""
        index = self._index
        return index.projects.full_scans if index is not None else 0
