"""A Whoosh analyzer for mixed Chinese/English paper text.

``mixed_analyzer()`` = ``MixedTokenizer | LowercaseFilter | MixedStopFilter | StemFilter``:

* Runs of Han characters are segmented with jieba (``jieba.cut(run, HMM=True)``); each word gets
  the next sequential position, so a phrase query of consecutive words matches. When indexing
  (``mode="index"``) a long word (3+ characters) is followed by the dictionary 2- and 3-character
  words inside it (what ``jieba.cut_for_search`` adds), all at the long word's position: ``网络``
  then finds ``神经网络`` while phrases of whole words keep working. Query-side tokenising never
  emits these sub-words, so a quoted phrase stays a plain sequence of words.
* Everything else is tokenised like Whoosh's ``StemmingAnalyzer``: ``[\\w*]+(\\.[\\w*]+)*`` words,
  lowercased, English stop words and one-letter words removed, Porter-stemmed. CJK punctuation
  (，。（）…) separates tokens and is never a token.
* Positions run on across CJK and non-CJK tokens; ``startchar``/``endchar`` are offsets into the
  original text (for highlighting).

jieba (:mod:`paperlens.core.index.segmentation`) is imported lazily the first time Han text is
seen. Analyzer objects hold no jieba state, so they pickle with the schema.

Query side: use the same analyzer for the field (``TEXT(analyzer=mixed_analyzer())`` does that).
Whoosh's parser splits the query on whitespace and only then analyzes each piece, so an unspaced
Chinese query such as ``医学图像`` becomes one "word" that analyzes to several tokens; the parser
joins those with the field's ``multitoken_query`` rule (``"default"`` = the parser's group: Or
under ``OrGroup``, And under the default ``AndGroup``; ``"phrase"`` would require them to be
consecutive). ``segmentation.segment_query`` can be run on the user's query first so every
Chinese word becomes its own query word (see its docstring).
"""
from __future__ import annotations

from paperlens.core.index.whoosh import require

require()   # the Whoosh paperlens was written for (see __init__.py)

from collections import Counter
from itertools import repeat

from whoosh.analysis import (STOP_WORDS, Analyzer, CompositeAnalyzer, Filter, LowercaseFilter,
                             StemFilter, Token, Tokenizer)

from paperlens.core.index.segmentation import (CJK_MIN, CJK_STOP_WORDS, HAN_RE, HAN_RUN_RE, WORD_RE,
                                               dictionary, segment, subwords)

__all__ = ["MixedStopFilter", "MixedTokenizer", "mixed_analyzer"]


# ----------------------------------------------------------------------------------- tokenizer

class MixedTokenizer(Tokenizer):
    """Han runs -> jieba words; everything else -> Whoosh's default RegexTokenizer words.

    :param subwords: when indexing, also emit the dictionary sub-words of long Chinese words at
        the long word's position (see the module docstring).
    """

    def __init__(self, subwords: bool = True):
        self.subwords = subwords

    def __eq__(self, other):
        return (other is not None and self.__class__ is other.__class__
                and self.__dict__ == other.__dict__)

    def __hash__(self):
        return hash((self.__class__.__name__, self.subwords))

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        assert isinstance(value, str), "%r is not unicode" % (value,)
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return

        # text without Han characters is one gap: RegexTokenizer's loop, and jieba's
        # dictionary is loaded only for a Han run that wants subwords
        want_subwords = self.subwords and mode == "index"
        freq = None
        word_iter = WORD_RE.finditer
        pos = start_pos
        last = 0
        end = len(value)
        runs = HAN_RUN_RE.finditer(value)
        while last <= end:
            run = next(runs, None)
            gap_end = run.start() if run is not None else end
            # the non-Han words between the previous Han run and this one
            for match in word_iter(value, last, gap_end):
                t.text = match.group(0)
                t.boost = 1.0
                if keeporiginal:
                    t.original = t.text
                t.stopped = False
                if positions:
                    t.pos = pos
                if chars:
                    t.startchar = start_char + match.start()
                    t.endchar = start_char + match.end()
                pos += 1
                yield t
            if run is None:
                break
            start = run.start()
            if want_subwords and freq is None:
                freq = dictionary()
            for word in segment(run.group(0)):
                t.text = word
                t.boost = 1.0
                if keeporiginal:
                    t.original = word
                t.stopped = False
                if positions:
                    t.pos = pos
                if chars:
                    t.startchar = start_char + start
                    t.endchar = start_char + start + len(word)
                yield t
                if freq is not None and len(word) > 2:
                    for offset, sub in subwords(word, freq):
                        t.text = sub
                        t.boost = 1.0
                        if keeporiginal:
                            t.original = sub
                        t.stopped = False
                        if positions:
                            t.pos = pos
                        if chars:
                            t.startchar = start_char + start + offset
                            t.endchar = start_char + start + offset + len(sub)
                        yield t
                start += len(word)
                pos += 1
            last = run.end()


