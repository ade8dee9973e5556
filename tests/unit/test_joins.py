"""Which .bib entry a paper's full text belongs to (core/joins.py): one paper, one card."""
from __future__ import annotations

from paperlens.core.index.table import Row
from paperlens.core.joins import link


def entry(i, title, doi="", file=""):
    return Row(f"e{i}", f"key{i}", title, [], "", "", "/lib/refs.bib", i, "bib", file, doi, "")


def text(i, title, source, doi=""):
    return Row(f"t{i}", f"gen{i}", title, [], "", "", source, 0, "pdf", source, doi, "")


def heads_from(d):
    return lambda ids: {i: d[i] for i in ids if i in d}


def test_exact_evidence_first():
    e1 = entry(1, "A Mathematical Theory of Communication")
    e2 = entry(2, "Tidy Data", doi="10.18637/jss.v059.i10")
    t1 = text(1, "A Mathematical Theory of Communication", "/lib/shannon.pdf")
    t2 = text(2, "JSS Journal of Statistical Software", "/lib/tidy.pdf", doi="10.18637/jss.v059.i10")
    link([e1, e2, t1, t2])
    assert (t1.alias_of, t2.alias_of) == ("e1", "e2")
    assert (e1.fulltext, e2.fulltext) == ("/lib/shannon.pdf", "/lib/tidy.pdf")


def test_identifiers_and_titles_compare_normalised():
    """One rule with the citation graph (core/identity): a DOI written as a URL, an arXiv DOI,
    an arXiv id with a version and a title hyphenated otherwise are the same paper."""
    e1 = entry(1, "Tidy Data", doi="https://doi.org/10.18637/JSS.v059.i10")
    e2 = entry(2, "Attention", doi="10.48550/arXiv.1706.03762")
    e3 = entry(3, "Spatio-Temporal Graph Convolutional Networks for Traffic")
    t1 = text(1, "JSS Journal of Statistical Software", "/lib/tidy.pdf", doi="10.18637/jss.v059.i10")
    t2 = text(2, "Wrong title", "/lib/attention.pdf")
    t2.arxiv = "1706.03762v5"
    t3 = text(3, "Spatiotemporal graph convolutional networks for traffic", "/lib/stgcn.pdf")
    link([e1, e2, e3, t1, t2, t3])
    assert (t1.alias_of, t2.alias_of, t3.alias_of) == ("e1", "e2", "e3")


def test_a_title_of_three_words_joins_only_when_unique():
    e = entry(1, "Graph Attention Networks")
    t1 = text(1, "Graph Attention Networks", "/lib/a.pdf")
    t2 = text(2, "Graph attention networks", "/lib/b.pdf")
    link([e, t1, t2])
    assert t1.alias_of == t2.alias_of == ""
    link([e, t1])
    assert t1.alias_of == "e1"


def test_title_on_the_first_page_joins_when_the_extracted_title_is_wrong():
    e = entry(1, "A Mathematical Theory of Communication")
    t = text(1, "Reprinted with corrections from The Bell System Technical Journal", "/lib/x.pdf")
    head = ("Reprinted with corrections from The Bell System Technical Journal, Vol. 27\n"
            "A Mathematical Theory of Communication\nBy C. E. SHANNON\nINTRODUCTION")
    link([e, t], heads_from({"t1": head}))
    assert t.alias_of == "e1" and e.fulltext == "/lib/x.pdf"


def test_ocr_errors_in_a_long_title_are_tolerated():
    e = entry(1, "Epidemic Algorithms for Replicated Database Maintenance")
    t = text(1, "Xerox", "/lib/epidemic.pdf")
    head = "EPIDEMIC ALGORlTHMS FOR REPLICATED . DATABASE MAINTENANCE\nAlan Demers, Dan Greene"
    link([e, t], heads_from({"t1": head}))
    assert t.alias_of == "e1"


def test_a_title_cited_lower_on_another_first_page_loses_to_the_paper_itself():
    e = entry(1, "Paxos Made Simple Again Today")
    t_other = text(1, "Something Else", "/lib/other.pdf")
    t_own = text(2, "Garbled", "/lib/own.pdf")
    heads = {"t1": "Something Else\nAbstract. As shown in Paxos Made Simple Again Today, consensus ...",
             "t2": "Paxos Made Simple Again Today\nLeslie Lamport"}
    link([e, t_other, t_own], heads_from(heads))
    assert t_own.alias_of == "e1" and t_other.alias_of == ""


def test_file_or_folder_name_joins_a_pdf_without_the_title_in_its_text():
    e = entry(1, "BASE: An Acid Alternative")
    t = text(1, "can lead to dramatic improvements", "/lib/base-an-acid-alternative/p48-pritchett.pdf")
    e2 = entry(2, "Load Balancing of Autonomous Actors over Dynamic Networks")
    t2 = text(2, "!#%$&", "/lib/load_balancing_of_autonomous_actors_over_dynamic_networks.pdf")
    link([e, t, e2, t2], heads_from({"t1": "Web applications have grown", "t2": "!#%$&"}))
    assert t.alias_of == "e1" and t2.alias_of == "e2"


