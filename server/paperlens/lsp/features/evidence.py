"""``paperlens.server.showPassage`` [file uri, 0-based line]: open a passage of a library paper
that the unsupported-citation hint names (its code action "Show the passage ..."), the line
selected. Only a regular file inside the configured folders is shown."""
from __future__ import annotations

import logging
import os
from typing import Optional

from lsprotocol import types


from paperlens.lsp import convert
from paperlens.lsp.features._view import allowed_folders
from paperlens.lsp.uris import uri_to_path

log = logging.getLogger(__name__)



def _inside(path: str, folders: list[str]) -> bool:
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return False
    return os.path.isfile(real) and any(real == f or real.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def show_passage_command(ls, args) -> Optional[dict]:
    """Show the passage ``args`` names: {"uri", "line"} on success, {"error"} otherwise."""
    if not isinstance(args, list) or len(args) < 2 or not isinstance(args[0], str) \
            or isinstance(args[1], bool) or not isinstance(args[1], int) or args[1] < 0:
        return {"error": "showPassage takes a file URI and a line"}
    path = uri_to_path(args[0])
    if path is None or not _inside(str(path), allowed_folders(ls)):
        return {"error": "not a file of the library"}
    uri, line = convert.path_to_uri(str(path)), args[1]
    caps = ls.client_capabilities
    if caps and caps.window and caps.window.show_document and caps.window.show_document.support:
        ls.window_show_document(types.ShowDocumentParams(uri=uri, take_focus=True,
                                                         selection=convert.line_range(line, line)))
    return {"uri": uri, "line": line}
