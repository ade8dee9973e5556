"""Parse helpers keep the output of their first versions (join_lines, looks_binary)."""
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


def test_looks_binary_counts_control_bytes_as_before():
    import codecs

    from paperlens.core.parse.common import looks_binary

    def reference(data):
        head = data[:8192]
        if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return False
        return sum(1 for b in head if b < 9 or 13 < b < 32) / len(head) > 0.10

    rnd = random.Random(4)
    for _ in range(2000):
        data = bytes(rnd.choice([rnd.randrange(256), rnd.randrange(32), 65])
                     for _ in range(rnd.randrange(0, 300)))
        assert looks_binary(data) == reference(data)
    assert looks_binary(b"\x01" * 9000 + b"a" * 100)
    assert not looks_binary(b"plain text\n" * 1000)
