"""Paper cards show what a paper or a .bib file says as plain text (issue 13, case 9): a title,
author, venue or abstract with a link, an image, raw HTML, an entity or a line-start marker
(heading, list, rule) renders as those very characters, never as markup."""
from __future__ import annotations

import pytest

from paperlens.core.cards import CitingPaper, escape_md, render_card
from paperlens.core.models import Paper


@pytest.mark.parametrize("text,escaped", [
    ("Click [here](javascript:alert(1))", r"Click \[here\](javascript:alert(1))"),
    ("<img src=x onerror=alert(2)>", r"\<img src=x onerror=alert(2)\>"),
    ("![pixel](https://t.example/p.png)", r"!\[pixel\](https://t.example/p.png)"),
    ("<https://evil.example>", r"\<https://evil.example\>"),
    ("`code` **bold** _it_ ~~s~~ a|b {x}", r"\`code\` \*\*bold\*\* \_it\_ \~\~s\~\~ a\|b \{x\}"),
    ("back\\slash", r"back\\slash"),
    # an entity would show as the character it names, not as written
    ("&lt;script&gt; R&amp;D &#106;", r"\&lt;script\&gt; R\&amp;D \&#106;"),
    # markers that make a block when they start a line (the authors' line starts with a name)
    ("# Heading", r"\# Heading"),
    ("- listed", r"\- listed"),
    ("+ listed", r"\+ listed"),
    ("= under", r"\= under"),
    ("1986. Ordered", r"1986\. Ordered"),
    ("7) Ordered", r"7\) Ordered"),
    ("2020 is a year, 3.5 a number - a dash", "2020 is a year, 3.5 a number - a dash"),
    ("multi\n\nline   text", "multi line text"),
])
def test_escape_md(text, escaped):
    assert escape_md(text) == escaped


def test_card_of_a_hostile_entry_has_no_markup_of_its_own():
    paper = Paper(id="x", key="evil2024", title="Click [here](javascript:alert(1)) <b>bold</b>",
                  authors=["# Mallory", "Eve](https://evil.example)"], year="2024",
                  venue="<script>alert(4)</script>", abstract="See &lt;iframe&gt; now.",
                  source="/tmp/lib/a`b [c](d).bib", source_line=2)
    card = render_card(paper)
    assert card.splitlines() == [
        r"**Click \[here\](javascript:alert(1)) \<b\>bold\</b\>**",
        "",
        r"\# Mallory, Eve\](https://evil.example) · 2024 · *\<script\>alert(4)\</script\>*",
        "",
        r"Abstract: See \&lt;iframe\&gt; now.",
        "",
        r"`evil2024` · [a\`b \[c\](d).bib:3](file:///tmp/lib/a%60b%20%5Bc%5D%28d%29.bib#L3)",
    ]


def test_the_papers_citing_a_card_are_plain_text_too():
    paper = Paper(id="x", key="k2020", title="Cited", source="/tmp/lib/refs.bib")
    hostile = CitingPaper(key="evil", title="# [Win](https://evil.example) <img src=x>",
                          first_author="*Mallory*", year="2024]", path="/tmp/lib/e [v](l).txt", line=0, et_al=True)
    card = render_card(paper, graph_line="Cited by 1 paper in your library", cited_by=[hostile])
    assert (r"- [\# \[Win\](https://evil.example) \<img src=x\>](file:///tmp/lib/e%20%5Bv%5D%28l%29.txt#L1)"
            r" · \*Mallory\* et al. · 2024\]") in card.splitlines()
