"""Abstract and body are indexed without positions (schema.py): a quoted phrase in them is
found as all of its words and checked on the passage's own text (queries.py). The same
documents, in the same order and with the same scores, as Whoosh's phrase search on positions."""
import random
from types import SimpleNamespace

from whoosh import fields
from whoosh.qparser import MultifieldParser, OrGroup

from paperlens.core.index.whoosh import queries
from paperlens.core.index.whoosh.analysis import mixed_analyzer
from paperlens.core.index.whoosh.schema import make_schema
from paperlens.core.index.whoosh.storage import Storage
from paperlens.core.index.whoosh.store import IndexStore
from paperlens.core.index.whoosh.writing import Writer


def _positional_schema():
    """make_schema() with positions in abstract and body (what the index had before)."""
    schema = make_schema()
    text = mixed_analyzer()
    schema.remove("abstract")
    schema.remove("body")
    schema.add("abstract", fields.TEXT(analyzer=text, field_boost=2.0, multitoken_query="and"))
    schema.add("body", fields.TEXT(analyzer=text, field_boost=1.0, multitoken_query="and"))
    return schema


def test_abstract_and_body_have_no_positions():
    schema = make_schema()
    assert not schema["body"].format.supports("positions")
    assert not schema["abstract"].format.supports("positions")
    assert schema["title"].format.supports("positions")


def _docs(n=600, seed=5):
    rnd = random.Random(seed)
    words = ["gaze", "estimation", "eye", "tracking", "webcam", "neural", "network", "the", "of",
             "deep", "learning", "model", "图像", "医学", "分割", "radar"]
    out = []
    for i in range(n):
        body = " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 40)))
        if i % 17 == 0:
            body += " 医学图像分割"
        out.append(body)
    return out


def _title(pid: str) -> str:
    return "A Paper On Gaze" if int(pid[1:]) % 5 == 0 else "Radar Things"


def _index(path, schema, docs):
    path.mkdir(parents=True)
    ix = Storage(str(path)).create_index(schema)
    with Writer.open(ix) as w:
        for i, body in enumerate(docs):
            section = "abstract" if i % 4 == 0 else "1. Introduction"
            field = "abstract" if i % 4 == 0 else "body"
            w.add_document(_stored_doc=f"s:p{i // 3}:{i % 3}", kind="passage", path="a.txt",
                           paper_id=f"p{i // 3}", title=_title(f"p{i // 3}"),
                           text=body, section=section, **{field: body})
    return ix


def test_phrases_find_what_positions_found(tmp_path):
    """The same documents as Whoosh's phrase search on positions, ranked by the sum of their
    words' scores (what Whoosh gives a phrase searched in one field; in a union of three or
    more fields Whoosh's span matchers scored some documents lower)."""
    docs = _docs()
    old = _index(tmp_path / "old", _positional_schema(), docs)
    new = _index(tmp_path / "new", make_schema(), docs)
    table = SimpleNamespace(get=lambda pid: SimpleNamespace(title=_title(pid)))   # the paper table
    checked = 0
    for text in ['"gaze estimation"', '"eye tracking webcam"', '"neural network"~2', 'body:"deep learning"',
                 'abstract:"gaze estimation" OR radar', '"estimation gaze"', '"医学图像分割"',
                 '"the gaze of the eye"', '"paper on gaze"', '"gaze estimation" NOT webcam',
                 'abstract:"eye tracking"', 'body:"webcam gaze"']:
        with old.searcher() as so, new.searcher() as sn:
            q_old = MultifieldParser(["title", "abstract", "body"], so.schema,
                                     group=OrGroup.factory(0.9)).parse(text)
            want = {h.docnum for h in so.search(q_old, limit=None)}
            q_new = MultifieldParser(["title", "abstract", "body"], sn.schema,
                                     group=OrGroup.factory(0.9)).parse(text)
            reading = SimpleNamespace(searcher=sn, schema=sn.schema, table=table)
            loose = queries._without_positions(q_new, sn.schema)
            assert loose is not None, text
            hits = [h for h in queries._phrases_checked(reading, q_new, loose, 1000, set())]
            assert {h.docnum for h in hits} == want, text
            scores = [h.score for h in hits]
            assert scores == sorted(scores, reverse=True)
            checked += bool(want)
            # in one field, the same scores as Whoosh's phrase search
            if text.startswith(("body:", "abstract:")) and " OR " not in text:
                assert [(round(h.score, 9), h.docnum) for h in hits] == \
                    [(round(h.score, 9), h.docnum) for h in so.search(q_old, limit=None)], text
    assert checked >= 8      # most of these phrases are found


def test_a_phrase_search_through_the_store(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    paper = ("Looking Around\nAda Lovelace1\n1University of Testing\nPreprint, 2020.\nAbstract\n{}\n"
             "1. Introduction\n{}\n")
    (folder / "a.txt").write_text(paper.format("We estimate eye gaze from webcams.",
                                               "Gaze estimation is hard without a webcam."), encoding="utf-8")
    (folder / "b.txt").write_text(paper.format("Estimation of where gaze goes, with radar.",
                                               "Radar estimation; gaze elsewhere."), encoding="utf-8")
    (folder / "c.txt").write_text(paper.format("医学图像分割的新方法。", "我们提出一种医学图像分割方法。"),
                                  encoding="utf-8")
    store = IndexStore(folder, tmp_path / "ix", workers=1)
    store.update()
    hits = store.search('"gaze estimation"', 10, 3, 10, set())
    assert [(h.path.rsplit("/", 1)[-1], h.section) for _, h in hits] == [("a.txt", "1. Introduction")]
    assert "**Gaze** **estimation**" in hits[0][1].snippet
    assert [h.path.rsplit("/", 1)[-1] for _, h in store.search('abstract:"eye gaze"', 10, 3, 10, set())] == ["a.txt"]
    assert not store.search('"webcams gaze"', 10, 3, 10, set())     # both words in a.txt, apart
    found = store.search('"医学图像分割"', 10, 3, 10, set())
    assert found and {h.path.rsplit("/", 1)[-1] for _, h in found} == {"c.txt"}
