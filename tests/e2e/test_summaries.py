"""Hover summaries through the real openai client, against a local stand-in for the API."""
from __future__ import annotations

import asyncio
import socket

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import SERVER, find_position, open_doc, start

ANSWER = "The paper revisits BM25 passage retrieval for reading assistants [P1]."


def _completion(content: str) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def llm_client(lsp_client: LanguageClient, library_dir, index_dir, httpserver):
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(_completion(ANSWER))
    await start(lsp_client, library_dir, index_dir, settings={"summary": {
        "provider": "openai", "model": "test-model", "baseUrl": httpserver.url_for("/v1"),
        "apiKeyEnv": "PAPERLENS_TEST_NO_KEY", "timeoutSeconds": 10}})
    yield
    await lsp_client.shutdown_session()


async def test_hover_answers_at_once_then_shows_the_llm_summary(llm_client: LanguageClient, library_dir, httpserver):
    tex = library_dir / "drafts" / "survey.tex"
    uri = open_doc(llm_client, tex, "latex")
    pos = find_position(tex, "okafor2024sparse", 2)
    first = await llm_client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
    assert "Sparse Passage Retrieval" in first.contents.value      # answered without waiting
    # the LLM summary is computed in the background; the server logs when it is ready
    while not any("summary ready" in m.message for m in llm_client.log_messages):
        await asyncio.wait_for(llm_client.wait_for_notification(types.WINDOW_LOG_MESSAGE), 60)
    h = await llm_client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
    card = h.contents.value
    assert "Summary (test-model): The paper revisits BM25 passage retrieval" in card
    assert "From: [line" in card and "sparse-retrieval-notes.txt#L" in card     # the passages used
    (request, _), *rest = httpserver.log
    body = request.get_json()
    assert body["model"] == "test-model" and rest == []                        # one call, cached after
    prompt = " ".join(m["content"] for m in body["messages"])
    assert "Sparse Passage Retrieval for Scientific Reading Assistants" in prompt


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def no_key_client(lsp_client: LanguageClient, library_dir, index_dir, monkeypatch):
    monkeypatch.delenv("PAPERLENS_TEST_NO_KEY", raising=False)
    await start(lsp_client, library_dir, index_dir, settings={"summary": {
        "provider": "openai", "model": "test-model", "apiKeyEnv": "PAPERLENS_TEST_NO_KEY"}})
    yield
    await lsp_client.shutdown_session()


def _warnings(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Warning]


async def _wait_for_warnings(client: LanguageClient, n: int) -> None:
    while len(_warnings(client)) < n:
        await asyncio.wait_for(client.wait_for_notification(types.WINDOW_SHOW_MESSAGE), 60)


async def test_llm_configuration_error_is_shown_once_per_configuration(no_key_client: LanguageClient,
                                                                       library_dir, index_dir):
    client = no_key_client
    draft = library_dir / "drafts" / "llm.tex"
    keys = ["okafor2024sparse", "brandt2023lightweight", "marchetti2025conditional"]   # full texts
    draft.write_text("".join(f"See \\cite{{{k}}}.\n" for k in keys), encoding="utf-8")
    uri = open_doc(client, draft, "latex")

    async def hover_all() -> None:
        for k in keys:
            h = await client.text_document_hover_async(types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=find_position(draft, k, 2)))
            assert h is not None and "Abstract" in h.contents.value     # the card, at once

    await hover_all()
    await _wait_for_warnings(client, 1)
    await hover_all()
    await hover_all()
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="paperlens.server.status"))
    assert _warnings(client) == ["paperlens: LLM summaries: set PAPERLENS_TEST_NO_KEY or "
                                 "paperlens.summary.baseUrl; showing extractive summaries"]
    logged = [m.message for m in client.log_messages]
    assert any(m.startswith("LLM summaries: set PAPERLENS_TEST_NO_KEY") for m in logged)
    assert not any("summary: " in m and "summaries: " in m for m in logged)     # one prefix, not two

    # another wrong configuration (a server that is not there) is shown once too
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = {"paperlens": {"indexPath": str(index_dir), "summary": {
        "provider": "openai", "model": "test-model", "baseUrl": f"http://127.0.0.1:{port}/v1"}}}
    client.set_configuration(settings)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))

    async def applied() -> None:      # the server asks for the settings, then applies them
        while (await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="paperlens.server.status")))["summary"]["baseUrl"] != f"http://127.0.0.1:{port}/v1":
            pass

    await asyncio.wait_for(applied(), 30)
    await hover_all()
    await _wait_for_warnings(client, 2)
    await hover_all()
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="paperlens.server.status"))
    warnings = _warnings(client)
    assert len(warnings) == 2 and warnings[1] == (
        f"paperlens: LLM summaries: cannot reach http://127.0.0.1:{port}/v1 (is the server running? "
        "check paperlens.summary.baseUrl); showing extractive summaries")
