"""The extractive summary: sentences taken verbatim from the paper, each with its own line.

``extractive_summary(paper, passages, n=4) -> Summary``: the abstract's first sentences when
there is an abstract (``kind="abstract"``), else the most central sentences (TF-IDF cosine of a
sentence with the rest of the paper) in their original order (``kind="extractive"``). Captions,
reference entries, boilerplate and fragments are never chosen (``_reject_reason``); a sentence's
line is found in its source file when the passage maps onto its lines (``_line_anchors``).
Offline and deterministic.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from paperlens.core.models import Paper, Passage
from paperlens.core.summarize.records import Summary, SummarySentence, SummarySource
from paperlens.core.summarize.sentences import split_sentences

EXTRACTIVE_VERSION = "paperlens-extractive-2"   # 2: the first 256 KB of a paper are read
MAX_EXTRACTIVE_CHARS = 256 * 1024   # text an extractive summary reads (a hover computes it)


# ========================================================================== sentence filter

_CAPTION = re.compile(r"^(?:Figure|Fig\.|Figs\.|Table|Tab\.|Algorithm)\s*[A-Z]?\d+[a-z]?\s*[.:|]",
                      re.IGNORECASE)
_CAPTION_INSIDE = re.compile(r"(?:Figure|Fig\.|Table|Tab\.)\s*\d+[a-z]?\s*[.:]\s+[A-Z]")
_REFERENCE = re.compile(
    r"^\s*\[\d+\]\s*[A-Z]|^\s*\d{1,3}\.\s+[A-Z][a-z]+,\s+[A-Z]\.|arXiv preprint|arXiv:\s*\d|"
    r"\bIn Proceedings\b|\bProceedings of the\b|\bIn (?:CVPR|ICCV|ECCV|NeurIPS|NIPS|ICML|ICLR|"
    r"AAAI|IJCAI|ACL|EMNLP|NAACL|MICCAI|WACV|BMVC)\b|\bpages?\s+\d+\s*[-–]\s*\d+|\bpp\.\s*\d|"
    r"\bdoi:|\bIEEE Trans(?:actions)?\b|\bVol\.\s*\d|\b(?:19|20)\d\d\.\s*\d+\s*,?\s*\[?\d*\]?\s*$")
_BOILERPLATE = re.compile(r"Open Access version|Except for this watermark|IEEE Xplore|"
                          r"https?://|www\.|\S+@\S+\.\w|Computer Vision Foundation|"
                          r"Project page|Code is available|Equal contribution|Corresponding author",
                          re.IGNORECASE)
_CITATIONS = re.compile(r"\[[\d,;\s–\-]+\]|\([A-Z][A-Za-z\-]+(?: et al\.)?,? (?:19|20)\d\d[a-z]?\)")
_WORD = re.compile(r"[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’\-]*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# sections no summary is drawn from (the LLM's prompt leaves them out too)
SKIP_SECTIONS = re.compile(r"references|bibliography|acknowledg|funding|author contributions|"
                           r"supplementary|appendix", re.IGNORECASE)
MIN_WORDS, MAX_WORDS = 6, 60
MAX_SENTENCE_CHARS = 2000         # longer than any sentence of MAX_WORDS words

_FUNCTION_WORDS = frozenset("""
a an the of to in on at by for from with without into onto over under between among through
and or but nor so yet as than that which who whom whose this these those it its they their them
we our us is are was were be been being has have had do does did can could may might will would
should must not no there here when while where if then also only such each both all any
""".split())
_STOPWORDS = frozenset("""
a about above after again against all also although am among an and any are as at be because
been before being below between both but by can could did do does doing done down during each
either et al few for from further had has have having he her here hers him his how however i if
in into is it its itself just may might more most much must my no nor not now of off on once only
or other our ours out over own per same she should since so some such than that the their them
then there these they this those through thus to too under until up upon us very via was we were
what when where whether which while who whom why will with within without would yet you your
e g i.e fig figure table tab eq sec section paper work propose proposed show shows shown use used
using based method methods approach results result different new one two three first second
""".split())


def _word_count(text: str) -> int:
    return len(_WORD.findall(text)) + len(_CJK.findall(text)) // 2


def _reject_reason(sentence: str) -> Optional[str]:
    """Why ``sentence`` is no summary sentence, or None when it can be one."""
    s = sentence.strip()
    if _CAPTION.match(s) or _CAPTION_INSIDE.search(s):
        return "caption"
    if len(s) > MAX_SENTENCE_CHARS:
        return "too long"                       # and some patterns below are slow on it
    if _REFERENCE.search(s):
        return "reference"
    if _BOILERPLATE.search(s):
        return "boilerplate"
    bare = _CITATIONS.sub(" ", s)
    words = _word_count(bare)
    if words < MIN_WORDS:
        return "citations only" if _CITATIONS.search(s) and words < 2 else "too short"
    if _word_count(s) > MAX_WORDS:
        return "too long"
    letters = sum(ch.isalpha() for ch in bare)
    visible = sum(not ch.isspace() for ch in bare)
    if visible == 0 or letters / visible < 0.6:
        return "numbers or symbols"
    tokens = bare.split()
    wordy = sum(1 for t in tokens if _WORD.fullmatch(t.strip(".,;:()[]\"'“”‘’")))
    if not _CJK.search(bare) and wordy / max(1, len(tokens)) < 0.5:
        return "numbers or symbols"
    if re.search(r"\d\.\d+\.\d", bare):
        return "numbers or symbols"           # chart ticks glued together: "0.00.20.4"
    if not _CJK.search(bare):
        lowered = [t.strip(".,;:()[]\"'“”‘’").lower() for t in tokens]
        function = sum(1 for t in lowered if t in _FUNCTION_WORDS)
        if function == 0 or (len(tokens) >= 15 and function / len(tokens) < 0.08):
            return "not prose"                # a run-in heading or a figure's labels
    first = s[:1]
    if first.islower():
        return "fragment"                       # starts mid-sentence (column or page break)
    if first in "[(" or re.match(r"^\d+\s+[a-z]", s):
        return "fragment"                       # "[41] annotations, ...", "1985 representations"
    if not re.search(r"[.!?。！？][\"'”’)\]]*$", s):
        return "fragment"                       # cut off at the passage end
    return None


def _terms(text: str) -> list[str]:
    words = [w.lower().strip("'’-") for w in _WORD.findall(text)]
    out = [w for w in words if len(w) > 2 and w not in _STOPWORDS]
    out.extend(_CJK.findall(text))
    return out


# ======================================================================== line mapping

_ReadLines = Callable[[str], Optional[Sequence[str]]]
_TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
MAX_SOURCE_BYTES = 20 * 1024 * 1024   # as parse_file reads text papers


def _read_source_lines(path: str) -> Optional[list[str]]:
    """The lines of a text paper as the parser saw them (same decoding and repair); None when
    it is no regular file of at most ``MAX_SOURCE_BYTES`` (never blocking on a FIFO, never
    reading a device: corpus.read_regular)."""
    p = Path(path)
    if p.suffix.lower() not in _TEXT_SUFFIXES:
        return None
    try:
        from paperlens.core.corpus import read_regular
        data = read_regular(p, MAX_SOURCE_BYTES)     # ValueError: not such a file
        from paperlens.core.parse.common import clean_text
        from paperlens.core.parse.repair import decode_text_file
        return clean_text(decode_text_file(data)).split("\n")
    except Exception:   # noqa: BLE001 - no line mapping, the passage start is used
        return None


def _line_anchors(passage: Passage, lines: Optional[Sequence[str]]) -> list[tuple[int, int]]:
    """``(offset in passage.text, line number)`` pairs, ascending: where each source line of
    the passage starts in its joined text. Just the passage start when the lines don't map."""
    anchors = [(0, passage.line_start)]
    if lines is None or passage.line_end < passage.line_start or passage.line_end >= len(lines):
        return anchors
    text = passage.text
    cursor = 0
    first = True
    for number in range(passage.line_start, passage.line_end + 1):
        stripped = lines[number].strip()
        if not stripped:
            continue
        head = stripped[:16]
        if len(stripped) <= 16 and stripped.endswith("-"):
            head = stripped[:-1]
        if not head:
            continue
        pos = text.find(head, cursor, cursor + len(head) + 8)
        if pos < 0:
            continue
        if first:
            anchors = [(pos, number)] if pos == 0 else anchors + [(pos, number)]
            first = False
        elif pos > anchors[-1][0]:
            anchors.append((pos, number))
        cursor = pos + len(stripped) - (1 if stripped.endswith("-") else 0)
    return anchors


