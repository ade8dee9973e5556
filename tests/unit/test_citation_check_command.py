"""paperlens.server.checkCitation (issue 17.3): the verdict of the configured model on the citation
at a position, from the passages the hover shows; nothing without a model. In-process, on a
real Session and pygls Workspace, the model replaced by a fake client."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types

from paperlens.core.summarize import client as summarize_client
from paperlens.lsp.features import citation_check

from test_project import write
from test_project_features import FakeServer

sys.path.insert(0, str(Path(__file__).parent / "features"))
from feature_fixtures import parse  # noqa: E402
from test_feature_hover import EVIDENCE_PAPER  # noqa: E402

DRAFT = "Each site exchanges database contents with a site chosen at random [@demersepidemic].\n"


class Server(FakeServer):
    def __init__(self, folder, index, provider: str) -> None:
        super().__init__(folder, index)
        self.session.configure({"indexPath": str(index), "summary": {"provider": provider, "model": "tiny"}},
                               [str(folder)])


class FakeClient:
    asked: list = []

    def __init__(self, settings) -> None:
        self.model = settings.model

    def complete(self, messages):
        FakeClient.asked.append(messages)
        return "VERDICT: supported\nPassage [1] says so."

    def close(self) -> None:
        pass


def _server(tmp_path, provider: str):
    files, _ = parse(EVIDENCE_PAPER)
    write(tmp_path / "lib", files)
    server = Server(tmp_path / "lib", tmp_path / "index", provider)
    uri = (tmp_path / "lib" / "draft.md").as_uri()
    server.workspace.put_text_document(types.TextDocumentItem(uri=uri, language_id="markdown", version=1, text=DRAFT))
    return server, uri


def test_the_model_says_whether_the_passages_support_the_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(summarize_client, "LLMSummarizer", FakeClient)
    server, uri = _server(tmp_path, "openai")
    at = {"line": 0, "character": DRAFT.index("demers") + 2}
    found = asyncio.run(citation_check.check_citation_async(server, [uri, at]))
    assert found["key"] == "demersepidemic" and found["verdict"] == "supported" and found["model"] == "tiny"
    assert found["reason"] == "Passage [1] says so"
    assert found["passages"][0]["path"] == str(tmp_path / "lib" / "papers" / "gossip.txt")
    assert "exchange database contents" in FakeClient.asked[-1][1]["content"]
    asked = len(FakeClient.asked)
    assert citation_check.check_citation(server, [uri, at]) == found and len(FakeClient.asked) == asked


def test_without_a_model_or_a_citation_it_says_why(tmp_path):
    server, uri = _server(tmp_path, "extractive")
    at = {"line": 0, "character": DRAFT.index("demers") + 2}
    assert citation_check.check_citation(server, [uri, at]) == {"error": citation_check.NO_MODEL}
    assert "error" in citation_check.check_citation(server, [uri])
    assert "error" in citation_check.check_citation(server, [uri, {"line": True, "character": 0}])
