"""join_lines keeps the output of its first, regex-over-everything version."""
import random
import re

from paperlens.core.parse.common import join_lines


def _reference_join_lines(lines):
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif re.search(r"(\w)-$", out) and line[:1].islower():
            out = out[:-1] + line
        else:
            out = out + " " + line
    return out


def test_join_lines_matches_the_reference():
    rnd = random.Random(1)
    pieces = ["-", "a-", "é-", "_-", "1-", " -", "--", "x", "Word", "word", "net-", "work", "  ",
              "", "(-", "-\n", "\t", "ß", "Über-", "über", "-a", "中-", "文"]
    for _ in range(3000):
        lines = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 3)))
                 for _ in range(rnd.randint(0, 8))]
        assert join_lines(lines) == _reference_join_lines(lines), lines
    assert join_lines(["deep learn-", "ing works", "", "well-", "Known"]) == "deep learning works well- Known"
