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


def initialize_folders(folder_uris: list[str], root_uri: Optional[str], root_path: Optional[str]) -> list[str]:
    """The workspace folders ``initialize`` names: its ``workspaceFolders`` (their URIs), else
    its ``rootUri``, else its ``rootPath`` (each only if it can be a folder)."""
    folders = [f for uri in folder_uris if (f := folder_path(uri_to_path(uri)))]
    if not folders and root_uri and (root := folder_path(uri_to_path(root_uri))):
        folders = [root]
    elif not folders and root_path and (root := folder_path(root_path)):
        folders = [root]
    return folders


def folder_path(path: Any) -> Optional[str]:
    """A workspace folder the editor sent, if it can be one (an absolute path without NUL)."""
    text = str(path) if path is not None else ""
    if not text or "\x00" in text or not Path(text).is_absolute():
        if text:
            log.warning("ignored workspace folder %r: not an absolute path without NUL", text)
        return None
    return text
