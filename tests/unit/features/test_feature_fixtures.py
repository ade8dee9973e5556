"""The fixture format of the in-process feature tests: files, the cursor mark, the snapshot."""
from __future__ import annotations

import pytest

from feature_fixtures import parse


def test_files_and_the_cursor():
    files, cursor = parse(r"""
        %! refs.bib
        @article{a, title={A}}
        %! chapters/draft.tex
        See \cite{vas|}.
        More.
        """)
    assert files == {"refs.bib": "@article{a, title={A}}\n", "chapters/draft.tex": "See \\cite{vas}.\nMore.\n"}
    assert cursor == ("chapters/draft.tex", len("See \\cite{vas"))


@pytest.mark.parametrize("spec", ["no file line|", "%! a.tex\n|x|", "%! a.tex\n|\n%! b.tex\n|"])
def test_bad_fixtures_are_refused(spec):
    with pytest.raises(ValueError):
        parse(spec)


def test_the_snapshot_has_the_language_and_the_latex_project(build):
    f = build(r"""
        %! refs.bib
        @article{vaswani2017, title={Attention is all you need}, author={Vaswani, Ashish}, year={2017}}
        %! thesis.tex
        \documentclass{book}
        \newcommand{\mycite}[1]{\cite{#1}}
        \begin{document}
        \include{chapter}
        \bibliography{refs}
        \end{document}
        %! chapter.tex
        \mycite{vas|}
        """)
    doc = f.doc
    assert doc.language == "latex" and doc.path == f.path("chapter.tex")
    assert doc.bib_files == (str(f.path("refs.bib")),)
    assert [m.name for m in doc.macros] == ["mycite"]
    assert doc.text[f.offset - 3:f.offset] == "vas"
