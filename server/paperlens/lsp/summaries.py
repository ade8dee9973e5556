"""The summary service (extractive, or an LLM's), one per summary configuration: a wrong key or
an unreachable server is shown once per configuration, not on every hover."""
from __future__ import annotations

import logging
from typing import Callable, Optional

from paperlens.config import Settings, summary_cache_dir

log = logging.getLogger(__name__)


class Summaries:
    """``alert(message)``: a setting that needs the user's attention (from any thread)."""

    def __init__(self, alert: Callable[[str], None]) -> None:
        self._alert = alert
        self._current: Optional[tuple] = None      # (configuration key, service)

    def service(self, settings: Settings):
        """The service for ``settings`` (re-created when its summary settings change)."""
        from paperlens.core.summarize import SummaryService

        key = (repr(settings.summary), settings.index_path)
        if self._current is None or self._current[0] != key:
            self.close()
            service = SummaryService(settings.summary, summary_cache_dir(settings.index_path),
                                     report=lambda msg: log.warning("LLM summaries: %s", msg),
                                     alert=self._alert_user, on_done=self._done)
            self._current = (key, service)
        return self._current[1]

    def _alert_user(self, message: str) -> None:
        log.warning("LLM summaries: %s", message)
        self._alert(f"paperlens: LLM summaries: {message}")

    def _done(self, paper, summary, error) -> None:
        if summary is not None:
            log.info("summary ready: %s (%s)", paper.key or paper.title, summary.kind)

    def close(self) -> None:
        """Summary calls in flight end (exit never waits for them)."""
        if self._current is not None:
            self._current[1].close()
            self._current = None
