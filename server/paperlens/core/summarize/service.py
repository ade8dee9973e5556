"""``SummaryService``: what the server and the CLI use.

``card_summary`` answers at once (the cached LLM summary, else the extractive one) and
schedules the LLM summary on a background worker; ``fill`` fills the cache for a whole library.
"""
from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Protocol

from paperlens.core.models import Paper, Passage
from paperlens.core.summarize.cache import SummaryCache
from paperlens.core.summarize.client import LLMSummarizer
from paperlens.core.summarize.extractive import extractive_summary
from paperlens.core.summarize.records import Summary, SummaryError

if TYPE_CHECKING:
    from paperlens.config import SummarySettings

log = logging.getLogger(__name__)


class Summarizer(Protocol):
    """What makes LLM summaries (``LLMSummarizer``; tests give their own)."""

    def summarize(self, paper: Paper, passages: list[Passage]) -> Summary: ...

    def close(self) -> None: ...


@dataclass
class FillResult:
    total: int = 0
    cached: int = 0               # already in the cache (provider's kind)
    computed: int = 0             # newly made with the provider (llm or extractive)
    fallback: int = 0             # openai failed: only the extractive summary is there
    errors: list[str] = field(default_factory=list)


class _DaemonPool:
    """A few daemon threads running submitted calls (``concurrent.futures`` futures).

    ``ThreadPoolExecutor`` threads are joined when the interpreter exits: a summary request
    stuck on a slow server would keep the process alive after the editor said ``exit``. These
    threads never hold the process; ``shutdown`` cancels what has not started."""

    def __init__(self, max_workers: int, name: str) -> None:
        self._max, self._name = max(1, max_workers), name
        self._queue: "queue.SimpleQueue" = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the summary pool is shut down")
            self._queue.put((future, fn, args))
            if len(self._threads) < self._max:
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"{self._name}_{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:   # noqa: BLE001 - handed to the future
                    future.set_exception(exc)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            threads = len(self._threads)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
                item[0].set_running_or_notify_cancel()   # wakes up whoever waits for it
        for _ in range(threads):
            self._queue.put(None)


# the next paper would fail the same way: LLM summaries stop, and the user is told (``alert``)
# that the settings need a change
_STOP_KINDS = ("config", "auth", "connection")