class MixedStopFilter(Filter):
    """Like Whoosh's StopFilter, for a stream where several tokens may share a position.

    Stop words (English and ``CJK_STOP_WORDS``) are removed; ``minsize`` only applies to
    non-CJK tokens (one-character Chinese words are real words). With ``renumber`` the kept
    positions are renumbered without gaps, tokens that shared a position still share one.
    """

    def __init__(self, stoplist=STOP_WORDS | CJK_STOP_WORDS, minsize=2, maxsize=None,
                 renumber=True):
        self.stops = frozenset(stoplist or ())
        self.min = minsize
        self.max = maxsize
        self.renumber = renumber

    def __eq__(self, other):
        return (other is not None and self.__class__ is other.__class__
                and self.__dict__ == other.__dict__)

    def __hash__(self):
        return hash((self.__class__.__name__, self.stops, self.min, self.max, self.renumber))

    def __call__(self, tokens):
        stops = self.stops
        minsize = self.min
        maxsize = self.max
        renumber = self.renumber
        last_in = None   # original position of the last kept token
        out = None       # its renumbered position
        for t in tokens:
            text = t.text
            n = len(text)
            if (text not in stops
                    and (n >= minsize or (n and ord(text[0]) >= CJK_MIN))
                    and (maxsize is None or n <= maxsize)):
                if renumber and t.positions:
                    if out is None:
                        out = t.pos
                    elif t.pos != last_in:
                        out += 1
                    last_in = t.pos
                    t.pos = out
                t.stopped = False
                yield t
            elif not t.removestops:
                t.stopped = True
                yield t


_STEMS: dict[str, str] = {}


