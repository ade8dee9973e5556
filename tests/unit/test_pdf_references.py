"""Reference lists read from PDFs: entries of an unnumbered list split where the layout's
hanging indents start them (issue 15)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.pdfs import body_lines, make_layout_pdf  # noqa: E402

from paperlens.core.parse.pdf import parse_pdf  # noqa: E402

WEB_ENTRIES = [
    ("The ns Manual. (2006, January). [Online]. Available:", "http://www.isi.edu/nsnam/ns/ns-documentation.html."),
    ("BRITE topology generator. (2006, January). [Online].", "Available: http://www.cs.bu.edu/brite/index.html."),
    ("Route Views Project. (2006, January). [Online]. Available:", "http://www.routeviews.org/archive/index.html."),
    ("GnuPlot plotting tool. (2006, January). [Online]. Available:", "http://www.gnuplot.info/docs/index.html."),
]
BODY = ("We measured route flap damping in a simulator and compare the results with the "
        "measurements of others. ") * 12


def _list_page(indent_first: float, indent_rest: float) -> list[tuple]:
    items: list[tuple] = [("References", 12, 20, 20, "B")]
    y = 30.0
    for first, rest in WEB_ENTRIES:
        items.append((first, 10, y, indent_first))
        items.append((rest, 10, y + 4.5, indent_rest))
        y += 9.0
    return items


def test_hanging_indents_split_an_unnumbered_list(tmp_path):
    path = tmp_path / "thesis.pdf"
    make_layout_pdf(path, [[("Damping Route Flaps in Simulated Networks", 16, 20, "C")] + body_lines(BODY, 40),
                           _list_page(20, 26)])
    refs = parse_pdf(path).papers[0].references
    assert [r.text.split(".")[0] for r in refs] == ["The ns Manual", "BRITE topology generator",
                                                    "Route Views Project", "GnuPlot plotting tool"]


def test_flush_lines_alone_do_not_split(tmp_path):
    path = tmp_path / "flush.pdf"
    make_layout_pdf(path, [[("Damping Route Flaps in Simulated Networks", 16, 20, "C")] + body_lines(BODY, 40),
                           _list_page(20, 20)])
    refs = parse_pdf(path).papers[0].references
    assert len(refs) == 1          # no indent, no year before the next start: the text alone cannot tell