class SummaryService:
    """Summaries for the server and the CLI.

    ``card_summary`` never blocks on the network: it returns the cached LLM summary, else the
    extractive one (computed and cached), and with provider ``openai`` schedules the LLM summary
    on a background pool (``max_workers`` at a time, one request per paper in flight).
    ``on_done(paper, summary, error)`` is called from the worker when it finishes
    (``summary`` None and ``error`` a ``SummaryError`` on failure). Errors are passed to
    ``report(message)`` (else logged) once per kind of error; configuration, key and connection
    errors stop further LLM requests of this service and go to ``alert(message)`` instead when
    it is given (the server shows them to the user: one service per configuration, so once per
    configuration). Messages carry no prefix: the caller says where they come from.
    """

    def __init__(self, settings: SummarySettings,
                 cache: SummaryCache | Path | str | None = None, *,
                 report: Optional[Callable[[str], None]] = None,
                 alert: Optional[Callable[[str], None]] = None,
                 on_done: Optional[Callable[[Paper, Optional[Summary], Optional[SummaryError]],
                                            None]] = None,
                 max_workers: int = 2,
                 summarizer_factory: Optional[Callable[[SummarySettings], Summarizer]] = None,
                 retry_failed_after: float = 300.0) -> None:
        self.settings = settings
        if cache is not None and not isinstance(cache, SummaryCache):
            cache = SummaryCache(cache)
        self.cache: Optional[SummaryCache] = cache
        self._memory: dict[str, Summary] = {}
        self.report_fn = report
        self.alert_fn = alert
        self.on_done = on_done
        self.max_workers = max(1, int(max_workers))
        self._factory = summarizer_factory or LLMSummarizer
        self._summarizer: Optional[Summarizer] = None
        self._lock = threading.RLock()
        self._executor: Optional[_DaemonPool] = None
        self._inflight: dict[str, concurrent.futures.Future] = {}
        self._failed: dict[str, float] = {}
        self._retry_failed_after = retry_failed_after
        self._reported: set[str] = set()
        self._disabled: Optional[str] = None
        self._closed = False

    # --------------------------------------------------------------------------- helpers

    @property
    def llm_enabled(self) -> bool:
        return self.settings.provider == "openai" and self._disabled is None

    def _llm_ident(self) -> tuple[str, str]:
        return self.settings.model, (self.settings.base_url or "").strip()

    def _get(self, content_hash: str, provider: str) -> Optional[Summary]:
        model, base = self._llm_ident() if provider == "openai" else ("", "")
        key = SummaryCache.key(content_hash, provider, model, base)
        hit = self._memory.get(key)
        if hit is None and self.cache is not None:
            hit = self.cache.get(content_hash, provider, model, base)
            if hit is not None:
                self._memory[key] = hit
        return hit

    def _put(self, content_hash: str, provider: str, summary: Summary) -> None:
        model, base = self._llm_ident() if provider == "openai" else ("", "")
        self._memory[SummaryCache.key(content_hash, provider, model, base)] = summary
        if self.cache is not None:
            try:
                self.cache.put(content_hash, provider, model, base, summary)
            except OSError as exc:
                self.report(f"cannot write the summary cache in {self.cache.root}: "
                            f"{exc.strerror or exc}", kind="cache")

    def report(self, message: str, kind: str = "error") -> None:
        """Report ``message`` once per ``kind``."""
        with self._lock:
            if kind in self._reported:
                log.debug("summaries (reported before): %s", message)
                return
            self._reported.add(kind)
        fn = (self.alert_fn if kind in _STOP_KINDS else None) or self.report_fn
        if fn is not None:
            try:
                fn(message)
                return
            except Exception:   # noqa: BLE001 - a broken callback must not break summaries
                log.exception("summary report callback failed")
        log.warning("summaries: %s", message)

    def _llm(self) -> Summarizer:
        with self._lock:
            if self._closed:
                raise SummaryError("the summary service is closed", kind="stopped")
            if self._summarizer is None:
                self._summarizer = self._factory(self.settings)
            return self._summarizer

    def _handle_error(self, exc: SummaryError) -> None:
        if exc.kind in _STOP_KINDS:
            with self._lock:
                self._disabled = exc.message
        self.report(f"{exc.message}; showing extractive summaries", kind=exc.kind)

    # ----------------------------------------------------------------------------- public

    def extractive(self, paper: Paper, passages: list[Passage], content_hash: str) -> Summary:
        """The extractive summary (from the cache, or computed and cached)."""
        hit = self._get(content_hash, "extractive")
        if hit is not None:
            return hit
        summary = extractive_summary(paper, passages)
        self._put(content_hash, "extractive", summary)
        return summary

    def cached_llm(self, content_hash: str) -> Optional[Summary]:
        if self.settings.provider != "openai":
            return None
        return self._get(content_hash, "openai")

    def card_summary(self, paper: Paper, passages: list[Passage], content_hash: str) -> Summary:
        """At once: the cached LLM summary, else the extractive one (and, with provider
        ``openai``, the LLM summary is scheduled in the background)."""
        if self.settings.provider == "openai":
            hit = self._get(content_hash, "openai")
            if hit is not None:
                return hit
        summary = self.extractive(paper, passages, content_hash)
        if self.llm_enabled:
            self.schedule(paper, passages, content_hash)
        return summary

    def schedule(self, paper: Paper, passages: list[Passage],
                 content_hash: str) -> Optional[concurrent.futures.Future]:
        """Start the LLM summary of ``paper`` in the background unless it is cached, running,
        or failed recently. Returns the (possibly shared) future, or None."""
        with self._lock:
            if self._closed or not self.llm_enabled:
                return None
            running = self._inflight.get(content_hash)
            if running is not None:
                return running
            failed_at = self._failed.get(content_hash)
            if failed_at is not None and time.monotonic() - failed_at < self._retry_failed_after:
                return None
            if self._executor is None:
                self._executor = _DaemonPool(self.max_workers, "paperlens-summary")
            future = self._executor.submit(self._run, paper, list(passages), content_hash)
            self._inflight[content_hash] = future
            future.add_done_callback(lambda f: f.cancelled() and self._forget(content_hash, f))
            return future

    def _forget(self, content_hash: str, future: concurrent.futures.Future) -> None:
        """A summary cancelled before it started is no longer in flight."""
        with self._lock:
            if self._inflight.get(content_hash) is future:
                del self._inflight[content_hash]

    def _run(self, paper: Paper, passages: list[Passage],
             content_hash: str) -> Optional[Summary]:
        summary: Optional[Summary] = None
        error: Optional[SummaryError] = None
        try:
            summary = self._get(content_hash, "openai")
            if summary is None:
                if not self.llm_enabled:
                    raise SummaryError(self._disabled or "LLM summaries are off", kind="disabled")
                summary = self._llm().summarize(paper, passages)
                self._put(content_hash, "openai", summary)
        except SummaryError as exc:
            error = exc
            if exc.kind != "disabled" and not self._closed:
                self._handle_error(exc)
        except Exception as exc:   # noqa: BLE001 - a bug must not kill the worker silently
            log.exception("summary of %s failed", paper.id)
            error = SummaryError(f"unexpected error: {type(exc).__name__}", kind="unexpected")
            self.report(error.message, kind="unexpected")
        finally:
            with self._lock:
                self._inflight.pop(content_hash, None)
                if error is not None:
                    self._failed[content_hash] = time.monotonic()
                else:
                    self._failed.pop(content_hash, None)
        if self.on_done is not None and not self._closed:
            try:
                self.on_done(paper, summary, error)
            except Exception:   # noqa: BLE001
                log.exception("summary on_done callback failed")
        return summary

    def pending(self) -> int:
        with self._lock:
            return len(self._inflight)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait for the scheduled summaries; True when none is left running."""
        with self._lock:
            futures = list(self._inflight.values())
        done, not_done = concurrent.futures.wait(futures, timeout=timeout)
        return not not_done

    def fill(self, papers_iter: Iterable[tuple[Paper, list[Passage], str]],
             progress: Optional[Callable[[int, Paper, Optional[Summary], Optional[str]], None]] = None,
             concurrency: int = 2) -> FillResult:
        """Fill the cache for a library: ``papers_iter`` yields ``(paper, passages,
        content_hash)``. Extractive summaries always; with provider ``openai`` also the LLM
        ones, ``concurrency`` at a time (after a key or connection error the rest get only
        extractive ones). ``progress(done, paper, summary, error)`` is called per paper."""
        result = FillResult()
        use_llm = self.settings.provider == "openai"
        done = 0

        def finish(paper: Paper, summary: Optional[Summary], error: Optional[str]) -> None:
            nonlocal done
            done += 1
            if error is not None:
                result.errors.append(f"{paper.key or paper.title or paper.id}: {error}")
            if progress is not None:
                progress(done, paper, summary, error)

        def work(paper: Paper, passages: list[Passage], content_hash: str):
            if self._disabled is not None:
                return "fallback", None, self._disabled
            try:
                summary = self._llm().summarize(paper, passages)
            except SummaryError as exc:
                self._handle_error(exc)
                return "fallback", None, exc.message
            self._put(content_hash, "openai", summary)
            return "computed", summary, None

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, concurrency),
                                                     thread_name_prefix="paperlens-fill")
        pending: dict[concurrent.futures.Future, tuple[Paper, Summary]] = {}
        try:
            def drain(block_until: int) -> None:
                while len(pending) > block_until:
                    finished, _ = concurrent.futures.wait(
                        pending, return_when=concurrent.futures.FIRST_COMPLETED)
                    for fut in finished:
                        paper, extractive = pending.pop(fut)
                        status, summary, error = fut.result()
                        if status == "computed":
                            result.computed += 1
                        else:
                            result.fallback += 1
                        finish(paper, summary or extractive, error)

            for paper, passages, content_hash in papers_iter:
                result.total += 1
                ext_cached = self._get(content_hash, "extractive")
                extractive = ext_cached or self.extractive(paper, passages, content_hash)
                if not use_llm:
                    if ext_cached is not None:
                        result.cached += 1
                    else:
                        result.computed += 1
                    finish(paper, extractive, None)
                    continue
                hit = self._get(content_hash, "openai")
                if hit is not None:
                    result.cached += 1
                    finish(paper, hit, None)
                    continue
                if self._disabled is not None:
                    result.fallback += 1
                    finish(paper, extractive, self._disabled)
                    continue
                pending[pool.submit(work, paper, list(passages), content_hash)] = (paper, extractive)
                drain(2 * max(1, concurrency))
            drain(0)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return result

    def close(self) -> None:
        """Stop the background work: queued summaries are cancelled, requests in flight end at
        once (``LLMSummarizer.close``), nothing is reported after. Never waits; the workers
        are daemon threads, so nothing here keeps the process from exiting."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            summarizer = self._summarizer
        if executor is not None:
            executor.shutdown()
        if summarizer is not None and hasattr(summarizer, "close"):
            try:
                summarizer.close()
            except Exception:   # noqa: BLE001 - closing must not fail a shutdown
                log.exception("closing the summarizer failed")

    shutdown = close
