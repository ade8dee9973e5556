"""core/features/links.py and insertion.py in process: DOIs, arXiv ids and URLs as links; what to
write for a key at the cursor in each citation syntax."""
from __future__ import annotations

import pytest

from paperlens.core.features import insertion, links
from paperlens.core.features.document import make_snapshot
from paperlens.core.models import Span


def test_links():
    text = "See doi:10.48550/arXiv.1706.03762, arXiv:2010.11929v2 and https://example.org/x (10.1000/xyz)."
    found = links.links(text)
    assert sorted((text[l.span.start:l.span.end], l.target) for l in found) == sorted([
        ("10.48550/arXiv.1706.03762", "https://doi.org/10.48550/arXiv.1706.03762"),
        ("arXiv:2010.11929v2", "https://arxiv.org/abs/2010.11929v2"),
        ("https://example.org/x", "https://example.org/x"),
        ("10.1000/xyz", "https://doi.org/10.1000/xyz")])
    assert links.links("https://example.org/10.1000/xyz") == [
        links.Link(Span(0, 31), "https://example.org/10.1000/xyz")]        # a DOI inside a URL is the URL's


@pytest.mark.parametrize("language_id, text, want", [
    ("latex", "See |.", "\\cite{vaswani2017}"),
    ("latex", "See \\cite{devlin2019|}.", ",vaswani2017"),
    ("latex", "See \\cite{|}.", "vaswani2017"),
    ("markdown", "See |.", "[@vaswani2017]"),
    ("markdown", "See [@devlin2019|].", "; @vaswani2017"),
    ("typst", "See |.", "@vaswani2017"),
    ("org", "See |.", "[cite:@vaswani2017]"),
    ("plaintext", "See |.", "vaswani2017"),
])
def test_insertion_in_each_syntax(language_id, text, want):
    offset = text.index("|")
    doc = make_snapshot("file:///d", text.replace("|", ""), language_id)
    found = insertion.insertion(doc, offset, "vaswani2017")
    assert found.text == want and found.span == Span(offset, offset)
    assert insertion.insertion(doc, offset, "") is None
