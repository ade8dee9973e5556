"""Check this citation (issue 17.3): with an LLM configured, ask whether the passages of the cited
paper that :mod:`paperlens.core.evidence` retrieved support the sentence citing it.

Pure Python: the model is a function ``complete(messages) -> text`` (the server gives the
summary client's chat completion). The verdict is one of :data:`VERDICTS`; it is kept in memory
per (model, sentence, passages) so that asking again costs nothing. Nothing here runs on a
hover: the command that calls :func:`check` runs on a worker thread. The offline scorer stays
the default (the hover and the ``unsupported-citation`` hint never ask a model).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from paperlens.core.evidence import Evidence, where
from paperlens.core.lru import LRU

VERDICTS = ("supported", "partly", "not supported", "cannot tell")
MAX_PASSAGE_CHARS = 1500         # of each passage sent to the model
KEPT = 500                       # verdicts kept in memory

SYSTEM = ("You check citations in scientific writing. Given a sentence from a draft that cites a "
          "paper, and numbered passages from that paper, say whether the passages support what "
          "the sentence says of the paper. Answer with a first line 'VERDICT: supported', "
          "'VERDICT: partly', 'VERDICT: not supported' or 'VERDICT: cannot tell', then one or two "
          "sentences saying why, naming the passages by number. Use only the passages given.")


@dataclass(frozen=True)
class Verdict:
    """The model's answer: ``verdict`` (one of :data:`VERDICTS`), ``reason`` (its words, plain
    text), ``passages`` the passages it was shown, ``model``."""
    verdict: str
    reason: str
    passages: tuple[Evidence, ...]
    model: str = ""

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "reason": self.reason, "model": self.model,
                "passages": [{"path": e.passage.path, "line": e.passage.line_start, "page": e.passage.page,
                              "where": where(e.passage)} for e in self.passages]}


def messages(claim: str, title: str, passages: Sequence[Evidence]) -> list[dict[str, str]]:
    """The chat messages asking about ``claim`` and the passages of the paper ``title``."""
    blocks = []
    for n, e in enumerate(passages, 1):
        text = " ".join(e.passage.text.split())[:MAX_PASSAGE_CHARS]
        blocks.append(f"[{n}] ({where(e.passage)}) {text}")
    user = (f"Sentence citing the paper: {' '.join(claim.split())}\n\nCited paper: {title}\n\n"
            "Passages of the cited paper:\n" + "\n\n".join(blocks))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


_VERDICT = re.compile(r"verdict\s*[:\-]\s*\**\s*(supported|partly|partially|not\s+supported|unsupported|"
                      r"not|cannot\s+tell|can't\s+tell|unclear)", re.I)


def parse(text: str) -> tuple[str, str]:
    """(verdict, reason) of the model's answer; "cannot tell" when no verdict can be read."""
    m = _VERDICT.search(text or "")
    if m is None:
        return "cannot tell", " ".join((text or "").split())[:500]
    word = " ".join(m.group(1).lower().split())
    verdict = {"partially": "partly", "unsupported": "not supported", "not": "not supported",
               "can't tell": "cannot tell", "unclear": "cannot tell"}.get(word, word)
    reason = " ".join((text[:m.start()] + " " + text[m.end():]).split()).strip(" .:-*")
    return verdict, reason[:500]


_kept: "LRU[str, Verdict]" = LRU(KEPT)


def _key(model: str, claim: str, title: str, passages: Sequence[Evidence]) -> str:
    h = hashlib.sha256()
    for part in (model, claim, title, *(e.passage.text for e in passages)):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def cached(model: str, claim: str, title: str, passages: Sequence[Evidence]) -> Optional[Verdict]:
    return _kept.peek(_key(model, claim, title, passages))       # (a look: not a use)


def check(claim: str, title: str, passages: Sequence[Evidence],
          complete: Callable[[list[dict[str, str]]], str], model: str = "") -> Verdict:
    """The model's verdict on ``claim`` given ``passages`` of the paper ``title`` (cached).
    Without passages the answer is "cannot tell" and no model is asked. ``complete`` may
    raise: its error goes to the caller (nothing is cached)."""
    passages = tuple(passages)
    if not passages:
        return Verdict("cannot tell", "the library has no passage of this paper matching the sentence", (), model)
    key = _key(model, claim, title, passages)
    held = _kept.get(key)
    if held is not None:
        return held
    verdict, reason = parse(complete(messages(claim, title, passages)))
    made = Verdict(verdict, reason, passages, model)
    _kept.put(key, made)
    return made