class FastMixedAnalyzer(CompositeAnalyzer):
    """``MixedTokenizer | LowercaseFilter | MixedStopFilter | StemFilter`` with the common case
    (text without Han characters) done in one loop instead of a chain of generators: the same
    tokens, positions and offsets, about twice as fast. Anything unusual (Chinese text,
    ``keeporiginal``, kept stop words, no stemming) goes through the chain."""

    def __call__(self, value, no_morph=False, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        if (no_morph or keeporiginal or not removestops or not tokenize
                or len(self.items) != 4 or HAN_RE.search(value) is not None):
            return CompositeAnalyzer.__call__(
                self, value, no_morph=no_morph, positions=positions, chars=chars,
                keeporiginal=keeporiginal, removestops=removestops, start_pos=start_pos,
                start_char=start_char, tokenize=tokenize, mode=mode, **kwargs)
        return self._fast(value, positions, chars, start_pos, start_char, mode, kwargs)

    def _fast(self, value, positions, chars, start_pos, start_char, mode, kwargs):
        stopper, stemmer = self.items[2], self.items[3]
        stops, minsize, maxsize = stopper.stops, stopper.min, stopper.max
        ignore = stemmer.ignore
        stemfn = stemmer.stemfn
        cache = _STEMS
        t = Token(positions, chars, removestops=True, mode=mode, **kwargs)
        out = None
        for i, match in enumerate(WORD_RE.finditer(value)):
            text = match.group(0).lower()
            n = len(text)
            if text in stops or (n < minsize and not (n and ord(text[0]) >= CJK_MIN)) \
                    or (maxsize is not None and n > maxsize):
                continue
            stemmed = cache.get(text)
            if stemmed is None:
                stemmed = text if text in ignore else stemfn(text)
                if len(cache) < 200_000:
                    cache[text] = stemmed
            t.text = stemmed
            t.boost = 1.0
            t.stopped = False
            if positions:
                out = start_pos + i if out is None else out + 1
                t.pos = out
            if chars:
                t.startchar = start_char + match.start()
                t.endchar = start_char + match.end()
            yield t

    def index_positions(self, value, kwargs: dict):
        """{term: [positions]} of ``value`` (terms in order of first occurrence), what Whoosh's
        ``Positions.word_values`` gathers from this analyzer's tokens, without making a Token
        per word; each token's boost is 1.0. None when the fast path does not apply (the
        caller then tokenizes as usual). Used by ``writing.word_values`` when indexing."""
        if (not isinstance(value, str) or len(self.items) != 4
                or not kwargs.keys() <= _INDEX_KWARGS or kwargs.get("positions") is not True
                or HAN_RE.search(value) is not None):
            return None
        terms = self._index_terms(value)
        poses: dict[str, list[int]] = {}
        # kept words are numbered on from the first one's index (MixedStopFilter's renumbering)
        first = next((i for i, term in enumerate(terms) if term is not None), None)
        if first is None:
            return poses
        get = poses.get
        for pos, term in enumerate([term for term in terms if term is not None], first):
            plist = get(term)
            if plist is None:
                poses[term] = [pos]
            else:
                plist.append(pos)
        return poses

    def index_counts(self, value, kwargs: dict):
        """{term: how many times} of ``value`` (terms in order of first occurrence): the tokens
        of ``index_positions``, counted (what Whoosh's ``Frequency.word_values`` gathers).
        None when the fast path does not apply."""
        if (not isinstance(value, str) or len(self.items) != 4
                or not kwargs.keys() <= _INDEX_KWARGS or HAN_RE.search(value) is not None):
            return None
        counts = Counter(self._index_terms(value))
        counts.pop(None, None)
        return counts

    def _index_terms(self, value: str) -> list:
        """The term of each word of ``value`` (None for a word dropped), through a cache of
        words already seen (text without Han characters)."""
        stopper, stemmer = self.items[2], self.items[3]
        stops, minsize, maxsize = stopper.stops, stopper.min, stopper.max
        ignore = stemmer.ignore
        stemfn = stemmer.stemfn
        config = (stops, minsize, maxsize, ignore, stemfn)
        terms_of = _TERM_OF_WORD.get(config)
        if terms_of is None or len(terms_of) > 200_000:
            terms_of = _TERM_OF_WORD[config] = {}
        words = WORD_RE.findall(value)
        terms = list(map(terms_of.get, words, repeat(_UNKNOWN, len(words))))
        if _UNKNOWN in terms:
            for i, term in enumerate(terms):
                if term is _UNKNOWN:    # the word's term (None when it is dropped), as _fast
                    text = words[i].lower()
                    n = len(text)
                    if text in stops or (n < minsize and not (n and ord(text[0]) >= CJK_MIN)) \
                            or (maxsize is not None and n > maxsize):
                        term = None
                    else:
                        term = text if text in ignore else stemfn(text)
                    terms[i] = terms_of[words[i]] = term
        return terms


_UNKNOWN = object()
# analyzer filter settings -> {word as found: its term, None when the word is dropped}
_TERM_OF_WORD: dict[tuple, dict] = {}


# keyword arguments Positions.word_values passes when indexing (start_pos/start_char absent: 0)
_INDEX_KWARGS = frozenset(("positions", "boosts", "mode"))


def mixed_analyzer(subwords: bool = True) -> Analyzer:
    """The analyzer for Chinese/English text fields (picklable, composable)."""
    return FastMixedAnalyzer(MixedTokenizer(subwords=subwords), LowercaseFilter(), MixedStopFilter(),
                             StemFilter())


