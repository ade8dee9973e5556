"""Text for PostgreSQL's full-text search: Chinese segmented with jieba before it is stored or
searched (the same segmentation as the Whoosh analyzer, :mod:`paperlens.core.index.segmentation`),
queries turned into ``websearch_to_tsquery`` text, snippets cleaned of the segmentation.

PostgreSQL's parser does not segment Chinese: a run of Han characters would be one word. Before
a passage is stored, each run is cut into jieba words separated by spaces (``segmented``), its
stop words (CJK_STOP_WORDS) dropped; a long word's dictionary 2/3-character sub-words are added at
the end of what is indexed (``index_text``) so that ``网络`` finds ``神经网络`` (as Whoosh's
analyzer does), while consecutive whole words stay consecutive: a quoted phrase still matches.
The same cut is applied to the query, so both sides agree on the words.
"""
from __future__ import annotations

import re

from paperlens.core.index.segmentation import (CJK_STOP_WORDS, HAN_CLASS, HAN_RE, HAN_RUN_RE, dictionary,
                                               segment, subwords)

CONFIG = "english"    # stemming and stop words of the Whoosh analyzer's English side


def _cut(text: str, extra: list[str] | None, stops: bool = False) -> str:
    def words(m: re.Match) -> str:
        kept = [w for w in segment(m.group(0)) if stops or w not in CJK_STOP_WORDS]
        if extra is not None:
            freq = dictionary()
            for w in kept:
                if len(w) >= 3:
                    extra.extend(sub for _, sub in subwords(w, freq))
        return " " + " ".join(kept) + " "
    return HAN_RUN_RE.sub(words, text)


def segmented(text: str, stops: bool = False) -> str:
    """``text`` with its Chinese words spaced out (unchanged without Han characters); its
    Chinese stop words dropped unless ``stops`` (what snippets are cut from keeps them)."""
    if not text or HAN_RE.search(text) is None:
        return text or ""
    return _cut(text, None, stops)


def index_text(text: str) -> str:
    """What is indexed of ``text``: ``segmented`` plus the sub-words of long Chinese words."""
    if not text or HAN_RE.search(text) is None:
        return text or ""
    extra: list[str] = []
    out = _cut(text, extra)
    return out + (" \n " + " ".join(extra) if extra else "")


# ------------------------------------------------------------------------------------ queries

_CHUNK_RE = re.compile(r'-?"[^"]*"?|\S+')
_OPERATORS = frozenset(("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"))   # Whoosh's, as written
# Whoosh's field prefixes: searched as plain words here (every field is in one tsvector)
_FIELD_RE = re.compile(r"(^|[\s(-])(?:title|authors?|abstract|body|key|year|venue|meta):(?=\S)", re.I)


def query_texts(query: str) -> tuple[str, str, str]:
    """(all, any, without) for ``websearch_to_tsquery``: every word and phrase of the query
    (tier 0), any of them (tier 1, the same chunks joined with ``or``), and the negated ones
    (``-word``, ``-"a phrase"``), which both tiers exclude. Quoted phrases stay phrases; a
    Whoosh field prefix (``title:``) is dropped, its words searched in every field."""
    positive, negative = [], []
    query = _FIELD_RE.sub(r"\1", query)
    for chunk in _CHUNK_RE.findall(query):
        neg = chunk.startswith("-") and len(chunk) > 1
        body = chunk[1:] if neg else chunk
        if not neg and body in _OPERATORS:     # a stop word ("to") keeps its place in a phrase
            continue
        if body.startswith('"'):
            body = '"' + segmented(body.strip('"')).strip() + '"'
            if body == '""':
                continue
        else:
            body = segmented(body).strip()
            if not body:
                continue
        (negative if neg else positive).append(body)
    # a Chinese chunk cut into several words needs all of them in "all", any in "any"
    everything = " ".join(positive)
    anything = " or ".join(positive)
    without = " ".join("-" + c for c in negative)
    return everything, anything, without


# ---------------------------------------------------------------------------------- snippets

# Han characters and CJK punctuation (，。（）…): no space between two of them is the original's
_CJK = HAN_CLASS + "\u2e80-\u303f\uff00-\uffef"
_JOINED_RE = re.compile("(?<=[%s])(\\*\\*)? +(\\*\\*)?(?=[%s])" % (_CJK, _CJK))


def unsegment(snippet: str) -> str:
    """A headline of ``segmented`` text as the original reads: the spaces put between Chinese
    words go, and so does the bold boundary between two bold neighbours (``**神经****网络**``)."""
    if HAN_RE.search(snippet) is None:
        return snippet
    out = _JOINED_RE.sub(lambda m: (m.group(1) or "") + (m.group(2) or ""), snippet)
    return out.replace("****", "")
