"""Typing in a big document (issue 13, case 4): what a keystroke, a hover and a completion read
of a 2 MB draft, counted in characters and whole-document scans, never timed.

A keystroke rescans a window around the edit (:class:`citations.CitationScan`), a hover reads a
window around the cursor, a prose edit leaves a LaTeX file's project facts alone, the closest
keys of an unknown key are looked up once per library change (rapidfuzz), and the diagnostics
worker reads only what changed.  Every incremental answer equals the answer of a whole scan.
"""
from __future__ import annotations

import random

import pytest

from paperlens.core import citations, project
from paperlens.core.citations import REACH, CitationScan
from paperlens.core.library import Library
from paperlens.lsp.features import diagnostics
from paperlens.lsp.session import Session

from test_project_features import FakeServer

WORDS = "the of retrieval sparse dense model attention we show that results table figure".split()


def big_latex(size: int = 2_000_000, seed: int = 1) -> str:
    """A LaTeX chapter of ``size`` characters: prose, citations, comments, a preamble."""
    rng = random.Random(seed)
    parts = ["\\documentclass{article}\n\\newcommand{\\mycite}[1]{\\cite{#1}}\n\\begin{document}\n"]
    total = len(parts[0])
    while total < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20)))
        r = rng.random()
        if r < 0.3:
            line += f" \\cite{{key{rng.randint(0, 500)},other{rng.randint(0, 50)}}}"
        elif r < 0.35:
            line += f" \\citep[p.~{rng.randint(1, 9)}]{{key{rng.randint(0, 500)}}}"
        elif r < 0.38:
            line += f" % \\cite{{commented{rng.randint(0, 9)}}}"
        parts.append(line + ".\n")
        total += len(parts[-1])
    parts.append("\\bibliography{refs}\n\\end{document}\n")
    return "".join(parts)


def keys_of(found) -> list[tuple[str, int, int, str]]:
    return [(c.key, c.span.start, c.span.end, c.command) for c in found]


@pytest.fixture(scope="module")
def chapter() -> str:
    return big_latex()


# --- the keys of a document, kept across edits -------------------------------------------------------

def test_a_keystroke_in_a_2mb_draft_rescans_a_window_not_the_draft(chapter):
    scan = CitationScan("latex")
    assert keys_of(scan.update(chapter)) == keys_of(citations.find_citations(chapter, "latex"))
    assert (scan.full_scans, scan.scanned) == (1, len(chapter))
    text, at = chapter, len(chapter) // 2
    for n, ch in enumerate("see \\cite{vaswani2017attention} and more"):
        before = scan.scanned
        text = text[:at + n] + ch + text[at + n:]
        found = scan.update(text)
        # one window around the keystroke: 2 * REACH on each side of the changed line (< 400)
        assert scan.scanned - before <= 4 * REACH + 400
    assert scan.full_scans == 1
    assert keys_of(found) == keys_of(citations.find_citations(text, "latex"))
    assert "vaswani2017attention" in [c.key for c in found]


def test_the_same_text_again_reads_nothing(chapter):
    scan = CitationScan("latex")
    scan.update(chapter)
    read = scan.scanned
    assert scan.update(chapter[:]) is scan.keys and scan.update(str(chapter)) is scan.keys
    assert scan.scanned == read


