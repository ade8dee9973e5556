"""core/features/completion.py in process: keys offered while typing a citation (LaTeX, Pandoc,
a user command of the project), the span they replace, the card on resolve."""
from __future__ import annotations

from paperlens.core.features import completion
from paperlens.core.models import Span

from library_fixtures import REFS_BIB


def test_a_latex_key_being_typed(build):
    f = build(REFS_BIB + r"""
        %! draft.tex
        As shown by \cite{vas|}.
        """)
    found = completion.complete(f.doc, f.offset, f.view, limit=20)
    (item,) = found.items
    assert (item.key, item.detail) == ("vaswani2017", "Vaswani et al. · 2017 · Attention is all you need")
    assert item.span == Span(f.offset - 3, f.offset)           # "vas" is replaced
    assert item.filter_text.split()[:3] == ["vaswani2017", "Vaswani", "Shazeer"]
    assert not found.incomplete
    card = completion.resolve(item.data, f.view)
    assert card.startswith("**Attention is all you need**") and "`vaswani2017`" in card


def test_every_key_after_an_open_brace_and_the_limit(build):
    f = build(REFS_BIB + r"""
        %! draft.md
        As shown by [@|].
        """)
    found = completion.complete(f.doc, f.offset, f.view, limit=20)
    # (a Markdown file in a paper folder is a paper too: this draft is offered as well)
    assert {"devlin2019", "vaswani2017"} <= {i.key for i in found.items} and not found.incomplete
    assert all(i.span == Span(f.offset, f.offset) and i.filter_text == i.key for i in found.items)
    one = completion.complete(f.doc, f.offset, f.view, limit=1)
    assert len(one.items) == 1 and one.incomplete


def test_a_citation_command_of_the_project_completes(build):
    f = build(REFS_BIB + r"""
        %! thesis.tex
        \documentclass{book}
        \newcommand{\mycite}[1]{\cite{#1}}
        \begin{document}
        \input{chapter}
        \bibliography{refs}
        \end{document}
        %! chapter.tex
        See \mycite{dev|} and \yourcite{dev}.
        """)
    assert [i.key for i in completion.complete(f.doc, f.offset, f.view, limit=20).items] == ["devlin2019"]
    other = f.doc.text.rindex("dev") + 3                # \yourcite is no citation command
    assert completion.complete(f.doc, other, f.view, limit=20) is None


def test_resolve_ignores_data_that_is_not_ours(build):
    f = build(REFS_BIB + "%! a.md\n|\n")
    for data in (None, "x", {}, {"id": 5, "source": "s"}, {"id": "nope", "source": str(f.path("refs.bib"))},
                 {"id": "x", "source": "/elsewhere/refs.bib"}):
        assert completion.resolve(data, f.view) is None
    assert completion.complete(f.doc, f.offset, f.view, limit=5) is None      # not in a citation
