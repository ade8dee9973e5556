"""core/citation_check.py: the model's verdict on a citation from the retrieved passages."""
from __future__ import annotations

import pytest

from paperlens.core import citation_check, evidence
from paperlens.core.models import Passage

PASSAGES = [Passage("p", "Anti-entropy: each site exchanges database contents with a random site.", "/lib/g.txt", 7, 8, page=2)]


def _support(claim: str):
    return evidence.support(claim, PASSAGES).evidence


def test_the_model_is_asked_once_with_the_passages_and_its_verdict_read():
    asked = []

    def complete(messages):
        asked.append(messages)
        return "VERDICT: **partly**\nPassage [1] says sites exchange contents, not how often."

    claim = "Sites exchange database contents every second."
    found = citation_check.check(claim, "Epidemic Gossip", _support(claim), complete, model="m")
    assert found.verdict == "partly"
    assert found.reason == "Passage [1] says sites exchange contents, not how often"
    assert "[1] (p. 2, l. 8) Anti-entropy" in asked[0][1]["content"] and claim in asked[0][1]["content"]
    again = citation_check.check(claim, "Epidemic Gossip", _support(claim), complete, model="m")
    assert again == found and len(asked) == 1                      # cached
    assert found.to_dict()["passages"] == [{"path": "/lib/g.txt", "line": 7, "page": 2, "where": "p. 2, l. 8"}]


@pytest.mark.parametrize("answer,verdict", [
    ("VERDICT: supported. Yes.", "supported"), ("Verdict - not supported", "not supported"),
    ("VERDICT: Unsupported", "not supported"), ("verdict: cannot tell", "cannot tell"),
    ("I think so.", "cannot tell"), ("", "cannot tell")])
def test_verdicts_are_read_whatever_their_spelling(answer, verdict):
    assert citation_check.parse(answer)[0] == verdict


def test_no_passage_no_question_and_errors_are_not_cached():
    def fail(_messages):
        raise RuntimeError("down")

    assert citation_check.check("x y z", "T", (), fail).verdict == "cannot tell"
    claim = "Anti-entropy exchanges database contents."
    with pytest.raises(RuntimeError):
        citation_check.check(claim, "T", _support(claim), fail, model="down")
    assert citation_check.cached("down", claim, "T", _support(claim)) is None
