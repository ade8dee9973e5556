"""normalise_page_text skips the patterns that cannot match a line: the same text as running
them all."""
import random

from paperlens.core.parse import pdf
from paperlens.core.parse.repair import compose_spacing_accents


def every_step(raw: str) -> str:
    """normalise_page_text running every step on every text."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = pdf._CONTROLS.sub("", text)
    text = pdf._SOFT_HYPHEN_END.sub("-", text)
    text = pdf._SOFT_HYPHEN_CAPITAL.sub("-", text)
    text = pdf._SOFT_HYPHEN_BREAK.sub("", text)
    text = pdf._SOFT_HYPHEN.sub("", text)
    text = text.translate(pdf._LIGATURES)
    text = compose_spacing_accents(text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.rstrip("\n")


def test_normalise_page_text_is_every_step():
    atoms = ["Multi", "word", "A", "4", " ", "  ", "\t", "\n", "\r", "\r\n", "\x00", "\x01", "\x02",
             "\x1f", "\x7f", "\ufffe", "\u00ad", "\ufb01", "\ufb03", "Jo˜ao", "Herv ´e", "-", "\x0b",
             "\x1c", "é", "x"]
    rng = random.Random(7)
    for _ in range(20000):
        raw = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 10)))
        assert pdf.normalise_page_text(raw) == every_step(raw), repr(raw)
