"""Extractive summaries run on a hover, on paper text that is untrusted: the work is linear in the
text, and the file read for line numbers is a regular file read with a cap (issue 13). Work is
counted (characters a pattern is run over, calls), never timed."""
from __future__ import annotations

import os
import re

import pytest

from paperlens.core.summarize import extractive, sentences, split_sentences


class Counting:
    """A compiled pattern (or the ``re`` module) that counts the characters it is run over."""

    def __init__(self, inner) -> None:
        self.inner, self.scanned, self.calls = inner, 0, 0

    def _count(self, string, pos=0, endpos=None) -> None:
        self.calls += 1
        self.scanned += (len(string) if endpos is None else endpos) - pos

    def search(self, *args):
        if self.inner is re:                     # re.search(pattern, string, flags=0)
            self._count(args[1])
            return re.search(*args)
        self._count(*args)
        return self.inner.search(*args)

    def match(self, *args):
        self._count(*args)
        return self.inner.match(*args)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("unit", ["See Fig. Abc ", "Figure 3. Overview ", "J. Smith "])
def test_sentence_splitting_looks_at_a_few_characters_per_full_stop(monkeypatch, unit):
    # each full stop here does not end the sentence; looking back to the sentence's start for
    # the word and the label before it made each one cost the sentence's length
    text = unit * 3000
    label, module = Counting(sentences._LABEL_BEFORE), Counting(re)
    monkeypatch.setattr(sentences, "_LABEL_BEFORE", label)
    monkeypatch.setattr(sentences, "re", module)
    spans = split_sentences(text)
    assert spans == [(0, len(text.rstrip()))]             # one sentence
    full_stops = text.count(".")
    assert label.scanned + module.scanned <= 100 * full_stops


def test_a_long_sentence_is_rejected_before_the_slow_patterns(monkeypatch):
    # r"\S+@\S+\.\w" is quadratic on a long run without spaces (20 000 characters: 1 s)
    boilerplate = Counting(extractive._BOILERPLATE)
    monkeypatch.setattr(extractive, "_BOILERPLATE", boilerplate)
    assert extractive._reject_reason("A" + "a" * 200_000 + ".") == "too long"
    assert boilerplate.calls == 0
    assert extractive._reject_reason("We propose a new method that improves the results.") is None
    assert boilerplate.calls == 1


def test_extractive_summary_of_a_paper_made_of_one_long_paragraph(tmp_path):
    from paperlens.core.parse import parse_file
    from paperlens.core.summarize import extractive_summary

    path = tmp_path / "long.txt"
    path.write_text("A Title For The Probe\n\nJane Doe\n\nIntroduction\n\n" + "See Fig. Abc " * 5_000
                    + "\n\nWe propose a sparse method for scene completion that scales well. "
                    "Our experiments show that the method improves the completion of rooms.\n",
                    encoding="utf-8")
    result = parse_file(path)
    summary = extractive_summary(result.papers[0], result.passages)
    assert "We propose a sparse method" in summary.text


def test_line_numbers_are_read_from_regular_files_only(tmp_path):
    paper = tmp_path / "paper.txt"
    paper.write_text("Title\n\nBody line one.\n", encoding="utf-8")
    assert extractive._read_source_lines(str(paper)) == ["Title", "", "Body line one.", ""]
    device = tmp_path / "device.txt"
    device.symlink_to("/dev/null")                       # read as an empty text before
    assert extractive._read_source_lines(str(device)) is None


def test_a_fifo_in_place_of_a_paper_is_not_opened_for_reading(tmp_path):
    fifo = tmp_path / "paper.txt"
    os.mkfifo(fifo)
    # opening a FIFO for reading waited for a writer: for ever, on the hover that asked
    assert extractive._read_source_lines(str(fifo)) is None


@pytest.mark.parametrize("paragraphs", [20_000, 1])
def test_an_extractive_summary_reads_the_start_of_a_long_paper(monkeypatch, tmp_path, paragraphs):
    # a hover computes it: a 5 MB paper took 7 s, on the event loop
    from paperlens.core.parse import parse_file
    from paperlens.core.summarize import MAX_EXTRACTIVE_CHARS, extractive_summary

    sentence = "Paragraph %d explains how the sparse method improves the completion of rooms. "
    sep = "\n\n" if paragraphs > 1 else ""
    body = sep.join((sentence % i) * (1 if paragraphs > 1 else 20_000)
                    for i in range(paragraphs))
    path = tmp_path / "long.txt"
    path.write_text("A Long Paper Title\n\nJane Doe\n\nIntroduction\n\n" + body + "\n", encoding="utf-8")
    result = parse_file(path)
    assert sum(len(p.text) for p in result.passages) > 4 * MAX_EXTRACTIVE_CHARS
    seen: list[int] = []
    real = extractive.split_sentences
    monkeypatch.setattr(extractive, "split_sentences", lambda text: seen.append(len(text)) or real(text))
    summary = extractive_summary(result.papers[0], result.passages)
    assert summary.text.startswith("Paragraph ")
    assert sum(seen) <= MAX_EXTRACTIVE_CHARS
