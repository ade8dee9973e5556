"""Optional word embeddings for completion's ranking (``pip install paperlens[embed]``).

A small static embedding model, wordllama's ``l2_supercat`` (MIT): one vector per token of the
Llama-2 tokenizer, a text's vector the mean of its tokens'. Its weights (16 MB, float16) and its
tokenizer ship inside the ``wordllama`` wheel; they are read from there, never downloaded
(wordllama's own loader looks for the tokenizer in ``wordllama/tokenizer/``, not in
``wordllama/tokenizers/`` where the wheel has it, and would then fetch it: it is not used, nor is
the package imported, whose ``__init__`` configures the root logger). Only numpy and tokenizers
are imported, on the background thread that loads the model, never at start-up.

:func:`title_vectors` gives a library's :class:`TitleVectors` (the titles' vectors, centred on
their mean, int8: ~1.3 MB at 10k titles), built on a background thread: a completion never waits
for the model or the titles (it ranks without them meanwhile). :meth:`TitleVectors.scores`
scores every title against the sentence being written (with the words around the cursor and the
paragraph) and against the titles of the papers cited nearby; core/recommend.py adds the best
to its ranking. On the development theses of bench/cite_recommend.py it adds ~0.01 to recall@10
and MRR over the lexical signals (titles only: the theses' .bib files have no abstracts).
"""
from __future__ import annotations

import importlib.util
import json
import logging
import threading
from pathlib import Path
from typing import Optional, Sequence

log = logging.getLogger(__name__)

WEIGHTS = ("weights", "l2_supercat_256.safetensors")
TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")
DIM = 128                # the model's first 128 dimensions (matryoshka-trained): as good here as 256
MAX_TOKENS = 256         # of a text (a paragraph): the rest is not read
MAX_WEIGHTS_BYTES = 64 << 20

# how the two similarities weigh (each normalised to 0..1 over the library first); chosen on
# the development theses of bench/cite_recommend.py
W_CONTEXT = 0.5          # the sentence (+ the words at the cursor, + the paragraph) vs a title
W_NEARBY = 0.4           # the titles of the papers cited nearby vs a title
NEAR, PARAGRAPH = 0.5, 0.3   # the weights of the cursor's words and of the paragraph in the query
EARLIER_REACH = 3000     # characters: papers cited this shortly before count as nearby (half)


def installed() -> bool:
    """Whether the extra is installed (numpy, tokenizers and wordllama's files), without
    importing anything."""
    try:
        return all(importlib.util.find_spec(m) is not None for m in ("numpy", "tokenizers", "wordllama"))
    except (ImportError, ValueError):
        return False


_installed: Optional[bool] = None


def available() -> bool:
    """Whether the model is installed and did not fail to load (checked once)."""
    global _installed
    if _installed is None:
        _installed = installed()
    return _installed and not _failed


def _files() -> tuple[Path, Path]:
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("wordllama is not installed (pip install paperlens[embed])")
    base = Path(list(spec.submodule_search_locations)[0])
    weights, tokenizer = base.joinpath(*WEIGHTS), base.joinpath(*TOKENIZER)
    for p in (weights, tokenizer):
        if not p.is_file():
            raise FileNotFoundError(f"wordllama's wheel has no {p}")
    return weights, tokenizer


