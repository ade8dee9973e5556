"""decode_latex reads plain values (braces, accents, escaped characters) without pylatexenc, and
gives exactly what pylatexenc gives for every value."""
import random
import re

import pytest

from paperlens.core.parse import bib


def pylatexenc_decode(value: str) -> str:
    """decode_latex as it was: pylatexenc for every value with LaTeX in it."""
    if not value:
        return ""
    if not bib._SIMPLE_ACCENTS.search(value):
        return " ".join(value.split())
    try:
        text = bib._latex2text().latex_to_text(value)
    except Exception:
        text = re.sub(r"\\[a-zA-Z]+\s*|[{}]", "", value)
    return " ".join(text.replace("~", " ").split())


VALUES = [
    r"{PoseFlowKine}: Incorporating Geo-Diverse Knowledge",
    r"Proceedings of the IEEE/CVF Conference on Computer Vision ({CVPR})",
    r"Mu{\~n}oz, James", r"Rodr{\'i}guez", r"R\'{e}mi", r"{\c{c}}a", r"\c{c}a", r"{\"o}",
    r"Hor{\v{s}}ek", r"50\% of the cases, R\&D at \$5 \#1 a\_b", r"{\%}", r"a -- b", r"a - b",
    r"it's ``quoted''", r"a{}b", r"{a}{b} {c}", r"{\'{e}}", r"-{}-", r"Unbalanced {brace",
    r"extra } brace", r"$x^2$ math", r"\emph{word}", r"a % comment", r"a & b", r"\c c",
    r"\\'{e}", r"{\'e}mi \'{E}", r"\'{}", r"\'{ab}", "tab\tand\nnewline {x}", "~tilde",
]


@pytest.mark.parametrize("value", VALUES)
def test_decode_latex_is_pylatexenc(value):
    bib._decoded.clear()
    assert bib.decode_latex(value) == pylatexenc_decode(value)


def test_decode_latex_is_pylatexenc_on_random_values():
    atoms = [r"\%", r"\&", r"\$", r"\#", r"\_", r"{\%}", "a", "B", "é", " ", "  ", "{", "}",
             "-", "'", "`", "!", "?", ".", r"\'{e}", r"{\'e}", r"{\"o}", r"\c{c}", r"{\c{c}}",
             r"\v{s}", r"\~{n}", r"{\~n}", r"\'e", r"\c c", "\\\\", "%", "$", "~", r"\.{I}",
             r"\u{g}", r"\H{o}", r"\k{a}", r"\r{a}", "\n", "{}", r"\=o", r"\^{o}", "[", "]",
             "#", "_", "^", "&", r"\emph{x}", r"\'{}", r"\c{}"]
    rng = random.Random(5)
    for _ in range(3000):
        value = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 8)))
        bib._decoded.clear()
        assert bib.decode_latex(value) == pylatexenc_decode(value), value


def test_plain_values_do_not_go_through_pylatexenc(monkeypatch):
    bib._decoded.clear()
    bib._tokens.clear()
    calls = []
    real = bib._latex2text()

    class Counting:
        def latex_to_text(self, value):
            calls.append(value)
            return real.latex_to_text(value)

    monkeypatch.setattr(bib, "_latex2text", lambda: Counting())
    titles = [f"{{Name{i}}}: a title with R{{\\'e}}mi and 5\\% of it" for i in range(50)]
    assert [bib.decode_latex(t) for t in titles] == \
        [f"Name{i}: a title with Rémi and 5% of it" for i in range(50)]
    # pylatexenc read each token once, never a whole value
    assert sorted(calls) == sorted([r"{\'e}", r"\%"])
    assert bib.decode_latex(r"$x$ math") == "$x$ math"   # (math kept verbatim)
    assert calls[-1] == r"$x$ math"


def test_repeated_values_are_decoded_once(monkeypatch):
    bib._decoded.clear()
    seen = []
    real = bib._decode_latex
    monkeypatch.setattr(bib, "_decode_latex", lambda v: seen.append(v) or real(v))
    names = [r"Mu{\~n}oz, James", r"Rodr{\'i}guez, Pieter"] * 20
    assert bib.split_bib_authors(" and ".join(names)) == ["Muñoz, James", "Rodríguez, Pieter"] * 20
    assert sorted(seen) == sorted(set(names))
