"""Does the cited paper say that? The passages of a paper that best support a sentence citing it.

Pure Python (no index, no protocol). :func:`support` scores each passage of the cited paper
against the claim (the sentence around the citation, markup and citations stripped: see
:func:`claim_at` and :func:`plain_sentence_at`) and gives the best one to three, each with the
words it shares with the claim and its *support*: the share of the claim's content, weighted by
how rare each word is in the library (:class:`Rarity`), that the passage holds (0..1), with
pairs of adjacent claim words found adjacent in the passage counting extra and the names the
claim gives ("Paxos", "CAP", "DryadLINQ": :func:`_named`) :data:`NAMED` times. A paper's support
for a claim (0..1) grows with its best passage's, discounted by the claim's *background* (the
share of its words any paper of the library holds: a sentence of common words finds them
everywhere, :meth:`Rarity.background`), and with how much more the whole paper uses the
claim's words than the library does (:func:`_paper_use`); below :data:`THRESHOLD` (calibrated
on the development pairs of ``bench/citation_support.py``) nothing in the paper matches the
sentence well.
"""
from __future__ import annotations

import math
import re
import threading
import time
from array import array
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Optional, Sequence

from paperlens.core.cards import escape_md, file_uri
from paperlens.core.lru import LRU
from paperlens.core.models import Passage
from paperlens.core.recommend import STOPWORDS, fold, plain, stem

# support below this: nothing in the paper matches the sentence well (the unsupported-citation
# hint). bench/citation_support.py: the highest threshold flagging at most 10% of the dev
# positives (with the library's sampled rarity of words); it flags 61% of the same
# sentences given another paper of the same field, 45% given a paper on a near topic
THRESHOLD = 0.033
SHOWN = 3                  # passages a hover shows at most
RANKED = 10                # a paper's support is the best support among its passages ranked first
BACKGROUND = 4.0           # ... over 1 + this x the claim's background
MIN_SHOWN = 0.5            # a 2nd/3rd passage is shown when it scores this share of the best
BIGRAM = 0.5               # the weight of an adjacent pair of claim words, relative to its words
NAMED = 3.0                # a name's weight in the claim's support (not in ranking a paper's passages), x its rarity
NAMED_SHARE = 0.8          # ... unless more of the claim's words than this look like names
PAPER = 2.0                # the weight of the whole paper's use of the claim's words (see support)
MU = 4000                  # Dirichlet smoothing of a paper's words by the library's (in words)
K1, B = 1.2, 0.75          # BM25 saturation for ranking the passages of one paper
SHORT = 0.5                # a passage counts as at least this share of the paper's average length
MAX_PASSAGES = 1000        # passages scored of one paper (a book: its first ~250 pages)
MAX_CLAIM_WORDS = 60
EXCERPT = 320              # characters of a passage a hover shows

# ASCII words first (a quarter faster on paper text), then any other letters, then numbers
_WORD = re.compile(r"[a-zA-Z]{2,}(?![^\W\d_])|[^\W\d_]{2,}|\d+(?:\.\d+)?%?")
_CITED = re.compile(
    r"\[\s*(?:\d{1,4}(?:\s*[-–,;]\s*\d{1,4})*|[A-Z][A-Za-z+]{1,8}\d{2}[a-z]?(?:\s*[,;]\s*[A-Z][A-Za-z+]{1,8}\d{2}[a-z]?)*|"
    r"[^\[\]]{0,60}\b(?:19|20)\d\d[a-z]?)\s*\]|"
    r"\(\s*[A-Z][^()]{0,60}\b(?:19|20)\d\d[a-z]?\s*\)|\bet al\.?,?\s*\(?(?:19|20)\d\d")
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\[(])")
_SENTENCE_END = re.compile(r"[.!?][\"')\]}]*\s+(?=[A-Z\[(])")


def _stem_of(word: str) -> Optional[str]:
    """The stem of a word as written (None: a stop word, or too short)."""
    if word[0].isdigit():
        return word if len(word.rstrip("%").replace(".", "")) >= 2 else None
    folded = word.lower() if word.isascii() else fold(word)
    if folded in STOPWORDS or len(folded) < 3:
        return None
    if len(folded) > 5:
        folded = _american(folded)
    return stem(folded)


