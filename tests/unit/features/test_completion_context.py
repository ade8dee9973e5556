"""Completion ranked by what is being written (core/features/completion.py with core/recommend.py):
with nothing or little typed, the papers that fit the sentence come first, papers cited with the
keys cited nearby follow them, each item says why; a longer prefix filters as before."""
from __future__ import annotations

from paperlens.core import recommend
from paperlens.core.features import completion

LIBRARY = r"""%! refs.bib
@article{vaswani2017, title={Attention is all you need}, author={Vaswani, Ashish}, year={2017}}
@article{he2016, title={Deep residual learning for image recognition}, author={He, Kaiming}, year={2016}}
@article{devlin2019, title={BERT: Pre-training of deep bidirectional transformers for language understanding},
  author={Devlin, Jacob}, year={2019}}
@article{robertson2009, title={The probabilistic relevance framework: BM25 and beyond}, author={Robertson, Stephen},
  year={2009}}
@article{ding2022, title={Scaling up your kernels to 31x31: revisiting large kernel design in CNNs},
  author={Ding, Xiaohan and Zhang, Xiangyu}, year={2022}}
@article{liu2022, title={A ConvNet for the 2020s}, author={Liu, Zhuang}, year={2022},
  abstract={We gradually modernize a standard ResNet toward the design of a vision Transformer and discover key components such as depthwise convolutions with large kernels.}}
@article{jumper2023, title={Protein structure prediction with AlphaFold}, author={Jumper, John}, year={2023}}
"""


def keys(found):
    return [i.key for i in found.items]


def test_the_sentence_puts_the_paper_that_fits_it_first(build):
    f = build(LIBRARY + r"""
        %! draft.tex
        \section{Related work}
        Convolutional networks keep improving. Large kernels help convolutional networks scale \cite{|}.
        """)
    found = completion.complete(f.doc, f.offset, f.view, limit=20)
    assert keys(found)[0] == "ding2022"
    first = found.items[0]
    assert "kernel" in first.why and first.data["why"] == first.why
    # every paper is still offered, those that do not fit after those that do
    assert set(keys(found)) == {"vaswani2017", "he2016", "devlin2019", "robertson2009", "ding2022", "liu2022",
                                "jumper2023"}
    # without the context the order is the key index's (newest first): the sentence changes nothing
    today = completion.complete(f.doc, f.offset, f.view, limit=20, by_context=False)
    assert keys(today)[0] == "jumper2023"
    card = completion.resolve(first.data, f.view)
    assert card.startswith("**Scaling up your kernels") and "*Fits here:* title: " in card


def test_an_abstract_passage_is_found_and_shown(build):
    f = build(LIBRARY + r"""
        %! draft.md
        Modernizing a standard ResNet toward a vision Transformer gives depthwise convolutions [@|].
        """)
    found = completion.complete(f.doc, f.offset, f.view, limit=20)
    top = found.items[0]
    assert top.key == "liu2022"          # (the draft, a paper of the folder too, is not its own match)
    assert "depthwise" in top.passage.lower() and "depthwise" in top.data["passage"].lower()


def test_papers_cited_with_the_keys_cited_nearby_come_first(build):
    f = build(LIBRARY + r"""
        %! draft.tex
        Residual networks \cite{he2016,robertson2009} were followed by many others \cite{vaswani2017}.

        As in \cite{he2016} and \cite{|}, we do the same.
        """)
    found = completion.complete(f.doc, f.offset, f.view, limit=20)
    assert keys(found)[0] == "robertson2009"
    assert "he2016" in found.items[0].why


def test_a_short_prefix_filters_and_the_context_orders(build):
    f = build(LIBRARY + r"""
        %! draft.tex
        Large kernels help convolutional networks scale \cite{d|}.
        """)
    found = completion.complete(f.doc, f.offset, f.view, limit=20)
    # ding2022, devlin2019 and he2016 ("Deep ...") match "d": the sentence orders them
    assert keys(found)[0] == "ding2022" and set(keys(found)) == {"ding2022", "devlin2019", "he2016"}
    assert found.items[0].filter_text.startswith("ding2022")


def test_keys_of_the_citation_being_written_are_not_offered_again(build):
    f = build(LIBRARY + r"""
        %! draft.tex
        Large kernels help convolutional networks scale \cite{ding2022,|}.
        """)
    offered = keys(completion.complete(f.doc, f.offset, f.view, limit=20))
    assert offered[0] == "liu2022" and offered[-1] == "ding2022"     # it fits best, but is there


def test_the_context_strips_markup_and_citations():
    text = (r"Intro text. \textbf{Large} kernels help $x^2$ networks \cite{a,b} scale \cite{}. Next one."
            "\n\nOther paragraph.")
    at = text.index(r"\cite{}") + len(r"\cite{")
    ctx = recommend.context(text, at, "latex")
    words = [w for _, w in recommend.terms(ctx.sentence)]
    assert words == ["Large", "kernels", "help", "networks", "scale"]
    assert ctx.nearby == ("a", "b") and set(ctx.earlier) == {"a", "b"}
    assert "Other" not in ctx.paragraph and "Intro" in ctx.paragraph


def test_the_words_around_a_papers_other_citations_describe_it(build):
    # no title word of robertson2009 is in the sentence: the draft's own earlier words for it are
    f = build(LIBRARY + r"""
        %! draft.tex
        Sparse lexical ranking of documents with term weights \cite{robertson2009} is the baseline.

        Deep models \cite{he2016} came later.

        We rank the documents with sparse term weights \cite{|}.
        """)
    found = completion.complete(f.doc, f.offset, f.view, limit=20)
    assert keys(found)[0] == "robertson2009"
    assert "cited" in found.items[0].why


def test_a_first_author_named_before_the_cursor(build):
    f = build(LIBRARY + r"""
        %! draft.md
        The work of Robertson [@|] is what we build on.
        """)
    found = completion.complete(f.doc, f.offset, f.view, limit=20)
    assert keys(found)[0] == "robertson2009" and "by Robertson" in found.items[0].why


def test_a_failing_ranking_leaves_the_keys_in_the_key_index_order(build, monkeypatch):
    f = build(LIBRARY + r"""
        %! draft.tex
        Large kernels help convolutional networks scale \cite{|}.
        """)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")
    monkeypatch.setattr(completion.recommend, "rank", broken)
    found = completion.complete(f.doc, f.offset, f.view, limit=20)
    assert keys(found)[0] == "jumper2023" and not any(i.why for i in found.items)


def test_the_adapter_shows_why_beside_the_key(build):
    from lsprotocol import types

    from feature_fixtures import FakeServer, as_received
    from paperlens.lsp.features import completion as adapter

    f = build(LIBRARY + r"""
        %! draft.tex
        Large kernels help convolutional networks scale \cite{|}.
        """)
    server = FakeServer(f)
    uri = server.open(f.path("draft.tex"), f.doc.text)
    found = as_received(adapter.completion(server, types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=f.offset))),
        types.CompletionList)
    top = found.items[0]
    assert top.label == "ding2022" and "kernel" in top.label_details.description
    assert "*Fits here:*" in adapter.resolve(server, top).documentation.value
