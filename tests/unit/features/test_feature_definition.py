"""core/features/definition.py in process: a key goes to its .bib entry; the entry the document's
bibliography names wins when two .bib files define the key."""
from __future__ import annotations

from paperlens.core.features import definition
from paperlens.core.features.document import Location

from library_fixtures import REFS_BIB


def test_a_key_goes_to_its_entry(build):
    f = build(REFS_BIB + r"""
        %! draft.tex
        \cite{vaswani2017, devl|in2019} and \cite{nobody}.
        """)
    assert definition.definition(f.doc, f.offset, f.view) == [Location(str(f.path("refs.bib")), 7)]
    unknown = f.doc.text.index("nobody") + 2
    assert definition.definition(f.doc, unknown, f.view) is None
    assert definition.definition(f.doc, 0, f.view) is None             # not on a key


def test_the_bibliography_the_document_names_wins(build):
    f = build(REFS_BIB + r"""
        %! aaa-old.bib
        @article{devlin2019, title={A Stale Copy}, author={Devlin, Jacob}, year={2019}}
        %! draft.md
        ---
        bibliography: refs.bib
        ---
        As [@devlin2019|] shows.
        """)
    assert definition.definition(f.doc, f.offset, f.view) == [Location(str(f.path("refs.bib")), 7)]
