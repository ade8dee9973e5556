"""In-process feature tests from inline multi-file fixtures with a cursor mark (as texlab's):

    %! refs.bib
    @article{vaswani2017, title={Attention is all you need}, author={Vaswani, Ashish}, year={2017}}
    %! draft.tex
    \\cite{vas|}

Each ``%! name`` line starts a file (a path relative to the library folder); ``|`` marks the
cursor (one in the whole fixture, removed from the text). :func:`load` writes the files into a
folder, indexes it (``core.library.Library``) and gives the document snapshot and offset at the
cursor with a library view, ready for the functions of ``paperlens.core.features``;
:class:`FakeServer` runs the protocol adapters of ``paperlens.lsp.features`` on it."""
from __future__ import annotations

import concurrent.futures
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

from lsprotocol import types
from pygls.protocol import default_converter
from pygls.workspace import Workspace

from paperlens.core.drafts import DraftIndex
from paperlens.core.features.document import Snapshot, make_snapshot
from paperlens.core.features.view import LocalView, PaperCache
from paperlens.core.library import Library

CURSOR = "|"


def parse(spec: str) -> tuple[dict[str, str], Optional[tuple[str, int]]]:
    """({name: text}, (name, offset) of the cursor or None); each file's lines are dedented on
    their own (fixtures may be concatenated from pieces indented differently)."""
    files: dict[str, list[str]] = {}
    name = None
    for line in spec.strip("\n").split("\n"):
        if line.strip().startswith("%! "):
            name = line.strip()[3:].strip()
            files[name] = []
        elif name is None:
            if line.strip():
                raise ValueError(f"text before the first '%! name' line: {line!r}")
        else:
            files[name].append(line)
    texts = {n: textwrap.dedent("\n".join(lines)).rstrip() + "\n" for n, lines in files.items()}
    cursor = None
    for n, text in texts.items():
        at = text.find(CURSOR)
        if at < 0:
            continue
        if cursor is not None or text.find(CURSOR, at + 1) >= 0:
            raise ValueError("more than one cursor mark")
        texts[n] = text[:at] + text[at + 1:]
        cursor = (n, at)
    return texts, cursor


LANGUAGE_IDS = {".tex": "latex", ".md": "markdown", ".typ": "typst", ".org": "org"}


@dataclass
class Fixture:
    folder: Path
    files: dict[str, str]
    cursor: Optional[tuple[str, int]]
    library: Library
    view: LocalView

    def path(self, name: str) -> Path:
        return self.folder / name

    def snapshot(self, name: Optional[str] = None, text: Optional[str] = None) -> Snapshot:
        """The snapshot of the file ``name`` (default: the one with the cursor, else the last
        one), as the editor would send it (its language id from its suffix), with its LaTeX
        project."""
        name = name or (self.cursor[0] if self.cursor else list(self.files)[-1])
        path = self.path(name)
        text = self.files[name] if text is None else text
        return make_snapshot(path.as_uri(), text, LANGUAGE_IDS.get(path.suffix), path,
                             project_of=self.view.project_of)

    @property
    def doc(self) -> Snapshot:
        return self.snapshot()

    @property
    def offset(self) -> int:
        return self.cursor[1]

    def close(self) -> None:
        self.library.close()


def load(tmp_path: Path, spec: str, summaries=None, **view_options) -> Fixture:
    """Write the fixture's files under ``tmp_path/lib``, index them, and make the view."""
    files, cursor = parse(spec)
    folder = tmp_path / "lib"
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    library = Library([folder], str(tmp_path / "index"))
    library.update()
    view = LocalView(library, summaries=summaries, drafts=DraftIndex([str(folder)]), cache=PaperCache(),
                     **view_options)
    return Fixture(folder, files, cursor, library, view)


class FakeSession:
    """What ``lsp/features/_view.py`` reads of the server's session, over a fixture's library:
    the adapters run in process on it."""

    def __init__(self, fixture: Fixture) -> None:
        self.library = fixture.library
        self.workspace_folders = [str(fixture.folder)]
        self.indexing, self.indexed_once = False, True
        self.loop = None
        self.paper_text_views: dict[str, str] = {}
        self.paper_text_lines: dict[str, list[int]] = {}
        self._drafts = fixture.view.draft_index()
        self.settings = SimpleNamespace(completion=SimpleNamespace(limit=50, embeddings=False))

    def folders(self) -> list[str]:
        return list(self.workspace_folders)

    def summaries(self):
        return None

    def drafts(self):
        return self._drafts

    def view_source(self, path: str) -> str:
        return self.paper_text_views.get(path, path)

    def build_graph(self):
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_result(self.library.graph())
        return future


class FakeServer:
    """A language server as the adapters see it: ``session``, ``workspace`` (documents opened
    with :meth:`open`), the negotiated position encoding, no client capabilities."""

    def __init__(self, fixture: Fixture, encoding: str = "utf-16") -> None:
        self.session = FakeSession(fixture)
        self.workspace = Workspace(fixture.folder.as_uri(), position_encoding=encoding)
        self.client_capabilities = None

    def open(self, path: Path, text: str) -> str:
        uri = path.as_uri()
        self.workspace.put_text_document(types.TextDocumentItem(
            uri=uri, language_id=LANGUAGE_IDS.get(path.suffix, "plaintext"), version=1, text=text))
        return uri


def as_received(answer, kind):
    """An adapter's answer (lsprotocol objects or the protocol's JSON, as the completion
    adapter makes it) as the editor reads it: sent through pygls' converter, read as ``kind``."""
    if answer is None:
        return None
    converter = default_converter()
    return converter.structure(converter.unstructure(answer), kind)