@pytest.mark.parametrize("language,pieces", [
    ("latex", ["word ", "\\cite{a,b} ", "\\citep[p.~3]{kx} ", "% comment \\cite{z}\n", "\n", "\n\n",
               "\\%", "{", "}", "\\textcite{q}", "\\\\cite{e}", ",", "\\cites{a}{b}"]),
    ("markdown", ["word ", "@a ", "[@b; @c] ", "`@code` ", "\n```\n", "\n~~~\n", "<!-- @x -->", "\n",
                  "[", "]", "@{br ace}", "e@mail.com ", "-@d "]),
    ("typst", ["word ", "@a ", "#cite(<b>) ", "`@raw` ", "// @c\n", "/* @d */", "\n", "```", "<", ">"]),
    ("org", ["word ", "[cite:@a;@b] ", "#+begin_src\n@x\n#+end_src\n", "# @c\n", "\n", "[", "]", "@e "]),
])
def test_edits_anywhere_give_what_a_whole_scan_gives(language, pieces):
    """Random edits (code fences and comments opened and closed far above included) on a
    document several windows long: the kept keys always equal a fresh scan's."""
    rng = random.Random(7)
    filler = " ".join(rng.choice(WORDS) for _ in range(REACH // 3)) + "\n"
    text = "".join(rng.choice(pieces) if rng.random() < 0.7 else filler for _ in range(40))
    scan = CitationScan(language)
    scan.update(text)
    windows = 0
    for _ in range(60):
        i = rng.randint(0, len(text))
        j = min(len(text), i + rng.choice([0, 0, 1, 2, 5, 30]))
        insert = rng.choice(pieces + ["x", "a", "\\", "{", "}", "%", "@", "`", "\n", "```\n", ""])
        text = text[:i] + insert + text[j:]
        full_before = scan.full_scans
        assert keys_of(scan.update(text)) == keys_of(citations.find_citations(text, language))
        windows += scan.full_scans == full_before
    assert windows > 30            # most edits were answered from a window


def test_a_change_of_the_projects_commands_rescans_the_whole_draft(chapter):
    macros = citations.citation_macros(citations.latex_macro_definitions(chapter))
    scan = CitationScan("latex")
    without = scan.update(chapter)
    with_macros = scan.update(chapter, macros)
    assert scan.full_scans == 2
    assert keys_of(with_macros) == keys_of(citations.find_citations(chapter, "latex", macros))
    assert len(with_macros) >= len(without)


# --- a hover and a completion read a window ------------------------------------------------------------

def test_a_hover_in_a_2mb_draft_reads_a_window(chapter, monkeypatch):
    read: list[int] = []
    find = citations.latex.find_keys
    monkeypatch.setattr(citations.latex, "find_keys", lambda text, masked, *a: read.append(len(text)) or find(text, masked, *a))
    at = chapter.index("\\cite{", len(chapter) // 2) + len("\\cite{") + 2
    cite = citations.citation_at(chapter, at, "latex")
    assert cite is not None and cite.span.start <= at <= cite.span.end
    assert cite == next(c for c in citations.find_citations(chapter, "latex") if c.span.contains(at))
    assert read[0] <= 4 * REACH + 2000 and read[1] == len(chapter)   # the window, then the check


def test_a_completion_in_a_2mb_draft_masks_a_window(chapter, monkeypatch):
    masked: list[int] = []
    mask = citations.masking.mask
    monkeypatch.setattr(citations.masking, "mask", lambda text, lang: masked.append(len(text)) or mask(text, lang))
    at = len(chapter) // 2
    text = chapter[:at] + "\nNew \\citep[see][]{vas" + chapter[at:]
    offset = at + len("\nNew \\citep[see][]{vas")
    cc = citations.completion_context(text, offset, "latex")
    assert cc is not None and cc.prefix == "vas" and cc.span.start == offset - 3
    assert len(masked) == 1 and masked[0] <= citations.common.LOOKBACK + 400 + REACH


# --- a LaTeX buffer's project facts --------------------------------------------------------------------

def test_typing_prose_in_a_big_chapter_does_not_rescan_its_facts(chapter, tmp_path):
    index = project.ProjectIndex([str(tmp_path)])
    path = str(tmp_path / "chapter.tex")
    first = index.project(path, chapter)
    assert index.full_scans == 1 and [m.name for m in first.macros] == ["mycite"]
    text, at = chapter, len(chapter) // 2
    for n, ch in enumerate("more prose, \\cite{x} and an equation $a+b$ "):
        text = text[:at + n] + ch + text[at + n:]
        assert index.project(path, text) == first
    assert index.full_scans == 1
    # a definition typed near the end: the facts are read again, the new command cites
    end = text.rindex("\\bibliography")
    text = text[:end] + "\\newcommand{\\othercite}[1]{\\citep{#1}}\n" + text[end:]
    again = index.project(path, text)
    assert index.full_scans == 2
    assert sorted(m.name for m in again.macros) == ["mycite", "othercite"]
    assert again == project.ProjectIndex([str(tmp_path)]).project(path, text)


@pytest.mark.parametrize("edit", [
    ("prose", " words", False), ("input", "\\input{ch2}", True), ("def", "\\def\\x{y}", True),
    ("magic", "% !TEX root = main.tex", True), ("docclass", "\\documentclass{book}", True),
    ("begin", "\\begin{document}", True), ("bib", "\\addbibresource{x.bib}", True),
    ("let", "\\let\\c\\cite", True), ("graphics", "\\includegraphics{f}", False),
])
def test_what_can_make_a_fact_is_read_again(edit):
    name, typed, whole = edit
    filler = ("plain words here " * 200 + "\n") * 20
    old = filler + "\\input{ch1}\n" + filler * 3
    at = len(old) - len(filler)
    new = old[:at] + typed + old[at:]
    facts, read = project.rescan(old, project.scan(old), new)
    assert read is whole
    assert facts == project.scan(new)


# --- suggestions ------------------------------------------------------------------------------------

BIB = """@article{vaswani2017attention, title = {Attention Is All You Need}, year = {2017}}
@article{devlin2019bert, title = {BERT}, year = {2019}}
@article{he2016deep, title = {Deep Residual Learning}, year = {2016}}
@article{radford2021learning, title = {Learning Transferable Visual Models}, year = {2021}}
"""


@pytest.fixture
def library(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "refs.bib").write_text(BIB, encoding="utf-8")
    lib = Library([folder], str(tmp_path / "index"))
    lib.update()
    yield lib, folder
    lib.close()


def counting_extract(monkeypatch) -> list[int]:
    """Count rapidfuzz's comparisons: one entry (the number of keys compared) per call."""
    from rapidfuzz import process

    calls: list[int] = []
    extract = process.extract
    monkeypatch.setattr(process, "extract", lambda query, choices, **kw: calls.append(len(choices))
                        or extract(query, choices, **kw))
    return calls


def test_closest_keys_are_found_once_per_library_change(library, monkeypatch):
    lib, folder = library
    calls = counting_extract(monkeypatch)
    assert lib.closest_keys("vaswani2017atention") == ["vaswani2017attention"]
    assert lib.closest_keys("he2061deep") == ["he2016deep"]
    assert lib.closest_keys("nothinglikeit1999") == []
    assert lib.closest_keys("devlin2019bert") == ["devlin2019bert"]     # a known key
    assert calls == [4, 4, 4]
    for _ in range(5):                                                  # every keystroke after
        assert lib.closest_keys("vaswani2017atention") == ["vaswani2017attention"]
    assert calls == [4, 4, 4]
    # the library changes: a closer key appears, the suggestions are looked up again
    (folder / "more.bib").write_text("@article{vaswani2017atentio, title = {X}, year = {2017}}\n",
                                     encoding="utf-8")
    lib.update()
    assert set(lib.closest_keys("vaswani2017atention")) == {"vaswani2017atentio", "vaswani2017attention"}
    assert calls == [4, 4, 4, 5]


def test_suggestions_are_best_first_and_ties_in_key_order(library):
    lib, _folder = library
    lib._keys = None
    tables = lib._tables()
    lib._keys = (tables, frozenset(["abcd2020x", "abcd2020y", "zzzz"]), {})
    assert lib.closest_keys("abcd2020") == ["abcd2020x", "abcd2020y"]
    assert lib.closest_keys("abcd2020yy") == ["abcd2020y", "abcd2020x"]


# --- the diagnostics worker ---------------------------------------------------------------------------

def test_the_diagnostics_of_a_keystroke_read_a_window_and_suggest_from_memory(library, tmp_path, monkeypatch):
    lib, folder = library
    server = FakeServer(folder, tmp_path / "index")
    publisher = diagnostics.Publisher(server)
    chapter = "Typo \\cite{vaswani2017atention} and \\cite{he2061deep}.\n" + big_latex(600_000)
    uri = (folder / "chapter.tex").as_uri()
    calls = counting_extract(monkeypatch)
    try:
        docs = {uri: (chapter, "latex", 1)}
        out, _ = publisher._work({uri: True}, docs, False)
        unknown = {d.data["key"] for d in out[uri][1]}
        assert {"vaswani2017atention", "he2061deep"} <= unknown and len(unknown) > 100
        assert len(calls) == len(unknown)                 # once per distinct unknown key
        scan = publisher._scans[uri]
        assert scan.full_scans == 1
        text = chapter
        for n in range(5):                                # five keystrokes in the middle
            at = len(text) // 2
            text = text[:at] + "x" + text[at:]
            read = scan.scanned
            out, _ = publisher._work({uri: True}, {uri: (text, "latex", n + 2)}, False)
            assert scan.scanned - read < 5 * REACH
        assert scan.full_scans == 1 and len(calls) == len(unknown)
        typo = [d for d in out[uri][1] if d.data["key"] == "vaswani2017atention"]
        assert typo[0].data["suggestions"] == ["vaswani2017attention"]
        assert [d.data["key"] for d in out[uri][1]] == [
            c.key for c in citations.find_citations(text, "latex", server.session.drafts().projects.project(
                str(folder / "chapter.tex"), text).macros) if c.key not in lib.keys()][:diagnostics.MAX_UNKNOWN_KEYS]
    finally:
        publisher.close()
        server.session.shutdown()


def test_a_closed_document_forgets_its_keys(library, tmp_path):
    lib, folder = library
    server = FakeServer(folder, tmp_path / "index")
    publisher = diagnostics.Publisher(server)
    uri = (folder / "a.tex").as_uri()
    try:
        publisher._work({uri: True}, {uri: ("\\cite{zz}", "latex", 1)}, False)
        assert uri in publisher._scans
        publisher._work({}, {}, False)
        assert uri not in publisher._scans
    finally:
        publisher.close()
        server.session.shutdown()


def test_the_server_uses_a_short_switch_interval():
    import sys

    sys.setswitchinterval(0.005)
    Session().shutdown()
    assert sys.getswitchinterval() <= 0.0005


def test_a_draft_citing_another_library_gets_at_most_a_thousand_warnings(library, tmp_path, monkeypatch):
    lib, folder = library
    server = FakeServer(folder, tmp_path / "index")
    calls = counting_extract(monkeypatch)
    text = "".join(f"\\cite{{other{n}}} " for n in range(3000))
    try:
        diags = diagnostics.document_diagnostics(server, (folder / "x.tex").as_uri(), text, "latex", {})
        assert [d.data["key"] for d in diags] == [f"other{n}" for n in range(diagnostics.MAX_UNKNOWN_KEYS)]
        assert len(calls) == diagnostics.MAX_UNKNOWN_KEYS
    finally:
        server.session.shutdown()
