"""The LLM summary: chat completions with the ``openai`` client (OpenAI or any
OpenAI-compatible server through ``base_url``), each call bounded in time and size and retried
on 429/5xx within its deadline; failures are a ``SummaryError`` with a message for the user, and
the API key never appears in messages or logs."""
from __future__ import annotations

import email.utils
import logging
import os
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

from paperlens.core.models import Paper, Passage
from paperlens.core.summarize.budget import MAX_PARTS, TokenCounter, plan_prompts, reduce_prompt
from paperlens.core.summarize.records import (Summary, SummaryError, SummarySentence,
                                              SummarySource, cited_numbers)
from paperlens.core.summarize.sentences import split_sentences
from paperlens.core.summarize.transport import CALL, MAX_ANSWER_BYTES, bounded_http_client

if TYPE_CHECKING:
    from paperlens.config import SummarySettings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4                  # one call: the first try and at most 3 retries (429 / 5xx)
MAX_SUMMARY_CHARS = 16 * 1024     # what is kept of the summary a model writes
NO_KEY_MESSAGE = "set OPENAI_API_KEY or paperlens.summary.baseUrl"
PLACEHOLDER_KEY = "not-needed"

_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)


def _strip_think(text: str) -> str:
    """``text`` without the ``<think>…</think>`` blocks of reasoning models (each replaced by a
    space; an unclosed one is kept). Linear: ``<think>.*?</think>`` as one pattern scanned to
    the end for every unclosed ``<think>``."""
    out, i = [], 0
    while True:
        start = _THINK_OPEN.search(text, i)
        end = _THINK_CLOSE.search(text, start.end()) if start else None
        if end is None:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:start.start()])
        out.append(" ")
        i = end.end()


_CONTEXT_WORDS = re.compile(r"context_length_exceeded|context length|context window|"
                            r"maximum context|too many tokens|exceeds? the (?:maximum|context)|"
                            r"prompt is too long|n_ctx|input is too long", re.IGNORECASE)


class _ContextTooLong(Exception):
    pass


