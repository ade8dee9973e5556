"""Math symbols of TeX's fonts that a PDF gives without a Unicode mapping.

PDFs made by TeX often embed the Computer Modern math fonts without a ToUnicode map; pdfium then
reports the raw character code, which for codes below 32 is a control character (and code 0, the
minus sign, is left out of the page text altogether): ``H ≤ C`` came out as ``H C`` and
``H(y) − H(n)`` as ``H(y) H(n)``. The codes below 32 of those fonts are fixed by TeX's font
encodings (OMS for CMSY, OML for CMMI, OMX for CMEX), so they can be put back.
"""
from __future__ import annotations

import re
from typing import Optional

# OMS (cmsy): \minus \cdot \times \ast \div \diamond \pm \mp \oplus \ominus \otimes \oslash
# \odot \bigcirc \circ \bullet \asymp \equiv \subseteq \supseteq \leq \geq \preceq \succeq
# \sim \approx \subset \supset \ll \gg \prec \succ
OMS = "−·×∗÷⋄±∓⊕⊖⊗⊘⊙◯∘•≍≡⊆⊇≤≥⪯⪰∼≈⊂⊃≪≫≺≻"
# OML (cmmi): \Gamma ... \Omega, \alpha ... \chi
OML = "ΓΔΘΛΞΠΣΥΦΨΩαβγδϵζηθικλμνξπρστυϕχ"
# OMX (cmex), codes 0-31: the big delimiters, by shape
OMX = "()[]⌊⌋⌈⌉{}⟨⟩|‖/\\()()[]⌊⌋⌈⌉{}⟨⟩/\\"

_FONTS = (
    (re.compile(r"^(?:CMSY|CMBSY|LMMathSymbols|cmsy|rmsy|txsy|pxsy)", re.IGNORECASE), OMS),
    (re.compile(r"^(?:CMMI|CMMIB|LMMathItalic|cmmi|rmmi|txmi|pxmi)", re.IGNORECASE), OML),
    (re.compile(r"^(?:CMEX|LMMathExtension|cmex|txex|pxex)", re.IGNORECASE), OMX),
)


def symbol_for(font_name: str, code: int) -> Optional[str]:
    """The character that ``code`` (below 32) stands for in the TeX font named ``font_name``
    (a subset prefix such as ``ABCDEF+`` is ignored), or None when the font is not one of them."""
    if not 0 <= code < 32:
        return None
    name = font_name.rsplit("+", 1)[-1]
    for pattern, table in _FONTS:
        if pattern.match(name):
            return table[code]
    return None
