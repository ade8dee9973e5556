"""Paper summaries for the card: extractive (offline, deterministic) or by an LLM.

* ``extractive_summary(paper, passages, n=4) -> Summary`` — sentences taken verbatim from the
  paper: the abstract's first sentences when there is an abstract (``kind="abstract"``), else the
  most central sentences (TF-IDF cosine of a sentence with the rest of the paper), in their
  original order (``kind="extractive"``). Every sentence keeps its line and page.
* ``build_prompt(paper, passages, settings) -> (messages, used_passages)`` and
  ``summarize_llm(paper, passages, settings) -> Summary`` — a chat-completions call with the
  ``openai`` client (OpenAI or any OpenAI-compatible server through ``base_url``). The input is
  chosen within ``max_input_tokens`` (counted with tiktoken, offline); papers longer than the
  budget are condensed in parts first (map-reduce, at most ``MAX_PARTS`` parts). Failures raise
  ``SummaryError`` with a message for the user; the API key never appears in messages or logs.
* ``SummaryCache(root)`` — JSON files keyed by sha256(content hash, provider, model, version,
  base URL), written atomically.
* ``SummaryService`` — what the server and CLI use: ``card_summary`` answers at once (cached LLM
  summary, else the extractive one) and schedules the LLM summary on a background worker;
  ``fill`` fills the cache for a whole library.

Pure Python: no protocol types; ``openai`` and ``tiktoken`` are imported lazily. Nothing is
printed.
"""
from __future__ import annotations

import concurrent.futures
import email.utils
import hashlib
import json
import logging
import math
import os
import queue
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, Optional, Sequence

from paperlens.core.models import Paper, Passage

__all__ = [
    "EXTRACTIVE_VERSION", "MAX_PARTS", "PROMPT_VERSION", "FillResult", "LLMSummarizer",
    "PromptPlan", "Summary", "SummaryCache", "SummaryError", "SummarySentence", "SummaryService",
    "SummarySource", "build_prompt", "extractive_summary", "messages_tokens", "plan_prompts",
    "split_sentences", "summarize_llm",
]

log = logging.getLogger(__name__)

PROMPT_VERSION = "paperlens-summary-1"
EXTRACTIVE_VERSION = "paperlens-extractive-2"   # 2: the first 256 KB of a paper are read
MAX_PARTS = 6                     # map-reduce: at most this many partial summaries per paper
MAX_ATTEMPTS = 4                  # one call: the first try and at most 3 retries (429 / 5xx)
NO_KEY_MESSAGE = "set OPENAI_API_KEY or paperlens.summary.baseUrl"
PLACEHOLDER_KEY = "not-needed"


# ============================================================================== data records


@dataclass
class SummarySentence:
    text: str
    line: int                     # 0-based line of the paper file where the sentence starts
    page: Optional[int] = None


class SummarySource(NamedTuple):
    """A passage a summary was drawn from: its index in the passages list given, line, page."""

    index: int
    line: int
    page: Optional[int] = None


@dataclass
class Summary:
    text: str
    sentences: list[SummarySentence]
    kind: str                     # "abstract" | "extractive" | "llm"
    model: str = ""
    # extractive: the passages the sentences come from; llm: the passages given to the model,
    # in prompt order, so that ``[Pn]`` in ``text`` is ``sources[n - 1]``
    sources: list[SummarySource] = field(default_factory=list)

    def cited_sources(self) -> list[SummarySource]:
        """The sources an LLM summary cites as ``[Pn]`` (all of them for extractive ones)."""
        if self.kind != "llm":
            return list(self.sources)
        out: list[SummarySource] = []
        for n in _cited_numbers(self.text):
            if 1 <= n <= len(self.sources) and self.sources[n - 1] not in out:
                out.append(self.sources[n - 1])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "model": self.model,
                "sentences": [{"text": s.text, "line": s.line, "page": s.page}
                              for s in self.sentences],
                "sources": [list(s) for s in self.sources]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Summary":
        return cls(text=str(data["text"]), kind=str(data["kind"]), model=str(data.get("model", "")),
                   sentences=[SummarySentence(str(s["text"]), int(s["line"]),
                                              None if s.get("page") is None else int(s["page"]))
                              for s in data.get("sentences", [])],
                   sources=[SummarySource(int(s[0]), int(s[1]), None if s[2] is None else int(s[2]))
                            for s in data.get("sources", [])])


