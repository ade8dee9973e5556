"""The LLM's prompt within a token budget.

``plan_prompts(paper, passages, settings) -> PromptPlan`` chooses the input within
``settings.max_input_tokens`` (title and abstract, then introduction and conclusion, then the
rest) and lays out one call, or a map-reduce (parts, then ``reduce_prompt`` over their answers)
for papers longer than the budget. Tokens are counted in the model's encoding
(``core/tokens.py``: tiktoken's ids, offline); ``messages_tokens`` is what a prompt costs.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from paperlens.core import tokens
from paperlens.core.models import Paper, Passage
from paperlens.core.summarize.extractive import SKIP_SECTIONS, is_abstract
from paperlens.core.summarize.records import SummaryError

if TYPE_CHECKING:
    from paperlens.config import SummarySettings

log = logging.getLogger(__name__)

PROMPT_VERSION = "paperlens-summary-1"
MAX_PARTS = 6                     # map-reduce: at most this many partial summaries per paper

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

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _encoding(model: str) -> Optional[tokens.Encoding]:
    """The encoding of ``model`` (o200k_base, then cl100k_base, for models tiktoken doesn't
    know or whose encoding isn't bundled), or None when no tokenizer data can be had."""
    try:
        try:
            return tokens.encoding_for(model or None)
        except tokens.TokenizerDataError:
            return tokens.encoding_for(None)
    except Exception as exc:   # noqa: BLE001 - tokenizer data unusable: size roughly
        log.warning("summary token counts are estimated: %s", exc)
        return None


class TokenCounter:
    """Counts and cuts text in tokens of ``model``'s encoding, or estimates them (generously:
    words, CJK characters and one more per 12 characters) without tokenizer data."""

    def __init__(self, model: str) -> None:
        self.enc = _encoding(model)

    def count(self, text: str) -> int:
        if self.enc is not None:
            return self.enc.count(text)
        return len(text.split()) + len(_CJK.findall(text)) + len(text) // 12

    def truncate(self, text: str, max_tokens: int) -> str:
        if max_tokens <= 0:
            return ""
        if self.enc is not None:
            return tokens.truncate(self.enc, text, max_tokens)
        words = text.split()
        while words and self.count(" ".join(words)) > max_tokens:
            words = words[: max(0, len(words) - max(1, len(words) // 8))]
        return " ".join(words)


def messages_tokens(messages: list[dict[str, str]], model: str = "") -> int:
    """Tokens of a chat prompt: contents plus the chat format's per-message overhead."""
    counter = TokenCounter(model)
    return sum(counter.count(m["content"]) + MESSAGE_OVERHEAD for m in messages) + REPLY_OVERHEAD


def _priority(p: Passage) -> int:
    if is_abstract(p):
        return 0
    if _INTRODUCTION.search(p.section or ""):
        return 1
    if _CONCLUSION.search(p.section or ""):
        return 2
    return 4


def _eligible(passages: list[Passage]) -> list[int]:
    """Passages worth sending: no references or acknowledgements, and no translated abstract
    ("abstract-zh") when there is an abstract."""
    has_abstract = any(is_abstract(p) for p in passages)
    return [i for i, p in enumerate(passages)
            if p.text.strip() and not SKIP_SECTIONS.search(p.section or "")
            and not (has_abstract and p.section.lower().startswith("abstract-"))]


def _block(number: int, p: Passage, text: Optional[str] = None) -> str:
    section = " ".join((p.section or "body").split())[:60]
    where = f"{section}, page {p.page}" if p.page else section
    return f"[P{number}] ({where})\n{p.text if text is None else text}"


def _header(paper: Paper, passages: list[Passage], counter: TokenCounter, budget: int) -> str:
    title = " ".join(paper.title.split())
    head = f"Title: {title}" if title else ""
    if paper.abstract.strip() and not any(is_abstract(p) for p in passages):
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


def plan_prompts(paper: Paper, passages: list[Passage], settings: SummarySettings, *,
                 budget: Optional[int] = None, max_parts: int = MAX_PARTS) -> PromptPlan:
    """Choose the input within the token budget and lay out the calls.

    Priority: title and abstract, then introduction and conclusion passages, then the others
    in order. When everything fits ``budget`` (default ``settings.max_input_tokens``): one
    prompt. Otherwise map-reduce: the passages (by priority, as much as ``max_parts`` parts
    can hold) are cut, in document order, into parts that each fit the budget with the
    shorter part prompt.
    """
    budget = int(budget if budget is not None else settings.max_input_tokens)
    counter = TokenCounter(settings.model)
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
            counter: TokenCounter, room: int) -> _Prompt:
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


def build_prompt(paper: Paper, passages: list[Passage], settings: SummarySettings, *,
                 budget: Optional[int] = None) -> tuple[list[dict[str, str]], list[Passage]]:
    """The single-call prompt: ``(messages, used_passages)``; ``used_passages[n - 1]`` is the
    passage shown as ``[Pn]``. The input is chosen by priority within ``budget`` tokens
    (default ``settings.max_input_tokens``); what doesn't fit is left out (``summarize_llm``
    condenses long papers in parts instead)."""
    plan = plan_prompts(paper, passages, settings, budget=budget, max_parts=1)
    assert plan.single is not None
    return plan.single.messages, [passages[i] for i in plan.single.used]


def reduce_prompt(paper: Paper, partials: list[str], counter: TokenCounter,
                  budget: int) -> list[dict[str, str]]:
    """The map-reduce's last call: one summary from the parts' summaries, within ``budget``."""
    title = " ".join(paper.title.split())
    head = f"Title: {title}\n\n" if title else ""
    fixed = (counter.count(SYSTEM_PROMPT) + counter.count(f"{REDUCE_PROMPT}\n\n{head}")
             + 2 * MESSAGE_OVERHEAD + REPLY_OVERHEAD + 8 * len(partials))
    each = max(32, (budget - fixed) // max(1, len(partials)))
    body = "\n\n".join(f"Part {k + 1}: {counter.truncate(p, each)}" for k, p in enumerate(partials))
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"{REDUCE_PROMPT}\n\n{head}{body}"}]