def _line_at(anchors: list[tuple[int, int]], offset: int) -> int:
    line = anchors[0][1]
    for off, number in anchors:
        if off > offset:
            break
        line = number
    return line


# ===================================================================== extractive summary

@dataclass
class _Sent:
    order: int
    passage: int                  # index into the passages list
    start: int
    end: int
    text: str
    section: str
    ok: bool


def is_abstract(p: Passage) -> bool:
    """A passage of the abstract (not of a translated one, ``abstract-zh``)."""
    return p.section.strip().lower() == "abstract"


def _collect(passages: list[Passage], indexes: Iterable[int]) -> list[_Sent]:
    out: list[_Sent] = []
    for i in indexes:
        p = passages[i]
        spans = split_sentences(p.text[:MAX_EXTRACTIVE_CHARS])   # a huge passage: its start
        skip_tail = 0
        for s, e in spans:
            text = p.text[s:e]
            reason = _reject_reason(text)
            if reason == "caption":
                skip_tail = 2             # the caption's next sentences are caption too
            elif skip_tail:
                skip_tail -= 1
                reason = reason or "caption tail"
            out.append(_Sent(len(out), i, s, e, text, p.section, reason is None))
    return out


def _centrality(sents: list[_Sent]) -> tuple[list[float], list[dict[str, float]]]:
    """Cosine of each sentence's TF-IDF vector with the sum of all the others'."""
    bags = [_terms(s.text) for s in sents]
    df: dict[str, int] = {}
    for bag in bags:
        for t in set(bag):
            df[t] = df.get(t, 0) + 1
    n = len(sents)
    idf = {t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in df.items()}
    vectors: list[dict[str, float]] = []
    for bag in bags:
        tf: dict[str, int] = {}
        for t in bag:
            tf[t] = tf.get(t, 0) + 1
        vec = {t: (1.0 + math.log(c)) * idf[t] for t, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({t: v / norm for t, v in vec.items()})
    total: dict[str, float] = {}
    for vec in vectors:
        for t, v in vec.items():
            total[t] = total.get(t, 0.0) + v
    total_sq = sum(v * v for v in total.values())
    scores = []
    for vec in vectors:
        if not vec:
            scores.append(0.0)
            continue
        # rest = total - vec; cos(vec, rest) with |vec| = 1
        dot = sum(v * total[t] for t, v in vec.items()) - 1.0
        rest_sq = total_sq - 2 * sum(v * total[t] for t, v in vec.items()) + 1.0
        scores.append(dot / math.sqrt(rest_sq) if rest_sq > 1e-12 else 0.0)
    return scores, vectors


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def _within(passages: list[Passage], indexes: list[int]) -> list[int]:
    """The first of ``indexes`` whose passages hold at most ``MAX_EXTRACTIVE_CHARS`` in all
    (a 5 MB paper took 7 s; a paper's summary is in its first pages)."""
    out, size = [], 0
    for i in indexes:
        size += len(passages[i].text)
        if size > MAX_EXTRACTIVE_CHARS and out:
            break
        out.append(i)
    return out


def extractive_summary(paper: Paper, passages: list[Passage], n: int = 4, *,
                       read_lines: Optional[_ReadLines] = _read_source_lines) -> Summary:
    """3–5 sentences taken verbatim from the paper (``n`` of them, default 4).

    The abstract's first sentences when the paper has one (``kind="abstract"``), otherwise the
    most central sentences of the body in their original order (``kind="extractive"``).
    Captions, reference entries, boilerplate, fragments, very short or long sentences and
    sentences that are mostly numbers are never chosen. Only the first
    ``MAX_EXTRACTIVE_CHARS`` of the text are read. Each sentence's ``line`` is its own
    line when the passage maps onto its source file's lines (``read_lines(path)`` gives them;
    text papers are read from disk), else the passage's first line.
    """
    n = max(1, n)
    line_cache: dict[str, Optional[Sequence[str]]] = {}

    def make_sentence(s: _Sent) -> SummarySentence:
        p = passages[s.passage]
        if read_lines is not None and p.path not in line_cache:
            line_cache[p.path] = read_lines(p.path) if p.path else None
        anchors = _line_anchors(p, line_cache.get(p.path))
        return SummarySentence(s.text, _line_at(anchors, s.start), p.page)

    def result(chosen: list[_Sent], kind: str) -> Summary:
        chosen = sorted(chosen, key=lambda s: s.order)
        sentences = [make_sentence(s) for s in chosen]
        sources: list[SummarySource] = []
        for s in chosen:
            src = SummarySource(s.passage, passages[s.passage].line_start,
                                passages[s.passage].page)
            if src not in sources:
                sources.append(src)
        return Summary(text=" ".join(x.text for x in sentences), sentences=sentences, kind=kind,
                       sources=sources)

    abstract_idx = _within(passages, [i for i, p in enumerate(passages) if is_abstract(p)])
    if abstract_idx:
        abstract_sents = [s for s in _collect(passages, abstract_idx) if s.ok]
        if len(abstract_sents) >= min(3, n):
            return result(abstract_sents[:n], "abstract")
    elif paper.abstract.strip() and not passages:
        # metadata only (e.g. a .bib entry): the abstract is the only text there is
        fake = Passage(paper_id=paper.id, text=paper.abstract, path="", section="abstract",
                       line_start=paper.source_line, line_end=paper.source_line)
        passages = [fake]
        sents = [s for s in _collect(passages, [0]) if s.ok]
        if sents:
            summary = result(sents[:n], "abstract")
            summary.sources = []          # no passage of the caller's list
            return summary

    body_idx = _within(passages, [i for i, p in enumerate(passages)
                                  if not SKIP_SECTIONS.search(p.section or "")])
    sents = _collect(passages, body_idx)
    if not any(s.ok for s in sents):
        return Summary(text="", sentences=[], kind="extractive")
    scores, vectors = _centrality(sents)
    ranked = sorted((s for s in sents if s.ok), key=lambda s: (-scores[s.order], s.order))
    chosen: list[_Sent] = []
    for s in ranked:
        if any(_cos(vectors[s.order], vectors[c.order]) > 0.5 for c in chosen):
            continue                      # near-duplicate of a sentence already chosen
        chosen.append(s)
        if len(chosen) >= n:
            break
    return result(chosen, "extractive")