def test_short_titles_join_only_when_unique():
    e = entry(1, "Sagas")
    t = text(1, "SAGAS", "/lib/sagas.pdf")
    link([e, t])
    assert t.alias_of == "e1"
    a, b = entry(2, "Introduction"), text(2, "Introduction", "/lib/intro.pdf")
    link([a, b])
    assert b.alias_of == ""
    c, d1, d2 = entry(3, "Eventually Consistent"), text(3, "Eventually Consistent", "/lib/a.pdf"), \
        text(4, "Eventually Consistent", "/lib/b.pdf")
    link([c, d1, d2])
    assert d1.alias_of == d2.alias_of == ""


def test_a_weak_join_never_takes_an_entry_already_joined():
    e = entry(1, "Consistent Hashing and Random Trees")
    t1 = text(1, "Consistent Hashing and Random Trees", "/lib/a.pdf")
    t2 = text(2, "Other", "/lib/b.pdf")
    link([e, t1, t2], heads_from({"t2": "Consistent Hashing and Random Trees\nDavid Karger"}))
    assert t1.alias_of == "e1" and t2.alias_of == ""


# -- through the index: heads.jsonl is written with each text and read when an entry is left over

def test_entry_added_later_joins_the_pdf_whose_first_page_shows_its_title(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from fixtures.pdfs import body_lines, make_layout_pdf

    from paperlens.core.library import Library

    folder = tmp_path / "lib"
    folder.mkdir()
    body = "The fundamental problem of communication is that of reproducing at one point a message. " * 12
    # the largest font on the page is the journal's name: the title read off it is wrong
    make_layout_pdf(folder / "scan-0042.pdf", [[
        ("THE BELL SYSTEM TECHNICAL MONTHLY", 20, 15, "C", "B"),
        ("A Mathematical Theory of Communication", 13, 30, "C"),
        ("By C. E. SHANNON", 11, 40, "C"), *body_lines(body, 55)]])
    lib = Library([folder], index_path=str(tmp_path / "ix"))
    lib.update()
    (text_row,) = lib.rows()
    assert text_row.title != "A Mathematical Theory of Communication"

    (folder / "refs.bib").write_text(
        "@article{shannon1948, title={A Mathematical Theory of Communication},\n"
        "  author={Shannon, Claude E.}, journal={Bell System Technical Journal}, year={1948}}\n",
        encoding="utf-8")
    lib.update_paths([folder / "refs.bib"])
    row = lib.resolve("shannon1948")
    assert row.fulltext == str((folder / "scan-0042.pdf").resolve())
    assert sum(1 for r in lib.rows() if not r.alias_of) == 1          # one paper, one card
    lib.close()


def test_a_different_word_is_not_an_ocr_error():
    e = entry(1, "Evil Results on Sparse Retrieval of Passages in Papers")
    t = text(1, "x", "/lib/t.txt")
    link([e, t], heads_from({"t1": "Wicked Results on Sparse Retrieval of Passages in Papers\nEve Mallory"}))
    assert t.alias_of == ""


class _Watched(Row):
    """A row that records each write of its join (the rows an update links are those of the
    table requests are reading)."""
    __slots__ = ()
    writes: list = []

    def __setattr__(self, name, value):
        if name in ("alias_of", "fulltext"):
            _Watched.writes.append((self.id, name, value))
        super().__setattr__(name, value)


def test_only_the_rows_whose_join_changed_are_written():
    entries = [_Watched(f"e{i}", f"key{i}", f"A Study of Things Number {i} Again", [], "", "", "/lib/refs.bib",
                        i, "bib", "", "", "") for i in range(6)]
    texts = [_Watched(f"t{i}", f"gen{i}", f"A study of things number {i} again", [], "", "", f"/lib/{i}.pdf",
                      0, "pdf", f"/lib/{i}.pdf", "", "") for i in range(6)]
    rows = entries + texts
    assert len(link(rows)) == 12
    assert [t.alias_of for t in texts] == [f"e{i}" for i in range(6)]
    _Watched.writes.clear()
    assert link(rows) == [] and _Watched.writes == []      # the same joins: no row written
    texts[2].title = "Something Else Entirely Here"
    assert link(rows) == [entries[2], texts[2]]
    assert sorted(_Watched.writes) == [("e2", "alias_of", ""), ("e2", "fulltext", ""),
                                       ("t2", "alias_of", ""), ("t2", "fulltext", "")]
    assert texts[2].alias_of == entries[2].fulltext == "" and texts[3].alias_of == "e3"