# British spellings as American ones: "linearisability" meets "linearizability", "behaviour"
# meets "behavior", "optimised" "optimized"
_BRITISH_IZE = re.compile(r"(?<=[a-z]{3}[^aeiou\W\d_])is(?=(?:e|es|ed|ing|ation|ations|able|ability|er|ers)$)")
_BRITISH_OUR = re.compile(r"(?<=[a-z]{3})our(?=(?:s|ed|ing|al|able|ite|ites)?$)")


def _american(word: str) -> str:
    if "is" in word:
        word = _BRITISH_IZE.sub("iz", word)
    if "our" in word:
        word = _BRITISH_OUR.sub("or", word)
    return word


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """(stem, start, end) of each content word of ``text`` (numbers of two digits or more
    count: "99.9%" is a claim's content)."""
    out = []
    get = _stem_cache.get
    for m in _WORD.finditer(text):
        w = m.group()
        s = get(w, _MISSING)
        if s is _MISSING:
            s = _stem_new(w)
        if s is not None:
            out.append((s, m.start(), m.end()))
    return out


def _citing_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of a passage that cite other work (``[12]``, ``(Smith et al., 2019)``):
    what they say is another paper's, not this one's."""
    if not _CITED.search(text):
        return []
    out, at = [], 0
    for m in list(_SPLIT.finditer(text)) + [None]:
        end = m.start() if m else len(text)
        if _CITED.search(text, at, end):
            out.append((at, end))
        at = m.end() if m else len(text)
    return out


YIELD_AFTER = 0.002        # seconds of reading words for a Rarity between letting other threads run
READ_CACHE = 20_000        # passages whose words are kept (a few hundred papers)
_read_cache: "LRU[str, tuple[str, int, int]]" = LRU(READ_CACHE)


def _read(text: str) -> tuple[str, int, int]:
    """(the stems of a passage's own sentences, in order, each between spaces; how many
    content words it has in all; how many of its own sentences): what scoring needs (a claim's stem is counted, a pair of
    them found, by searching that string), kept for the passages read last (a hover on the
    same key again, the background check of a document citing it many times)."""
    held = _read_cache.get(text)
    if held is not None:
        return held
    words = _WORD.findall(text)
    stems_ = _stems_of(words)
    length = len(stems_)
    cited = _citing_spans(text)
    if cited:
        own, at = [], 0
        for a, b in cited:
            own.append(text[at:a])
            at = b
        own.append(text[at:])
        stems_ = _stems_of(_WORD.findall(" ".join(own)))
    made = (" " + " ".join(stems_) + " ", length, len(stems_))
    _read_cache.put(text, made)
    return made


_MISSING = object()
_stem_cache: dict = {}
STEM_CACHE = 300_000       # words whose stems are kept


def _stems_of(words: list[str], cache: Optional[dict] = None) -> list[str]:
    """The stems of the content words among ``words`` (a dictionary lookup per word once seen:
    in the shared cache, or in ``cache``)."""
    if cache is not None:
        get = cache.get
        out = []
        for w in words:
            s = get(w, _MISSING)
            if s is _MISSING:
                s = cache[w] = _stem_of(w)
            if s is not None:
                out.append(s)
        return out
    get = _stem_cache.get
    out = []
    for w in words:
        s = get(w, _MISSING)
        if s is _MISSING:
            s = _stem_new(w)
        if s is not None:
            out.append(s)
    return out


def clear_caches() -> None:
    """Forget the words read of passages and the stems of words (what a cold start has not
    read yet: for benches)."""
    _read_cache.clear()
    _stem_cache.clear()


def _stem_new(word: str) -> Optional[str]:
    """The stem of a word not in the cache, now kept there."""
    if len(_stem_cache) > STEM_CACHE:
        _stem_cache.clear()
    s = _stem_cache[word] = _stem_of(word)
    return s


def _own(tokens: list[tuple[str, int, int]], cited: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
    if not cited:
        return tokens
    return [t for t in tokens if not any(a <= t[1] < b for a, b in cited)]


def stems(text: str) -> list[str]:
    return [s for s, _, _ in _tokens(text)]


class Rarity:
    """How rare each word stem is in a library: idf = log(1 + N / df) over ``N`` documents
    (papers); a stem no document has weighs as one seen in a single document.

    Compact: the stems are not kept, only their hashes (``hash(stem)``, this process's: a
    Rarity is never saved), sorted in an array beside the counts, a stem looked up by
    bisection. Over the full texts of 200 real papers a dict of stems held ~100k strings."""

    __slots__ = ("n", "total", "_unseen", "_table")

    def __init__(self, df: Optional[Mapping[str, int]] = None, documents: int = 0) -> None:
        self._set(_table((hash(s), c) for s, c in (df or {}).items()), documents)

    def _set(self, table: tuple[array, array], documents: int) -> None:
        n = max(documents, 1)
        self.n, self._unseen = n, math.log(1 + n)
        self.total = sum(table[1])             # the counts of all stems: the library's "length"
        self._table = table                    # last: a reader meanwhile sees no counts, not wrong ones

    def __len__(self) -> int:
        return len(self._table[0])

    @property
    def nbytes(self) -> int:
        """The bytes its table takes (the arrays' buffers)."""
        keys, counts = self._table
        return keys.buffer_info()[1] * keys.itemsize + counts.buffer_info()[1] * counts.itemsize

    def count(self, s: str) -> int:
        """How many documents hold the stem ``s``."""
        keys, counts = self._table
        h = hash(s)
        i = bisect_left(keys, h)
        return counts[i] if i < len(keys) and keys[i] == h else 0

    def fill(self, documents: Iterable[str]) -> None:
        """Count the stems of ``documents`` into this Rarity (made empty: every word weighed
        the same until then)."""
        made = Rarity.of_texts(documents)
        self._set(made._table, made.n)

    @classmethod
    def of_texts(cls, documents: Iterable[str]) -> "Rarity":
        """The rarity of stems over ``documents`` (each a whole paper's text, or its sample;
        read one at a time: pass a generator, not a list of 200 papers). The words' stems are
        looked up in a cache of this reading only (200 papers' words would fill the shared
        one and stay); every few milliseconds the thread lets others run (read on a
        background thread, it must not hold a hover up: a thread waiting for the interpreter
        lock waits up to its switch interval, 5 ms, each time it gave it up to read a file)."""
        df: Counter = Counter()
        cache: dict = {}
        n = 0
        clock = time.perf_counter
        since = clock()
        for text in documents:
            n += 1
            df.update({hash(s) for s in _stems_of(_WORD.findall(text), cache)})
            if clock() - since > YIELD_AFTER:
                time.sleep(0)
                since = clock()
        cache.clear()
        made = cls(None, n)
        made._set(_table(df.items()), n)
        return made

    def counts(self, stems_: Iterable[str]) -> dict[str, int]:
        """{stem: how many documents hold it} of ``stems_`` (each looked up once)."""
        return {s: self.count(s) for s in stems_}

    def idf(self, s: str, count: Optional[int] = None) -> float:
        d = self.count(s) if count is None else count
        return math.log(1 + self.n / d) if d else self._unseen

    def probability(self, s: str, count: Optional[int] = None) -> float:
        """The library's probability of the stem ``s`` (its share of all stems' document
        counts, smoothed): the background a paper's own use of the word is measured against."""
        return ((self.count(s) if count is None else count) + 0.5) / (self.total + 1.0)

    def background(self, weights: dict[str, float], counts: Optional[Mapping[str, int]] = None) -> float:
        """The share of ``weights`` (a claim's stems and their weights) that a paper of the
        library holds on average (0..1): how much any paper would seem to support the claim.
        ``counts``: the stems' counts, looked up before."""
        total = sum(weights.values())
        if total <= 0 or not len(self):
            return 0.0
        counts = counts if counts is not None else self.counts(weights)
        return sum(w * counts[s] for s, w in weights.items()) / (self.n * total)


def _table(items: Iterable[tuple[int, int]]) -> tuple[array, array]:
    """(sorted hashes, their counts) of (hash, count) pairs."""
    pairs = sorted(items)
    return array("q", (h for h, _ in pairs)), array("I", (min(c, 0xFFFFFFFF) for _, c in pairs))


@dataclass(frozen=True)
class Evidence:
    """A passage of the cited paper and how well it supports the claim: ``support`` 0..1,
    ``words`` the claim's words it holds (as written in the passage, in its order), ``spans``
    their places in ``passage.text``."""
    passage: Passage
    support: float
    rank: float
    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Support:
    """How well a paper supports a claim: ``score`` (its best passage's support discounted by
    the claim's background, 0..1) and the
    best passages (at most :data:`SHOWN`), best first; ``has_text``: the paper has passages."""
    score: float
    evidence: tuple[Evidence, ...]
    has_text: bool = True

    @property
    def supported(self) -> bool:
        return self.score >= THRESHOLD


def _bigrams(seq: Sequence[str]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in zip(seq, seq[1:]) if a != b}


def support(claim: str, passages: Sequence[Passage], rarity: Optional[Rarity] = None,
            limit: int = SHOWN) -> Support:
    """The passages of a paper that best support ``claim`` (plain text), and the paper's
    support (see the module docstring). Only passages with a word of the claim are given;
    the words of a passage's sentences that cite other work (``[12]``, ``(Smith, 2019)``) do
    not count: there the paper reports what others say (on the development pairs this raised
    the AUROC against the best search hit from 0.51 to 0.55)."""
    rarity = rarity or Rarity()
    passages = [p for p in passages[:MAX_PASSAGES] if p.text]
    if not passages:
        return Support(0.0, (), has_text=False)
    claim_seq = stems(claim)[:MAX_CLAIM_WORDS]
    counts = rarity.counts(dict.fromkeys(claim_seq))
    weights = {s: rarity.idf(s, c) for s, c in counts.items()}
    named = _named(claim) if NAMED != 1.0 else set()
    cw = {s: w * NAMED if s in named else w for s, w in weights.items()} if named else weights
    pairs = _bigrams(claim_seq)
    total = sum(cw.values()) + _pairs_weight(cw, pairs)
    if total <= 0:
        return Support(0.0, (), has_text=True)
    read = [_read(p.text) for p in passages]
    avg = sum(r[1] for r in read) / len(read) or 1.0
    keys = [(s, f" {s} ") for s in weights]
    pair_keys = [(a, b, f" {a} {b} ") for a, b in pairs]
    scored = []
    in_paper: dict[str, int] = {}       # the claim's stems in the whole paper's own sentences
    for p, (joined, length, _) in zip(passages, read):
        tf = {}
        for s, key in keys:
            if key in joined:
                tf[s] = joined.count(key)
        if not tf:
            continue
        for s, t in tf.items():
            in_paper[s] = in_paper.get(s, 0) + t
        adjacent = [(a, b) for a, b, key in pair_keys if a in tf and b in tf and key in joined]
        bonus = _pairs_weight(weights, adjacent)
        cover = sum(cw[s] for s in tf) + (_pairs_weight(cw, adjacent) if named else bonus)
        support_ = min(1.0, cover / total)
        norm = 1 - B + B * max(length / avg, SHORT)
        rank = sum(weights[s] * t * (K1 + 1) / (t + K1 * norm) for s, t in tf.items()) + bonus
        scored.append((rank, support_, p))
    if not scored:
        return Support(0.0, (), has_text=True)
    scored.sort(key=lambda x: (-x[0], x[2].line_start))
    best_rank = scored[0][0]
    out = []
    for rank, support_, p in scored[:max(limit, 1)]:
        if out and rank < MIN_SHOWN * best_rank:
            break
        toks = _own(_tokens(p.text), _citing_spans(p.text))
        matched = [(s, a, b) for s, a, b in toks if s in weights]
        spans = tuple((a, b) for _, a, b in matched)
        seen, words = set(), []
        for s, a, b in matched:
            if s not in seen:
                seen.add(s)
                words.append(p.text[a:b])
        out.append(Evidence(p, support_, rank, tuple(words), spans))
    best = max(x[1] for x in scored[:RANKED])
    local = best / (1 + BACKGROUND * rarity.background(cw, counts))
    paper = _paper_use(cw, counts, in_paper, sum(r[2] for r in read), rarity)
    x = local * math.exp(PAPER * paper)
    return Support(x / (1 + x), tuple(out), has_text=True)


def _pairs_weight(weights: Mapping[str, float], pairs: Iterable[tuple[str, str]]) -> float:
    """What adjacent pairs of claim words add to a support: :data:`BIGRAM` x their mean weight."""
    return BIGRAM * sum((weights[a] + weights[b]) / 2 for a, b in pairs)


def _named(claim: str) -> set[str]:
    """The stems of the names in ``claim``: words of two capitals or more ("CAP", "DryadLINQ",
    "UCB1"), or capitalised within the sentence ("Paxos", "Spark"), not at its start. None
    when more than :data:`NAMED_SHARE` of its content words would be (a title in title case, a
    heading in capitals, German nouns: capitals that name nothing)."""
    out = set()
    words = capitals = 0
    for m in _WORD.finditer(claim):
        w = m.group()
        if w[0].isdigit():
            continue
        s = _stem_of(w)
        if not s:
            continue
        words += 1
        if w.islower():
            continue
        capitals += 1
        before = claim[:m.start()].rstrip()
        if sum(c.isupper() for c in w) >= 2 or (w[0].isupper() and before and before[-1] not in ".!?:"):
            out.add(s)
    return out if capitals <= NAMED_SHARE * words else set()


def _paper_use(weights: dict[str, float], library: Mapping[str, int], counts: Mapping[str, int], length: int,
               rarity: Rarity) -> float:
    """How much more the paper uses the claim's words than the library does: the mean (by
    rarity) over the claim's stems of log(P(stem | paper) / P(stem | library)), the paper's
    own probability smoothed towards the library's (Dirichlet, :data:`MU` words) so that a
    short paper is not judged on a few words (``library``: the stems' document counts in the
    library; ``counts``: their occurrences in the paper's own sentences, ``length`` words in
    all). 0 without the library's counts (they are what the paper is measured against). A claim's words found in one passage say less of a paper
    than the same words used throughout it: on the development pairs this raised the AUROC
    against a near paper from 0.81 to 0.83 and against the best search hit from 0.53 to 0.56."""
    total = sum(weights.values())
    if total <= 0 or not len(rarity):
        return 0.0
    out = 0.0
    for s, w in weights.items():
        pc = rarity.probability(s, library[s])
        out += w * math.log((counts.get(s, 0) + MU * pc) / ((length + MU) * pc))
    return out / total


# -- the background check: the cited paper against its rivals (issue 17) ----------------------
# A paper's support says how much of the claim it holds, not whether another paper holds it
# better, nor whether it is the claim's source or a later paper restating it: the
# unsupported-citation check (never a hover: a search and ten papers scored, ~150 ms a
# citation) also scores the library's best matches for the claim (:func:`rival_query`, the
# first :data:`RIVALS` papers other than the cited one) and reads what the library's other
# papers cite the paper for (:func:`context_support`), and combines (:func:`decision`)
#   z = A·logit(support) + R·(logit(support) - logit(max(best rival, support)))
#       + K·logit(max(context, CONTEXT_FLOOR)) + C
# flagging below :data:`DECISION_THRESHOLD`. bench/citation_support.py fits A, R, K, C (logistic
# regression of the dev positives against their folder and near-topic negatives) and the
# threshold (flagging at most 10% of the positives), and reports the decision's AUROCs.
RIVAL_HITS = 12            # search hits for the claim's stems (one per paper)
RIVALS = 10                # rival papers scored: the first hits other than the cited paper
# bench/citation_support.py's "decision" on the 199 dev pairs (AUROC against the near-topic
# negatives; held out: fit on one half of the pairs by citing paper, tested on the other):
# support alone 0.825; with the rivals 0.847 (0.847/0.848); with the rivals and the context
# 0.890 (0.868/0.901); and the claim's names weighed more (NAMED: support alone 0.844) 0.895
# (0.880/0.906). Against the same field's 0.873 -> 0.891 -> 0.914 -> 0.918 (0.905/0.929), the
# best search hit 0.560 -> 0.577 -> 0.688 -> 0.702. The threshold flags 9.5% of the positives,
# 75% of the same-field and 72% of the near-topic negatives (with the rivals alone: 68%, 53%).
LEXICAL_WEIGHT = 0.299     # A
RIVAL_WEIGHT = 0.469       # R
DECISION_BIAS = 3.739      # C
DECISION_THRESHOLD = -1.30       # halfway between the 19th and 20th lowest dev positives (-1.33, -1.28)
CLIP = 1e-4                # probabilities are clipped to CLIP..1-CLIP before the logit
CONTEXT_WEIGHT = 0.927     # K: the weight of logit(context) (see decision)
# a paper no other library paper cites (or before the graph is built) is judged as one whose
# contexts cover this much of the claim: the median over the dev pairs' papers that have some
CONTEXT_UNKNOWN = 0.043
CONTEXT_FLOOR = 0.01       # a context covering less of the claim counts as this much


def logit(p: float) -> float:
    p = min(max(p, CLIP), 1 - CLIP)
    return math.log(p / (1 - p))


def decision(score: float, best_rival: float, context: Optional[float] = None) -> float:
    """The background check's score of a citation (below :data:`DECISION_THRESHOLD`: flagged)
    from the cited paper's support ``score``, the best support among its rivals and
    ``context``, how well the best of the library's other sentences citing the paper covers
    the claim (:func:`context_support`; None: the library has none, or its citation graph is
    not built yet, and the paper is judged as one with a median context,
    :data:`CONTEXT_UNKNOWN`)."""
    own = logit(score)
    cited_for = logit(max(CONTEXT_UNKNOWN if context is None else context, CONTEXT_FLOOR))
    return (LEXICAL_WEIGHT * own + RIVAL_WEIGHT * (own - logit(max(best_rival, score)))
            + CONTEXT_WEIGHT * cited_for + DECISION_BIAS)


def rival_query(claim: str) -> str:
    """The search that finds a claim's rival papers: its stems, each once, in order."""
    return " ".join(dict.fromkeys(stems(claim)))[:300]


# -- the claim: the sentence around a citation ------------------------------------------------

def claim_at(text: str, offset: int, language: Optional[str], macros=None) -> str:
    """The sentence of a draft around ``offset`` (a citation), markup and citations stripped."""
    from paperlens.core.recommend import context

    return context(text, offset, language, macros, profiles=False).sentence   # a window only


def plain_sentence_at(text: str, offset: int, reach: int = 1200) -> str:
    """The sentence of a paper's plain text around ``offset``, numeric citations ``[12]``,
    ``[3, 5]`` and author-year parentheses left out."""
    lo, hi = max(0, offset - reach), min(len(text), offset + reach)
    window, at = text[lo:hi], offset - lo
    start = 0
    for m in _SENTENCE_END.finditer(window, 0, at):
        if m.end() <= at:
            start = m.end()
    m = _SENTENCE_END.search(window, at)
    end = m.end() if m else len(window)
    para = window.rfind("\n\n", start, at)
    if para >= 0:
        start = para
    sentence = window[start:end]
    sentence = re.sub(r"\[[^\[\]]{0,80}\]", " ", sentence)
    return plain(" ".join(sentence.split()), None)


# -- showing it -------------------------------------------------------------------------------

def excerpt(ev: Evidence, size: int = EXCERPT) -> str:
    """Markdown of the passage around its densest matched words, those words in bold, the
    rest escaped."""
    text = ev.passage.text
    spans = list(ev.spans)
    lo, hi = 0, len(text)
    if len(text) > size:
        best, best_at = -1, 0
        starts = [a for a, _ in spans] or [0]
        for a in starts:
            n = sum(1 for x, _ in spans if a <= x < a + size)
            if n > best:
                best, best_at = n, a
        lo = max(0, best_at - size // 6)
        hi = min(len(text), lo + size)
        lo = max(0, hi - size)
        # whole words at both ends
        if lo > 0:
            cut = text.find(" ", lo)
            lo = cut + 1 if 0 <= cut < lo + 30 else lo
        if hi < len(text):
            cut = text.rfind(" ", hi - 30, hi)
            hi = cut if cut > lo else hi
    out = []
    at = lo
    for a, b in spans:
        if a < at or a < lo or b > hi:
            continue
        out.append(_plain_md(text[at:a]))
        out.append(f"**{escape_md(text[a:b])}**")
        at = b
    out.append(_plain_md(text[at:hi]))
    body = "".join(out).strip()
    return ("… " if lo > 0 else "") + body + (" …" if hi < len(text) else "")


def _plain_md(segment: str) -> str:
    """A stretch of text between bold words, escaped, its outer spaces kept (one each)."""
    if not segment:
        return ""
    inner = escape_md(segment)
    if not inner:
        return " "
    return (" " if segment[0].isspace() else "") + inner + (" " if segment[-1].isspace() else "")


def where(p: Passage) -> str:
    """``p. 3, l. 120`` of a passage (the line 1-based)."""
    bits = []
    if p.page:
        bits.append(f"p. {p.page}")
    bits.append(f"l. {p.line_start + 1}")
    return ", ".join(bits)


def markdown(found: Support, title: Optional[str] = None) -> str:
    """What a hover shows of the evidence: a heading line, then each passage (its page/line
    linked to the place in the paper's file, its excerpt with the matched words in bold)."""
    name = f" for {escape_md(title)}" if title else ""
    if not found.has_text:
        return f"*Evidence{name}: the library has no text of this paper.*"
    if not found.evidence:
        return f"*Evidence{name}: no passage of the paper shares this sentence's words.*"
    verdict = "" if found.supported else " — weak: nothing in the paper matches this sentence well"
    lines = [f"**Evidence{name}** (support {found.score:.2f}{verdict})"]
    for ev in found.evidence:
        p = ev.passage
        link = f"[{where(p)}]({file_uri(p.path, p.line_start)})" if p.path else where(p)
        lines.append(f"- {link}: {excerpt(ev)}")
    return "\n".join(lines)


_rarity_lock = threading.Lock()
_rarity_held: Optional[tuple[list, Rarity]] = None
TITLES_NOW = 1000          # rows whose titles' rarity a caller waits for (~40 ms); more: read on a thread


def title_rarity(rows: Sequence, wait: bool = False) -> Rarity:
    """The :class:`Rarity` of stems over the titles of a library's rows (in memory, no paper
    read: what a hover can afford), kept while the rows are the same objects (a table is
    replaced, never changed). On the development pairs it ranks nearly as well as the rarity
    over a sample of the papers' full texts (AUROC 0.82 against 0.85). Of a library of more
    than :data:`TITLES_NOW` rows (10k titles: 0.4-0.6 s, what the first hover of a large
    library waited) the titles are read on a background thread unless ``wait``: the Rarity
    returned weighs every word the same until they are, then as it should."""
    global _rarity_held
    rows = list(rows)
    with _rarity_lock:
        held = _rarity_held
        if held is not None and len(held[0]) == len(rows) and all(
                held[0][i] is rows[i] for i in {0, len(rows) // 3, len(rows) // 2, len(rows) - 1} if rows):
            return held[1]
        made = Rarity()
        _rarity_held = (rows, made)
    titles = [getattr(r, "title", "") or "" for r in rows if not getattr(r, "alias_of", "")]
    if wait or len(rows) <= TITLES_NOW:
        made.fill(titles)
    else:
        threading.Thread(target=made.fill, args=(titles,), name="paperlens-title-rarity", daemon=True).start()
    return made


RARITY_SAMPLE = 200        # papers whose full text the library's rarity of words is read from


def sample_ids(ids: Sequence[str], n: int = RARITY_SAMPLE) -> list[str]:
    """A fixed spread of ``n`` of ``ids`` (the same library gives the same sample)."""
    ordered = sorted(ids)
    if len(ordered) <= n:
        return ordered
    step = len(ordered) / n
    return [ordered[int(k * step)] for k in range(n)]


def passage_rarity(passages_of: Callable[[str], Sequence[Passage]], ids: Iterable[str]) -> Rarity:
    """The :class:`Rarity` of stems over the papers ``ids`` (each paper one document, its
    passages read through ``passages_of``)."""
    return Rarity.of_texts(" ".join(p.text for p in passages_of(i)) for i in ids)


# -- what the library's other papers cite a paper for (issue 17; the background check only) -----
# A claim is often restated by later papers citing its source: the "near" paper a wrong citation
# names holds the claim's words as well as the source does. The sentences of other library
# papers citing a paper (the citation graph's links) say what it is cited for; how well the best
# of them covers the claim (:func:`context_support`) tells the source from its restaters, which
# are cited for their own claims, not this one.
REFERENCES_HEADING = re.compile(r"references|bibliography|literature cited|works cited|参考文献", re.I)
CONTEXT_CITERS = 12        # citing papers read for a paper's citation contexts (background: ~10 ms each)
CONTEXT_SENTENCES = 3      # sentences kept of one citing paper
MAX_COCITED = 4            # a [n] naming more entries than this cites a field, not a claim
MIN_CONTEXT_WORDS = 4      # content words a citing sentence needs


_REFERENCE_ENTRY = re.compile(r"\s*\[?\d{1,3}\]?\s+[A-Z][a-z]+,")


def citation_finder(label: str, surname: str = "", year: str = "",
                    most_cited: Optional[int] = MAX_COCITED) -> Callable[[str], list[tuple[int, int, str]]]:
    """A function: a passage's text -> (start, end, how it cites) of its citations of the entry
    ``label`` of its paper's reference list: ``[n]``/``[1, 4-6]`` markers holding ``label``
    (naming at most ``most_cited`` entries; None: any number), ``[Hel07]``-style keys, or else
    the cited paper's first author's ``surname`` with its ``year`` a few words later
    (author-year). An entry of a reference list is not a citation."""
    from paperlens.core.references.numeric import find_numeric_citations

    key = re.compile(r"\[[^\[\]]{0,60}\b" + re.escape(label) + r"\b[^\[\]]{0,60}\]") if label else None
    named = (re.compile(r"\b" + re.escape(surname) + r"\b[^.;\n]{0,60}?\b" + re.escape(year) + r"[a-z]?\b")
             if surname and year else None)

    def find(text: str) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        if label.isdigit():
            if "[" in text:
                found = [(c.span.start, c.span.end, "numeric") for c in find_numeric_citations(text)
                         if label in c.labels and (most_cited is None or len(c.labels) <= most_cited)]
        elif key is not None and label in text:
            found = [(m.start(), m.end(), "key") for m in key.finditer(text)]
        if not found and named is not None and surname in text:
            found = [(m.start(), m.end(), "author-year") for m in named.finditer(text)]
        return [f for f in found if not (f[0] < 3 and _REFERENCE_ENTRY.match(text[f[0]:f[0] + 40]))]

    return find


def citing_sentences(passages: Sequence[Passage], label: str, surname: str = "", year: str = "",
                     limit: int = CONTEXT_SENTENCES) -> list[tuple[str, str]]:
    """(sentence, how it cites) of the passages of a paper citing the entry ``label`` of its
    reference list (:func:`citation_finder`); the reference list itself is skipped. Each
    sentence plain (citations stripped, :func:`plain_sentence_at`), of running Latin-script
    text, the first ``limit``."""
    out: list[tuple[str, str]] = []
    seen = set()
    find = citation_finder(label, surname, year)
    for p in passages:
        if REFERENCES_HEADING.search(p.section or ""):
            continue
        text = p.text
        for at, _end, how in find(text):
            sentence = plain_sentence_at(text, at)
            if sentence in seen or len(stems(sentence)) < MIN_CONTEXT_WORDS or not _prose(sentence):
                continue
            seen.add(sentence)
            out.append((sentence, how))
            if len(out) >= limit:
                return out
    return out


def _prose(sentence: str) -> bool:
    """A sentence of running text in a Latin script (not a table's row of figures, not Chinese:
    the scorer's words are Latin words)."""
    letters = [c for c in sentence if c.isalpha()]
    latin = sum(1 for c in letters if c.isascii())
    words = sentence.split()
    return len(letters) >= 20 and latin >= 0.8 * len(letters) and \
        sum(1 for w in words if any(c.isalpha() for c in w)) >= 0.6 * len(words)


def context_support(claim: str, contexts: Iterable[str], rarity: Optional[Rarity] = None) -> Optional[float]:
    """How well the best of ``contexts`` (other papers' sentences citing a paper) covers
    ``claim``: the share of the claim's words, weighted by rarity, with adjacent pairs counting
    extra, as a passage's support but with every word counted (a citing sentence is all about
    the paper cited). None without contexts."""
    contexts = [c for c in contexts if c]
    if not contexts:
        return None
    rarity = rarity or Rarity()
    claim_seq = stems(claim)[:MAX_CLAIM_WORDS]
    weights = {s: rarity.idf(s, c) for s, c in rarity.counts(dict.fromkeys(claim_seq)).items()}
    pairs = _bigrams(claim_seq)
    total = sum(weights.values()) + _pairs_weight(weights, pairs)
    if total <= 0:
        return 0.0
    best = 0.0
    for text in contexts:
        seq = stems(text)
        have = set(seq)
        got = set(zip(seq, seq[1:]))
        cover = sum(w for s, w in weights.items() if s in have)
        cover += _pairs_weight(weights, [ab for ab in pairs if ab in got])
        best = max(best, min(1.0, cover / total))
    return best
