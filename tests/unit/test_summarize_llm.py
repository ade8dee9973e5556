"""LLM summaries: the real ``openai`` client against a local chat-completions server
(pytest-httpserver). The network beyond localhost is unreachable in every test here."""
from __future__ import annotations

import json
import logging
import socket
import threading
from pathlib import Path

import pytest
from werkzeug import Request, Response

import paperlens.core.summarize as summarize
from paperlens.config import SummarySettings
from paperlens.core import tokens
from paperlens.core.parse import parse_file
from paperlens.core.summarize import (NO_KEY_MESSAGE, LLMSummarizer, SummaryError,
                                      SummaryService, messages_tokens, summarize_llm)

SECRET = "sk-paperlens-TEST-SECRET-7f3a9c1e5b"
KEY_ENV = "PAPERLENS_TEST_OPENAI_KEY"
PATH = "/v1/chat/completions"
ANSWER = ("The paper completes partially scanned rooms with sparse voxel diffusion [P1]. It "
          "adapts image diffusion to sparse grids so memory follows the surface [P2]. It "
          "scales to whole apartments [P3].")

PAPER = """\
Sparse Voxel Diffusion for Indoor Scene Completion
Ada Lovelace1, Alan Turing2
1University of Somewhere, 2Institute of Elsewhere
Abstract
Indoor scene completion recovers the missing geometry of partially scanned rooms. We
propose a sparse voxel diffusion model that completes scans at high resolution.
Experiments show that sparse diffusion scales to whole apartments.
1. Introduction
Depth sensors capture rooms only partially, because furniture occludes large parts of
the scene. We build on diffusion models for images [7, 8] and adapt them to sparse grids.
2. Method
Our diffusion model denoises the occupancy of sparse voxels around the observed surface.
3. Conclusion
Sparse voxel diffusion completes partially scanned rooms and scales to whole apartments.
References
[1] A. Author. Dense scene completion. In CVPR, 2020.
"""


def completion(content: str = ANSWER, model: str = "test-model") -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000,
            "model": model, "system_fingerprint": None,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


def error_body(message: str, code: str | None = None, type_: str = "invalid_request_error"):
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


pytestmark = pytest.mark.usefixtures("localhost_only")      # tests/conftest.py


@pytest.fixture(autouse=True)
def secret_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in record.getMessage()


@pytest.fixture
def settings(httpserver, monkeypatch) -> SummarySettings:
    monkeypatch.setenv(KEY_ENV, SECRET)
    return SummarySettings(provider="openai", model="test-model",
                           base_url=httpserver.url_for("/v1"), api_key_env=KEY_ENV,
                           max_input_tokens=2000, timeout_seconds=120)   # far above a loaded machine: only the timeout tests shorten it


@pytest.fixture
def paper(tmp_path):
    path = tmp_path / "paper.txt"
    path.write_text(PAPER, encoding="utf-8")
    result = parse_file(path)
    return result.papers[0], result.passages


def body_of(request: Request) -> dict:
    return json.loads(request.get_data(as_text=True))


def assert_clean(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), str(exc.__cause__), str(exc.__context__)):
        assert SECRET not in text


# -------------------------------------------------------------------------------- success

def test_success_request_and_summary(httpserver, settings, paper):
    p, passages = paper
    httpserver.expect_request(PATH, method="POST").respond_with_json(completion())
    summary = summarize_llm(p, passages, settings)
    assert summary.kind == "llm" and summary.model == "test-model"
    assert summary.text == ANSWER
    assert len(summary.sentences) == 3
    (request, _), = httpserver.log
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    body = body_of(request)
    assert body["model"] == "test-model"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    user = body["messages"][1]["content"]
    assert "Sparse Voxel Diffusion for Indoor Scene Completion" in user
    assert "Indoor scene completion recovers the missing geometry" in user   # the abstract
    assert "[P1] (abstract)" in user and "Dense scene completion" not in user  # no references
    # sources: [Pn] is sources[n - 1]; sentences link to the passage they cite
    used = [i for i in range(len(passages)) if passages[i].section != "references"]
    assert [s.index for s in summary.sources] == used
    assert summary.sources[0].line == passages[0].line_start
    assert [s.line for s in summary.sentences] == [summary.sources[k].line for k in range(3)]
    assert summary.cited_sources() == summary.sources[:3]


