"""Summaries on disk: ``SummaryCache``."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Optional

from paperlens.core.summarize.budget import PROMPT_VERSION
from paperlens.core.summarize.extractive import EXTRACTIVE_VERSION
from paperlens.core.summarize.records import Summary

log = logging.getLogger(__name__)

MAX_CACHE_FILE_BYTES = 1024 * 1024     # one cached summary (ours are a few KB)


def _read_regular(path: Path, cap: int) -> Optional[bytes]:
    """The bytes of ``path`` if it is a regular file of at most ``cap`` bytes, else None (never
    blocking on a FIFO, never reading a device: corpus.read_regular). Raises OSError as
    ``open`` does (FileNotFoundError included)."""
    from paperlens.core.corpus import read_regular
    try:
        return read_regular(path, cap)
    except ValueError:
        return None


class SummaryCache:
    """Summaries on disk, one JSON file per key, written atomically (temp file + os.replace).

    The key is sha256 of (paper content hash, provider, model, version, base URL); ``version``
    is ``PROMPT_VERSION`` for LLM summaries and ``EXTRACTIVE_VERSION`` for extractive ones.
    Nothing secret is stored (the base URL only enters the hash).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @staticmethod
    def key(content_hash: str, provider: str, model: str = "", base_url: str = "",
            version: Optional[str] = None) -> str:
        if version is None:
            version = EXTRACTIVE_VERSION if provider == "extractive" else PROMPT_VERSION
        raw = json.dumps([content_hash, provider, model, version, base_url.strip()],
                         ensure_ascii=False)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, content_hash: str, provider: str, model: str = "", base_url: str = "",
            version: Optional[str] = None) -> Optional[Summary]:
        path = self.path(self.key(content_hash, provider, model, base_url, version))
        try:
            raw = _read_regular(path, MAX_CACHE_FILE_BYTES)
            if raw is None:
                log.warning("summary cache: ignoring %s: not a file of at most %d KB", path.name,
                            MAX_CACHE_FILE_BYTES // 1024)
                return None
            data = json.loads(raw.decode("utf-8"))
            return Summary.from_dict(data["summary"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
            log.warning("summary cache: ignoring unreadable %s: %s", path.name,
                        type(exc).__name__)
            return None

    def put(self, content_hash: str, provider: str, model: str, base_url: str,
            summary: Summary, version: Optional[str] = None) -> None:
        if version is None:
            version = EXTRACTIVE_VERSION if provider == "extractive" else PROMPT_VERSION
        path = self.path(self.key(content_hash, provider, model, base_url, version))
        data = {"provider": provider, "model": model, "version": version,
                "created": time.time(), "summary": summary.to_dict()}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        finally:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
