"""The settings in force and the editor's workspace folders, and what follows from them: the
paper folders and the shape of the library (its folders, index path and worker count)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional

from paperlens.config import Settings, settings_from_dict

log = logging.getLogger(__name__)


def editor_section(answer: Any) -> Optional[dict]:
    """The ``paperlens`` section of the editor's answer to workspace/configuration, when it
    holds settings (they then win over initializationOptions); else None."""
    if isinstance(answer, list) and answer and isinstance(answer[0], dict) and answer[0]:
        return answer[0]
    return None


class Configuration:
    def __init__(self) -> None:
        self.settings = Settings()
        self.errors: list[str] = []               # what was wrong with the last settings given
        self.workspace_folders: list[str] = []

    def apply(self, data: Any, workspace_folders: Optional[list[str]] = None) -> Settings:
        """Take new settings (and workspace folders, when given); returns the previous
        settings.  A wrong value is reported and its default kept (``errors``)."""
        settings, errors = settings_from_dict(data)
        self.errors = errors
        for e in errors:
            log.warning("settings: %s", e)
        if workspace_folders is not None:
            self.workspace_folders = workspace_folders
        old, self.settings = self.settings, settings
        return old

    def folders(self) -> list[str]:
        """Configured paper folders (relative ones are taken from the first workspace folder)."""
        base = Path(self.workspace_folders[0]) if self.workspace_folders else Path.cwd()
        configured = self.settings.paper_folders or self.workspace_folders
        out = []
        for f in configured:
            p = Path(f).expanduser()
            out.append(str((base / p).resolve() if not p.is_absolute() else p.resolve()))
        return out

    def library_shape(self) -> tuple:
        """What a :class:`~paperlens.core.library.Library` is made of: (folders, index path,
        index workers); the library is made anew when it changes."""
        return self.folders(), self.settings.index_path or None, self.settings.index_workers or None

    def backend(self) -> Optional[str]:
        """The database the folders' indexes are in (``paperlens.index.backend``), None for
        Whoosh files on this machine."""
        backend = self.settings.index.backend
        return backend if backend != "whoosh" else None
