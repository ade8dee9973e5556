"""core/features/diagnostics.py in process: unknown keys with the closest keys as fixes, none
before the library is known, keys defined in two .bib files."""
from __future__ import annotations

from paperlens.core import citations
from paperlens.core.features import diagnostics
from paperlens.core.models import Span

from library_fixtures import REFS_BIB


def test_unknown_keys_and_their_fixes(build):
    f = build(REFS_BIB + r"""
        %! draft.tex
        \cite{vaswani2017, vaswani2071} % \cite{commented2000}
        \citep{zzz}
        """)
    found = diagnostics.unknown_keys(f.doc, f.view)
    text = f.doc.text
    assert [(d.key, d.span, d.suggestions) for d in found] == [
        ("vaswani2071", Span(text.index("vaswani2071"), text.index("vaswani2071") + 11), ["vaswani2017"]),
        ("zzz", Span(text.index("zzz"), text.index("zzz") + 3), [])]
    assert found[0].message == "'vaswani2071' is not in the library; did you mean 'vaswani2017'?"
    assert found[1].message == "'zzz' is not in the library"
    assert diagnostics.fixes({"key": "vaswani2071", "suggestions": found[0].suggestions}) == [
        diagnostics.Fix("vaswani2017", preferred=True)]
    assert diagnostics.fixes({"key": "vaswani2071", "suggestions": ["a", 5, "b"]}) == [
        diagnostics.Fix("a", True), diagnostics.Fix("b", False)]
    assert diagnostics.fixes(None) == [] and diagnostics.fixes({"suggestions": "ab"}) == []


def test_a_scan_is_kept_across_edits(build):
    f = build(REFS_BIB + "%! draft.md\nSee [@vaswani2071].\n")
    scan = citations.CitationScan("markdown")
    assert [d.key for d in diagnostics.unknown_keys(f.doc, f.view, scan)] == ["vaswani2071"]
    edited = f.snapshot(text="See [@vaswani2017].\n")
    assert diagnostics.unknown_keys(edited, f.view, scan) == []
    assert scan.text is edited.text                    # the document's scan was updated, not a new one


def test_nothing_before_the_library_is_indexed(build):
    f = build(REFS_BIB + "%! draft.tex\n\\cite{zzz}\n", indexed=False)
    assert diagnostics.unknown_keys(f.doc, f.view) == []


def test_a_key_two_bib_files_define(build):
    f = build(REFS_BIB + r"""
        %! old/aaa-old.bib
        @article{devlin2019, title={A Stale Copy}, author={Devlin, Jacob}, year={2019}}
        %! paper.tex
        \documentclass{article}
        \begin{document}
        \cite{devlin2019}
        \bibliography{refs}
        \end{document}
        """)
    found = diagnostics.duplicate_keys(f.view)
    refs, old = str(f.path("refs.bib")), str(f.path("old/aaa-old.bib"))
    assert found == {
        refs: [diagnostics.DuplicateKey(refs, 7, "devlin2019",
                                        "key 'devlin2019' is also defined in aaa-old.bib; paper.tex gets this entry")],
        old: [diagnostics.DuplicateKey(old, 0, "devlin2019",
                                       "key 'devlin2019' is also defined in refs.bib; a draft gets the entry of the "
                                       ".bib file its bibliography names (for a LaTeX file, the one its root "
                                       "document names)")]}