class Model:
    """The token vectors (float16, :data:`DIM` wide) and the tokenizer."""

    def __init__(self, weights: Path, tokenizer: Path) -> None:
        import numpy as np
        from tokenizers import Tokenizer

        size = weights.stat().st_size
        if size > MAX_WEIGHTS_BYTES:
            raise ValueError(f"{weights}: {size} bytes, not a small embedding model")
        with open(weights, "rb") as f:        # safetensors: 8-byte header length, JSON header, data
            n = int.from_bytes(f.read(8), "little")
            if not 0 < n < 1 << 20:
                raise ValueError(f"{weights}: not a safetensors file")
            meta = json.loads(f.read(n))["embedding.weight"]
            start, end = meta["data_offsets"]
            rows, dim = meta["shape"]
            if meta["dtype"] != "F16" or end - start != rows * dim * 2 or 8 + n + end > size or dim < DIM:
                raise ValueError(f"{weights}: unexpected tensor {meta}")
            f.seek(8 + n + start)
            table = np.frombuffer(f.read(end - start), dtype=np.float16).reshape(rows, dim)
        self.table = np.ascontiguousarray(table[:, :DIM])       # 8 MB
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        # this tokenizer has no pre-tokenizer: BPE's cache would keep each whole text seen
        # (10k titles: +37 MB), for no gain
        resize = getattr(self.tokenizer.model, "_resize_cache", None)
        if resize is not None:
            resize(0)

    def embed(self, texts: Sequence[str]):
        """(len(texts), DIM) float32, each row of length 1 (0 for a text without tokens)."""
        import numpy as np

        out = np.zeros((len(texts), DIM), np.float32)
        encode = self.tokenizer.encode           # (not encode_batch: no thread pool)
        ids: list[int] = []
        starts, filled = [], []
        for i, text in enumerate(texts):
            got = encode(text, add_special_tokens=False).ids[:MAX_TOKENS] if text else []
            if got:
                starts.append(len(ids))
                filled.append(i)
                ids.extend(got)
        if ids:
            at = np.minimum(np.asarray(ids, dtype=np.int64), self.table.shape[0] - 1)
            sums = np.add.reduceat(self.table[at].astype(np.float32), np.asarray(starts), axis=0)
            counts = np.diff(np.append(np.asarray(starts), len(ids)))
            out[filled] = sums / counts[:, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(norms > 0, norms, 1.0)
        return out


# -- the model, loaded once on a background thread ----------------------------------------------

_lock = threading.Lock()
_model: Optional[Model] = None
_failed = False
_loading: Optional[threading.Thread] = None


def _load() -> None:
    global _model, _failed
    try:
        made = Model(*_files())
    except Exception as exc:                 # not installed, damaged: ranked without embeddings
        log.warning("word embeddings unavailable, completion ranks without them: %s", exc)
        with _lock:
            _failed = True
        return
    with _lock:
        _model = made


def model(wait: bool = False) -> Optional[Model]:
    """The model; None while it is loaded on a background thread (started here), or when it
    cannot be (the extra is not installed: said once in the log)."""
    global _loading
    with _lock:
        if _model is not None or _failed:
            return _model
        if _loading is None:
            _loading = threading.Thread(target=_load, name="paperlens-embed-model", daemon=True)
            _loading.start()
        thread = _loading
    if wait:
        thread.join()
        return _model
    return None


# -- the titles ---------------------------------------------------------------------------------

class TitleVectors:
    """The vectors of a library's titles (rows by position; rows sharing a title share one):
    centred on the library's mean title and of length 1, as int8 with a scale per title."""

    def __init__(self, m: Model, rows: Sequence) -> None:
        import numpy as np

        self.model = m
        self._lock = threading.Lock()
        self._recent: dict = {}           # the last few scorings, by their arguments
        unique: dict[str, int] = {}
        of = np.empty(len(rows), np.int32)
        for n, row in enumerate(rows):
            of[n] = unique.setdefault(row.title or "", len(unique))
        titles = list(unique)
        vectors = np.empty((len(titles), DIM), np.float32)
        for a in range(0, len(titles), 512):
            vectors[a:a + 512] = m.embed(titles[a:a + 512])
        empty = ~vectors.any(axis=1)
        self.mean = vectors[~empty].mean(axis=0) if (~empty).any() else np.zeros(DIM, np.float32)
        vectors -= self.mean
        vectors[empty] = 0.0
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        peak = np.maximum(np.abs(vectors).max(axis=1), 1e-9)
        self.scale = (peak / 127.0).astype(np.float32)
        self.codes = np.round(vectors / self.scale[:, None]).astype(np.int8)
        self.of = of                                   # row -> its title
        order = np.argsort(of, kind="stable")          # title -> its rows: order[starts[t]:starts[t+1]]
        self.order = order.astype(np.int32)
        self.starts = np.searchsorted(of[order], np.arange(len(titles) + 1)).astype(np.int32)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.codes, self.scale, self.of, self.order, self.starts, self.mean))

    def _similarities(self, query):
        """The cosine similarity of each title to ``query`` (einsum straight on the int8 codes:
        no float copy of them, no BLAS thread pool competing with the server's threads)."""
        import numpy as np

        return np.einsum("ij,j->i", self.codes, query.astype(np.float32)) * self.scale

    def scores(self, sentence: str, near: str, paragraph: str, nearby: Sequence[int],
               earlier: Sequence[tuple[int, int]], top: int) -> list[tuple[int, float]]:
        """(row position, score) of the rows whose titles fit best (at most about ``top``):
        :data:`W_CONTEXT` times the similarity of the title to the context, and
        :data:`W_NEARBY` times its similarity to the titles of the rows cited nearby
        (``nearby`` positions; ``earlier``: (position, characters before the cursor)), each
        normalised over the library (its median 0, its best 1). The last few are remembered."""
        key = (sentence, near, paragraph, tuple(nearby), tuple(earlier), top)
        with self._lock:
            held = self._recent.get(key)
        if held is not None:              # (the next keystrokes in the same citation)
            return held
        made = self._scores(sentence, near, paragraph, nearby, earlier, top)
        with self._lock:
            self._recent[key] = made
            while len(self._recent) > 8:
                self._recent.pop(next(iter(self._recent)))
        return made

    def _scores(self, sentence: str, near: str, paragraph: str, nearby: Sequence[int],
                earlier: Sequence[tuple[int, int]], top: int) -> list[tuple[int, float]]:
        import numpy as np

        n_titles = self.codes.shape[0]
        if n_titles == 0:
            return []
        s, w, p = self.model.embed([sentence, near, paragraph])
        context = s + NEAR * w + PARAGRAPH * p
        cited = np.zeros(DIM, np.float32)
        seen = set()
        for n in nearby:
            t = int(self.of[n])
            if t not in seen:
                seen.add(t)
                cited += self.codes[t].astype(np.float32) * self.scale[t]
        for n, distance in earlier:
            t = int(self.of[n])
            if t not in seen and distance < EARLIER_REACH:
                seen.add(t)
                cited += 0.5 * self.codes[t].astype(np.float32) * self.scale[t] / (1.0 + distance / 1000.0)
        total = np.zeros(n_titles, np.float32)
        for query, weight in ((context, W_CONTEXT), (cited, W_NEARBY)):
            if not query.any():
                continue
            sims = self._similarities(query)
            mid = float(np.median(sims))
            span = float(sims.max()) - mid
            if span > 0:
                total += weight * np.clip((sims - mid) / span, 0.0, None)
        k = min(top, n_titles)
        best = np.argpartition(-total, k - 1)[:k] if k < n_titles else np.arange(n_titles)
        best = best[np.argsort(-total[best], kind="stable")]
        best = best[total[best] > 0]
        if not len(best):
            return []
        # each title's rows, in order: order[starts[t]:starts[t + 1]]
        counts = self.starts[best + 1] - self.starts[best]
        firsts = np.repeat(self.starts[best] - (np.cumsum(counts) - counts), counts)
        at = self.order[firsts + np.arange(int(counts.sum()))]
        return list(zip(at.tolist(), np.repeat(total[best], counts).tolist()))


