"""Paper summaries for the card: extractive (offline, deterministic) or by an LLM.

One module a job, each importing only those before it:

* ``records``: ``Summary`` (sentences with their line and page, the passages used),
  ``SummaryError``.
* ``sentences``: ``split_sentences(text)``, sentence spans of running text.
* ``extractive``: ``extractive_summary(paper, passages, n=4)``, sentences taken verbatim from
  the paper (the abstract's first ones, else the most central ones), each with its own line.
* ``budget``: ``plan_prompts``/``build_prompt``, the LLM's input chosen within
  ``max_input_tokens`` counted in the model's encoding (``core/tokens.py``, offline); papers
  longer than the budget are condensed in parts first (map-reduce, at most ``MAX_PARTS``).
* ``transport``: the ``openai`` client's HTTP connections bounded by the call's deadline and
  answer size.
* ``client``: ``LLMSummarizer``/``summarize_llm``, a chat-completions call with the ``openai``
  client (OpenAI or any OpenAI-compatible server through ``base_url``), retried on 429/5xx within
  its deadline. Failures raise ``SummaryError`` with a message for the user; the API key never
  appears in messages or logs.
* ``cache``: ``SummaryCache(root)``, JSON files keyed by sha256(content hash, provider, model,
  version, base URL), written atomically.
* ``service``: ``SummaryService``, what the server and CLI use: ``card_summary`` answers at
  once (cached LLM summary, else the extractive one) and schedules the LLM summary on a
  background worker; ``fill`` fills the cache for a whole library.

Settings are ``config.SummarySettings``. Pure Python: no protocol types; ``openai`` is imported
when an LLM summary is made, and the tokenizer (about 10 MB) when a prompt is counted. Nothing
is printed.
"""
from __future__ import annotations

from paperlens.core.summarize.budget import (MAX_PARTS, PROMPT_VERSION, PromptPlan,
                                             build_prompt, messages_tokens, plan_prompts)
from paperlens.core.summarize.cache import MAX_CACHE_FILE_BYTES, SummaryCache
from paperlens.core.summarize.client import (MAX_ATTEMPTS, MAX_SUMMARY_CHARS, NO_KEY_MESSAGE,
                                             LLMSummarizer, summarize_llm)
from paperlens.core.summarize.extractive import (EXTRACTIVE_VERSION, MAX_EXTRACTIVE_CHARS,
                                                 extractive_summary)
from paperlens.core.summarize.records import (Summary, SummaryError, SummarySentence,
                                              SummarySource)
from paperlens.core.summarize.sentences import split_sentences
from paperlens.core.summarize.service import FillResult, Summarizer, SummaryService
from paperlens.core.summarize.transport import MAX_ANSWER_BYTES

__all__ = [
    "EXTRACTIVE_VERSION", "MAX_ANSWER_BYTES", "MAX_ATTEMPTS", "MAX_CACHE_FILE_BYTES",
    "MAX_EXTRACTIVE_CHARS", "MAX_PARTS", "MAX_SUMMARY_CHARS", "NO_KEY_MESSAGE", "PROMPT_VERSION",
    "FillResult", "LLMSummarizer", "PromptPlan", "Summarizer", "Summary", "SummaryCache",
    "SummaryError", "SummarySentence", "SummaryService", "SummarySource", "build_prompt",
    "extractive_summary", "messages_tokens", "plan_prompts", "split_sentences", "summarize_llm",
]