def test_local_server_without_key_sends_placeholder(httpserver, settings, paper, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    httpserver.expect_request(PATH, method="POST").respond_with_json(completion())
    summarize_llm(*paper, settings)
    (request, _), = httpserver.log
    assert request.headers["Authorization"] == "Bearer not-needed"


def test_no_key_and_no_base_url(monkeypatch, paper):
    monkeypatch.delenv(KEY_ENV, raising=False)
    settings = SummarySettings(provider="openai", api_key_env=KEY_ENV)
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, settings)
    assert str(info.value) == f"set {KEY_ENV} or paperlens.summary.baseUrl"
    assert info.value.kind == "config"
    settings.api_key_env = "OPENAI_API_KEY"
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, settings)
    assert str(info.value) == NO_KEY_MESSAGE == "set OPENAI_API_KEY or paperlens.summary.baseUrl"


# --------------------------------------------------------------------------------- errors

def test_401_refused_key(httpserver, settings, paper):
    httpserver.expect_request(PATH).respond_with_json(
        error_body(f"Incorrect API key provided: {SECRET}.", "invalid_api_key"), status=401)
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, settings)
    assert "the API key was refused (check the variable named in paperlens.summary.apiKeyEnv" \
        in str(info.value)
    assert info.value.kind == "auth"
    assert_clean(info.value)
    summarizer = LLMSummarizer(settings)
    assert SECRET not in repr(summarizer) and SECRET not in str(vars(summarizer).get("model"))


def test_401_service_falls_back_and_reports_once(httpserver, settings, paper, tmp_path):
    p, passages = paper
    httpserver.expect_request(PATH).respond_with_json(
        error_body(f"Incorrect API key provided: {SECRET}.", "invalid_api_key"), status=401)
    reports: list[str] = []
    finished = threading.Event()
    service = SummaryService(settings, tmp_path / "cache", report=reports.append,
                             on_done=lambda paper, summary, error: finished.set())
    try:
        first = service.card_summary(p, passages, "hash-1")
        assert first.kind == "abstract"
        assert finished.wait(10)
        finished.clear()
        second = service.card_summary(p, passages, "hash-1")
        third = service.card_summary(p, passages, "hash-2")   # another paper, same bad key
        if service.pending():
            assert finished.wait(10)
        service.wait(10)
    finally:
        service.close()
    assert second.kind == third.kind == "abstract"
    assert len(reports) == 1 and "API key was refused" in reports[0]
    assert all(SECRET not in r for r in reports)
    assert len(httpserver.log) == 1              # a refused key stops further requests


def test_429_then_success_honours_retry_after(httpserver, settings, paper):
    httpserver.expect_ordered_request(PATH).respond_with_json(
        error_body("Rate limit reached", "rate_limit_exceeded", "requests"), status=429,
        headers={"Retry-After": "1"})
    httpserver.expect_ordered_request(PATH).respond_with_json(completion())
    slept: list[float] = []
    summary = summarize_llm(*paper, settings, sleep=slept.append)
    assert summary.kind == "llm"
    assert slept == [1.0]
    assert len(httpserver.log) == 2


def test_429_retries_are_bounded_by_the_timeout(httpserver, settings, paper):
    settings.timeout_seconds = 2
    httpserver.expect_request(PATH).respond_with_json(
        error_body("Rate limit reached", "rate_limit_exceeded", "requests"), status=429,
        headers={"Retry-After": "30"})
    slept: list[float] = []
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, settings, sleep=slept.append)
    assert info.value.kind == "rate_limit" and "429" in str(info.value)
    assert slept == [] and len(httpserver.log) == 1   # waiting 30 s would pass the deadline


