"""Tests for paperlens.core.citations: citation keys in LaTeX, Markdown, Typst and Org."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paperlens.core.citations
from paperlens.core.citations import (
    LANGUAGES,
    CompletionContext,
    bibliography_files,
    citation_at,
    citation_macros,
    completion_context,
    find_citations,
    language_for,
    latex_macro_definitions,
)
from paperlens.core.models import CitationKey, Span


def keys(text: str, language: str) -> list[str]:
    """Keys found in ``text``, after checking that every span slices out its key."""
    found = find_citations(text, language)
    for cite in found:
        assert text[cite.span.start:cite.span.end] == cite.key
    return [cite.key for cite in found]


def spans(text: str, language: str) -> list[tuple[str, int, int]]:
    return [(c.key, c.span.start, c.span.end) for c in find_citations(text, language)]


def commands(text: str, language: str) -> list[str]:
    return [c.command for c in find_citations(text, language)]


def ctx(text: str, language: str, offset: int | None = None) -> CompletionContext | None:
    """Completion context with the cursor at ``offset`` (default: end, or the "|" mark)."""
    if offset is None and "|" in text:
        offset = text.index("|")
        text = text.replace("|", "", 1)
    if offset is None:
        offset = len(text)
    result = completion_context(text, offset, language)
    if result is not None:
        assert text[result.span.start:offset] == result.prefix
        assert result.span.start <= offset <= result.span.end
    return result


# ---------------------------------------------------------------------------------------
# language_for
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, expected",
    [
        ("latex", "latex"), ("tex", "latex"), ("plaintex", "latex"), ("LaTeX", "latex"),
        ("bibtex", None), ("markdown", "markdown"), ("pandoc", "markdown"),
        ("rmd", "markdown"), ("quarto", "markdown"), ("typst", "typst"), ("org", "org"),
        ("paper.tex", "latex"), ("/a/b/style.sty", "latex"), ("x.cls", "latex"),
        ("x.ltx", "latex"), ("notes.md", "markdown"), ("README.markdown", "markdown"),
        ("a.qmd", "markdown"), ("a.Rmd", "markdown"), ("thesis.typ", "typst"),
        ("todo.org", "org"), ("file:///home/me/paper.tex", "latex"),
        (r"C:\docs\paper.typ", "typst"), ("refs.bib", None), ("python", None),
        ("Makefile", None), ("", None), ("archive.tar.gz", None),
    ],
)
def test_language_for(value, expected):
    assert language_for(value) == expected


def test_languages_constant():
    assert LANGUAGES == ("latex", "markdown", "typst", "org")


def test_find_citations_accepts_language_ids_and_paths():
    assert keys(r"\cite{a}", "tex") == ["a"]
    assert keys("[@a]", "notes.md") == ["a"]
    assert keys(r"\cite{a}", "bibtex") == []
    assert keys(r"\cite{a}", "cobol") == []


# ---------------------------------------------------------------------------------------
# LaTeX
# ---------------------------------------------------------------------------------------

def test_latex_single_key_span():
    text = r"As shown in \cite{vaswani2017}, attention works."
    assert spans(text, "latex") == [("vaswani2017", 18, 29)]
    cite = find_citations(text, "latex")[0]
    assert cite.syntax == "latex" and cite.command == r"\cite"


def test_latex_several_keys_each_get_a_span():
    text = r"\cite{a, bb ,ccc}"
    assert spans(text, "latex") == [("a", 6, 7), ("bb", 9, 11), ("ccc", 13, 16)]


def test_latex_multiline_key_list():
    text = "see \\cite{first,\n  second,\n\tthird\n} ok"
    assert keys(text, "latex") == ["first", "second", "third"]


@pytest.mark.parametrize(
    "command",
    [
        "cite", "citep", "citet", "citealp", "citealt", "citeauthor", "citeyear",
        "citeyearpar", "parencite", "Parencite", "textcite", "Textcite", "autocite",
        "Autocite", "footcite", "footcitetext", "smartcite", "supercite", "nocite",
        "fullcite", "Cite", "citenum", "Citep", "Citet", "citetitle",
    ],
)
def test_latex_cite_commands(command):
    text = "x \\%s{key1,key2} y" % command
    found = find_citations(text, "latex")
    assert [c.key for c in found] == ["key1", "key2"]
    assert {c.command for c in found} == {"\\" + command}


@pytest.mark.parametrize("command", ["cites", "parencites", "textcites", "autocites", "footcites"])
def test_latex_multicite(command):
    text = "\\%s(global pre)(global post)[see][p.~1]{a}[p.~2]{b, c}{d}" % command
    assert keys(text, "latex") == ["a", "b", "c", "d"]
    assert set(commands(text, "latex")) == {"\\" + command}


def test_latex_multicite_with_whitespace_between_groups():
    assert keys("\\textcites{a}\n  [p. 3]{b} and more", "latex") == ["a", "b"]


def test_latex_single_cite_takes_one_group_only():
    assert keys(r"\cite{a}{b}", "latex") == ["a"]


def test_latex_starred_and_optional_arguments():
    text = r"\citep*[see][p.~3]{a} \citet*{b} \cite[chap.~2]{c} \parencite [pre] [post] {d}"
    found = find_citations(text, "latex")
    assert [c.key for c in found] == ["a", "b", "c", "d"]
    assert [c.command for c in found] == [r"\citep*", r"\citet*", r"\cite", r"\parencite"]


def test_latex_optional_argument_across_lines_and_with_braces():
    text = "\\autocite[see\n{p.} 3]\n[{]}]\n{key}"
    assert keys(text, "latex") == ["key"]


def test_latex_key_characters():
    text = r"\cite{müller:2020, doe_99-a, a.b/c+d, o'neil?, 李2021}"
    assert keys(text, "latex") == ["müller:2020", "doe_99-a", "a.b/c+d", "o'neil?", "李2021"]


def test_latex_nocite_star_yields_nothing():
    assert keys(r"\nocite{*}", "latex") == []
    assert keys(r"\nocite{a,*,b}", "latex") == ["a", "b"]


def test_latex_empty_and_invalid_entries_are_skipped():
    assert keys(r"\cite{a,,b}", "latex") == ["a", "b"]
    assert keys(r"\cite{, a ,}", "latex") == ["a"]
    assert keys(r"\cite{}", "latex") == []
    assert keys(r"\cite{two words, ok}", "latex") == ["ok"]
    assert keys(r"\cite{\ref{x}}", "latex") == []


def test_latex_comments_hide_citations():
    text = "\\cite{a} % \\cite{hidden}\n\\cite{b}%\\cite{hidden2}\n% \\cite{hidden3}"
    assert keys(text, "latex") == ["a", "b"]


def test_latex_escaped_percent_is_not_a_comment():
    assert keys(r"50\% of \cite{a}", "latex") == ["a"]
    # "\\" is a line break, so the "%" after it does start a comment
    assert keys(r"x\\% \cite{hidden}", "latex") == []


def test_latex_comment_inside_key_list():
    text = "\\cite{a,% b is not a key\n  c}"
    assert keys(text, "latex") == ["a", "c"]


def test_latex_other_commands_are_not_citations():
    text = r"\section{a} \citestyle{authoryear} \bibliographystyle{plain} \excite{x} \label{l}"
    assert keys(text, "latex") == []


def test_latex_escaped_backslash_before_cite():
    # "\\cite{a}" is a line break followed by the word "cite"
    assert keys(r"line\\cite{a}", "latex") == []
    assert keys(r"line\\\cite{a}", "latex") == ["a"]


def test_latex_unclosed_or_broken_arguments():
    assert keys(r"\cite{abc", "latex") == []
    assert keys("\\cite{abc\n\nnew paragraph, x}", "latex") == []
    assert keys(r"\cite[unclosed{a}", "latex") == []


def test_latex_citations_in_document_order():
    text = r"\citet{z} then \cite{a} then \cites{m}{b}"
    assert keys(text, "latex") == ["z", "a", "m", "b"]


# ---------------------------------------------------------------------------------------
# LaTeX: biblatex's other commands, user-defined citation commands
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "command",
    ["fullcite", "footfullcite", "citeauthor", "citeauthor*", "Citeauthor", "Citeauthor*",
     "citeyear", "citeyear*", "citetitle", "citetitle*", "Citetitle", "nocite", "Fnotecite",
     "citefield", "citename", "citelist", "citetalias", "citepalias"],
)
def test_latex_biblatex_commands(command):
    found = find_citations("x \\%s[pre][post]{k1, k2}{field} y" % command, "latex")
    assert [(c.key, c.command) for c in found] == [("k1", "\\" + command), ("k2", "\\" + command)]


def test_latex_volume_citations_take_the_key_after_the_volume():
    text = r"\volcite[see]{2}[p. 4]{vol1} \Volcite{3}{vol2} \ftvolcite{IV}[12]{vol3} \avolcite{1}"
    assert keys(text, "latex") == ["vol1", "vol2", "vol3"]
    assert ctx(r"\volcite[see]{2}[p. 4]{vo", "latex") == CompletionContext("vo", Span(23, 25), "latex", r"\volcite")
    assert ctx(r"\volcite{2", "latex") is None               # the volume is no key


PREAMBLE = "\n".join([
    r"\newcommand{\longcite}[1]{\footnote{\fullcite{#1}}}",
    r"\newcommand*\twocite[2]{\textcite{#1} and \parencite{#2}}",
    r"\renewcommand{\pagecite}[2][]{\cite[#1]{#2}}",
    r"\providecommand{\titledcite}[2]{\emph{#1} \cite{#2}}",
    r"\DeclareRobustCommand{\robustcite}[1]{\citep{#1}}",
    r"\def\defcite#1{\cite{#1}}",
    r"\long\gdef\gdefcite#1#2{#1\citet{#2}}",
    r"\let\oldcite=\cite",
    r"\NewCommandCopy{\copycite}{\parencite}",
    r"\newcommand{\aliascite}{\textcite}",
    r"\DeclareCiteCommand{\bracecite}[\mkbibbrackets]{\usebibmacro{prenote}}{\usebibmacro{cite}}"
    r"{\multicitedelim}{\usebibmacro{postnote}}",
    r"\DeclareCiteCommand*{\bracecite}{}{}{}{}",
    r"\DeclareMultiCiteCommand{\bracecites}{\bracecite}{\multicitedelim}",
    r"\NewDocumentCommand{\xcite}{s O{} m}{\IfBooleanTF{#1}{\citeauthor{#3}}{\cite[#2]{#3}}}",
    r"\newcommand{\wrapcite}[1]{\longcite{#1}}",        # builds on another user command
])


def macros_of(text: str) -> frozenset:
    return citation_macros(latex_macro_definitions(text))


def test_user_citation_commands_are_recognised():
    macros = macros_of(PREAMBLE)
    assert {m.name for m in macros} == {
        "longcite", "twocite", "pagecite", "titledcite", "robustcite", "defcite", "gdefcite", "oldcite",
        "copycite", "aliascite", "bracecite", "bracecites", "xcite", "wrapcite"}
    text = "\n".join([
        r"\longcite{a} \twocite{b}{c} \pagecite[p. 3]{d} \pagecite{e} \titledcite{A {Braced} Title}{f}",
        r"\robustcite{g} \defcite{h} \gdefcite{x}{i} \oldcite[p. 1]{j} \copycite{k} \aliascite{l}",
        r"\bracecite[pre]{m1, m2} \bracecite*{n} \bracecites{o}[p. 2]{p} \xcite*{q} \xcite[see]{r} \wrapcite{s}",
    ])
    assert keys(text, "latex") == []                      # unknown without the preamble's definitions
    found = find_citations(text, "latex", macros)
    for cite in found:
        assert text[cite.span.start:cite.span.end] == cite.key
    assert [(c.key, c.command) for c in found] == [
        ("a", "\\longcite"), ("b", "\\twocite"), ("c", "\\twocite"), ("d", "\\pagecite"), ("e", "\\pagecite"),
        ("f", "\\titledcite"), ("g", "\\robustcite"), ("h", "\\defcite"), ("i", "\\gdefcite"),
        ("j", "\\oldcite"), ("k", "\\copycite"), ("l", "\\aliascite"), ("m1", "\\bracecite"),
        ("m2", "\\bracecite"), ("n", "\\bracecite*"), ("o", "\\bracecites"), ("p", "\\bracecites"),
        ("q", "\\xcite*"), ("r", "\\xcite"), ("s", "\\wrapcite")]


def test_definitions_build_on_each_other_in_any_order():
    text = r"\newcommand{\outer}[1]{\inner{#1}}" + "\n" + r"\newcommand{\inner}[1]{\autocite{#1}}"
    assert {m.name for m in macros_of(text)} == {"outer", "inner"}
    # definitions from several files of a project are pooled
    defs = latex_macro_definitions(r"\let\mine\middle") + latex_macro_definitions(
        r"\newcommand\middle[1]{\outer{#1}}") + latex_macro_definitions(text)
    assert {m.name for m in citation_macros(defs)} == {"outer", "inner", "middle", "mine"}


def test_definitions_as_natbib_style_files_write_them():
    # the shape of the ACL/natbib style files' definitions: names without braces, aliases,
    # a redefined \cite (still read as \cite), a parameter used twice
    text = "\n".join([
        r"\renewcommand\cite{\citep}  % comment",
        r"\newcommand\shortcite{\citeyearpar}% comment",
        r"\newcommand\newcite{\citet}",
        r"\newcommand{\citeposs}[1]{\citeauthor{#1}'s (\citeyear{#1})}",
    ])
    macros = macros_of(text)
    assert {(m.name, m.like) for m in macros} == {("shortcite", "cite"), ("newcite", "cite"), ("citeposs", "")}
    found = find_citations(r"\cite[p. 2]{z} \shortcite[p. 3]{a} \newcite{b,c} \citeposs{d}", "latex", macros)
    assert [(c.key, c.command) for c in found] == [
        ("z", "\\cite"), ("a", "\\shortcite"), ("b", "\\newcite"), ("c", "\\newcite"), ("d", "\\citeposs")]


def test_commands_that_do_not_pass_a_key_are_not_citation_commands():
    text = "\n".join([
        r"\newcommand{\PPPcite}[1]{\href{#1}{\textcolor{red}{[?]}}}",    # no citation command
        r"\newcommand{\dlmf}[1]{\cite[\href{https://dlmf.nist.gov/#1}{(#1)}]{dlmf}}",  # #1 is no key
        r"\newcommand{\fixedcite}{\cite{always}}",                    # no parameter
        r"% \newcommand{\hiddencite}[1]{\cite{#1}}",                  # commented out
        r"\newcommand{\my@cite}[1]{\cite{#1}}",                       # internal name
        r"\renewcommand{\cite}[1]{\textbf{#1}}",                      # \cite stays \cite
        r"\def\delimited(#1){\cite{#1}}",                             # delimited parameters
    ])
    assert macros_of(text) == frozenset()
    usage = r"\PPPcite{url} \dlmf{25.2} \fixedcite \hiddencite{x} \cite[p. 3]{k}"
    assert [(c.key, c.command) for c in find_citations(usage, "latex", macros_of(text))] == [("k", "\\cite")]
    # the key lists inside the definitions are real citations
    assert keys(text, "latex") == ["dlmf", "always"]


def test_user_command_usage_edge_cases():
    macros = macros_of(PREAMBLE)
    assert keys(r"\longcite*{a}", "latex") == []
    assert find_citations(r"\longcite*{a} % \longcite{b}" + "\n" + r"\longcite {c} \longcitex{d}", "latex",
                          macros)[0].key == "c"
    assert [c.key for c in find_citations("\\twocite{a}\n\n{b}", "latex", macros)] == ["a"]
    assert [c.key for c in find_citations(r"\titledcite{unclosed \longcite{z}", "latex", macros)] == ["z"]
    assert [c.key for c in find_citations(r"\twocite{a}", "latex", macros)] == ["a"]
    assert citation_at(r"see \longcite{abc} x", 16, "latex", macros).key == "abc"
    assert citation_at(r"see \longcite{abc} x", 16, "latex") is None


def test_completion_after_user_commands():
    macros = macros_of(PREAMBLE)

    def at(text: str):
        offset = text.index("|")
        text = text.replace("|", "", 1)
        return completion_context(text, offset, "latex", macros)

    assert at(r"\longcite{va|") == CompletionContext("va", Span(10, 12), "latex", r"\longcite")
    assert at(r"\longcite{a, va|}") == CompletionContext("va", Span(13, 15), "latex", r"\longcite")
    assert at(r"\twocite{x}{|") == CompletionContext("", Span(12, 12), "latex", r"\twocite")
    assert at(r"\titledcite{Some ti|") is None                  # the title, not a key
    assert at(r"\titledcite{Some {Title}}{ke|}") == CompletionContext("ke", Span(26, 28), "latex", r"\titledcite")
    assert at(r"\xcite*[see]{ke|") == CompletionContext("ke", Span(13, 15), "latex", r"\xcite*")
    assert at(r"% \longcite{va|") is None
    assert completion_context(r"\longcite{va", 12, "latex") is None   # not without the definitions


def test_odd_macro_arguments_never_raise():
    for junk in (None, 42, "longcite", ["x", None], frozenset({"longcite"})):
        assert keys(r"\cite{a}", "latex") == ["a"]
        assert [c.key for c in find_citations(r"\cite{a}", "latex", junk)] == ["a"]
        assert completion_context(r"\cite{a", 7, "latex", junk).prefix == "a"
    assert latex_macro_definitions(None) == [] and citation_macros([None, "x", 3]) == frozenset()
    assert latex_macro_definitions("\\newcommand{\\a}[1]{" + "{" * 5000) == []


# ---------------------------------------------------------------------------------------
# Markdown (Pandoc)
# ---------------------------------------------------------------------------------------

def test_markdown_bracketed_citations():
    text = "Blah [see @doe99, pp. 33-35; also @smith04, chap. 1]."
    found = find_citations(text, "markdown")
    assert [(c.key, text[c.span.start:c.span.end]) for c in found] == [
        ("doe99", "doe99"), ("smith04", "smith04")
    ]
    assert found[0].span == Span(11, 16)
    assert {c.syntax for c in found} == {"pandoc"}
    assert {c.command for c in found} == {"[@"}


def test_markdown_bracketed_variants():
    assert spans("[@key]", "markdown") == [("key", 2, 5)]
    assert spans("[-@key]", "markdown") == [("key", 3, 6)]
    assert commands("[-@key]", "markdown") == ["[-@"]
    assert keys("[@a; @b, chap. 2]", "markdown") == ["a", "b"]
    assert keys("[see @a, p. 3; @b]", "markdown") == ["a", "b"]
    assert keys("[@a;@b;-@c]", "markdown") == ["a", "b", "c"]


def test_markdown_braced_key():
    text = "[@{weird key}] and @{other:key.}"
    found = find_citations(text, "markdown")
    assert [c.key for c in found] == ["weird key", "other:key."]
    assert found[0].span == Span(3, 12)
    assert all(text[c.span.start:c.span.end] == c.key for c in found)


def test_markdown_in_text_citations():
    text = "@doe99 says blah, and -@smith04 agrees."
    found = find_citations(text, "markdown")
    assert [(c.key, c.command) for c in found] == [("doe99", "@"), ("smith04", "-@")]
    assert found[0].span == Span(1, 6)


def test_markdown_trailing_punctuation_is_not_part_of_the_key():
    assert keys("see @doe99.", "markdown") == ["doe99"]
    assert keys("see @smith04:chapter", "markdown") == ["smith04:chapter"]
    assert keys("is it @a? yes @b! (@c) @d, @e; @f: @g...", "markdown") == list("abcdefg")
    assert keys("@a.b.c. and @x-y-", "markdown") == ["a.b.c", "x-y"]
    assert keys("@http://x.org", "markdown") == ["http"]


def test_markdown_emails_and_escapes_are_not_citations():
    assert keys("mail john@example.com or jane_doe@x.org", "markdown") == []
    assert keys(r"a literal \@sign", "markdown") == []
    assert keys("@ alone, @-dash", "markdown") == []


def test_markdown_code_is_ignored():
    text = "\n".join([
        "[@a] `@inline` ``code with ` and @b`` after",
        "```python",
        "x = f(@decorated)",
        "```",
        "~~~",
        "@tilde",
        "~~~",
        "  ```",
        "@indented_fence",
        "  ```",
        "@c",
    ])
    assert keys(text, "markdown") == ["a", "c"]


def test_markdown_unclosed_fence_hides_the_rest():
    assert keys("@a\n```\n@b\n@c", "markdown") == ["a"]


def test_markdown_unmatched_backtick_is_literal():
    assert keys("a ` lone backtick @a", "markdown") == ["a"]
    assert keys("`@a\n\n@b`", "markdown") == ["a", "b"]  # code spans stop at paragraphs


def test_markdown_html_comments_and_autolinks_are_ignored():
    assert keys("<!-- @hidden --> @shown <https://medium.com/@user>", "markdown") == ["shown"]


# ---------------------------------------------------------------------------------------
# Typst
# ---------------------------------------------------------------------------------------

def test_typst_at_references():
    text = "As @doe99 said, see @smith04:chapter and @a.b. Mail me@x.org."
    found = find_citations(text, "typst")
    assert [c.key for c in found] == ["doe99", "smith04:chapter", "a.b"]
    assert found[0].span == Span(4, 9)
    assert {(c.syntax, c.command) for c in found} == {("typst", "@")}


def test_typst_trailing_punctuation():
    assert keys("see @doe99.", "typst") == ["doe99"]
    assert keys("see @doe99: and @x...", "typst") == ["doe99", "x"]
    assert keys("@key[p. 7]", "typst") == ["key"]


def test_typst_cite_function():
    text = '#cite(<a>) #cite(<b>, <c>) #cite(label("d e")) #cite(<f>, supplement: [p. 3])'
    found = find_citations(text, "typst")
    assert [c.key for c in found] == ["a", "b", "c", "d e", "f"]
    assert {c.command for c in found} == {"#cite"}
    assert found[0].span == Span(7, 8)


def test_typst_labels_outside_cite_are_not_citations():
    assert keys("= Intro <intro>\n#ref(<x>) #cite(<unclosed>", "typst") == []


def test_typst_comments_raw_and_links_are_ignored():
    text = "\n".join([
        "@a // @line_comment",
        "/* @block",
        "   comment */ @b",
        "`@raw` and ``` @raw_block ``` ``@c",
        "https://example.org/@user @d",
    ])
    assert keys(text, "typst") == ["a", "b", "c", "d"]


# ---------------------------------------------------------------------------------------
# Org
# ---------------------------------------------------------------------------------------

def test_org_cite_brackets():
    text = "See [cite:@a;@b] and [cite/t:@key] or [cite/style/variant:prefix @c suffix; @d]."
    found = find_citations(text, "org")
    assert [c.key for c in found] == ["a", "b", "key", "c", "d"]
    assert found[0].span == Span(11, 12)
    assert [c.command for c in found] == [
        "[cite:", "[cite:", "[cite/t:", "[cite/style/variant:", "[cite/style/variant:"
    ]
    assert {c.syntax for c in found} == {"org"}


def test_org_bare_at_is_not_a_citation():
    assert keys("@a and mail@x.org [cite:mail@x.org]", "org") == []


def test_org_comments_and_blocks_are_ignored():
    text = "\n".join([
        "# [cite:@comment]",
        "#+begin_src python",
        "[cite:@src]",
        "#+end_src",
        "#+BEGIN_EXAMPLE",
        "[cite:@example]",
        "#+END_EXAMPLE",
        "[cite:@shown]",
    ])
    assert keys(text, "org") == ["shown"]


def test_org_trailing_punctuation():
    assert keys("[cite:@doe99.]", "org") == ["doe99"]


# ---------------------------------------------------------------------------------------
# citation_at
# ---------------------------------------------------------------------------------------

def test_citation_at_latex():
    text = r"x \cite{alpha, beta} y"
    assert citation_at(text, 8, "latex").key == "alpha"    # start of key
    assert citation_at(text, 10, "latex").key == "alpha"   # middle
    assert citation_at(text, 13, "latex").key == "alpha"   # just after the key
    assert citation_at(text, 15, "latex").key == "beta"
    assert citation_at(text, 14, "latex") is None          # the space after the comma
    assert citation_at(text, 0, "latex") is None
    assert citation_at(text, -1, "latex") is None
    assert citation_at(text, len(text) + 1, "latex") is None


@pytest.mark.parametrize(
    "text, language, key",
    [
        ("[@a; @bb]", "markdown", "bb"),
        ("see @bb.", "typst", "bb"),
        ("[cite:@a;@bb]", "org", "bb"),
    ],
)
def test_citation_at_other_languages(text, language, key):
    offset = text.index("bb") + 1
    cite = citation_at(text, offset, language)
    assert isinstance(cite, CitationKey) and cite.key == key


def test_citation_at_last_offset():
    text = "@key"
    assert citation_at(text, len(text), "markdown").key == "key"


# ---------------------------------------------------------------------------------------
# completion_context
# ---------------------------------------------------------------------------------------

def test_completion_latex_after_open_brace():
    c = ctx(r"\cite{", "latex")
    assert c == CompletionContext("", Span(6, 6), "latex", r"\cite")


def test_completion_latex_unclosed_partial_key():
    c = ctx(r"\cite{vas", "latex")
    assert c.prefix == "vas" and c.span == Span(6, 9)


def test_completion_latex_mid_key_covers_the_whole_key():
    c = ctx(r"\cite{vas|wani2017} more", "latex")
    assert c.prefix == "vas" and c.span == Span(6, 17)


def test_completion_latex_after_comma_and_optional_args():
    c = ctx(r"\citep*[see][p.~3]{a, b|", "latex")
    assert c.prefix == "b" and c.command == r"\citep*"
    c = ctx("\\parencite{a,\n    |}", "latex")
    assert c.prefix == "" and c.span.start == c.span.end
    c = ctx(r"\cite{a,|b}", "latex")
    assert c.prefix == "" and c.span == Span(8, 9)


def test_completion_latex_unclosed_in_the_middle_of_a_document():
    c = ctx("Text \\citet{smi| more text.\n\nNext paragraph {x}.", "latex")
    assert c.prefix == "smi" and c.command == r"\citet"


def test_completion_latex_multicite_later_group():
    c = ctx(r"\textcites[a]{x}[b]{y|", "latex")
    assert c.prefix == "y" and c.command == r"\textcites"


@pytest.mark.parametrize(
    "text",
    [
        "plain text|",
        r"\section{Intro|",
        r"\cite{a}|",
        r"\cite{a} more|",
        r"\cite[see|",
        r"\cite[see|]{a}",
        r"% \cite{a|",
        r"\cite{a,% comm|",
        r"\cite{two wor|",
        r"\cite|",
        r"\cite{a}{b|",
        "\\cite{a,\n\n|",
    ],
)
def test_completion_latex_negative(text):
    assert ctx(text, "latex") is None


@pytest.mark.parametrize(
    "text, prefix, command",
    [
        ("[@|", "", "[@"),
        ("[@do|", "do", "[@"),
        ("[-@do|", "do", "[-@"),
        ("see @|", "", "@"),
        ("see @smi|th04 now", "smi", "@"),
        ("[see @a, p. 3; @|", "", "[@"),
        ("[@a; @bb|]", "bb", "[@"),
        ("[@smith:|", "smith:", "[@"),
        ("[@{weird ke|", "weird ke", "[@"),
    ],
)
def test_completion_markdown(text, prefix, command):
    c = ctx(text, "markdown")
    assert c is not None and c.prefix == prefix and c.command == command
    assert c.syntax == "pandoc"


def test_completion_markdown_unclosed_backtick_is_still_text():
    # Pandoc reads an unmatched backtick literally, so this is (not yet) code.
    assert ctx("`@co|", "markdown").prefix == "co"


def test_completion_markdown_span_stops_before_trailing_punctuation():
    c = ctx("see @doe|99. Next", "markdown")
    assert c.span == Span(5, 10)


@pytest.mark.parametrize(
    "text",
    [
        "plain|", "john@exa|", "`@co|`", "``x @co|``", "```\n@co|\n```", "x \\@es|", "@.|",
        "<!-- @x| -->",
    ],
)
def test_completion_markdown_negative(text):
    assert ctx(text, "markdown") is None


@pytest.mark.parametrize(
    "language, text, prefix, command",
    [
        ("typst", "see @|", "", "@"),
        ("typst", "see @do|e", "do", "@"),
        ("typst", "#cite(<|", "", "#cite"),
        ("typst", "#cite(<ab|", "ab", "#cite"),
        ("typst", "#cite(<a>, <b|>)", "b", "#cite"),
        ("org", "[cite:@|", "", "[cite:"),
        ("org", "[cite:@a;@|", "", "[cite:"),
        ("org", "[cite:@a; @b|", "b", "[cite:"),
        ("org", "[cite/t:@ke|y]", "ke", "[cite/t:"),
        ("org", "[cite:see @|", "", "[cite:"),
    ],
)
def test_completion_typst_and_org(language, text, prefix, command):
    c = ctx(text, language)
    assert c is not None and (c.prefix, c.command, c.syntax) == (prefix, command, language)


@pytest.mark.parametrize("text", ["a@b|", "<ab|", "// @x|", "`@x|", "#figure(<x|", "plain|"])
def test_completion_typst_negative(text):
    assert ctx(text, "typst") is None




@pytest.mark.parametrize("text", ["@a|", "[cite:@a] @b|", "x [@a|", "# [cite:@a|", "[cite:x@a|"])
def test_completion_org_negative(text):
    assert ctx(text, "org") is None


def test_completion_span_example_from_the_spec():
    c = completion_context(r"\cite{vas", 9, "latex")
    assert c is not None and c.prefix == "vas" and c.span == Span(6, 9)


@pytest.mark.parametrize("language", LANGUAGES)
def test_completion_bad_offsets_and_input(language):
    assert completion_context("[@a", -1, language) is None
    assert completion_context("[@a", 99, language) is None
    assert completion_context("", 0, language) is None
    assert completion_context(None, 0, language) is None  # type: ignore[arg-type]
    assert completion_context("@a", 1, "nonsense") is None


# ---------------------------------------------------------------------------------------
# bibliography_files
# ---------------------------------------------------------------------------------------

def test_bibliography_latex():
    text = "\n".join([
        r"\bibliography{refs, more.bib,../shared/all}",
        r"% \bibliography{commented}",
        r"\addbibresource{extra.bib}",
        r"\addbibresource[location=local]{other.bib}",
        r"\addbibresource{data.json}",
        r"\bibliographystyle{plain}",
    ])
    assert bibliography_files(text, "latex") == [
        "refs.bib", "more.bib", "../shared/all.bib", "extra.bib", "other.bib"
    ]


@pytest.mark.parametrize(
    "front, expected",
    [
        ("bibliography: refs.bib", ["refs.bib"]),
        ("bibliography: 'my refs.bib'", ["my refs.bib"]),
        ('bibliography: "refs"  # comment', ["refs.bib"]),
        ("bibliography: [a.bib, \"b.bib\", c]", ["a.bib", "b.bib", "c.bib"]),
        ("bibliography:\n  - a.bib\n  - 'b.bib'\nlink-citations: true", ["a.bib", "b.bib"]),
        ("bibliography:\n- a.bib\n- refs.yaml", ["a.bib"]),
        ("title: none", []),
    ],
)
def test_bibliography_markdown_front_matter(front, expected):
    text = "---\ntitle: Paper\n" + front + "\n---\n\n# Body\nbibliography: not.bib\n"
    assert bibliography_files(text, "markdown") == expected


def test_bibliography_markdown_dots_terminator_and_no_front_matter():
    assert bibliography_files("---\nbibliography: a.bib\n...\ntext", "markdown") == ["a.bib"]
    assert bibliography_files("text\n---\nbibliography: a.bib\n---\n", "markdown") == []
    assert bibliography_files("---\nbibliography: a.bib\n", "markdown") == []


def test_bibliography_typst():
    text = "\n".join([
        '#bibliography("refs.bib")',
        '#bibliography(("a.bib", "b"), style: "apa")',
        '// #bibliography("commented.bib")',
        '#bibliography("works.yml")',
    ])
    assert bibliography_files(text, "typst") == ["refs.bib", "a.bib", "b.bib"]


def test_bibliography_org():
    text = '#+bibliography: refs.bib\n#+BIBLIOGRAPHY: "my refs.bib"\n# #+bibliography: no.bib\n'
    assert bibliography_files(text, "org") == ["refs.bib", "my refs.bib"]


def test_bibliography_bad_input():
    assert bibliography_files("", "latex") == []
    assert bibliography_files(r"\bibliography{a}", "nonsense") == []
    assert bibliography_files(None, "latex") == []  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Robustness and speed
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_non_string_input_never_raises(language):
    assert find_citations(None, language) == []  # type: ignore[arg-type]
    assert citation_at(None, 0, language) is None  # type: ignore[arg-type]
    assert citation_at("@a", None, language) is None  # type: ignore[arg-type]
    assert find_citations("", language) == []


def _prose(cite, extras, size=1_000_000) -> tuple[str, list[str]]:
    """About ``size`` characters of prose with a citation every 80 words and one of ``extras``
    (comments, code, e-mail addresses ...) every 300; ``cite(i)`` and each extra are
    ``(text, keys a scanner must find in it)``.  Returns the text and all its keys in order."""
    vocab = "the of and a to in is that for it as was with be by on not this are or from".split()
    out, expected, total, i = [], [], 0, 0
    while total < size:
        i += 1
        word, found = vocab[i % len(vocab)], []
        if i % 80 == 0:
            word, found = cite(i)
        elif i % 300 == 0:
            word, found = extras[i % len(extras)]
        if i % 120 == 0:
            word += ".\n"
        out.append(word)
        expected += found
        total += len(word) + 1
    return " ".join(out), expected


PROSE = {
    "latex": (lambda i: (r"\citep[p.~3]{key%d,other%d}" % (i, i), [f"key{i}", f"other{i}"]),
              [("% comment \\cite{x}\n", []), (r"\section{Intro}", []), ("$x_i^2$", [])]),
    "markdown": (lambda i: ("[@key%d; @other%d, p. 3]" % (i, i), [f"key{i}", f"other{i}"]),
                 [("`code @x`", []), ("\n```\nx@y\n```\n", []), ("mail@x.com", []), ("@intext.", ["intext"])]),
    "typst": (lambda i: ("@key%d" % i, [f"key{i}"]),
              [("`raw @x`", []), ("// comment @c\n", []), ("#cite(<k1>)", ["k1"])]),
    "org": (lambda i: ("[cite:@key%d;@other%d]" % (i, i), [f"key{i}", f"other{i}"]),
            [("~code~", []), ("\n# c [cite:@x]\n", [])]),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_megabyte_of_prose_gives_every_key_in_order(language):
    text, expected = _prose(*PROSE[language])
    assert len(text) >= 1_000_000 and len(expected) > 3000
    assert keys(text, language) == expected
    middle = next(c for c in find_citations(text, language) if c.span.start >= len(text) // 2)
    assert citation_at(text, middle.span.start + 1, language) == middle
    here = completion_context(text, middle.span.start + 1, language)
    assert here is not None and here.prefix == middle.key[:1]


# ---------------------------------------------------------------------------------------
# Work, counted (timings: bench/parse_speed.py)
# ---------------------------------------------------------------------------------------
# The scanners must do work linear in the size of the buffer, on prose and on inputs built
# to make them rescan or backtrack.  Two counts, exact and independent of the machine:
#   lines: lines of core/citations.py executed (sys.settrace): the Python loops;
#   chars: characters the module reads or copies in C: what its regular expressions must at
#          least have looked at (from the start position to the end of each match, to the
#          end of the range when a search fails), what ``str`` methods scan (``find`` up to
#          what it finds, ``rfind`` back to it, ``split``/``strip``/``in`` ...) and what
#          slices and ``+``/``*`` of strings copy.
# The counted module is a second copy of core/citations.py, compiled from the same source
# with those calls routed through counting helpers, and an ``re`` whose patterns count; the
# module everything else imports is left alone.  Backtracking inside one regex call is not
# counted: test_adversarial_inputs_answer runs inputs big enough to make it hang (the
# suite's timeout then fails the test).

class _Work:
    lines = 0
    chars = 0


class _CountingPattern:
    """A compiled pattern that adds to ``_Work.chars`` what each call must have read."""

    def __init__(self, pattern: re.Pattern) -> None:
        self._p = pattern

    def __getattr__(self, name):                 # .pattern, .flags, .groups ...
        return getattr(self._p, name)

    @staticmethod
    def _range(string, pos, endpos):
        endpos = len(string) if endpos is None else max(0, min(endpos, len(string)))
        return max(0, min(pos, endpos)), endpos

    def search(self, string, pos=0, endpos=None):
        pos, endpos = self._range(string, pos, endpos)
        m = self._p.search(string, pos, endpos)
        _Work.chars += (endpos if m is None else m.end()) - pos
        return m

    def _anchored(self, method, string, pos, endpos):
        pos, endpos = self._range(string, pos, endpos)
        m = method(string, pos, endpos)
        _Work.chars += 1 if m is None else max(1, m.end() - pos)
        return m

    def match(self, string, pos=0, endpos=None):
        return self._anchored(self._p.match, string, pos, endpos)

    def fullmatch(self, string, pos=0, endpos=None):
        return self._anchored(self._p.fullmatch, string, pos, endpos)

    def finditer(self, string, pos=0, endpos=None):
        pos, endpos = self._range(string, pos, endpos)
        last = pos
        for m in self._p.finditer(string, pos, endpos):
            _Work.chars += max(1, m.end() - last)
            last = m.end()
            yield m
        _Work.chars += endpos - last

    def findall(self, string, pos=0, endpos=None):
        n = self._p.groups
        return [m.group(0) if n == 0 else m.group(1) if n == 1 else m.groups()
                for m in self.finditer(string, pos, endpos)]

    def split(self, string, maxsplit=0):
        _Work.chars += len(string)
        return self._p.split(string, maxsplit)

    def sub(self, repl, string, count=0):
        _Work.chars += len(string)
        return self._p.sub(repl, string, count)

    def subn(self, repl, string, count=0):
        _Work.chars += len(string)
        return self._p.subn(repl, string, count)


def _counting_re():
    import types

    shim = types.ModuleType("re")
    shim.__dict__.update(re.__dict__)

    def compile(pattern, flags=0):
        return pattern if isinstance(pattern, _CountingPattern) else _CountingPattern(re.compile(pattern, flags))

    def module_function(name):
        return lambda pattern, *args, flags=0, **kw: getattr(compile(pattern, flags), name)(*args, **kw)

    shim.compile = compile
    for name in ("search", "match", "fullmatch", "finditer", "findall", "split", "sub", "subn"):
        setattr(shim, name, module_function(name))
    return shim


_STR_SCANS = frozenset({"find", "rfind", "index", "rindex", "count", "split", "rsplit", "splitlines",
                        "strip", "lstrip", "rstrip", "join", "replace", "lower", "upper", "casefold",
                        "startswith", "endswith", "partition", "rpartition", "translate", "encode"})


def _str_read(s: str, name: str, args, result) -> int:
    """Characters of ``s`` that ``s.<name>(*args)`` read (``result``: None when it raised)."""
    if name in ("find", "index", "rfind", "rindex"):
        start, end, _ = slice(*(list(args[1:3]) + [None] * (2 - len(args[1:3])))).indices(len(s))
        hit = -1 if result is None else result
        if name in ("find", "index"):
            return max(0, (hit + len(args[0]) if hit >= 0 else end) - start)
        return max(0, end - (hit if hit >= 0 else start))
    if name in ("startswith", "endswith"):
        return max(map(len, args[0])) if isinstance(args[0], tuple) else len(args[0])
    if name == "join":
        return len(result) if isinstance(result, str) else 0
    return len(s)


def _work_call(receiver, name, *args, **kw):
    try:
        result = getattr(receiver, name)(*args, **kw)
    except ValueError:                       # index/rindex: not found, the range was read
        if isinstance(receiver, str):
            _Work.chars += _str_read(receiver, name, args, None)
        raise
    if isinstance(receiver, str):
        _Work.chars += _str_read(receiver, name, args, result)
    return result


def _work_in(item, container) -> bool:
    if isinstance(container, str) and isinstance(item, str):
        at = container.find(item)
        _Work.chars += len(container) if at < 0 else at + len(item)
        return at >= 0
    return item in container


def _work_slice(value, index):
    result = value[index]
    if isinstance(result, (str, list)):
        _Work.chars += len(result)
    return result


def _work_add(a, b):
    result = a + b
    if isinstance(result, (str, list)):
        _Work.chars += len(result)
    return result


def _work_mul(a, b):
    result = a * b
    if isinstance(result, (str, list)):
        _Work.chars += len(result)
    return result


# The package whose work is counted, and the name its counted copy is loaded under.
CITATIONS = Path(paperlens.core.citations.__file__).parent
COUNTED_NAME = "paperlens_counted_citations"


def _counted_citations_module():
    """The package core/citations/ loaded once more under another name, the string work of
    each of its modules routed through the helpers above."""
    import ast
    import importlib.abc
    import importlib.util
    import sys

    def helper(name, args, node, keywords=()):
        call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=list(keywords))
        return ast.copy_location(call, node)

    class Route(ast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in _STR_SCANS:
                return helper("_work_call", [f.value, ast.Constant(f.attr), *node.args], node, node.keywords)
            return node

        def visit_Compare(self, node):
            self.generic_visit(node)
            if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
                test = helper("_work_in", [node.left, node.comparators[0]], node)
                if isinstance(node.ops[0], ast.NotIn):
                    test = ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=test), node)
                return test
            return node

        def visit_Subscript(self, node):
            self.generic_visit(node)
            if isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Slice):
                s = node.slice
                bounds = [b if b is not None else ast.Constant(None) for b in (s.lower, s.upper, s.step)]
                index = helper("slice", bounds, node)
                return helper("_work_slice", [node.value, index], node)
            return node

        def visit_BinOp(self, node):
            self.generic_visit(node)
            if isinstance(node.op, (ast.Add, ast.Mult)):
                name = "_work_add" if isinstance(node.op, ast.Add) else "_work_mul"
                return helper(name, [node.left, node.right], node)
            return node

    class Loader(importlib.abc.Loader):
        def create_module(self, spec):
            return None

        def exec_module(self, module):
            path = module.__spec__.origin
            tree = Route().visit(ast.parse(Path(path).read_text(encoding="utf-8"), path))
            module.__dict__.update(_work_call=_work_call, _work_in=_work_in, _work_slice=_work_slice,
                                   _work_add=_work_add, _work_mul=_work_mul)
            exec(compile(ast.fix_missing_locations(tree), path, "exec"), module.__dict__)

    class Finder(importlib.abc.MetaPathFinder):
        """The counted package's modules, read from the real package's folder."""

        def find_spec(self, name, path=None, target=None):
            if name == COUNTED_NAME:
                return importlib.util.spec_from_file_location(
                    name, CITATIONS / "__init__.py", loader=Loader(), submodule_search_locations=[str(CITATIONS)])
            if name.startswith(COUNTED_NAME + "."):
                return importlib.util.spec_from_file_location(
                    name, CITATIONS / (name.rsplit(".", 1)[1] + ".py"), loader=Loader())
            return None

    finder, saved = Finder(), sys.modules["re"]
    sys.meta_path.insert(0, finder)
    sys.modules["re"] = _counting_re()          # the package's modules import this one
    try:
        return importlib.import_module(COUNTED_NAME)
    finally:
        sys.modules["re"] = saved
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == COUNTED_NAME or n.startswith(COUNTED_NAME + ".")]:
            del sys.modules[name]


COUNTED = _counted_citations_module()


def work(call) -> tuple[int, int]:
    """(lines of core/citations/ executed, characters it read or copied) during ``call()``."""
    import sys

    files = {str(path) for path in CITATIONS.glob("*.py")}

    def line(frame, event, arg):
        if event == "line":
            _Work.lines += 1
        return line

    def scope(frame, event, arg):
        return line if frame.f_code.co_filename in files else None

    _Work.lines = _Work.chars = 0
    previous = sys.gettrace()
    sys.settrace(scope)
    try:
        call()
    finally:
        sys.settrace(previous)
    return _Work.lines, _Work.chars


# Constant work, whatever the size (compiling a pattern, the pre-checks ...).
SLACK = 1000


def assert_linear(make, run, small: int, big: int) -> tuple[int, int]:
    """``run(make(n))`` does no more work per character at size ``big`` than at ``small``
    (with 25% to spare, plus a constant): quadratic work would double it."""
    a, b = make(small), make(big)
    scale = len(b) / len(a)
    assert scale >= 1.9
    wa, wb = work(lambda: run(a)), work(lambda: run(b))
    for what, x, y in zip(("lines executed", "characters read or copied"), wa, wb):
        assert y <= 1.25 * scale * x + SLACK, (
            f"{what}: {x} for {len(a)} characters, {y} for {len(b)} (x{y / max(x, 1):.2f} for x{scale:.2f})")
    return wb


def _scan_the_prose(language):
    def run(text):
        middle = len(text) // 2
        COUNTED.find_citations(text, language)
        COUNTED.citation_at(text, middle, language)
        COUNTED.completion_context(text, middle, language)
    return run


@pytest.mark.parametrize("language", LANGUAGES)
def test_work_on_prose_is_linear_in_its_size(language):
    text, expected = _prose(*PROSE[language], size=20_000)
    assert [c.key for c in COUNTED.find_citations(text, language)] == expected   # the same scanner
    lines, chars = assert_linear(lambda size: _prose(*PROSE[language], size=size)[0],
                                 _scan_the_prose(language), 100_000, 200_000)
    assert lines > 1000 and chars >= 200_000      # the counts do see the scanners' work


def test_the_counts_catch_a_rescan():
    """The meter itself: work repeated once per citation (quadratic) is caught by each count."""
    def prose(size):
        return _prose(*PROSE["markdown"], size=size)[0]

    def found(t):
        return COUNTED.find_citations(t, "markdown")

    assert_linear(prose, found, 8_000, 16_000)
    with pytest.raises(AssertionError, match=r"^lines executed: .* \(x[3-9]"):
        assert_linear(prose, lambda t: [COUNTED.citation_at(t, c.span.start, "markdown") for c in found(t)],
                      8_000, 16_000)
    # language_for splits the whole name with a regex: per citation, the rest of the buffer
    with pytest.raises(AssertionError, match=r"^characters read or copied: .* \(x[3-9]"):
        assert_linear(prose, lambda t: [COUNTED.language_for(t[c.span.start:] + ".md") for c in found(t)],
                      8_000, 16_000)


# Inputs built to make a scanner rescan or backtrack, as functions of a size ``n``: at
# n = 50_000 the strings are 100-600 KB.
ADVERSARIAL = {
    "cite-braces": lambda n: "\\cite{" * n,
    "cite-brackets": lambda n: "\\cite[" * n,
    "cites-parens": lambda n: "\\cites(" * n,
    "commas": lambda n: "\\cite{a" + "," * (4 * n),
    "backslashes": lambda n: "\\\\" * (2 * n) + "\\cite{a}",
    "open-brackets": lambda n: "[" * (2 * n) + "@a",
    "bracket-ats": lambda n: "[@" * (2 * n),
    "ats": lambda n: "@" * (4 * n),
    "at-braces": lambda n: "@{" * (2 * n),
    "backticks": lambda n: "`" * (2 * n),
    # code spans whose backtick runs take 40 lengths, over and over
    "backtick-runs": lambda n: "".join("`" * (k % 40 + 1) + " x " for k in range(n // 6)),
    "a-backtick": lambda n: "a `" * (2 * n),
    "fences": lambda n: "```\n" * n,
    "html-comments": lambda n: "<!--" * n,
    "cite-labels": lambda n: "#cite(" + "<a>, " * n,
    "typst-cites": lambda n: "#cite(" * n,
    "org-cites": lambda n: "[cite:" * n,
    "org-blocks": lambda n: "#+begin_src\n" * n,
    "block-comments": lambda n: "/*" * (2 * n),
    "open-block-comments": lambda n: "/* " * (2 * n) + "@a",
    "one-word": lambda n: "x" * (6 * n) + "@" + "y" * (6 * n),
}


def _every_scan(text, module=None):
    module = module or COUNTED
    for language in LANGUAGES:
        module.find_citations(text, language)
        module.completion_context(text, len(text), language)
        module.completion_context(text, len(text) // 2, language)
        module.bibliography_files(text, language)


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_adversarial_inputs_answer(name):
    """Full size, not counted: every scanner answers (a backtracking regex would hang here)."""
    import paperlens.core.citations as real

    text = ADVERSARIAL[name](50_000)
    _every_scan(text, real)
    for language in LANGUAGES:
        for cite in find_citations(text, language):
            assert text[cite.span.start:cite.span.end] == cite.key


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_adversarial_inputs_cost_linear_work(name):
    assert_linear(ADVERSARIAL[name], _every_scan, 4_000, 8_000)


def test_backtick_runs_of_ever_new_lengths_cost_linear_work():
    def ladder(n):   # "` x `` x ``` x ... @a": no run has a closing partner; about n characters
        return "".join("`" * k + " x " for k in range(1, int((2 * n) ** 0.5))) + "@a"

    assert_linear(ladder, lambda t: COUNTED.find_citations(t, "markdown"), 20_000, 80_000)


# ---------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Text made mostly of the characters the scanners care about, plus arbitrary text.
SYNTAX_CHARS = list("\\{}[]()<>@-;:,.%`~#*+/\"'=! \n\tabcitepxyz_01") + [
    "\\cite{", "\\citep[", "\\cites", "[@", "@{", "#cite(<", "[cite:", "```\n", "---\n",
    "bibliography:", "\\bibliography{", "#bibliography(", "label(\"", "<!--", "-->", "é",
]
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(SYNTAX_CHARS), max_size=120).map("".join),
)


@SETTINGS
@given(text=texts, data=st.data())
def test_property_never_raises_and_spans_are_valid(text, data):
    n = len(text)
    offsets = data.draw(st.lists(st.integers(min_value=-3, max_value=n + 3), max_size=6))
    for language in LANGUAGES:
        found = find_citations(text, language)
        starts = [c.span.start for c in found]
        assert starts == sorted(starts)
        for cite in found:
            assert 0 <= cite.span.start <= cite.span.end <= n
            assert text[cite.span.start:cite.span.end] == cite.key
            assert cite.key
        for name in bibliography_files(text, language):
            assert isinstance(name, str) and name.endswith(".bib")
        for offset in offsets:
            at = citation_at(text, offset, language)
            if at is not None:
                assert at in found and at.span.start <= offset <= at.span.end
            c = completion_context(text, offset, language)
            if c is not None:
                assert 0 <= c.span.start <= offset <= c.span.end <= n
                assert text[c.span.start:offset] == c.prefix


LATEX_KEY = st.from_regex(r"[A-Za-z][A-Za-z0-9_:\-]{0,15}", fullmatch=True)
LATEX_COMMANDS = [r"\cite", r"\citep", r"\citet*", r"\parencite", r"\autocite", r"\nocite"]


@SETTINGS
@given(
    groups=st.lists(
        st.tuples(
            st.sampled_from(LATEX_COMMANDS),
            st.lists(LATEX_KEY, min_size=1, max_size=4),
            st.sampled_from(["", "[p.~3]", "[see][]", " [a]\n[b] "]),
            st.sampled_from([",", ", ", " ,\n  ", ",%note\n"]),
        ),
        max_size=6,
    ),
    filler=st.sampled_from([" ", "\nSome text. ", " see also ", " 100\\% true "]),
)
def test_property_latex_round_trip(groups, filler):
    parts, expected = [], []
    for command, group_keys, options, separator in groups:
        parts.append("%s%s{%s}" % (command, options, separator.join(group_keys)))
        expected.extend(group_keys)
    text = filler + filler.join(parts) + filler
    assert keys(text, "latex") == expected


MD_KEY = st.from_regex(r"[A-Za-z][A-Za-z0-9_:\-]{0,15}", fullmatch=True)


_BARE_PANDOC_KEY = re.compile(r"\w(?:\w|[:\-](?=\w))*")


def _pandoc_bare_ok(key: str) -> bool:
    """Keys that survive as bare ``@key``: punctuation only between word characters."""
    return _BARE_PANDOC_KEY.fullmatch(key) is not None


@SETTINGS
@given(
    items=st.lists(
        st.tuples(st.lists(MD_KEY, min_size=1, max_size=4), st.booleans()), max_size=6
    ),
    filler=st.sampled_from([" ", "\nSome text. ", " see also ", " (x) "]),
)
def test_property_markdown_round_trip(items, filler):
    def cite(key: str) -> str:
        return "@" + key if _pandoc_bare_ok(key) else "@{" + key + "}"

    parts, expected = [], []
    for group_keys, bracketed in items:
        if bracketed:
            parts.append("[" + "; ".join("see " + cite(k) + ", p. 3" for k in group_keys) + "]")
        else:
            parts.append(" and ".join(cite(k) for k in group_keys))
        expected.extend(group_keys)
    text = filler + filler.join(parts) + filler
    assert keys(text, "markdown") == expected


@SETTINGS
@given(items=st.lists(st.lists(MD_KEY.filter(_pandoc_bare_ok), min_size=1, max_size=4), max_size=5))
def test_property_org_round_trip(items):
    text = " text ".join("[cite/t:" + ";".join("@" + k for k in group) + "]" for group in items)
    assert keys(text, "org") == [k for group in items for k in group]
