"""citations.insertion: what the server's ``paperlens.server.citationInsert`` command writes for
a citation key at the cursor, in the document's own syntax.

The cases of client-vscode/src/test/cite.test.ts (the regexes this replaces) come first, with
the text before the cursor as the whole document; then what the cursor after it, a key under
it, comments, user commands and odd arguments change.
"""
from __future__ import annotations

import pytest

from paperlens.core import citations
from paperlens.core.citations import Insertion, insertion
from paperlens.core.models import Span

K = "vaswani2017attention"


def written(doc: str, language: str, key: str = K, macros=None) -> str:
    """``doc`` (cursor at "|") after the insertion: the document the editor shows."""
    offset = doc.index("|")
    text = doc.replace("|", "", 1)
    result = insertion(text, offset, language, key, macros)
    assert isinstance(result, Insertion)
    assert 0 <= result.span.start <= result.span.end <= len(text)
    return text[:result.span.start] + result.text + text[result.span.end:]


def inserted(doc: str, language: str) -> str:
    """Only what is inserted (the cursor at "|", or at the end)."""
    if "|" not in doc:
        doc += "|"
    offset = doc.index("|")
    text = doc.replace("|", "", 1)
    result = insertion(text, offset, language, K)
    assert result is not None and result.span == Span(offset, offset)
    return result.text


# --- the cases of cite.test.ts ---------------------------------------------------------------

@pytest.mark.parametrize("language, before, expected", [
    ("latex", "The Transformer ", f"\\cite{{{K}}}"),
    ("tex", "", f"\\cite{{{K}}}"),
    ("LaTeX", "", f"\\cite{{{K}}}"),
    ("markdown", "as shown ", f"[@{K}]"),
    ("quarto", "", f"[@{K}]"),
    ("rmd", "", f"[@{K}]"),
    ("typst", "see ", f"@{K}"),
    ("org", "see ", f"[cite:@{K}]"),
    ("plaintext", "x ", K),
    ("bibtex", "", K),
    ("python", "", K),
    ("restructuredtext", "", K),
])
def test_outside_a_citation_each_language_writes_its_own(language, before, expected):
    assert inserted(before, language) == expected


@pytest.mark.parametrize("language, before, expected", [
    ("latex", "as in \\cite{", K),
    ("latex", "as in \\citep[see][p.~3]{", K),
    ("latex", "\\parencite*{", K),
    ("latex", "\\textcite{devlin2019bert,", K),
    ("latex", "\\cite{devlin2019bert, ", K),
    ("latex", "\\cite{devlin2019bert", f",{K}"),
    ("latex", "\\autocite", f"{{{K}}}"),
    ("latex", "\\cites{a}{", K),
    # a closed citation earlier on the line does not count, nor does another command
    ("latex", "\\cite{a} and ", f"\\cite{{{K}}}"),
    ("latex", "\\section{", f"\\cite{{{K}}}"),
    ("markdown", "text [@", K),
    ("markdown", "text [-@", K),
    ("markdown", "text @", K),
    ("markdown", "text [see @devlin2019bert, p. 3; ", f"@{K}"),
    ("markdown", "text [@devlin2019bert", f"; @{K}"),
    ("markdown", "mail me@", f"[@{K}]"),
    ("markdown", "[link]", f"[@{K}]"),
    ("typst", "see @", K),
    ("typst", "#cite(<", K),
    ("typst", "#cite(", f"<{K}>"),
    ("org", "[cite:@", K),
    ("org", "[cite:", f"@{K}"),
    ("org", "[cite/t:@a;", f"@{K}"),
    ("org", "[cite:@a", f";@{K}"),
])
def test_inside_a_citation_just_the_key_and_its_separator(language, before, expected):
    assert inserted(before, language) == expected


# --- beyond the line before the cursor ---------------------------------------------------------

@pytest.mark.parametrize("language, doc, expected", [
    # LaTeX: right after a command that still needs its keys; on a key, after it
    ("latex", "\\citep[see][]|", f"\\citep[see][]{{{K}}}"),
    ("latex", "\\cites(all)[p.~1]{a}[p.~2]| more", f"\\cites(all)[p.~1]{{a}}[p.~2]{{{K}}} more"),
    ("latex", "\\cite{|}", f"\\cite{{{K}}}"),
    ("latex", "\\cite{a|}.", f"\\cite{{a,{K}}}."),
    ("latex", "\\cite{de|vlin}.", f"\\cite{{devlin,{K}}}."),
    ("latex", "\\cite{|devlin}.", f"\\cite{{devlin,{K}}}."),
    ("latex", "\\cite{a, |b}.", f"\\cite{{a, b,{K}}}."),
    ("latex", "\\autocite |", f"\\autocite \\cite{{{K}}}"),
    ("latex", "\\\\cite|", f"\\\\cite\\cite{{{K}}}"),          # an escaped backslash: no command
    # Markdown: another item after the one under the cursor, before its locator's end
    ("markdown", "[@a|, p. 3; @b].", f"[@a, p. 3; @{K}; @b]."),
    ("markdown", "[@a, p. 3|].", f"[@a, p. 3; @{K}]."),
    ("markdown", "[@|a].", f"[@a; @{K}]."),
    ("markdown", "@a| says", f"@a; @{K} says"),
    ("markdown", "@{a b|} says", f"@{{a b}}; @{K} says"),
    ("markdown", "[@|].", f"[@{K}]."),
    ("markdown", "[see |", f"[see [@{K}]"),                     # a bracket without a citation
    ("markdown", "[@a\n\nnew |", f"[@a\n\nnew [@{K}]"),          # a paragraph ends it
    ("markdown", "word|", f"word[@{K}]"),
    # Typst
    ("typst", "#cite(<a|>)", f"#cite(<a>, <{K}>)"),
    ("typst", "#cite(<a>|)", f"#cite(<a>, <{K}>)"),
    ("typst", "#cite(<a>, |)", f"#cite(<a>, <{K}>)"),
    ("typst", "#cite(<a|", f"#cite(<a>, <{K}>"),
    ("typst", "see @a| and", f"see @a @{K} and"),
    ("typst", "word|", f"word @{K}"),                           # "word@key" is no reference
    # Org
    ("org", "[cite:@a| p. 3;@b].", f"[cite:@a p. 3;@{K};@b]."),
    ("org", "[cite:@a p. 3|].", f"[cite:@a p. 3;@{K}]."),
    ("org", "[cite:@|].", f"[cite:@{K}]."),
    ("org", "[cite/t: |", f"[cite/t: @{K}"),
    ("org", "see @|", f"see @{K}"),
    ("org", "x@|", f"x@[cite:@{K}]"),
])
def test_what_the_document_becomes(language, doc, expected):
    assert written(doc, language) == expected


