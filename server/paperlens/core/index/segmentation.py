"""Chinese word segmentation (jieba) for the index's analyzer and for queries; no Whoosh here.

Runs of Han characters are cut into words with ``jieba.cut(run, HMM=True)`` (``segment``); when
indexing, a long word is followed by the dictionary 2- and 3-character words inside it
(``subwords``, what ``jieba.cut_for_search`` adds). ``segment_query`` spaces out the words of a
query's Chinese runs so that a query parser sees each as a word.

jieba is imported lazily the first time Han text is seen, quietly (its logger is set to WARNING
and stdout is redirected to stderr while it loads); its dictionary cache is jieba's default
(``jieba.cache`` in the temp dir).
"""
from __future__ import annotations

import contextlib
import logging
import marshal
import re
import sys
import threading

__all__ = ["CJK_STOP_WORDS", "HAN_CLASS", "dictionary", "segment", "subwords", "segment_query"]

# Han ideographs: iteration mark / ideographic zero / Hangzhou numerals, Ext A, the URO,
# compatibility ideographs, Ext B..I (+ compatibility supplement), Ext G/H.
HAN_CLASS = ("\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
             "\U00020000-\U0002fa1f\U00030000-\U000323af")
HAN_RE = re.compile("[%s]" % HAN_CLASS)
HAN_RUN_RE = re.compile("[%s]+" % HAN_CLASS)
# Whoosh's default word pattern, [\w*]+(\.?[\w*]+)*; only ever run on the text between Han runs
# (finditer's pos/endpos), so a word never swallows Chinese characters.
WORD_RE = re.compile(r"[\w*]+(?:\.[\w*]+)*")

# A few Chinese function words, treated like English stop words (dropped, positions renumbered).
CJK_STOP_WORDS = frozenset("的 地 得 了 着 和 与 及 或 是 在 之 其 而 也 被 等".split())

CJK_MIN = 0x2E80  # tokens starting at or above this code point are exempt from ``minsize``


# --------------------------------------------------------------------------------------- jieba

_jieba = None
_jieba_lock = threading.Lock()


def _get_jieba():
    """The jieba default tokenizer, imported and initialised on first use, quietly."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                # jieba logs "Building prefix dict ..." through logging (stderr); nothing may ever
                # reach stdout, which is the language server's LSP channel.
                with contextlib.redirect_stdout(sys.stderr):
                    import jieba
                    jieba.setLogLevel(logging.WARNING)
                    logging.getLogger("jieba").setLevel(logging.WARNING)
                    own = getattr(jieba, "marshal", None)
                    if own is marshal:
                        jieba.marshal = _WholeFileMarshal
                    try:
                        jieba.dt.initialize()
                    finally:
                        if own is marshal:
                            jieba.marshal = own
                _jieba = jieba.dt
    return _jieba


class _WholeFileMarshal:
    """``marshal`` for jieba's initialize: its 9 MB dictionary cache is read with
    ``marshal.load(file)``, which reads a file a few bytes at a time (0.7 s per process);
    reading it whole first takes 0.2 s. The same object either way."""

    dump = staticmethod(marshal.dump)
    dumps = staticmethod(marshal.dumps)
    loads = staticmethod(marshal.loads)

    @staticmethod
    def load(f):
        return marshal.loads(f.read())


def dictionary() -> dict:
    """jieba's word frequencies (its dictionary)."""
    return _get_jieba().FREQ


def segment(run: str) -> list[str]:
    """jieba words of a run of Han characters; they concatenate back to ``run``."""
    words = [w for w in _get_jieba().cut(run, HMM=True) if w]
    if sum(map(len, words)) != len(run):  # never seen; keep offsets right whatever happens
        return list(run)
    return words


def subwords(word: str, freq) -> list[tuple[int, str]]:
    """(offset, sub-word) for the dictionary 2/3-grams inside a long word (cut_for_search's)."""
    out = []
    seen = {word}
    n = len(word)
    for size in (2, 3):
        if n <= size:
            break
        for i in range(n - size + 1):
            gram = word[i:i + size]
            if gram not in seen and freq.get(gram):
                seen.add(gram)
                out.append((i, gram))
    out.sort()
    return out


# --------------------------------------------------------------------------------- query side

_QUERY_CHUNK_RE = re.compile(r'"[^"]*"?|\'[^\']*\'?|\S+')
_PLAIN_RE = re.compile(r"\w+")
_FIELD_RE = re.compile(r"(\w+:)(\w+)")


_OPERATORS = frozenset(("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"))


def _split_plain(chunk: str) -> list[str]:
    out = []
    last = 0
    for run in list(HAN_RUN_RE.finditer(chunk)) + [None]:
        gap = chunk[last:run.start() if run else len(chunk)]
        if gap:  # glued to Chinese, "AND" was a word, not an operator: keep it a word
            out.append(gap.lower() if gap in _OPERATORS else gap)
        if run is None:
            return out
        out.extend(segment(run.group(0)))
        last = run.end()


def segment_query(q: str) -> str:
    """Insert spaces between the jieba words of Chinese runs in a Whoosh query string.

    ``"医学图像分割 diffusion"`` -> ``"医学 图像 分割 diffusion"``, so the parser treats each word
    as its own query word (its group, e.g. OrGroup, and its plugins then apply per word).
    A field-prefixed chunk keeps its field: ``title:医学图像`` -> ``title:(医学 图像)``.
    Quoted phrases (``"..."``), single-quoted terms and chunks with query syntax (wildcards,
    boosts, ranges, parentheses...) are left untouched. Text without Han characters is
    returned unchanged.
    """
    if HAN_RE.search(q) is None:
        return q
    out = []
    last = 0
    for m in _QUERY_CHUNK_RE.finditer(q):
        chunk = m.group(0)
        out.append(q[last:m.start()])
        last = m.end()
        if chunk[0] not in "\"'" and HAN_RE.search(chunk):
            if _PLAIN_RE.fullmatch(chunk):
                chunk = " ".join(_split_plain(chunk))
            else:
                fm = _FIELD_RE.fullmatch(chunk)
                if fm:
                    words = _split_plain(fm.group(2))
                    if len(words) > 1:
                        chunk = "%s(%s)" % (fm.group(1), " ".join(words))
        out.append(chunk)
    out.append(q[last:])
    return "".join(out)
