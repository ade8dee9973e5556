"""PaperFields after incremental syncs (papers changed, added, removed) scores and masks every
query as a PaperFields built afresh on the same table does: the BM25 parts of a
length-normalised field (title, venue) depend on its average length, which a sync changes for
every paper, not only for those that changed."""
from paperlens.core.index.table import PaperTable, Row
from paperlens.core.index.whoosh import fast, queries
from paperlens.core.index.whoosh.schema import make_schema

SCHEMA = make_schema()
QUERIES = (["depth"], ["camera", "depth"], ["quokka"], ["study"], ["robots", "vision"], ["writer3"],
           ["2020"], ["w12021"], ["international", "vision"], ["zebra", "study", "depth"])


def _fields() -> fast.PaperFields:
    return fast.PaperFields({f: an for f in fast.PAPER_FIELDS
                             if (an := fast._analyzer(SCHEMA, f)) is not None})


def _row(i: int, title: str, venue: str = "Conference on Vision", year: str = "2020") -> Row:
    return Row(f"p{i}", f"w{i}{year}", title, [f"Writer{i}", "Smith"], year, venue, "s", 1, "text", f"p{i}.txt")


def _state(pf: fast.PaperFields) -> list:
    out = []
    for q in QUERIES:
        scores, masks = pf.scores(fast.query_words(SCHEMA, q), queries.FIELD_BOOSTS)
        ids = [f"p{i}" for i in range(40)]
        out.append((q, dict(scores), dict(masks.items()),
                    [scores.get(rid) for rid in ids], [masks.get(rid) for rid in ids]))
    return out


def test_synced_paper_fields_score_as_a_fresh_build():
    rows = [_row(i, f"Study {i} of depth camera robots") for i in range(30)]
    pf = _fields()
    pf.sync(PaperTable(rows))
    steps = [
        lambda rs: [_row(3, "Renamed quokka depth study with a much longer title than others")
                    if r.id == "p3" else r for r in rs],                               # changed
        lambda rs: rs + [_row(31, "Zebra depth", "International Conference on Computer Vision")],  # added
        lambda rs: [r for r in rs if r.id not in ("p5", "p6")],                      # removed
        lambda rs: [_row(12, "Camera", "Vision", "2021") if r.id == "p12" else r for r in rs]
        + [_row(32, "A zebra study of quokka depth from one camera")],              # all at once
    ]
    for step in steps:
        rows = step(rows)
        table = PaperTable(rows)
        pf.sync(table)
        fresh = _fields()
        fresh.sync(table)
        assert _state(pf) == _state(fresh)


def test_a_search_in_flight_keeps_the_scores_it_was_given():
    rows = [_row(i, f"Study {i} of depth camera robots") for i in range(30)]
    pf = _fields()
    pf.sync(PaperTable(rows))
    words = fast.query_words(SCHEMA, ["depth"])
    scores, masks = pf.scores(words, queries.FIELD_BOOSTS)
    before = (dict(scores), dict(masks.items()))
    pf.sync(PaperTable(rows + [_row(40, "Depth, depth and more depth in one long title")]))
    assert (dict(scores), dict(masks.items())) == before
    assert pf.scores(words, queries.FIELD_BOOSTS)[0]["p0"] != before[0]["p0"]   # the average changed
