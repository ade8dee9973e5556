"""A .bib file is untrusted: what it expands to is bounded by its size, every field is capped,
and each problem is said once (issue 13). Sizes are counted, never timed."""
from __future__ import annotations

from paperlens.core.parse import parse_file

FIELD = 64 * 1024                  # the cap of one field, in characters


def _string_bomb(levels: int) -> bytes:
    """``@string{aN = aN-1 # aN-1 # aN-1 # aN-1}``: 10 characters times 4 ** levels."""
    return (b"@string{a0={xxxxxxxxxx}}\n"
            + b"".join(b"@string{a%d = a%d # a%d # a%d # a%d}\n" % (i, i - 1, i - 1, i - 1, i - 1)
                       for i in range(1, levels + 1))
            + b"@article{k, title=a%d, author={Doe, Jane}, year=2020}\n" % levels
            + b"@article{plain, title={A Plain Title}, year=2021}\n")


def test_string_concatenation_bomb_is_cut_to_a_field(tmp_path):
    bib = tmp_path / "bomb.bib"
    bib.write_bytes(_string_bomb(10))            # 10 * 4**10 = 10.5 M characters uncapped
    result = parse_file(bib)
    bomb, plain = result.papers                  # both entries kept
    assert len(bomb.title) == FIELD and set(bomb.title) == {"x"}
    assert bomb.authors == ["Doe, Jane"] and bomb.year == "2020"
    assert plain.title == "A Plain Title"
    assert result.warnings == ["bomb.bib:12: entry 'k' field 'title': cut to its first 64 KB"]


def test_string_concatenation_bomb_of_the_attack(tmp_path):
    bib = tmp_path / "bomb13.bib"
    bib.write_bytes(_string_bomb(13))            # 479 bytes: 671 M characters (1.5 GB) uncapped
    assert len(bib.read_bytes()) < 600
    result = parse_file(bib)
    assert len(result.papers[0].title) == FIELD and len(result.papers) == 2


def test_a_long_string_named_by_many_entries_is_expanded_within_a_budget(tmp_path):
    big = "word " * 12_000                      # 60 000 characters, named by 2 000 entries
    text = "@string{big={%s}}\n" % big + "".join(
        "@misc{k%d, title=big, year=2020}\n" % i for i in range(2000))
    bib = tmp_path / "many.bib"
    bib.write_text(text, encoding="utf-8")
    result = parse_file(bib)
    assert len(result.papers) == 2000            # every entry is kept
    expanded = sum(len(p.title) for p in result.papers)
    # 120 M characters uncapped; at most 8 M characters plus twice the file's size
    # expanded, and the names left as they are
    assert expanded <= 8 * 1024 * 1024 + 3 * len(text)
    assert result.papers[0].title.startswith("word word")
    assert result.papers[-1].title == "big"      # past the budget: the name, not its text
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("many.bib: @string names expand to more than")
    assert "keeps the name instead of its text (and" in result.warnings[0]


def test_concatenations_share_the_budget(tmp_path):
    big = "y" * 60_000
    text = "@string{big={%s}}\n" % big + "".join(
        "@misc{k%d, title=big # { and } # big}\n" % i for i in range(1000))
    bib = tmp_path / "concat.bib"
    bib.write_text(text, encoding="utf-8")
    result = parse_file(bib)
    assert len(result.papers) == 1000
    assert all(len(p.title) <= FIELD for p in result.papers)
    assert sum(len(p.title) for p in result.papers) <= 8 * 1024 * 1024 + 3 * len(text)
    assert len(result.warnings) == 2             # fields cut, names left unexpanded: once each


def test_a_huge_literal_field_is_cut_and_the_entry_kept(tmp_path):
    bib = tmp_path / "huge.bib"
    bib.write_bytes(b"@article{k, title={Short}, abstract={" + b"Words are here. " * 200_000
                    + b"}, year=2020}\n")
    result = parse_file(bib)
    (paper,) = result.papers
    assert paper.title == "Short" and paper.year == "2020"
    assert len(paper.abstract) <= FIELD
    assert [len(p.text) <= FIELD for p in result.passages] == [True]
    assert result.warnings == ["huge.bib:1: entry 'k' field 'abstract': cut to its first 64 KB"]


def test_a_huge_key_is_skipped(tmp_path):
    bib = tmp_path / "key.bib"
    bib.write_bytes(b"@article{" + b"k" * 100_000 + b", title={T}}\n@article{ok, title={Fine}}\n")
    result = parse_file(bib)
    assert [p.key for p in result.papers] == ["ok"]
    assert result.warnings == ["key.bib:1: skipped entry: its key is longer than 1024 characters"]


def test_warnings_of_one_file_are_capped(tmp_path):
    bib = tmp_path / "broken.bib"
    bib.write_bytes(b"".join(b"@article{k%d\n  title = {No comma},\n}\n" % i for i in range(500))
                    + b"@article{good, title={Good}}\n")
    result = parse_file(bib)
    assert [p.key for p in result.papers] == ["good"]
    assert len(result.warnings) == 50
    assert result.warnings[-1] == "broken.bib: and 451 more problems"


def test_unclosed_braces_over_megabytes_skip_only_their_entry(tmp_path):
    bib = tmp_path / "unclosed.bib"
    bib.write_bytes(b"@article{good, title={Good}}\n@article{bad, title={" + b"{x" * 2_000_000)
    result = parse_file(bib)
    assert [p.key for p in result.papers] == ["good"]
    assert len(result.warnings) == 1 and "skipped entry" in result.warnings[0]
    assert len(result.warnings[0]) < 300


def test_nul_bytes_and_invalid_utf8_keep_the_entries(tmp_path):
    bib = tmp_path / "odd.bib"
    bib.write_bytes(b"@article{a\x00b, title={x\x00y \xff\xfe}, author={A\x00, B}}\n"
                    b"@article{c, title={Caf\xc3\xa9}}\n")
    result = parse_file(bib)
    assert len(result.papers) == 2
    assert all("\x00" not in p.title and "\x00" not in p.key for p in result.papers)
