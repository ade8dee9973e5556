"""Hover summaries through the real openai client, against a local stand-in for the API."""
from __future__ import annotations

import asyncio

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