def _retry_after(headers: Any) -> Optional[float]:
    """Seconds the server asks to wait (``retry-after-ms``, ``retry-after``: seconds or date)."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is None:
                return None
            return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    except Exception:   # noqa: BLE001
        return None


def _host(url: str) -> str:
    """``url`` fit to show: no user info, query values or fragment (never show credentials)."""
    from paperlens.config import redacted_url
    return redacted_url(url) or "the configured server"


def _split_url(url: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """``http://user:pw@h/v1?api-key=K`` -> (``http://h/v1``, ``{"api-key": "K"}``,
    ``{"Authorization": "Basic …"}``).

    The client joins the endpoint's path to the base URL's path, so a query left in the base
    URL would end up inside the path (``/v1/?api-key=Kchat/completions``): it is sent as the
    query. The user name and password become the Basic authorization they stand for (as the
    HTTP library would make of them), so that the URL it logs carries no password."""
    import base64
    from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return url, {}, {}
    if not parts.query and "@" not in parts.netloc:
        return url, {}, {}
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    headers: dict[str, str] = {}
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")), query, headers


class LLMSummarizer:
    """Chat-completions summaries with the ``openai`` client, configured from
    ``SummarySettings`` (model, base_url, api_key_env, timeout_seconds, max_input_tokens).

    ``timeout_seconds`` bounds each call including its retries, from the first byte sent to
    the last received (a server that answers a byte at a time is cut off at the deadline):
    429 and 5xx answers are retried at most ``MAX_ATTEMPTS - 1`` times with exponential
    backoff or the server's ``Retry-After``, and never past the deadline. Answers larger than
    ``MAX_ANSWER_BYTES`` are refused. ``close()`` ends the calls in flight.
    """

    def __init__(self, settings: SummarySettings, *, sleep: Optional[Callable[[float], None]] = None,
                 max_parts: int = MAX_PARTS) -> None:
        self.settings = settings
        self.model = settings.model
        self.base_url = (settings.base_url or "").strip()
        self.timeout = float(settings.timeout_seconds)
        self.max_parts = max_parts
        self._stop = threading.Event()
        self._sleep = sleep or (lambda seconds: self._stop.wait(seconds))
        env = settings.api_key_env or "OPENAI_API_KEY"
        key = os.environ.get(env, "").strip()
        if not key:
            if not self.base_url:
                raise SummaryError(NO_KEY_MESSAGE.replace("OPENAI_API_KEY", env), kind="config")
            key = PLACEHOLDER_KEY         # local servers (Ollama, vLLM, llama.cpp) need none
        self._secret = key if key != PLACEHOLDER_KEY else ""
        try:
            import openai
        except ImportError:
            raise SummaryError("the openai package is not installed (pip install openai)",
                               kind="config") from None
        self._openai = openai
        base, query, headers = _split_url(self.base_url)
        self._secrets = [v for v in (self._secret, *query.values(), *self._url_password())
                         if len(v) >= 4]
        self._http: Any = None
        failed = ""
        try:
            self._http = bounded_http_client(openai, self.timeout)
            self._client = openai.OpenAI(api_key=key, base_url=base or None,
                                         default_query=query or None,
                                         default_headers=headers or None, timeout=self.timeout,
                                         max_retries=0, http_client=self._http)
        except Exception as exc:   # noqa: BLE001 - its text may quote the URL: not shown
            failed = type(exc).__name__
        if failed:
            if self._http is not None:
                self._http.close()
            raise SummaryError(f"cannot set up the OpenAI client ({failed}; check "
                               "paperlens.summary.baseUrl)", kind="config")
        self.server = _host(self.base_url or str(getattr(self._client, "base_url", "")) or
                            "https://api.openai.com/v1")

    def __repr__(self) -> str:
        return f"LLMSummarizer(model={self.model!r}, server={self.server!r})"

    def close(self) -> None:
        """Stop: calls in flight end at once (their connections are shut down) with a
        ``SummaryError``, and no new call starts."""
        self._stop.set()
        try:
            self._http.abort()
        except Exception:   # noqa: BLE001
            pass
        try:
            self._client.close()
        except Exception:   # noqa: BLE001
            pass

    def _scrub(self, text: str) -> str:
        for secret in getattr(self, "_secrets", None) or [getattr(self, "_secret", "")]:
            if secret:
                text = text.replace(secret, "***")
        return text[:300]

    def _url_password(self) -> list[str]:
        from urllib.parse import unquote, urlsplit
        try:
            password = urlsplit(self.base_url).password
        except ValueError:
            return []
        return [password, unquote(password)] if password else []

    # ------------------------------------------------------------------------------ calls

    def complete(self, messages: list[dict[str, str]]) -> str:
        """One chat completion: bounded retries within ``timeout_seconds`` (summaries and the
        citation check use it).

        Errors are raised outside of ``except`` blocks, so that no exception of the client (whose
        text may quote the server) is chained to ours as ``__context__``."""
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if self._stop.is_set():
                raise SummaryError("the summary request was stopped", kind="stopped")
            if remaining <= 0.05:
                raise self._timeout_error()
            outcome: Any = None
            CALL.start(deadline, self._stop)
            try:
                response = self._client.chat.completions.create(
                    model=self.model, messages=messages, timeout=remaining)
            except Exception as exc:   # noqa: BLE001 - mapped to SummaryError below
                attempt += 1
                outcome = self._classify(exc, attempt, deadline)
            finally:
                CALL.end()
            if outcome is None:
                return self._content(response)
            if isinstance(outcome, float):
                log.info("summary: %s is busy, retrying in %.1f s", self.server, outcome)
                self._sleep(outcome)
                continue
            raise outcome

    def _classify(self, exc: Exception, attempt: int, deadline: float) -> Any:
        """An error of the client -> seconds to wait before retrying, or the exception to
        raise (``SummaryError`` or ``_ContextTooLong``)."""
        openai = self._openai
        if CALL.too_large:
            return SummaryError(f"the answer of {self.server} was larger than "
                                f"{MAX_ANSWER_BYTES // (1024 * 1024)} MB", kind="invalid")
        if CALL.stopped or self._stop.is_set():
            return SummaryError("the summary request was stopped", kind="stopped")
        if isinstance(exc, openai.APITimeoutError):
            return self._timeout_error()
        if isinstance(exc, openai.APIConnectionError):
            return self._connection_error(exc)
        if isinstance(exc, openai.APIResponseValidationError):
            return self._invalid()
        if isinstance(exc, openai.AuthenticationError):
            return SummaryError(
                f"the API key was refused (check the variable named in "
                f"paperlens.summary.apiKeyEnv, now {self.settings.api_key_env!r})",
                kind="auth", status=401)
        if isinstance(exc, openai.PermissionDeniedError):
            return SummaryError(
                f"the server refused access to model {self.model!r} (check the key's "
                "permissions or paperlens.summary.model)", kind="auth", status=403)
        if isinstance(exc, openai.NotFoundError):
            return SummaryError(          # every later request would fail the same way
                f"{self.server} has no model {self.model!r} or no chat-completions endpoint "
                "(check paperlens.summary.model, and that paperlens.summary.baseUrl ends in "
                "/v1)", kind="config", status=404)
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status in (400, 413, 422) and self._context_too_long(exc):
                return _ContextTooLong()
            if status == 429 and self._code(exc) == "insufficient_quota":
                return SummaryError("the API account has no quota left (check its billing)",
                                    kind="rate_limit", status=429)
            if status in (408, 409, 429) or status >= 500:
                delay = _retry_after(getattr(exc.response, "headers", None))
                if delay is None:
                    delay = min(8.0, 0.5 * 2 ** (attempt - 1))
                if attempt >= MAX_ATTEMPTS or time.monotonic() + delay >= deadline - 0.05:
                    return self._busy_error(status)
                return float(delay)
            return SummaryError(f"the server rejected the request (HTTP {status}): "
                                f"{self._scrub(self._detail(exc))}", kind="http", status=status)
        if isinstance(exc, openai.OpenAIError):
            return SummaryError(f"the summary request failed ({type(exc).__name__})", kind="http")
        if isinstance(exc, (ValueError, TypeError, KeyError, AttributeError, IndexError)):
            return self._invalid()              # JSON or schema errors in the answer
        return SummaryError(f"the summary request failed ({type(exc).__name__})", kind="http")

    def _content(self, response: Any) -> str:
        content: Any = None
        try:
            if not isinstance(response, str):
                content = response.choices[0].message.content
        except Exception:   # noqa: BLE001 - missing or mistyped fields
            content = None
        if not isinstance(content, str):
            raise self._invalid()
        text = " ".join(_strip_think(content).split())
        if not text:
            raise SummaryError("the model answered with an empty summary", kind="empty")
        return text[:MAX_SUMMARY_CHARS]       # a card shows a few sentences, not a book

    def _timeout_error(self) -> SummaryError:
        return SummaryError(f"the model server did not answer within {self.timeout:g} s "
                            "(raise paperlens.summary.timeoutSeconds or use a smaller model)",
                            kind="timeout")

    def _connection_error(self, exc: Exception) -> SummaryError:
        return SummaryError(f"cannot reach {self.server} (is the server running? check "
                            "paperlens.summary.baseUrl)", kind="connection")

    def _busy_error(self, status: int) -> SummaryError:
        if status == 429:
            return SummaryError(f"the model server is rate limiting requests (HTTP 429) and did "
                                f"not accept one within {self.timeout:g} s; try again later",
                                kind="rate_limit", status=429)
        return SummaryError(f"the model server failed (HTTP {status}); try again later",
                            kind="http", status=status)

    def _invalid(self) -> SummaryError:
        return SummaryError(f"the server's answer was not valid (is {self.server} an "
                            "OpenAI-compatible chat-completions server?)", kind="invalid")

    @staticmethod
    def _code(exc: Any) -> str:
        code = getattr(exc, "code", None)
        body = getattr(exc, "body", None)
        if not code and isinstance(body, dict):
            inner = body.get("error") if isinstance(body.get("error"), dict) else body
            code = inner.get("code")
        return str(code or "")

    @staticmethod
    def _detail(exc: Any) -> str:
        body = getattr(exc, "body", None)
        if isinstance(body, dict):
            inner = body.get("error") if isinstance(body.get("error"), dict) else body
            msg = inner.get("message")
            if isinstance(msg, str):
                return msg
        if isinstance(body, str):
            return body
        return getattr(exc, "message", "") or ""

    def _context_too_long(self, exc: Any) -> bool:
        return self._code(exc) == "context_length_exceeded" or bool(
            _CONTEXT_WORDS.search(self._detail(exc)))

    # ---------------------------------------------------------------------------- summary

    def summarize(self, paper: Paper, passages: list[Passage]) -> Summary:
        budget = int(self.settings.max_input_tokens)
        try:
            return self._summarize(paper, passages, budget)
        except _ContextTooLong:
            pass
        smaller = max(128, budget // 2)   # the model's context is smaller than the budget
        log.info("summary: the prompt was too long for %s; retrying with %d tokens", self.model,
                 smaller)
        too_long = False
        try:
            return self._summarize(paper, passages, smaller)
        except _ContextTooLong:
            too_long = True
        assert too_long
        raise SummaryError(f"the paper does not fit the model's context even at {smaller} "
                           f"tokens (lower paperlens.summary.maxInputTokens)", kind="context")

    def _summarize(self, paper: Paper, passages: list[Passage], budget: int) -> Summary:
        plan = plan_prompts(paper, passages, self.settings, budget=budget,
                            max_parts=self.max_parts)
        if plan.single is not None:
            if not plan.single.used and not paper.abstract.strip():
                raise SummaryError("the paper has no text to summarise", kind="empty")
            text = self.complete(plan.single.messages)
        else:
            partials = [self.complete(part.messages) for part in plan.parts]
            counter = TokenCounter(self.model)
            text = self.complete(reduce_prompt(paper, partials, counter, budget))
        return self._summary(text, passages, plan.used)

    def _summary(self, text: str, passages: list[Passage], used: list[int]) -> Summary:
        sources = [SummarySource(i, passages[i].line_start, passages[i].page) for i in used]
        sentences = []
        default = sources[0] if sources else None
        for s, e in split_sentences(text):
            sentence = text[s:e]
            cited = [n for n in cited_numbers(sentence) if 1 <= n <= len(sources)]
            src = sources[cited[0] - 1] if cited else default
            sentences.append(SummarySentence(sentence, src.line if src else 0,
                                             src.page if src else None))
        return Summary(text=text, sentences=sentences, kind="llm", model=self.model,
                       sources=sources)


def summarize_llm(paper: Paper, passages: list[Passage], settings: SummarySettings, *,
                  sleep: Optional[Callable[[float], None]] = None) -> Summary:
    """An LLM summary of ``paper`` (see ``LLMSummarizer``); raises ``SummaryError``."""
    summarizer = LLMSummarizer(settings, sleep=sleep)
    try:
        return summarizer.summarize(paper, passages)
    finally:
        summarizer.close()
