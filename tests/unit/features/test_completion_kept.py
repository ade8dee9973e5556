"""Completion by context keeps what the next keystrokes in a citation need (issue 16: p95 <= 15 ms
at 10k papers): the context and the ranking of a citation are kept by the text around it without
the key being typed, so typing in the citation reads and ranks nothing again; a ranking made
before the sentence's passages were found is made again once they are; the background search is
asked for once the ranking is done (it does not compete with it for the interpreter)."""
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
@article{jumper2023, title={Protein structure prediction with AlphaFold}, author={Jumper, John}, year={2023}}
@article{ding2022, title={Scaling up your kernels to 31x31: revisiting large kernel design in CNNs},
  author={Ding, Xiaohan and Zhang, Xiangyu}, year={2022}}
@article{liu2022, title={A ConvNet for the 2020s}, author={Liu, Zhuang}, year={2022},
  abstract={We gradually modernize a standard ResNet toward the design of a vision Transformer and discover key components such as depthwise convolutions with large kernels.}}
"""


def keys(found):
    return [i.key for i in found.items]


def typed(f, chars: str):
    """The fixture's document with ``chars`` typed at the cursor, and the cursor after them."""
    text = f.doc.text[:f.offset] + chars + f.doc.text[f.offset:]
    return f.snapshot(text=text), f.offset + len(chars)


def counting(monkeypatch, name: str) -> list:
    calls = []
    real = getattr(recommend, name)

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(recommend, name, spy)
    return calls


def test_typing_in_a_citation_reads_the_context_once(build, monkeypatch):
    f = build(LIBRARY + r"""
        %! draft.tex
        Large kernels help convolutional networks scale \cite{|}.
        """)
    contexts = counting(monkeypatch, "context")
    ranks = counting(monkeypatch, "rank")
    assert keys(completion.complete(f.doc, f.offset, f.view, limit=20))[0] == "ding2022"
    for chars in ("d", "di", "d"):            # (and back: a character deleted)
        doc, offset = typed(f, chars)
        found = completion.complete(doc, offset, f.view, limit=20)
        assert keys(found)[0] == "ding2022" and "kernel" in found.items[0].why
    assert len(contexts) == 1
    assert len(ranks) == 2          # one for the empty citation's list, one for the longer filtered one


def test_another_sentence_or_library_is_ranked_anew(build):
    f = build(LIBRARY + r"""
        %! draft.tex
        Large kernels help convolutional networks scale \cite{|}.
        """)
    assert keys(completion.complete(f.doc, f.offset, f.view, limit=20))[0] == "ding2022"
    # the sentence changed before the citation: another ranking
    text = f.doc.text.replace("Large kernels help convolutional networks scale",
                              "Bidirectional transformers pre-training for language understanding")
    doc = f.snapshot(text=text)
    at = text.index(r"\cite{") + len(r"\cite{")
    assert keys(completion.complete(doc, at, f.view, limit=20))[0] == "devlin2019"
    # the library changed: its new paper is ranked at the same place
    bib = f.path("refs.bib")
    bib.write_text(bib.read_text() + "@article{new2024, title={Large kernels help convolutional networks scale},"
                                     " author={Okafor, Ada}, year={2024}}\n")
    f.library.update()
    assert keys(completion.complete(f.doc, f.offset, f.view, limit=20))[0] == "new2024"


def _idle():
    if recommend._building is not None:
        recommend._building.join()
    completion._searches._executor.submit(lambda: None).result()


def test_a_ranking_made_before_the_passages_were_found_is_made_again(build, monkeypatch):
    monkeypatch.setattr(recommend, "WAIT_BELOW", 1)         # this library ranks as a large one does
    monkeypatch.setattr(completion, "_searches", completion._Searches())
    f = build(LIBRARY + r"""
        %! draft.md
        Modernizing a standard ResNet toward a vision Transformer gives depthwise convolutions [@|].
        """)
    ranks = counting(monkeypatch, "rank")
    first = completion.complete(f.doc, f.offset, f.view, limit=20)
    assert not any(i.passage for i in first.items)        # not waited for
    _idle()
    found = completion.complete(f.doc, f.offset, f.view, limit=20)
    assert found.items[0].key == "liu2022" and "depthwise" in found.items[0].passage.lower()
    assert len(ranks) == 2
    again = completion.complete(f.doc, f.offset, f.view, limit=20)   # kept now
    assert keys(again) == keys(found) and len(ranks) == 2


def test_the_search_is_asked_for_once_the_ranking_is_done(build, monkeypatch):
    monkeypatch.setattr(recommend, "WAIT_BELOW", 1)
    searches = completion._Searches()
    monkeypatch.setattr(completion, "_searches", searches)
    f = build(LIBRARY + r"""
        %! draft.tex
        Large kernels help convolutional networks scale \cite{|}.
        """)
    asked = []
    real_search = f.view.search
    monkeypatch.setattr(f.view, "search", lambda *a, **k: asked.append(a[0]) or real_search(*a, **k))
    during = []
    real_rank = recommend.rank

    def rank(*args, **kwargs):
        out = real_rank(*args, **kwargs)
        during.append((set(searches._pending), list(asked)))
        return out
    monkeypatch.setattr(recommend, "rank", rank)
    completion.complete(f.doc, f.offset, f.view, limit=20)
    assert during == [(set(), [])]
    _idle()
    assert asked == ["large kernels help convolutional networks scale"]
