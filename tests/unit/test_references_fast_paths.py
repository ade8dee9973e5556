"""The reference parser's shortcuts (patterns run only where they can match, a pattern
rewritten to be found faster, lines counted on) give what the plain ways give."""
import bisect
import random
import re

from paperlens.core.references import entries, fields, section

# the year pattern as it was (its lookbehind first)
OLD_YEAR = re.compile(r"(?<![\d./:\-–])((?:19\d\d|20[0-4]\d)[a-z]?)(?![\d]|\.\d|\s?[-–]\s?\d)")


def random_texts(atoms, n, seed, most=12):
    rng = random.Random(seed)
    return ["".join(rng.choice(atoms) for _ in range(rng.randint(0, most))) for _ in range(n)]


def test_the_year_pattern_finds_what_it_found():
    atoms = ["1999", "2020", "2049", "2050", "19", "20", "a", "b", ".", "/", ":", "-", "–", " ",
             "0", "7", "(", ")", ",", "\n", "v", "x"]
    for text in random_texts(atoms, 20000, 1) + ["2020", "x2020", "12020", "2020a", ".2020"]:
        assert [m.group(1) for m in fields._YEAR.finditer(text)] == \
            [m.group(1) for m in OLD_YEAR.finditer(text)], text
        assert bool(fields._YEAR.fullmatch(text)) == bool(OLD_YEAR.fullmatch(text)), text
        assert bool(fields._YEAR.search(text)) == bool(OLD_YEAR.search(text)), text


def plain_finish(joined: str) -> str:
    s = " ".join(joined.split())
    s = entries._MD_EMPHASIS.sub("", s)
    s = entries._BACKREFS.sub("", s)
    s = entries._SPACE_BEFORE_PUNCT.sub(r"\1", s)
    return s.strip()


def test_finish_text_is_the_three_patterns_run_everywhere():
    atoms = ["Smith", "2020", "2", "12", " ", "  ", "\n", "\t", ",", ".", ";", ":", "*", "**", ")",
             "]", "/", "١٢", "a", "\u00a0", "x."]
    for text in random_texts(atoms, 20000, 2):
        assert entries._finish_text(text) == plain_finish(text), text


def plain_ids(text: str) -> tuple[str, str]:
    doi = arxiv = ""
    m = fields._DOI.search(text)
    if m:
        doi = m.group(1).lower()
        arxiv = fields.arxiv_of_doi(doi)
    if not arxiv:
        m = fields._ARXIV_NEW.search(text) or fields._ARXIV_OLD.search(text)
        if m:
            arxiv = m.group(1).lower()
    return doi, arxiv


def test_ids_are_found_in_any_case_and_with_letters_that_fold_to_ascii():
    # IGNORECASE matches "ı" (dotless i) and "ſ" (long s) to i and s: such a text is searched
    assert fields.extract_ids("A. Foo. Title. arXıv:2106.12790, 2021.") == ("", "2106.12790")
    assert fields.extract_ids("A. Foo. Title. CoRR abſ/2106.12790") == ("", "2106.12790")
    assert fields.extract_ids("A. Foo. Title. ARXIV:2106.12790") == ("", "2106.12790")
    assert fields.extract_ids("doi:10.48550/arXiv.2106.12790") == ("10.48550/arxiv.2106.12790", "2106.12790")
    atoms = ["arXiv", "ARXIV", "arxıv", "abs/", "ABS/", "abſ/", "CoRR", "corr", ":", " ", "2106.12790",
             "v2", "hep-th/9901001", "10.1000/xyz", "arxiv.org/abs/", "Title", ".", "10."]
    for text in random_texts(atoms, 20000, 3, most=8):
        assert fields.extract_ids(text) == plain_ids(text), text


def test_glued_headings_are_the_lines_the_pattern_finds():
    atoms = ["References", "REFERENCES", "Bibliography", "references", "[1]", "1. A", "1.B", " ", "\t",
             "\n", "x", "References[1] A", "\x00"]
    for text in random_texts(atoms, 20000, 4):
        got = section._line_matches(text, section._REF_HEADING_GLUED, section._GLUED_WORDS)
        want = list(section._REF_HEADING_GLUED.finditer(text))
        assert [m.span() for m in got] == [m.span() for m in want], text


def test_line_numbers_are_those_of_the_line_starts():
    text = "\n".join(f"line {i}" + "\n" * (i % 3) for i in range(200))
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    offsets = list(range(0, len(text), 7))
    lines = entries._Lines(text)
    rng = random.Random(5)
    asked = offsets + rng.sample(offsets, 50)     # in order, then anywhere
    assert [lines.line_of(o) for o in asked] == [bisect.bisect_right(starts, o) - 1 for o in asked]
