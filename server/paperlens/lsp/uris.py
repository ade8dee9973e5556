"""File URIs and the folders an editor names."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)


def uri_to_path(uri: str) -> Optional[Path]:
    """The path of a ``file:`` URI (None for any other scheme)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def folder_path(path: Any) -> Optional[str]:
    """A workspace folder the editor sent, if it can be one (an absolute path without NUL)."""
    text = str(path) if path is not None else ""
    if not text or "\x00" in text or not Path(text).is_absolute():
        if text:
            log.warning("ignored workspace folder %r: not an absolute path without NUL", text)
        return None
    return text