def test_429_backoff_without_retry_after(httpserver, settings, paper):
    for _ in range(3):
        httpserver.expect_ordered_request(PATH).respond_with_json(error_body("busy"), status=429)
    httpserver.expect_ordered_request(PATH).respond_with_json(completion())
    slept: list[float] = []
    summarize_llm(*paper, settings, sleep=slept.append)
    assert slept == [0.5, 1.0, 2.0]            # exponential, at most MAX_ATTEMPTS requests
    assert len(httpserver.log) == summarize.MAX_ATTEMPTS


def test_timeout(httpserver, settings, paper):
    settings.timeout_seconds = 1
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)                       # longer than timeout_seconds
        return Response(json.dumps(completion()), content_type="application/json")

    httpserver.expect_request(PATH).respond_with_handler(slow)
    try:
        with pytest.raises(SummaryError) as info:
            summarize_llm(*paper, settings)
    finally:
        release.set()
    assert "the model server did not answer within 1 s" in str(info.value)
    assert info.value.kind == "timeout"
    assert_clean(info.value)


def test_malformed_json(httpserver, settings, paper):
    httpserver.expect_request(PATH).respond_with_data('{"choices": [ oops',
                                                      content_type="application/json")
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, settings)
    assert "the server's answer was not valid" in str(info.value)
    assert info.value.kind == "invalid"


def test_json_without_choices(httpserver, settings, paper):
    httpserver.expect_request(PATH).respond_with_json({"detail": "hello"})
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, settings)
    assert info.value.kind == "invalid"


def test_connection_refused(settings, paper):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.base_url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, settings)
    assert f"cannot reach http://127.0.0.1:{port}/v1" in str(info.value)
    assert info.value.kind == "connection"
    assert_clean(info.value)


def _long_paper(tmp_path: Path):
    parts = ["Sparse Voxel Diffusion for Indoor Scene Completion", "Ada Lovelace1, Alan Turing2",
             "1University of Somewhere", "Abstract",
             "We propose a sparse voxel diffusion model for indoor scene completion.", ""]
    for k, name in enumerate(["Introduction", "Method", "Experiments", "Conclusion"], start=1):
        parts.append(f"{k}. {name}")
        for j in range(2):
            parts.append(f"Paragraph {j} of {name} explains one idea about voxels, diffusion "
                         f"steps and occupancy grids in section {k}. " * 5)
            parts.append("")
    path = tmp_path / "long.txt"
    path.write_text("\n".join(parts), encoding="utf-8")
    result = parse_file(path)
    return result.papers[0], result.passages


def test_context_too_long_then_smaller_prompt(httpserver, settings, tmp_path):
    p, passages = _long_paper(tmp_path)
    settings.max_input_tokens = 1400
    calls = []

    def handler(request: Request) -> Response:
        calls.append(body_of(request))
        if len(calls) == 1:
            return Response(json.dumps(error_body(
                "This model's maximum context length is 512 tokens. However, your messages "
                "resulted in 1200 tokens.", "context_length_exceeded")), status=400,
                content_type="application/json")
        return Response(json.dumps(completion()), content_type="application/json")

    httpserver.expect_request(PATH).respond_with_handler(handler)
    summary = summarize_llm(p, passages, settings)
    assert summary.kind == "llm"
    sizes = [messages_tokens(c["messages"], "test-model") for c in calls]
    assert sizes[0] <= 1400 and all(s <= 700 for s in sizes[1:])
    assert len(calls) >= 2 and sizes[1] < sizes[0]


def test_context_too_long_twice_gives_up(httpserver, settings, paper):
    httpserver.expect_request(PATH).respond_with_json(
        error_body("maximum context length exceeded", "context_length_exceeded"), status=400)
    with pytest.raises(SummaryError) as info:
        summarize_llm(*paper, settings)
    assert info.value.kind == "context" and "maxInputTokens" in str(info.value)
    assert len(httpserver.log) == 2           # the first try and one retry at half the budget