@pytest.mark.parametrize("language, doc", [
    ("latex", "See | for details."),
    ("latex", "See \\cite{a|} for details."),
    ("latex", "See \\citep[p.~3]{|} for details."),
    ("latex", "See \\parencite| for details."),
    ("latex", "See \\cites{a}| for details."),
    ("markdown", "See | for details."),
    ("markdown", "See [@a|, p. 3] for details."),
    ("markdown", "See [-@|] for details."),
    ("markdown", "See [@a, p. 3; |] for details."),
    ("markdown", "As @a| says."),
    ("typst", "See | for details."),
    ("typst", "See #cite(|) for details."),
    ("typst", "See #cite(<a>|) for details."),
    ("typst", "See @a| for details."),
    ("org", "See | for details."),
    ("org", "See [cite:@a|] for details."),
    ("org", "See [cite:|] for details."),
])
def test_what_is_written_is_a_citation_of_the_key(language, doc):
    """The server's own scanner reads the inserted key as a citation, and the others stay."""
    text = doc.replace("|", "", 1)
    before = [c.key for c in citations.find_citations(text, language)]
    after = [c.key for c in citations.find_citations(written(doc, language), language)]
    assert after.count(K) == 1 and sorted(after) == sorted(before + [K])


def test_comments_and_code_are_text_outside_citations():
    assert written("% see \\cite{a}|\n", "latex") == f"% see \\cite{{a}}\\cite{{{K}}}\n"
    assert written("`[@a|`", "markdown") == f"`[@a[@{K}]`"
    assert written("// see @a|\n", "typst") == f"// see @a@{K}\n"
    assert written("# [cite:@a|\n", "org") == f"# [cite:@a[cite:@{K}]\n"


def test_user_citation_commands_take_the_key_group():
    source = "\\newcommand{\\longcite}[1]{\\footnote{\\fullcite{#1}}}\n" \
             "\\newcommand{\\pagecite}[2]{\\cite[#1]{#2}}\n"
    macros = citations.citation_macros(citations.latex_macro_definitions(source))
    assert written(source + "\\longcite|", "latex", macros=macros) == source + f"\\longcite{{{K}}}"
    assert written(source + "\\longcite{a|}", "latex", macros=macros) == source + f"\\longcite{{a,{K}}}"
    # the first argument is a page, not keys: a citation of its own
    assert written(source + "\\pagecite|", "latex", macros=macros) == source + f"\\pagecite\\cite{{{K}}}"
    assert written(source + "\\pagecite{3}{|}", "latex", macros=macros) == source + f"\\pagecite{{3}}{{{K}}}"
    # without the project's commands \longcite is no citation command
    assert written(source + "\\longcite|", "latex") == source + f"\\longcite\\cite{{{K}}}"


def test_far_from_the_cursor_does_not_count():
    filler = "word " * 2000
    assert written("\\cite{a," + filler + "|", "latex").endswith(f"word \\cite{{{K}}}")
    assert written("[@a; " + filler + "|", "markdown").endswith(f"word [@{K}]")


def test_deep_in_a_long_document_the_offsets_hold():
    """LaTeX reads a window from a line far above the cursor: its answers are moved back."""
    above = "Some prose \\cite{x} and more.\n" * 2000
    for doc, expected in [("\\cite{a|}.", f"\\cite{{a,{K}}}."), ("\\autocite|.", f"\\autocite{{{K}}}."),
                          ("\\cite{|}.", f"\\cite{{{K}}}."), ("see |.", f"see \\cite{{{K}}}.")]:
        assert written(above + doc, "latex") == above + expected


@pytest.mark.parametrize("args", [
    ("text", -1, "latex", K),
    ("text", 5, "latex", K),
    ("text", 1.0, "latex", K),
    ("text", 0, "latex", ""),
    (None, 0, "latex", K),
    ("text", 0, "latex", None),
    (b"text", 0, "markdown", K),
])
def test_odd_arguments_give_none(args):
    assert insertion(*args) is None


def test_odd_languages_give_the_key():
    for language in (None, 42, "", "bibtex", "context"):
        assert insertion("see ", 4, language, K) == Insertion(Span(4, 4), K)
    assert insertion("", 0, "org", K) == Insertion(Span(0, 0), f"[cite:@{K}]")
