"""The publisher's unsupported-citation hints (issue 17): only with the setting on, from their own
background run (the run after each change checks keys only), as Information with the best
passages as related information; a change withdraws a document's hints until it is checked
again. In-process, on a real Session and pygls Workspace."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

from lsprotocol import types

from paperlens.core.features import hover as hover_feature
from paperlens.core.features.document import make_snapshot
from paperlens.lsp.features import diagnostics, evidence
from paperlens.lsp.features._view import library_view

from test_project import write
from test_project_features import FakeServer

sys.path.insert(0, str(Path(__file__).parent / "features"))
from library_fixtures import REFS_BIB  # noqa: E402
from feature_fixtures import parse  # noqa: E402
from test_feature_diagnostics_unsupported import CLICKS  # noqa: E402
from test_feature_hover import EVIDENCE_PAPER  # noqa: E402

DRAFT = ("Logistic regression predicts the click-through rate of new advertisements [@demersepidemic].\n\n"
         "Anti-entropy: each site exchanges database contents with a site chosen at random [@demersepidemic].\n")


class Server(FakeServer):
    def __init__(self, folder, index, on: bool) -> None:
        super().__init__(folder, index)
        self.session.configure({"indexPath": str(index), "diagnostics": {"unsupportedCitation": on}}, [str(folder)])
        self.sent: list[types.PublishDiagnosticsParams] = []

    def text_document_publish_diagnostics(self, params) -> None:
        self.sent.append(params)


def _server(tmp_path, on: bool = True):
    files, _ = parse(REFS_BIB + EVIDENCE_PAPER + CLICKS)
    write(tmp_path / "lib", files)
    server = Server(tmp_path / "lib", tmp_path / "index", on)
    uri = (tmp_path / "lib" / "draft.md").as_uri()
    server.workspace.put_text_document(types.TextDocumentItem(uri=uri, language_id="markdown", version=1, text=DRAFT))
    return server, uri


def _docs(server) -> dict:
    return {d.uri: (d.source, d.language_id, d.version) for d in server.workspace.text_documents.values()}


def test_hints_come_from_their_own_run_only(tmp_path):
    server, uri = _server(tmp_path)
    publisher = diagnostics.Publisher(server)
    try:
        assert diagnostics.unsupported_enabled(server)
        keys_run, _ = publisher._work({uri: True}, _docs(server), False)
        assert keys_run[uri][1] == []                     # the run after a change: keys only
        found, left, unready = publisher._evidence_work([uri], _docs(server))
        version, [hint] = found[uri]
        assert left == unready == []
        assert version == 1 and hint.code == diagnostics.UNSUPPORTED_CITATION
        assert hint.severity == types.DiagnosticSeverity.Information
        assert hint.range.start == types.Position(0, DRAFT.index("demersepidemic"))
        assert hint.data["alternatives"] == ["richardsonpredicting"]
        publisher._evidence[uri] = [hint]
        publisher._send(uri, force=True)
        assert server.sent[-1].diagnostics == [hint]
        publisher._loop = None
        publisher.changed(uri)                            # its places moved: withdrawn until checked
        assert uri not in publisher._evidence and uri in publisher._evidence_dirty
    finally:
        publisher.close()


class _Loop:
    def __init__(self) -> None:
        self.later: list = []

    def is_closed(self):
        return False

    def call_later(self, delay, fn):
        self.later.append((delay, fn))
        return SimpleNamespace(cancel=lambda: None)

    def run_in_executor(self, _executor, fn, *args):      # at once, on this thread
        result = fn(*args)
        done = SimpleNamespace(cancelled=lambda: False, result=lambda: result)
        return SimpleNamespace(add_done_callback=lambda callback: callback(done))


def test_no_hints_with_the_setting_off_but_the_evidence_is_computed_for_the_hover(tmp_path, monkeypatch):
    server, uri = _server(tmp_path, on=False)
    publisher = diagnostics.Publisher(server)
    try:
        assert not diagnostics.unsupported_enabled(server)
        publisher._evidence[uri] = ["stale"]
        publisher._evidence_dirty.add(uri)
        publisher._loop = loop = _Loop()
        publisher._schedule_evidence()
        assert publisher._evidence == {}
        assert server.sent[-1].uri == uri and server.sent[-1].diagnostics == []
        assert [d for d, _ in loop.later] == [publisher.EVIDENCE_DELAY]   # the evidence, for the hover
        found, left, unready = publisher._evidence_work([uri], _docs(server), hints=False)
        assert found == {} and left == unready == []
        # a hover on the citation now finds it: nothing read of the paper, nothing scored
        scored = []
        real = hover_feature.evidence.support
        monkeypatch.setattr(hover_feature.evidence, "support", lambda *a, **k: scored.append(a) or real(*a, **k))
        view = library_view(server)
        doc = make_snapshot(uri, DRAFT, "markdown", Path(tmp_path / "lib" / "draft.md"))
        at = DRAFT.index("demersepidemic", DRAFT.index("Anti-entropy"))
        assert "**exchange**" in hover_feature.hover(doc, at, view).markdown and scored == []
    finally:
        publisher.close()


def test_a_document_just_opened_gets_its_evidence_soon_and_a_change_stops_the_run(tmp_path):
    server, uri = _server(tmp_path, on=False)
    publisher = diagnostics.Publisher(server)
    try:
        publisher._loop = loop = _Loop()
        publisher._schedule = lambda: None
        publisher.changed(uri)                 # opened: never published
        publisher._schedule_evidence()
        assert loop.later[-1][0] == publisher.OPENED_DELAY
        publisher._flush_evidence = lambda: None
        publisher._opened.clear()
        publisher._published[uri] = []
        publisher.changed(uri)                 # a change of a document open for a while
        publisher._schedule_evidence()
        assert loop.later[-1][0] == publisher.EVIDENCE_DELAY
        publisher._dirty[uri] = True           # typing goes on: the run gives the document up
        found, left, _ = publisher._evidence_work([uri], _docs(server), hints=False)
        assert found == {} and left == [uri]
    finally:
        publisher.close()


def test_a_document_opened_before_the_library_is_ready_gets_its_evidence_soon_after(tmp_path, monkeypatch):
    server, uri = _server(tmp_path, on=False)
    publisher = diagnostics.Publisher(server)
    try:
        publisher._loop = loop = _Loop()
        publisher._schedule = lambda: None
        real = diagnostics.library_view

        def not_ready(ls, **kw):
            view = real(ls, **kw)
            view.ready = lambda: False
            return view
        monkeypatch.setattr(diagnostics, "library_view", not_ready)
        publisher.changed(uri)
        publisher._dirty.clear()               # (its keys checked)
        publisher._flush_evidence()            # the run finds no library yet
        assert publisher._opened == {uri} and not publisher._evidence_dirty
        monkeypatch.setattr(diagnostics, "library_view", real)
        publisher.refresh_all()                # the library is ready: soon, not after the pause of a change
        publisher._schedule_evidence()         # (as the end of its keys' run does)
        assert loop.later[-1][0] == publisher.OPENED_DELAY
    finally:
        publisher.close()


def test_show_passage_opens_only_library_files(tmp_path):
    server, _uri = _server(tmp_path)
    server.client_capabilities = None
    paper = (tmp_path / "lib" / "papers" / "gossip.txt")
    assert evidence.show_passage_command(server, [paper.as_uri(), 7]) == {"uri": paper.as_uri(), "line": 7}
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")
    assert evidence.show_passage_command(server, [outside.as_uri(), 0]) == {"error": "not a file of the library"}
    assert "error" in evidence.show_passage_command(server, ["x"])
    assert "error" in evidence.show_passage_command(server, [paper.as_uri(), True])


def test_a_change_stops_the_check_of_the_hints_too(tmp_path):
    server, uri = _server(tmp_path)
    publisher = diagnostics.Publisher(server)
    try:
        assert diagnostics.unsupported_enabled(server)
        publisher._dirty[uri] = True           # typing goes on: the check (rivals and all) gives up
        found, left, _ = publisher._evidence_work([uri], _docs(server))
        assert found == {} and left == [uri]
        publisher._dirty.clear()
        found, left, _ = publisher._evidence_work([uri], _docs(server))
        assert left == [] and [h.data["key"] for h in found[uri][1]] == ["demersepidemic"]
    finally:
        publisher.close()