class SummaryError(Exception):
    """A summary could not be made; ``str(exc)`` tells the user what to do.

    ``kind`` groups errors for reporting once: ``config``, ``auth``, ``rate_limit``,
    ``timeout``, ``connection``, ``invalid``, ``context``, ``http``, ``empty``, ``stopped``
    (the summarizer was closed).
    """

    def __init__(self, message: str, kind: str = "error", status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status

    def __repr__(self) -> str:
        return f"SummaryError({self.message!r}, kind={self.kind!r})"


# ============================================================================ sentence split

_ABBREVIATIONS = {
    "al.", "e.g.", "i.e.", "cf.", "vs.", "viz.", "resp.", "approx.", "fig.", "figs.", "eq.",
    "eqs.", "sec.", "secs.", "tab.", "tabs.", "no.", "nos.", "vol.", "pp.", "p.", "ch.", "app.",
    "alg.", "algo.", "def.", "thm.", "lem.", "prop.", "ref.", "refs.", "dr.", "mr.", "mrs.", "ms.",
    "prof.", "st.", "w.r.t.", "a.k.a.", "incl.", "est.", "i.i.d.", "et.", "ca.", "jr.", "sr.",
    "ed.", "eds.", "u.s.", "mt.", "op.", "cit.", "ibid.", "approx.", "max.", "min.", "avg.",
    "std.", "eqn.", "eqns.", "exp.", "expt.", "dept.", "univ.", "inc.", "ltd.", "co.", "corp.",
}
# a sentence may end here: terminal punctuation, closing quotes/brackets, then space (or, after
# CJK punctuation, nothing)
_CANDIDATE = re.compile(r"[.!?][\"'”’)\]]*\s+|[。！？][\"'”’)\]」』]*\s*|"
                        r"(?<=[a-z]{3})\.(?=[A-Z][a-z]+\s)")   # "models.Our results" (glued)
_LABEL_BEFORE = re.compile(r"(?:Figure|Fig|Figs|Table|Tab|Algorithm|Alg|Eq|Equation|Section|Sec|"
                           r"Appendix|Step|Stage|Phase|Part|Chapter)\.?\s*[A-Z]?\d+[a-z]?$")
_BULLET = re.compile(r"[•◦▪▸►·∙*–—-]\s*")
# a page number or a section heading glued to the start of a sentence: "3447 In this study"
_LEADING_JUNK = re.compile(
    r"(?:\d{1,5}\s+|(?:\d+(?:\.\d+)*\.?\s*)?(?:Abstract|Introduction|Related [Ww]ork|Background|"
    r"Methods?|Methodology|Approach|Experiments?|Results|Evaluation|Discussion|Conclusions?|"
    r"Limitations)\.?\s+)(?=[A-Z][a-z])")
_SENTENCE_START = re.compile(r"[A-Z0-9\"'“‘(\[•◦▪▸►·∙\u00C0-\u024F\u0370-\u03FF\u3400-\u9fff]")


_LOOK_BEHIND = 80                 # characters before a full stop that decide whether it ends


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text`` (``text[start:end]`` is the sentence).

    Handles abbreviations (``et al.``, ``e.g.``, ``Fig. 3``), decimals (``3.5``), initials
    (``J. Smith``), figure/table labels (``Figure 3. Overview`` stays one sentence), closing
    quotes and brackets, CJK full stops, and bullets (``• We propose``).
    """
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in _CANDIDATE.finditer(text):
        punct_end = m.end()
        while punct_end > m.start() and text[punct_end - 1].isspace():
            punct_end -= 1
        nxt = m.end()
        if nxt >= n:
            break
        if text[m.start()] == ".":
            if not _SENTENCE_START.match(text[nxt]):
                continue                      # "e.g. the", "et al. proposed", "3. and"
            # the word before the full stop, and a label before it, are looked for in the few
            # characters before it: searching all the text since the sentence start made each
            # candidate cost the sentence's length ("Fig. A" repeated: quadratic)
            dot = m.start()
            i, floor = dot, max(start, dot - _LOOK_BEHIND)
            while i > floor and not text[i - 1].isspace():
                i -= 1
            token = (text[i:dot] + ".").lstrip("([{\"'“‘").lower()
            if token in _ABBREVIATIONS:
                continue
            if re.fullmatch(r"[A-Za-z]\.", token) or re.fullmatch(r"(?:[A-Za-z]\.){2,}", token):
                continue                      # an initial: "J. Smith", "U.S."
            if _LABEL_BEFORE.search(text, max(start, dot - _LOOK_BEHIND), dot):
                continue                      # "Figure 3. Overview of ..." stays together
        elif text[m.start()] in "!?" and not _SENTENCE_START.match(text[nxt]):
            continue
        if start < punct_end:
            spans.append((start, punct_end))
        start = nxt
    if start < n and text[start:].strip():
        spans.append((start, n))
    # trim whitespace and bullets inside each span; offsets stay exact
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        for lead in (_BULLET, _LEADING_JUNK):
            b = lead.match(text, s, e)
            if b and b.end() < e:
                s = b.end()
        if s < e:
            out.append((s, e))
    return out


# ===================================================================== extractive filtering

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
_SKIP_SECTIONS = re.compile(r"references|bibliography|acknowledg|funding|author contributions|"
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


def _read_regular(path: Path, cap: int) -> Optional[bytes]:
    """The bytes of ``path`` if it is a regular file of at most ``cap`` bytes, else None (never
    blocking on a FIFO, never reading a device: corpus.read_regular). Raises OSError as
    ``open`` does (FileNotFoundError included)."""
    from paperlens.core.corpus import read_regular
    try:
        return read_regular(path, cap)
    except ValueError:
        return None


def _read_source_lines(path: str) -> Optional[list[str]]:
    """The lines of a text paper as the parser saw them (same decoding and repair)."""
    p = Path(path)
    if p.suffix.lower() not in _TEXT_SUFFIXES:
        return None
    try:
        data = _read_regular(p, MAX_SOURCE_BYTES)
        if data is None:
            return None
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


def _is_abstract(p: Passage) -> bool:
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


MAX_EXTRACTIVE_CHARS = 256 * 1024   # text an extractive summary reads (a hover computes it)


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

    abstract_idx = _within(passages, [i for i, p in enumerate(passages) if _is_abstract(p)])
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
                                  if not _SKIP_SECTIONS.search(p.section or "")])
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


# ======================================================================== LLM: the prompt

SYSTEM_PROMPT = (
    "You summarise research papers for a reader who decides whether to read them. Use only the "
    "text you are given; never add facts, numbers or claims that are not in it.")
USER_PROMPT = (
    "Summarise the paper below in 3 to 5 sentences: the problem, the approach and the main "
    "findings. Be faithful to the text. After each sentence, cite the passages it is based on "
    "by their numbers, like [P1] or [P2][P5]. Answer with the summary only: plain text, no "
    "heading, no list.")
PART_PROMPT = (
    "Summarise this part of a research paper in at most 3 sentences, faithful to the text. "
    "After each sentence cite the passages it is based on, like [P3]. Plain text only.")
REDUCE_PROMPT = (
    "Below are summaries of consecutive parts of one research paper; their [P#] marks cite "
    "passages of the paper. Write one summary of the whole paper in 3 to 5 sentences: the "
    "problem, the approach and the main findings. Use only what the part summaries say and "
    "keep the [P#] citations of what you use. Answer with the summary only: plain text, no "
    "heading, no list.")
MESSAGE_OVERHEAD = 4              # tokens the chat format adds per message (role, separators)
REPLY_OVERHEAD = 3
_CONCLUSION = re.compile(r"conclu|discussion|summary|closing remarks|future work", re.IGNORECASE)
_INTRODUCTION = re.compile(r"introduction|overview|motivation", re.IGNORECASE)


def _encoder(model: str):
    """``encode_ordinary``-like callable for ``model``: tiktoken (offline), or an estimate."""
    from paperlens.core import tokens
    try:
        try:
            enc = tokens.encoding_for(model or None)
        except tokens.TokenizerDataError:
            enc = tokens.encoding_for(None)     # o200k_base, then cl100k_base
        return enc
    except Exception as exc:   # noqa: BLE001 - tokenizer data unusable: size roughly
        log.warning("summary token counts are estimated: %s", exc)
        return None


class _Counter:
    def __init__(self, model: str) -> None:
        self.enc = _encoder(model)

    def count(self, text: str) -> int:
        if self.enc is not None:
            return len(self.enc.encode_ordinary(text))
        return len(text.split()) + len(_CJK.findall(text)) + len(text) // 12

    def truncate(self, text: str, max_tokens: int) -> str:
        if max_tokens <= 0:
            return ""
        if self.enc is not None:
            ids = self.enc.encode_ordinary(text)
            if len(ids) <= max_tokens:
                return text
            k = max_tokens
            while k > 0:
                prefix = self.enc.decode_bytes(ids[:k]).decode("utf-8", errors="ignore")
                if len(self.enc.encode_ordinary(prefix)) <= max_tokens:
                    return prefix
                k -= 1
            return ""
        words = text.split()
        while words and self.count(" ".join(words)) > max_tokens:
            words = words[: max(0, len(words) - max(1, len(words) // 8))]
        return " ".join(words)


def messages_tokens(messages: list[dict[str, str]], model: str = "") -> int:
    """Tokens of a chat prompt: contents plus the chat format's per-message overhead."""
    counter = _Counter(model)
    return sum(counter.count(m["content"]) + MESSAGE_OVERHEAD for m in messages) + REPLY_OVERHEAD


def _priority(p: Passage) -> int:
    if _is_abstract(p):
        return 0
    if _INTRODUCTION.search(p.section or ""):
        return 1
    if _CONCLUSION.search(p.section or ""):
        return 2
    return 4


def _eligible(passages: list[Passage]) -> list[int]:
    """Passages worth sending: no references or acknowledgements, and no translated abstract
    ("abstract-zh") when there is an abstract."""
    has_abstract = any(_is_abstract(p) for p in passages)
    return [i for i, p in enumerate(passages)
            if p.text.strip() and not _SKIP_SECTIONS.search(p.section or "")
            and not (has_abstract and p.section.lower().startswith("abstract-"))]


def _block(number: int, p: Passage, text: Optional[str] = None) -> str:
    section = " ".join((p.section or "body").split())[:60]
    where = f"{section}, page {p.page}" if p.page else section
    return f"[P{number}] ({where})\n{p.text if text is None else text}"


def _header(paper: Paper, passages: list[Passage], counter: _Counter, budget: int) -> str:
    title = " ".join(paper.title.split())
    head = f"Title: {title}" if title else ""
    if paper.abstract.strip() and not any(_is_abstract(p) for p in passages):
        abstract = counter.truncate(" ".join(paper.abstract.split()), max(0, budget // 2))
        head += f"\nAbstract: {abstract}" if abstract else ""
    return head.strip()


@dataclass
class _Prompt:
    messages: list[dict[str, str]]
    used: list[int]               # passage indexes, in [P1], [P2] ... order


@dataclass
class PromptPlan:
    """One call (``parts`` empty) or a map-reduce: ``parts`` then ``reduce`` over their
    answers. ``used`` are the passage indexes numbered [P1], [P2] ... across all parts."""

    single: Optional[_Prompt]
    parts: list[_Prompt]
    used: list[int]
    budget: int


def _fit(order: list[int], sizes: dict[int, int], capacity: int) -> list[int]:
    chosen, total = [], 0
    for i in order:
        if total + sizes[i] <= capacity:
            chosen.append(i)
            total += sizes[i]
    return chosen


def plan_prompts(paper: Paper, passages: list[Passage], settings: Any, *,
                 budget: Optional[int] = None, max_parts: int = MAX_PARTS) -> PromptPlan:
    """Choose the input within the token budget and lay out the calls.

    Priority: title and abstract, then introduction and conclusion passages, then the others
    in order. When everything fits ``budget`` (default ``settings.max_input_tokens``): one
    prompt. Otherwise map-reduce: the passages (by priority, as much as ``max_parts`` parts
    can hold) are cut, in document order, into parts that each fit the budget with the
    shorter part prompt.
    """
    budget = int(budget if budget is not None else settings.max_input_tokens)
    counter = _Counter(getattr(settings, "model", ""))
    eligible = _eligible(passages)
    header = _header(paper, passages, counter, budget)
    rank = {i: _priority(passages[i]) for i in eligible}
    intro = [i for i in eligible if rank[i] == 1]
    for i in intro[1:]:
        rank[i] = 3                       # the introduction's opening, the conclusion, the rest
    order = sorted(eligible, key=lambda i: (rank[i], i))

    def overhead(prompt: str, head: str, extra: str = "") -> int:
        return (counter.count(SYSTEM_PROMPT) + counter.count(f"{prompt}\n\n{head}\n\n{extra}")
                + 2 * MESSAGE_OVERHEAD + REPLY_OVERHEAD + 2)

    # passage blocks are numbered in the end; "[P10]" and "[P1]" cost the same or 1 token more
    sizes = {i: counter.count(_block(99, passages[i])) + 1 for i in eligible}
    room = budget - overhead(USER_PROMPT, header)
    if sum(sizes.values()) <= room or max_parts <= 1:
        chosen = _fit(order, sizes, room)
        if not chosen and order and room > 48:  # one passage longer than the whole budget
            chosen = [order[0]]
        return PromptPlan(single=_single(paper, passages, chosen, header, counter, room),
                          parts=[], used=sorted(chosen), budget=budget)

    part_room = budget - overhead(PART_PROMPT, header, f"Part {max_parts} of {max_parts}:\n\n")
    if part_room < 64:
        raise SummaryError(f"paperlens.summary.maxInputTokens ({budget}) is too small for a "
                           "prompt; raise it", kind="context")
    # passages longer than a part are cut to fit one
    texts = {i: passages[i].text for i in eligible}
    for i in eligible:
        if sizes[i] > part_room:
            texts[i] = counter.truncate(passages[i].text, part_room - 24)
            sizes[i] = counter.count(_block(99, passages[i], texts[i])) + 1
    capacity = part_room * max_parts
    chosen = _fit(order, sizes, capacity)
    while True:
        parts = _pack(sorted(chosen), sizes, part_room)
        if len(parts) <= max_parts or len(chosen) <= 1:
            break
        chosen = chosen[:-1]              # drop the least important passage and repack
    if len(parts) == 1:
        return PromptPlan(single=_single(paper, passages, parts[0], header, counter, room),
                          parts=[], used=parts[0], budget=budget)
    used = [i for part in parts for i in part]
    number = {i: k + 1 for k, i in enumerate(used)}
    prompts = []
    for k, part in enumerate(parts):
        blocks = "\n\n".join(_block(number[i], passages[i], texts[i]) for i in part)
        user = f"{PART_PROMPT}\n\n{header}\n\nPart {k + 1} of {len(parts)}:\n\n{blocks}"
        prompts.append(_Prompt([{"role": "system", "content": SYSTEM_PROMPT},
                                {"role": "user", "content": user}], part))
    return PromptPlan(single=None, parts=prompts, used=used, budget=budget)


def _pack(indexes: list[int], sizes: dict[int, int], capacity: int) -> list[list[int]]:
    parts: list[list[int]] = []
    current: list[int] = []
    total = 0
    for i in indexes:
        if current and total + sizes[i] > capacity:
            parts.append(current)
            current, total = [], 0
        current.append(i)
        total += sizes[i]
    if current:
        parts.append(current)
    return parts


def _single(paper: Paper, passages: list[Passage], chosen: list[int], header: str,
            counter: _Counter, room: int) -> _Prompt:
    used = sorted(chosen)
    texts = {}
    for i in used:
        texts[i] = passages[i].text
    if len(used) == 1:                    # a lone passage may need cutting to the budget
        i = used[0]
        if counter.count(_block(1, passages[i])) + 1 > room:
            texts[i] = counter.truncate(passages[i].text, max(0, room - 24))
    blocks = "\n\n".join(_block(k + 1, passages[i], texts[i]) for k, i in enumerate(used))
    user = f"{USER_PROMPT}\n\n{header}\n\n{blocks}".rstrip()
    return _Prompt([{"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": user}], used)


def build_prompt(paper: Paper, passages: list[Passage], settings: Any, *,
                 budget: Optional[int] = None) -> tuple[list[dict[str, str]], list[Passage]]:
    """The single-call prompt: ``(messages, used_passages)``; ``used_passages[n - 1]`` is the
    passage shown as ``[Pn]``. The input is chosen by priority within ``budget`` tokens
    (default ``settings.max_input_tokens``); what doesn't fit is left out (``summarize_llm``
    condenses long papers in parts instead)."""
    plan = plan_prompts(paper, passages, settings, budget=budget, max_parts=1)
    assert plan.single is not None
    return plan.single.messages, [passages[i] for i in plan.single.used]


def _reduce_prompt(paper: Paper, partials: list[str], counter: _Counter,
                   budget: int) -> list[dict[str, str]]:
    title = " ".join(paper.title.split())
    head = f"Title: {title}\n\n" if title else ""
    fixed = (counter.count(SYSTEM_PROMPT) + counter.count(f"{REDUCE_PROMPT}\n\n{head}")
             + 2 * MESSAGE_OVERHEAD + REPLY_OVERHEAD + 8 * len(partials))
    each = max(32, (budget - fixed) // max(1, len(partials)))
    body = "\n\n".join(f"Part {k + 1}: {counter.truncate(p, each)}" for k, p in enumerate(partials))
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"{REDUCE_PROMPT}\n\n{head}{body}"}]


# ====================================================================== LLM: the client

_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)


def _strip_think(text: str) -> str:
    """``text`` without the ``<think>…</think>`` blocks of reasoning models (each replaced by a
    space; an unclosed one is kept). Linear: ``<think>.*?</think>`` as one pattern scanned to
    the end for every unclosed ``<think>``."""
    out, i = [], 0
    while True:
        start = _THINK_OPEN.search(text, i)
        end = _THINK_CLOSE.search(text, start.end()) if start else None
        if end is None:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:start.start()])
        out.append(" ")
        i = end.end()
