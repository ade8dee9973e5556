"""The diagnostics publisher of the language server: which open documents a change recomputes
(the changed one and the other open LaTeX documents of its project, not unrelated ones), and
what a closed document is left with.  In-process, on a real Session and pygls Workspace."""
from __future__ import annotations

import asyncio

from lsprotocol import types

from paperlens.lsp.features import diagnostics

from test_project import THESIS, write
from test_project_features import FakeServer

OTHERS = {
    # another project: its own root, a mistyped key
    "other/paper.tex": "\\documentclass{article}\n\\begin{document}\n\\cite{shared202}\n\\end{document}\n",
    "notes.md": "As @shared202 says.\n",
}


class Server(FakeServer):
    def __init__(self, folder, index) -> None:
        super().__init__(folder, index)
        self.sent: list[types.PublishDiagnosticsParams] = []
        self.published = asyncio.Event()

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None:
        self.sent.append(params)
        self.published.set()


def _setup(tmp_path):
    write(tmp_path / "lib", {**THESIS, **OTHERS})
    server = Server(tmp_path / "lib", tmp_path / "index")
    lib = tmp_path / "lib"
    uris = {name: server.open(lib / rel) for name, rel in [
        ("chapter", "thesis/chapters/epilogue.tex"), ("preamble", "thesis/preamble.tex"),
        ("root", "thesis/thesis.tex"), ("other", "other/paper.tex")]}
    uris["notes"] = (lib / "notes.md").as_uri()
    server.workspace.put_text_document(types.TextDocumentItem(
        uri=uris["notes"], language_id="markdown", version=1, text=OTHERS["notes.md"]))
    return server, uris


def _snapshot(server) -> dict:
    return {doc.uri: (doc.source, doc.language_id, doc.version) for doc in server.workspace.text_documents.values()}


def test_a_change_recomputes_its_latex_project_and_nothing_else(tmp_path):
    server, uris = _setup(tmp_path)
    publisher = diagnostics.Publisher(server)
    try:
        name = {uri: n for n, uri in uris.items()}
        first, _ = publisher._work({u: True for u in uris.values()}, _snapshot(server), False)
        assert {name[u] for u in first} == set(uris)
        assert [d.data["key"] for d in first[uris["other"]][1]] == ["shared202"]
        assert [d.data["key"] for d in first[uris["notes"]][1]] == ["shared202"]

        def recomputed(changed: str) -> dict:
            out, bibs = publisher._work({uris[changed]: True}, _snapshot(server), False)
            assert bibs is None
            return {name[u]: flag for u, (_v, _d, flag) in out.items()}

        # the preamble and the root belong to the thesis: its open chapter is recomputed
        # (not marked as changed: published only if its diagnostics differ)
        assert recomputed("preamble") == {"preamble": True, "chapter": False, "root": False}
        assert recomputed("root") == {"root": True, "chapter": False, "preamble": False}
        assert recomputed("chapter") == {"chapter": True, "root": False, "preamble": False}
        # another project and a Markdown draft stand alone
        assert recomputed("other") == {"other": True}
        assert recomputed("notes") == {"notes": True}
        # a closed preamble is a change to the thesis too
        server.workspace.remove_text_document(uris["preamble"])
        assert recomputed("preamble") == {"chapter": False, "root": False}
    finally:
        publisher.close()
        server.session.library.close()


async def test_published_after_a_change_and_withdrawn_on_close(tmp_path):
    server, uris = _setup(tmp_path)
    publisher = diagnostics.Publisher(server)
    try:
        publisher.changed(uris["other"])
        await asyncio.wait_for(server.published.wait(), 60)
        (sent,) = server.sent
        assert sent.uri == uris["other"] and [d.data["key"] for d in sent.diagnostics] == ["shared202"]
        server.sent.clear()
        server.workspace.remove_text_document(uris["other"])
        publisher.closed(uris["other"])          # withdrawn at once, not after the delay
        assert [(p.uri, p.diagnostics) for p in server.sent] == [(uris["other"], [])]
    finally:
        publisher.close()
        server.session.library.close()