def test_map_reduce_long_paper(httpserver, settings, tmp_path):
    p, passages = _long_paper(tmp_path)
    settings.max_input_tokens = 400
    httpserver.expect_request(PATH).respond_with_json(completion("Part summary [P1]."))
    summary = summarize_llm(p, passages, settings)
    bodies = [body_of(r) for r, _ in httpserver.log]
    assert 3 <= len(bodies) <= summarize.MAX_PARTS + 1      # parts, then one reduce call
    assert all("part of a research paper" in b["messages"][1]["content"] for b in bodies[:-1])
    assert "summaries of consecutive parts" in bodies[-1]["messages"][1]["content"]
    assert all(messages_tokens(b["messages"], "test-model") <= 400 for b in bodies)
    assert summary.sources[0].index == 0


# ------------------------------------------------------------------- offline token budget

def test_token_budget_with_real_encodings_offline(httpserver, settings, tmp_path, monkeypatch):
    """Empty tokenizer cache, no network: the encoding comes from the bundled BPE files."""
    import tiktoken.registry
    cache = tmp_path / "tiktoken"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    monkeypatch.setattr(tokens, "_ENCODINGS", {})
    p, passages = _long_paper(tmp_path)
    settings.model = "gpt-4o-mini"
    settings.max_input_tokens = 600
    httpserver.expect_request(PATH).respond_with_json(completion())
    summarize_llm(p, passages, settings)
    assert any(cache.iterdir())                       # seeded offline, nothing downloaded
    assert tokens.encoding_for("gpt-4o-mini").name == "o200k_base"
    # counted without tiktoken's own encoder (its tables take 80 MB of the server)...
    assert tiktoken.registry.ENCODINGS == {}
    # ...and within the budget by tiktoken's count, from the cache seeded offline
    reference = tiktoken.get_encoding("o200k_base")
    for request, _ in httpserver.log:
        messages = body_of(request)["messages"]
        exact = sum(len(reference.encode_ordinary(m["content"])) + 4 for m in messages) + 3
        assert exact <= 600


# ------------------------------------------------------------------ background scheduling

def test_card_summary_schedules_in_background(httpserver, settings, paper, tmp_path):
    p, passages = paper
    proceed = threading.Event()

    def gated(request: Request) -> Response:
        proceed.wait(10)                      # the server answers only after the first call
        return Response(json.dumps(completion()), content_type="application/json")

    httpserver.expect_request(PATH).respond_with_handler(gated)
    done = threading.Event()
    results = []
    service = SummaryService(settings, tmp_path / "cache", max_workers=2,
                             on_done=lambda paper, summary, error: (results.append(
                                 (paper.id, summary, error)), done.set()))
    try:
        first = service.card_summary(p, passages, "hash-1")
        again = service.card_summary(p, passages, "hash-1")   # same paper: not requested twice
        assert first.kind == again.kind == "abstract"
        assert service.pending() == 1
        proceed.set()
        assert done.wait(10)
        second = service.card_summary(p, passages, "hash-1")
    finally:
        proceed.set()
        service.close()
    assert second.kind == "llm" and second.text == ANSWER
    assert results[0][0] == p.id and results[0][2] is None
    assert len(httpserver.log) == 1

    # a new service over the same cache: the LLM summary without any request
    httpserver.clear_log()
    fresh = SummaryService(settings, tmp_path / "cache")
    try:
        cached = fresh.card_summary(p, passages, "hash-1")
        assert cached.kind == "llm" and cached.text == ANSWER
        assert fresh.pending() == 0
    finally:
        fresh.close()
    assert len(httpserver.log) == 0


def test_fill_library(httpserver, settings, paper, tmp_path):
    p, passages = paper
    httpserver.expect_request(PATH).respond_with_json(completion())
    service = SummaryService(settings, tmp_path / "cache")
    seen = []
    result = service.fill([(p, passages, f"h{k}") for k in range(3)],
                          progress=lambda done, paper, summary, error: seen.append(summary.kind),
                          concurrency=2)
    assert (result.total, result.computed, result.cached, result.fallback) == (3, 3, 0, 0)
    assert seen == ["llm"] * 3 and len(httpserver.log) == 3
    again = SummaryService(settings, tmp_path / "cache").fill([(p, passages, "h0")])
    assert again.cached == 1 and len(httpserver.log) == 3