_titles_lock = threading.Lock()
_titles: Optional[tuple[list, TitleVectors]] = None
_building: Optional[threading.Thread] = None
_wanted: Optional[list] = None            # the rows the builder should do next
_doing: Optional[list] = None             # the rows it is doing


def _same(held: list, rows: Sequence) -> bool:
    return len(held) == len(rows) and all(
        held[i] is rows[i] for i in {0, len(rows) // 3, len(rows) // 2, len(rows) - 1} if rows)


def _build_titles() -> None:
    global _titles, _building, _wanted, _doing
    m = model(wait=True)
    while True:
        with _titles_lock:
            rows, _wanted = _wanted, None
            _doing = rows
            if rows is None or m is None:
                _building = None
                return
        try:
            made = TitleVectors(m, rows)
        except Exception:                    # (a bug: ranked without embeddings)
            log.exception("embedding the library's titles")
            continue
        log.debug("titles embedded: %d rows, %.1f MB", len(rows), made.nbytes / 2**20)
        with _titles_lock:
            _titles = (rows, made)


def title_vectors(rows: Sequence, wait: bool = False) -> Optional[TitleVectors]:
    """The :class:`TitleVectors` of ``rows``, kept while the library's rows are the same
    objects; None while the model is loaded or the titles embedded on a background thread
    (started here), or without the model. ``wait``: load and embed now (tests, benchmarks)."""
    global _building, _wanted
    with _titles_lock:
        held = _titles
    if held is not None and _same(held[0], rows):
        return held[1]
    if _failed:
        return None
    with _titles_lock:
        if not (_doing is not None and _same(_doing, rows)) and (_wanted is None or not _same(_wanted, rows)):
            _wanted = list(rows)
        if _building is None:
            _building = threading.Thread(target=_build_titles, name="paperlens-embed-titles", daemon=True)
            _building.start()
        thread = _building
    if wait:
        thread.join()
        with _titles_lock:
            held = _titles
        return held[1] if held is not None and _same(held[0], rows) else None
    return None


def idle() -> None:
    """Wait until the background work started here is done (benchmarks, tests)."""
    with _titles_lock:
        thread = _building
    if thread is not None:
        thread.join()
