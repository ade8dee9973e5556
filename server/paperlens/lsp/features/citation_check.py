"""``paperlens.server.checkCitation`` [document uri, position {line, character}]: ask the configured
LLM whether the passages of the cited paper that best match the sentence support it (see
core/citation_check.py). Runs on a worker thread, never on a hover; the answer is cached. Only
with ``paperlens.summary.provider`` = ``openai``: otherwise it says that no model is configured.

Answer: {"key", "title", "verdict", "reason", "model", "passages": [{path, line, page, where}]},
or {"error"}."""
from __future__ import annotations

import asyncio
import logging
from typing import Optional

from lsprotocol import types


from paperlens.core import citation_check, evidence
from paperlens.core.features import hover as hover_feature
from paperlens.lsp.features._view import request

log = logging.getLogger(__name__)

NO_MODEL = "no model is configured: set paperlens.summary.provider to openai (the offline evidence is in the hover)"


def _position(value) -> Optional[types.Position]:
    if isinstance(value, dict) and all(isinstance(value.get(k), int) and not isinstance(value.get(k), bool)
                                       and value.get(k) >= 0 for k in ("line", "character")):
        return types.Position(line=value["line"], character=value["character"])
    return None


def check_citation(ls, args) -> dict:
    """The verdict on the citation at ``args`` (see the module docstring); blocking."""
    if not isinstance(args, list) or len(args) < 2 or not isinstance(args[0], str) or _position(args[1]) is None:
        return {"error": "checkCitation takes a document URI and a position {line, character}"}
    settings = ls.session.settings.summary
    if settings.provider != "openai":
        return {"error": NO_MODEL}
    req = request(ls, args[0], _position(args[1]))
    if req is None:
        return {"error": "the document cannot be read"}
    cite = req.doc.citation_at(req.offset)
    if cite is None:
        return {"error": "no citation at this position"}
    row = req.view.resolve(cite.key, req.doc.bib_files)
    if row is None:
        return {"error": f"'{cite.key}' is not in the library"}
    claim = evidence.claim_at(req.doc.text, req.offset, req.doc.language, req.doc.macros)
    found = hover_feature.support(req.view, row, claim)
    if not found.has_text:
        return {"key": cite.key, "title": row.title, "verdict": "cannot tell", "model": "",
                "reason": "the library has no text of this paper", "passages": []}
    from paperlens.core.summarize.client import LLMSummarizer

    client = LLMSummarizer(settings)
    try:
        verdict = citation_check.check(claim, row.title, found.evidence,
                                       client.complete, model=settings.model)
    finally:
        client.close()
    return {"key": cite.key, "title": row.title, **verdict.to_dict()}


async def check_citation_async(ls, args) -> dict:
    """:func:`check_citation` on a worker thread (the event loop answers hovers meanwhile)."""
    try:
        return await asyncio.get_running_loop().run_in_executor(None, check_citation, ls, args)
    except Exception as exc:          # a model that is down, a key that is wrong: said, not raised
        log.warning("checking a citation failed: %s", type(exc).__name__)
        message = str(exc) if type(exc).__name__ == "SummaryError" else type(exc).__name__
        return {"error": f"the model could not be asked ({message})"}
