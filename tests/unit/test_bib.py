from pathlib import Path

from paperlens.core.parse import parse_file

BROKEN = r"""@string{neurips = {Advances in Neural Information Processing Systems}}
@inproceedings{first2017,
  title = {Attention Is {All} You Need},
  author = {Vaswani, Ashish and J{\'e}gou, Herv{\'e} and others},
  booktitle = neurips,
  year = 2017,
}
@article{broken2020,
  title = {Unbalanced {brace,
  author = {Doe, John},
  year = {2020}

@article{third2019,
  title = {Third One},
  author = {Roe, Jane},
  year = {2019},
}
@article{third2019,
  title = {Duplicate},
}
@article{nocomma2018
  title = {No comma},
}
@article{last2021, title={The {L}ast of {\"U}ber}, date={2021-03-01}, journaltitle={J. Tests},
  doi = {https://doi.org/10.1000/xyz}}
"""


def test_broken_entry_in_the_middle_keeps_every_other_entry(tmp_path):
    bib = tmp_path / "lib.bib"
    bib.write_text(BROKEN, encoding="utf-8")
    result = parse_file(bib)
    assert [p.key for p in result.papers] == ["first2017", "third2019", "last2021"]
    # each problem is reported once, with its line and what was wrong
    assert len(result.warnings) == 3
    assert result.warnings[0].startswith("lib.bib:8: skipped entry '@article{broken2020,'")
    assert "duplicate key 'third2019'" in result.warnings[1]
    assert result.warnings[2].startswith("lib.bib:21:") and "comma" in result.warnings[2]


def test_fields_are_decoded_for_display_and_macros_resolved(tmp_path):
    bib = tmp_path / "lib.bib"
    bib.write_text(BROKEN, encoding="utf-8")
    first, third, last = parse_file(bib).papers
    assert first.title == "Attention Is All You Need"
    assert first.authors == ["Vaswani, Ashish", "Jégou, Hervé"]      # "others" dropped
    assert first.venue == "Advances in Neural Information Processing Systems"
    assert first.source_line == 1 and first.source_kind == "bib"
    assert last.year == "2021" and last.venue == "J. Tests"            # BibLaTeX date/journaltitle
    assert last.title == "The Last of Über"
    assert last.doi == "10.1000/xyz"
    assert first.id != third.id and len(first.id) == 16


def test_example_library_bib_parses_cleanly():
    bib = Path(__file__).resolve().parents[2] / "examples" / "papers" / "library.bib"
    result = parse_file(bib)
    assert result.warnings == []
    keys = {p.key for p in result.papers}
    assert {"vaswani2017attention", "devlin2019bert", "he2016deep", "mildenhall2020nerf"} <= keys
    nerf = next(p for p in result.papers if p.key == "mildenhall2020nerf")
    assert nerf.year == "2020" and nerf.venue