_CITE = re.compile(r"\[P(\d+)\]|\bP(\d+)\b")
_CONTEXT_WORDS = re.compile(r"context_length_exceeded|context length|context window|"
                            r"maximum context|too many tokens|exceeds? the (?:maximum|context)|"
                            r"prompt is too long|n_ctx|input is too long", re.IGNORECASE)


def _cited_numbers(text: str) -> list[int]:
    return [int(m.group(1) or m.group(2)) for m in _CITE.finditer(text)]


class _ContextTooLong(Exception):
    pass


def _retry_after(headers: Any) -> Optional[float]:
    """Seconds the server asks to wait (``retry-after-ms``, ``retry-after``: seconds or date)."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is None:
                return None
            return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    except Exception:   # noqa: BLE001
        return None


def _host(url: str) -> str:
    """``url`` fit to show: no user info, query values or fragment (never show credentials)."""
    from paperlens.config import redacted_url
    return redacted_url(url) or "the configured server"


def _split_url(url: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """``http://user:pw@h/v1?api-key=K`` -> (``http://h/v1``, ``{"api-key": "K"}``,
    ``{"Authorization": "Basic …"}``).

    The client joins the endpoint's path to the base URL's path, so a query left in the base
    URL would end up inside the path (``/v1/?api-key=Kchat/completions``): it is sent as the
    query. The user name and password become the Basic authorization they stand for (as the
    HTTP library would make of them), so that the URL it logs carries no password."""
    import base64
    from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return url, {}, {}
    if not parts.query and "@" not in parts.netloc:
        return url, {}, {}
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    headers: dict[str, str] = {}
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")), query, headers


# ------------------------------------------------------------------ bounded HTTP exchanges
#
# httpx's timeouts bound each socket operation, not a request: a server that sends one byte
# every few seconds (in the headers or the body) keeps a request alive for ever, and one that
# sends a 300 MB answer is read whole into memory. The client's network streams are wrapped:
# every read, write and connect of a call gets at most the time left before the call's
# deadline, and the bytes a call receives are counted. The limits belong to the thread that
# makes the call (the client is synchronous: the socket work happens on the calling thread).

MAX_ANSWER_BYTES = 8 * 1024 * 1024      # an answer larger than this is refused
MAX_SUMMARY_CHARS = 16 * 1024           # what is kept of the summary a model writes


class _Call(threading.local):
    deadline: Optional[float] = None
    stop: Optional[threading.Event] = None
    received: int = 0
    too_large: bool = False
    stopped: bool = False

    def start(self, deadline: float, stop: threading.Event) -> None:
        self.deadline, self.stop = deadline, stop
        self.received, self.too_large, self.stopped = 0, False, False

    def end(self) -> None:
        self.deadline = self.stop = None


_CALL = _Call()


def _time_left(timeout: Optional[float], exc_type: type) -> Optional[float]:
    """What a socket operation of the current call may take: ``timeout``, and never past the
    call's deadline; raises ``exc_type`` (a timeout of the HTTP library) once it is passed or
    the summarizer is closed."""
    deadline = _CALL.deadline
    if deadline is None:
        return timeout
    if _CALL.stop is not None and _CALL.stop.is_set():
        _CALL.stopped = True
        raise exc_type("the summary request was stopped")
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc_type("the summary request outlived its deadline")
    return left if timeout is None else min(timeout, left)


_bounded_client_class: Any = None


def _bounded_http_client(openai: Any, timeout: float) -> Any:
    """An ``httpx`` client for the ``openai`` client whose connections obey ``_CALL`` (proxies
    from the environment too), with an ``abort()`` that wakes up every request in flight."""
    global _bounded_client_class
    if _bounded_client_class is None:
        _bounded_client_class = _make_bounded_client_class(openai)
    return _bounded_client_class(timeout=timeout)


def _make_bounded_client_class(openai: Any) -> Any:
    import weakref

    import httpcore2

    class Stream(httpcore2.NetworkStream):
        def __init__(self, inner: Any, live: "weakref.WeakSet") -> None:
            self._inner, self._live = inner, live
            live.add(self)

        def read(self, max_bytes: int, timeout: Optional[float] = None) -> bytes:
            data = self._inner.read(max_bytes, _time_left(timeout, httpcore2.ReadTimeout))
            if _CALL.deadline is not None:
                _CALL.received += len(data)
                if _CALL.received > MAX_ANSWER_BYTES:
                    _CALL.too_large = True
                    raise httpcore2.ReadError("the answer is too large")
            return data

        def write(self, buffer: bytes, timeout: Optional[float] = None) -> None:
            self._inner.write(buffer, _time_left(timeout, httpcore2.WriteTimeout))

        def close(self) -> None:
            self._live.discard(self)
            self._inner.close()

        def start_tls(self, ssl_context: Any, server_hostname: Optional[str] = None,
                      timeout: Optional[float] = None) -> Any:
            inner = self._inner.start_tls(ssl_context, server_hostname,
                                          _time_left(timeout, httpcore2.ConnectTimeout))
            self._live.discard(self)
            return Stream(inner, self._live)

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

        def abort(self) -> None:
            """Wake up a read or write blocked on this connection in another thread."""
            try:
                sock = self._inner.get_extra_info("socket")
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError, AttributeError):
                pass

    class Backend(httpcore2.NetworkBackend):
        def __init__(self, inner: Any, live: "weakref.WeakSet") -> None:
            self._inner, self._live = inner, live

        def connect_tcp(self, host: str, port: int, timeout: Optional[float] = None,
                        local_address: Optional[str] = None, socket_options: Any = None) -> Any:
            return Stream(self._inner.connect_tcp(
                host, port, _time_left(timeout, httpcore2.ConnectTimeout),
                local_address=local_address, socket_options=socket_options), self._live)

        def connect_unix_socket(self, path: str, timeout: Optional[float] = None,
                                socket_options: Any = None) -> Any:
            return Stream(self._inner.connect_unix_socket(
                path, _time_left(timeout, httpcore2.ConnectTimeout),
                socket_options=socket_options), self._live)

        def sleep(self, seconds: float) -> None:
            self._inner.sleep(seconds)

    class Client(openai.DefaultHttpxClient):
        """``openai``'s default client, its connection pools' network I/O bounded."""

        def __init__(self, **kwargs: Any) -> None:
            self._live: weakref.WeakSet = weakref.WeakSet()
            super().__init__(**kwargs)

        def _bound(self, transport: Any) -> Any:
            # httpx builds its pools without a way to pass a network backend: set the pool's
            # (tests/unit/test_summary_limits.py fails if a new httpx release renames it)
            pool = getattr(transport, "_pool", None)
            inner = getattr(pool, "_network_backend", None)
            if inner is None:
                log.warning("summary requests are bounded by per-read timeouts only "
                            "(unknown httpx transport %s)", type(transport).__name__)
            else:
                pool._network_backend = Backend(inner, self._live)
            return transport

        def _init_transport(self, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("transport") is not None:
                return kwargs["transport"]
            return self._bound(super()._init_transport(*args, **kwargs))

        def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> Any:
            return self._bound(super()._init_proxy_transport(*args, **kwargs))

        def abort(self) -> None:
            for stream in list(self._live):
                stream.abort()

    return Client


class LLMSummarizer:
    """Chat-completions summaries with the ``openai`` client, configured from
    ``SummarySettings`` (model, base_url, api_key_env, timeout_seconds, max_input_tokens).

    ``timeout_seconds`` bounds each call including its retries, from the first byte sent to
    the last received (a server that answers a byte at a time is cut off at the deadline):
    429 and 5xx answers are retried at most ``MAX_ATTEMPTS - 1`` times with exponential
    backoff or the server's ``Retry-After``, and never past the deadline. Answers larger than
    ``MAX_ANSWER_BYTES`` are refused. ``close()`` ends the calls in flight.
    """

    def __init__(self, settings: Any, *, sleep: Optional[Callable[[float], None]] = None,
                 max_parts: int = MAX_PARTS) -> None:
        self.settings = settings
        self.model = settings.model
        self.base_url = (settings.base_url or "").strip()
        self.timeout = float(settings.timeout_seconds)
        self.max_parts = max_parts
        self._stop = threading.Event()
        self._sleep = sleep or (lambda seconds: self._stop.wait(seconds))
        env = settings.api_key_env or "OPENAI_API_KEY"
        key = os.environ.get(env, "").strip()
        if not key:
            if not self.base_url:
                raise SummaryError(NO_KEY_MESSAGE.replace("OPENAI_API_KEY", env), kind="config")
            key = PLACEHOLDER_KEY         # local servers (Ollama, vLLM, llama.cpp) need none
        self._secret = key if key != PLACEHOLDER_KEY else ""
        try:
            import openai
        except ImportError:
            raise SummaryError("the openai package is not installed (pip install openai)",
                               kind="config") from None
        self._openai = openai
        base, query, headers = _split_url(self.base_url)
        self._secrets = [v for v in (self._secret, *query.values(), *self._url_password())
                         if len(v) >= 4]
        self._http: Any = None
        failed = ""
        try:
            self._http = _bounded_http_client(openai, self.timeout)
            self._client = openai.OpenAI(api_key=key, base_url=base or None,
                                         default_query=query or None,
                                         default_headers=headers or None, timeout=self.timeout,
                                         max_retries=0, http_client=self._http)
        except Exception as exc:   # noqa: BLE001 - its text may quote the URL: not shown
            failed = type(exc).__name__
        if failed:
            if self._http is not None:
                self._http.close()
            raise SummaryError(f"cannot set up the OpenAI client ({failed}; check "
                               "paperlens.summary.baseUrl)", kind="config")
        self.server = _host(self.base_url or str(getattr(self._client, "base_url", "")) or
                            "https://api.openai.com/v1")

    def __repr__(self) -> str:
        return f"LLMSummarizer(model={self.model!r}, server={self.server!r})"

    def close(self) -> None:
        """Stop: calls in flight end at once (their connections are shut down) with a
        ``SummaryError``, and no new call starts."""
        self._stop.set()
        try:
            self._http.abort()
        except Exception:   # noqa: BLE001
            pass
        try:
            self._client.close()
        except Exception:   # noqa: BLE001
            pass

    def _scrub(self, text: str) -> str:
        for secret in getattr(self, "_secrets", None) or [getattr(self, "_secret", "")]:
            if secret:
                text = text.replace(secret, "***")
        return text[:300]

    def _url_password(self) -> list[str]:
        from urllib.parse import unquote, urlsplit
        try:
            password = urlsplit(self.base_url).password
        except ValueError:
            return []
        return [password, unquote(password)] if password else []

    # ------------------------------------------------------------------------------ calls

    def _complete(self, messages: list[dict[str, str]]) -> str:
        """One chat completion: bounded retries within ``timeout_seconds``.

        Errors are raised outside of ``except`` blocks, so that no exception of the client (whose
        text may quote the server) is chained to ours as ``__context__``."""
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if self._stop.is_set():
                raise SummaryError("the summary request was stopped", kind="stopped")
            if remaining <= 0.05:
                raise self._timeout_error()
            outcome: Any = None
            _CALL.start(deadline, self._stop)
            try:
                response = self._client.chat.completions.create(
                    model=self.model, messages=messages, timeout=remaining)
            except Exception as exc:   # noqa: BLE001 - mapped to SummaryError below
                attempt += 1
                outcome = self._classify(exc, attempt, deadline)
            finally:
                _CALL.end()
            if outcome is None:
                return self._content(response)
            if isinstance(outcome, float):
                log.info("summary: %s is busy, retrying in %.1f s", self.server, outcome)
                self._sleep(outcome)
                continue
            raise outcome

    def _classify(self, exc: Exception, attempt: int, deadline: float) -> Any:
        """An error of the client -> seconds to wait before retrying, or the exception to
        raise (``SummaryError`` or ``_ContextTooLong``)."""
        openai = self._openai
        if _CALL.too_large:
            return SummaryError(f"the answer of {self.server} was larger than "
                                f"{MAX_ANSWER_BYTES // (1024 * 1024)} MB", kind="invalid")
        if _CALL.stopped or self._stop.is_set():
            return SummaryError("the summary request was stopped", kind="stopped")
        if isinstance(exc, openai.APITimeoutError):
            return self._timeout_error()
        if isinstance(exc, openai.APIConnectionError):
            return self._connection_error(exc)
        if isinstance(exc, openai.APIResponseValidationError):
            return self._invalid()
        if isinstance(exc, openai.AuthenticationError):
            return SummaryError(
                f"the API key was refused (check the variable named in "
                f"paperlens.summary.apiKeyEnv, now {self.settings.api_key_env!r})",
                kind="auth", status=401)
        if isinstance(exc, openai.PermissionDeniedError):
            return SummaryError(
                f"the server refused access to model {self.model!r} (check the key's "
                "permissions or paperlens.summary.model)", kind="auth", status=403)
        if isinstance(exc, openai.NotFoundError):
            return SummaryError(          # every later request would fail the same way
                f"{self.server} has no model {self.model!r} or no chat-completions endpoint "
                "(check paperlens.summary.model, and that paperlens.summary.baseUrl ends in "
                "/v1)", kind="config", status=404)
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status in (400, 413, 422) and self._context_too_long(exc):
                return _ContextTooLong()
            if status == 429 and self._code(exc) == "insufficient_quota":
                return SummaryError("the API account has no quota left (check its billing)",
                                    kind="rate_limit", status=429)
            if status in (408, 409, 429) or status >= 500:
                delay = _retry_after(getattr(exc.response, "headers", None))
                if delay is None:
                    delay = min(8.0, 0.5 * 2 ** (attempt - 1))
                if attempt >= MAX_ATTEMPTS or time.monotonic() + delay >= deadline - 0.05:
                    return self._busy_error(status)
                return float(delay)
            return SummaryError(f"the server rejected the request (HTTP {status}): "
                                f"{self._scrub(self._detail(exc))}", kind="http", status=status)
        if isinstance(exc, openai.OpenAIError):
            return SummaryError(f"the summary request failed ({type(exc).__name__})", kind="http")
        if isinstance(exc, (ValueError, TypeError, KeyError, AttributeError, IndexError)):
            return self._invalid()              # JSON or schema errors in the answer
        return SummaryError(f"the summary request failed ({type(exc).__name__})", kind="http")

    def _content(self, response: Any) -> str:
        content: Any = None
        try:
            if not isinstance(response, str):
                content = response.choices[0].message.content
        except Exception:   # noqa: BLE001 - missing or mistyped fields
            content = None
        if not isinstance(content, str):
            raise self._invalid()
        text = " ".join(_strip_think(content).split())
        if not text:
            raise SummaryError("the model answered with an empty summary", kind="empty")
        return text[:MAX_SUMMARY_CHARS]       # a card shows a few sentences, not a book

    def _timeout_error(self) -> SummaryError:
        return SummaryError(f"the model server did not answer within {self.timeout:g} s "
                            "(raise paperlens.summary.timeoutSeconds or use a smaller model)",
                            kind="timeout")

    def _connection_error(self, exc: Exception) -> SummaryError:
        return SummaryError(f"cannot reach {self.server} (is the server running? check "
                            "paperlens.summary.baseUrl)", kind="connection")

    def _busy_error(self, status: int) -> SummaryError:
        if status == 429:
            return SummaryError(f"the model server is rate limiting requests (HTTP 429) and did "
                                f"not accept one within {self.timeout:g} s; try again later",
                                kind="rate_limit", status=429)
        return SummaryError(f"the model server failed (HTTP {status}); try again later",
                            kind="http", status=status)

    def _invalid(self) -> SummaryError:
        return SummaryError(f"the server's answer was not valid (is {self.server} an "
                            "OpenAI-compatible chat-completions server?)", kind="invalid")

    @staticmethod
    def _code(exc: Any) -> str:
        code = getattr(exc, "code", None)
        body = getattr(exc, "body", None)
        if not code and isinstance(body, dict):
            inner = body.get("error") if isinstance(body.get("error"), dict) else body
            code = inner.get("code")
        return str(code or "")

    @staticmethod
    def _detail(exc: Any) -> str:
        body = getattr(exc, "body", None)
        if isinstance(body, dict):
            inner = body.get("error") if isinstance(body.get("error"), dict) else body
            msg = inner.get("message")
            if isinstance(msg, str):
                return msg
        if isinstance(body, str):
            return body
        return getattr(exc, "message", "") or ""

    def _context_too_long(self, exc: Any) -> bool:
        return self._code(exc) == "context_length_exceeded" or bool(
            _CONTEXT_WORDS.search(self._detail(exc)))

    # ---------------------------------------------------------------------------- summary

    def summarize(self, paper: Paper, passages: list[Passage]) -> Summary:
        budget = int(self.settings.max_input_tokens)
        try:
            return self._summarize(paper, passages, budget)
        except _ContextTooLong:
            pass
        smaller = max(128, budget // 2)   # the model's context is smaller than the budget
        log.info("summary: the prompt was too long for %s; retrying with %d tokens", self.model,
                 smaller)
        too_long = False
        try:
            return self._summarize(paper, passages, smaller)
        except _ContextTooLong:
            too_long = True
        assert too_long
        raise SummaryError(f"the paper does not fit the model's context even at {smaller} "
                           f"tokens (lower paperlens.summary.maxInputTokens)", kind="context")

    def _summarize(self, paper: Paper, passages: list[Passage], budget: int) -> Summary:
        plan = plan_prompts(paper, passages, self.settings, budget=budget,
                            max_parts=self.max_parts)
        if plan.single is not None:
            if not plan.single.used and not paper.abstract.strip():
                raise SummaryError("the paper has no text to summarise", kind="empty")
            text = self._complete(plan.single.messages)
        else:
            partials = [self._complete(part.messages) for part in plan.parts]
            counter = _Counter(self.model)
            text = self._complete(_reduce_prompt(paper, partials, counter, budget))
        return self._summary(text, passages, plan.used)

    def _summary(self, text: str, passages: list[Passage], used: list[int]) -> Summary:
        sources = [SummarySource(i, passages[i].line_start, passages[i].page) for i in used]
        sentences = []
        default = sources[0] if sources else None
        for s, e in split_sentences(text):
            sentence = text[s:e]
            cited = [n for n in _cited_numbers(sentence) if 1 <= n <= len(sources)]
            src = sources[cited[0] - 1] if cited else default
            sentences.append(SummarySentence(sentence, src.line if src else 0,
                                             src.page if src else None))
        return Summary(text=text, sentences=sentences, kind="llm", model=self.model,
                       sources=sources)


def summarize_llm(paper: Paper, passages: list[Passage], settings: Any, *,
                  sleep: Optional[Callable[[float], None]] = None) -> Summary:
    """An LLM summary of ``paper`` (see ``LLMSummarizer``); raises ``SummaryError``."""
    summarizer = LLMSummarizer(settings, sleep=sleep)
    try:
        return summarizer.summarize(paper, passages)
    finally:
        summarizer.close()


# ============================================================================== the cache


MAX_CACHE_FILE_BYTES = 1024 * 1024     # one cached summary (ours are a few KB)


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


# ============================================================================ the service


@dataclass
class FillResult:
    total: int = 0
    cached: int = 0               # already in the cache (provider's kind)
    computed: int = 0             # newly made with the provider (llm or extractive)
    fallback: int = 0             # openai failed: only the extractive summary is there
    errors: list[str] = field(default_factory=list)


class _DaemonPool:
    """A few daemon threads running submitted calls (``concurrent.futures`` futures).

    ``ThreadPoolExecutor`` threads are joined when the interpreter exits: a summary request
    stuck on a slow server would keep the process alive after the editor said ``exit``. These
    threads never hold the process; ``shutdown`` cancels what has not started."""

    def __init__(self, max_workers: int, name: str) -> None:
        self._max, self._name = max(1, max_workers), name
        self._queue: "queue.SimpleQueue" = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the summary pool is shut down")
            self._queue.put((future, fn, args))
            if len(self._threads) < self._max:
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"{self._name}_{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:   # noqa: BLE001 - handed to the future
                    future.set_exception(exc)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            threads = len(self._threads)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
                item[0].set_running_or_notify_cancel()   # wakes up whoever waits for it
        for _ in range(threads):
            self._queue.put(None)


# the next paper would fail the same way: LLM summaries stop, and the user is told (``alert``)
# that the settings need a change
_STOP_KINDS = ("config", "auth", "connection")


class SummaryService:
    """Summaries for the server and the CLI.

    ``card_summary`` never blocks on the network: it returns the cached LLM summary, else the
    extractive one (computed and cached), and with provider ``openai`` schedules the LLM summary
    on a background pool (``max_workers`` at a time, one request per paper in flight).
    ``on_done(paper, summary, error)`` is called from the worker when it finishes
    (``summary`` None and ``error`` a ``SummaryError`` on failure). Errors are passed to
    ``report(message)`` (else logged) once per kind of error; configuration, key and connection
    errors stop further LLM requests of this service and go to ``alert(message)`` instead when
    it is given (the server shows them to the user: one service per configuration, so once per
    configuration). Messages carry no prefix: the caller says where they come from.
    """

    def __init__(self, settings: Any, cache: SummaryCache | Path | str | None = None, *,
                 report: Optional[Callable[[str], None]] = None,
                 alert: Optional[Callable[[str], None]] = None,
                 on_done: Optional[Callable[[Paper, Optional[Summary], Optional[SummaryError]],
                                            None]] = None,
                 max_workers: int = 2, summarizer_factory: Optional[Callable[[Any], Any]] = None,
                 retry_failed_after: float = 300.0) -> None:
        self.settings = settings
        if cache is not None and not isinstance(cache, SummaryCache):
            cache = SummaryCache(cache)
        self.cache: Optional[SummaryCache] = cache
        self._memory: dict[str, Summary] = {}
        self.report_fn = report
        self.alert_fn = alert
        self.on_done = on_done
        self.max_workers = max(1, int(max_workers))
        self._factory = summarizer_factory or (lambda s: LLMSummarizer(s))
        self._summarizer: Any = None
        self._lock = threading.RLock()
        self._executor: Optional[_DaemonPool] = None
        self._inflight: dict[str, concurrent.futures.Future] = {}
        self._failed: dict[str, float] = {}
        self._retry_failed_after = retry_failed_after
        self._reported: set[str] = set()
        self._disabled: Optional[str] = None
        self._closed = False

    # --------------------------------------------------------------------------- helpers

    @property
    def llm_enabled(self) -> bool:
        return self.settings.provider == "openai" and self._disabled is None

    def _llm_ident(self) -> tuple[str, str]:
        return self.settings.model, (self.settings.base_url or "").strip()

    def _get(self, content_hash: str, provider: str) -> Optional[Summary]:
        model, base = self._llm_ident() if provider == "openai" else ("", "")
        key = SummaryCache.key(content_hash, provider, model, base)
        hit = self._memory.get(key)
        if hit is None and self.cache is not None:
            hit = self.cache.get(content_hash, provider, model, base)
            if hit is not None:
                self._memory[key] = hit
        return hit

    def _put(self, content_hash: str, provider: str, summary: Summary) -> None:
        model, base = self._llm_ident() if provider == "openai" else ("", "")
        self._memory[SummaryCache.key(content_hash, provider, model, base)] = summary
        if self.cache is not None:
            try:
                self.cache.put(content_hash, provider, model, base, summary)
            except OSError as exc:
                self.report(f"cannot write the summary cache in {self.cache.root}: "
                            f"{exc.strerror or exc}", kind="cache")

    def report(self, message: str, kind: str = "error") -> None:
        """Report ``message`` once per ``kind``."""
        with self._lock:
            if kind in self._reported:
                log.debug("summaries (reported before): %s", message)
                return
            self._reported.add(kind)
        fn = (self.alert_fn if kind in _STOP_KINDS else None) or self.report_fn
        if fn is not None:
            try:
                fn(message)
                return
            except Exception:   # noqa: BLE001 - a broken callback must not break summaries
                log.exception("summary report callback failed")
        log.warning("summaries: %s", message)

    def _llm(self) -> Any:
        with self._lock:
            if self._closed:
                raise SummaryError("the summary service is closed", kind="stopped")
            if self._summarizer is None:
                self._summarizer = self._factory(self.settings)
            return self._summarizer

    def _handle_error(self, exc: SummaryError) -> None:
        if exc.kind in _STOP_KINDS:
            with self._lock:
                self._disabled = exc.message
        self.report(f"{exc.message}; showing extractive summaries", kind=exc.kind)

    # ----------------------------------------------------------------------------- public

    def extractive(self, paper: Paper, passages: list[Passage], content_hash: str) -> Summary:
        """The extractive summary (from the cache, or computed and cached)."""
        hit = self._get(content_hash, "extractive")
        if hit is not None:
            return hit
        summary = extractive_summary(paper, passages)
        self._put(content_hash, "extractive", summary)
        return summary

    def cached_llm(self, content_hash: str) -> Optional[Summary]:
        if self.settings.provider != "openai":
            return None
        return self._get(content_hash, "openai")

    def card_summary(self, paper: Paper, passages: list[Passage], content_hash: str) -> Summary:
        """At once: the cached LLM summary, else the extractive one (and, with provider
        ``openai``, the LLM summary is scheduled in the background)."""
        if self.settings.provider == "openai":
            hit = self._get(content_hash, "openai")
            if hit is not None:
                return hit
        summary = self.extractive(paper, passages, content_hash)
        if self.llm_enabled:
            self.schedule(paper, passages, content_hash)
        return summary

    def schedule(self, paper: Paper, passages: list[Passage],
                 content_hash: str) -> Optional[concurrent.futures.Future]:
        """Start the LLM summary of ``paper`` in the background unless it is cached, running,
        or failed recently. Returns the (possibly shared) future, or None."""
        with self._lock:
            if self._closed or not self.llm_enabled:
                return None
            running = self._inflight.get(content_hash)
            if running is not None:
                return running
            failed_at = self._failed.get(content_hash)
            if failed_at is not None and time.monotonic() - failed_at < self._retry_failed_after:
                return None
            if self._executor is None:
                self._executor = _DaemonPool(self.max_workers, "paperlens-summary")
            future = self._executor.submit(self._run, paper, list(passages), content_hash)
            self._inflight[content_hash] = future
            future.add_done_callback(lambda f: f.cancelled() and self._forget(content_hash, f))
            return future

    def _forget(self, content_hash: str, future: concurrent.futures.Future) -> None:
        """A summary cancelled before it started is no longer in flight."""
        with self._lock:
            if self._inflight.get(content_hash) is future:
                del self._inflight[content_hash]

    def _run(self, paper: Paper, passages: list[Passage],
             content_hash: str) -> Optional[Summary]:
        summary: Optional[Summary] = None
        error: Optional[SummaryError] = None
        try:
            summary = self._get(content_hash, "openai")
            if summary is None:
                if not self.llm_enabled:
                    raise SummaryError(self._disabled or "LLM summaries are off", kind="disabled")
                summary = self._llm().summarize(paper, passages)
                self._put(content_hash, "openai", summary)
        except SummaryError as exc:
            error = exc
            if exc.kind != "disabled" and not self._closed:
                self._handle_error(exc)
        except Exception as exc:   # noqa: BLE001 - a bug must not kill the worker silently
            log.exception("summary of %s failed", paper.id)
            error = SummaryError(f"unexpected error: {type(exc).__name__}", kind="unexpected")
            self.report(error.message, kind="unexpected")
        finally:
            with self._lock:
                self._inflight.pop(content_hash, None)
                if error is not None:
                    self._failed[content_hash] = time.monotonic()
                else:
                    self._failed.pop(content_hash, None)
        if self.on_done is not None and not self._closed:
            try:
                self.on_done(paper, summary, error)
            except Exception:   # noqa: BLE001
                log.exception("summary on_done callback failed")
        return summary

    def pending(self) -> int:
        with self._lock:
            return len(self._inflight)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait for the scheduled summaries; True when none is left running."""
        with self._lock:
            futures = list(self._inflight.values())
        done, not_done = concurrent.futures.wait(futures, timeout=timeout)
        return not not_done

    def fill(self, papers_iter: Iterable[tuple[Paper, list[Passage], str]],
             progress: Optional[Callable[[int, Paper, Optional[Summary], Optional[str]], None]] = None,
             concurrency: int = 2) -> FillResult:
        """Fill the cache for a library: ``papers_iter`` yields ``(paper, passages,
        content_hash)``. Extractive summaries always; with provider ``openai`` also the LLM
        ones, ``concurrency`` at a time (after a key or connection error the rest get only
        extractive ones). ``progress(done, paper, summary, error)`` is called per paper."""
        result = FillResult()
        use_llm = self.settings.provider == "openai"
        done = 0

        def finish(paper: Paper, summary: Optional[Summary], error: Optional[str]) -> None:
            nonlocal done
            done += 1
            if error is not None:
                result.errors.append(f"{paper.key or paper.title or paper.id}: {error}")
            if progress is not None:
                progress(done, paper, summary, error)

        def work(paper: Paper, passages: list[Passage], content_hash: str):
            if self._disabled is not None:
                return "fallback", None, self._disabled
            try:
                summary = self._llm().summarize(paper, passages)
            except SummaryError as exc:
                self._handle_error(exc)
                return "fallback", None, exc.message
            self._put(content_hash, "openai", summary)
            return "computed", summary, None

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, concurrency),
                                                     thread_name_prefix="paperlens-fill")
        pending: dict[concurrent.futures.Future, tuple[Paper, Summary]] = {}
        try:
            def drain(block_until: int) -> None:
                while len(pending) > block_until:
                    finished, _ = concurrent.futures.wait(
                        pending, return_when=concurrent.futures.FIRST_COMPLETED)
                    for fut in finished:
                        paper, extractive = pending.pop(fut)
                        status, summary, error = fut.result()
                        if status == "computed":
                            result.computed += 1
                        else:
                            result.fallback += 1
                        finish(paper, summary or extractive, error)

            for paper, passages, content_hash in papers_iter:
                result.total += 1
                ext_cached = self._get(content_hash, "extractive")
                extractive = ext_cached or self.extractive(paper, passages, content_hash)
                if not use_llm:
                    if ext_cached is not None:
                        result.cached += 1
                    else:
                        result.computed += 1
                    finish(paper, extractive, None)
                    continue
                hit = self._get(content_hash, "openai")
                if hit is not None:
                    result.cached += 1
                    finish(paper, hit, None)
                    continue
                if self._disabled is not None:
                    result.fallback += 1
                    finish(paper, extractive, self._disabled)
                    continue
                pending[pool.submit(work, paper, list(passages), content_hash)] = (paper, extractive)
                drain(2 * max(1, concurrency))
            drain(0)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return result

    def close(self) -> None:
        """Stop the background work: queued summaries are cancelled, requests in flight end at
        once (``LLMSummarizer.close``), nothing is reported after. Never waits; the workers
        are daemon threads, so nothing here keeps the process from exiting."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            summarizer = self._summarizer
        if executor is not None:
            executor.shutdown()
        if summarizer is not None and hasattr(summarizer, "close"):
            try:
                summarizer.close()
            except Exception:   # noqa: BLE001 - closing must not fail a shutdown
                log.exception("closing the summarizer failed")

    shutdown = close
