"""What to cite here, from the document's own structure (issue 16): the .bib's order (entries next
to a key cited nearby, when the document's citations in a row are next to one another in the
file), keys cited in the same paragraph elsewhere, the section's title, the last citation."""
from __future__ import annotations

import random
from types import SimpleNamespace

from paperlens.core import recommend

WORDS = ["qz" + a + b for a in "bcdfk" for b in "bcdfghjk"]     # 40 words no stemming changes


def rows(n, order=None, titles=None):
    """n entries k0..k{n-1} of one .bib, at the lines ``order`` gives (default: in key order)."""
    order = order or list(range(n))
    return [SimpleNamespace(id=f"id{i}", key=f"k{i}", title=(titles or {}).get(i, f"Entry {WORDS[i % 40]} study"),
                            surnames=["Okafor"], year="2020", source="/lib/refs.bib", source_line=10 * order[i],
                            file="") for i in range(n)]


def chapter(cited):
    """A document citing ``cited`` (lists of keys) one paragraph each, then a paragraph citing k40
    and the cursor in an empty citation right after it."""
    parts = [f"Paragraph {i} on something \\cite{{{','.join(keys)}}} and more.\n\n" for i, keys in enumerate(cited)]
    text = "".join(parts) + "Here we cite \\cite{k40} and then \\cite{}."
    return text, len(text) - 2


def test_entries_next_to_a_nearby_key_in_the_bib_come_first_when_the_document_cites_in_its_order():
    library = rows(120)
    # the document cites k0, k1, k2 ... in the .bib's order, a few keys at a time
    text, cursor = chapter([[f"k{i}", f"k{i + 1}"] for i in range(0, 30, 2)])
    ctx = recommend.context(text, cursor, "latex")
    assert ctx.nearby == ("k40",) and ctx.previous == ("k40",)
    assert recommend._bib_locality(recommend.title_index(library), ctx.paragraphs) == 1.0
    ranked = recommend.rank(ctx, library)
    assert {s.row.key for s in ranked[:3]} == {"k40", "k39", "k41"}
    assert "next to k40 in the .bib" in {s.row.key: s for s in ranked}["k41"].reason()


def test_a_bib_in_another_order_than_the_citations_adds_nothing():
    shuffled = list(range(120))
    random.Random(7).shuffle(shuffled)
    library = rows(120, order=shuffled)
    text, cursor = chapter([[f"k{i}", f"k{i + 1}"] for i in range(0, 30, 2)])
    ctx = recommend.context(text, cursor, "latex")
    assert recommend._bib_locality(recommend.title_index(library), ctx.paragraphs) == 0.0
    assert not [s for s in recommend.rank(ctx, library) if s.bib]


def test_too_few_citations_say_nothing_of_the_bibs_order():
    library = rows(120)
    text, cursor = chapter([["k0", "k1"], ["k2"]])
    ctx = recommend.context(text, cursor, "latex")
    assert recommend._bib_locality(recommend.title_index(library), ctx.paragraphs) == 0.0


def test_keys_cited_in_another_paragraph_with_a_key_of_this_one_rank():
    library = rows(120, order=[(i * 37) % 120 for i in range(120)])      # (no order to learn)
    text, cursor = chapter([["k7"], ["k40", "k90"], ["k3"], ["k40"], ["k55"]])
    text = text.replace("and more.\n\n", "and more \\cite{k61}.\n\n", 2)      # k61 beside k7, beside k40
    ctx = recommend.context(text, cursor, "latex")
    ranked = [s.row.key for s in recommend.rank(ctx, library)]
    # k90: cited with k40 (one citation); k61: in a paragraph citing k40
    assert ranked.index("k90") < ranked.index("k61") < min(ranked.index("k7"), ranked.index("k3"))


def test_the_sections_title_counts_when_the_sentence_says_nothing():
    titles = {5: "Sparse qzbb kernels for qzcd graphs"}
    library = rows(60, titles=titles)
    text = ("\\section{Sparse kernels}\n\nSomething we do here \\cite{}.")
    ctx = recommend.context(text, len(text) - 2, "latex")
    assert ctx.heading.split() == ["Sparse", "kernels"]
    assert recommend.rank(ctx, library)[0].row.key == "k5"


def test_the_heading_is_the_last_one_before_the_cursor_in_each_language():
    latex = "\\chapter{One}\n$\\partial x$ \\section*[short]{Two words}\n\\sectionmark{No} text \\cite{"
    assert recommend.heading(latex, len(latex), "latex").split() == ["Two", "words"]
    assert recommend.heading("text", 4, "latex") == ""
    md = "# Intro\n\nText with a # sign.\n\n## Related work\n\nWe cite [@"
    assert recommend.heading(md, len(md), "markdown").strip() == "Related work"
    typst = "= Methods\nText @"
    assert recommend.heading(typst, len(typst), "typst").strip() == "Methods"
    org = "* Results\nText [cite:@"
    assert recommend.heading(org, len(org), "org").strip() == "Results"
    assert recommend.heading(md, len(md), None) == ""


def test_the_citations_of_other_paragraphs_are_kept_in_the_documents_order():
    text, cursor = chapter([["k1", "k2"], ["k3"], ["k4"]])
    text += "\n\nAfter \\cite{k8}.\n\nLast \\cite{k9} and \\cite{k10}."
    ctx = recommend.context(text, cursor, "latex")
    assert ctx.paragraphs == ((("k1", "k2"),), (("k3",),), (("k4",),), (("k8",),), (("k9",), ("k10",)))
    assert recommend.context(text, cursor, "latex", profiles=False).paragraphs == ()


def test_a_long_documents_paragraphs_are_merged_by_chunks_kept_across_places(monkeypatch):
    text = "".join(f"Paragraph {i} about qz{'bcdfk'[i % 5]}x things \\cite{{k{i % 97}}} here.\n\n" for i in range(400))
    first = text.index("Paragraph 200 ")
    second = text.index("Paragraph 203 ")
    ctx = recommend.context(text, first, "latex")
    whole = recommend._read_profiles(text, "latex", None, ctx.span)
    assert ctx.profiles == whole               # (no citation in the cursor's sentence)
    assert sum(len(p) for p in ctx.paragraphs) == 399
    read = []
    real = recommend._part_profiles
    monkeypatch.setattr(recommend, "_part_profiles", lambda part, *a: read.append(part) or real(part, *a))
    again = recommend.context(text, second, "latex")
    assert again.profiles == recommend._read_profiles(text, "latex", None, again.span)
    assert 0 < len(read) < 200                 # the chunks around the two places, not 399 paragraphs
