"""Issue 15 (review of 521ba00): the columns path decides an entry only with the hits
tuple its title has in the matcher's memo at that moment (the matcher keys its answers by that
tuple's id: a tuple it forgot can die and its id be another's): an entry citing B was linked to A after a clear."""
from paperlens.core.graph import _Matching
from paperlens.core.index.whoosh.store import reference_columns
from paperlens.core.references.matcher import LibraryEntry, ReferenceMatcher

TA = "Scalable probabilistic inference for hierarchical topic models on streaming corpora"
TB = "Efficient neural architecture search through weight sharing across candidate networks"
ENTRIES = [LibraryEntry("A", TA, year="2019", surnames=["Alpha"]),
           LibraryEntry("B", TB, year="2019", surnames=["Beta"])]


class _Lib:
    def __init__(self):
        self.m = ReferenceMatcher(ENTRIES)

    def matcher(self, entries):
        return self.m


def _columns(rows):
    return reference_columns([{"label": label, "title": title, "doi": doi, "year": "2019",
                               "authors": "X. Someone.", "after": ". Venue, 2019."} for label, title, doi in rows])


def test_an_entry_is_decided_with_the_hits_the_matcher_still_has(monkeypatch):
    lib = _Lib()
    m = lib.m
    seen = []
    real = ReferenceMatcher.match_field

    def match_field(self, ref, hits):
        seen.append(self.field_memo.get(ref.title) is hits)
        return real(self, ref, hits)

    monkeypatch.setattr(ReferenceMatcher, "match_field", match_field)
    work = _Matching(lib, ENTRIES)
    m.field_hits(TA)
    for i in range(200_001):           # the memo is full: the next title it has not seen clears it
        m.field_memo[f"title {i}"] = ()
    # an entry with a DOI outside the library clears the memo (its title is looked up), then an
    # entry whose title's hits were read before the clear
    first = work.matches_columns(None, "p", _columns([("1", "Outside the library", "10.9999/x"), ("2", TA, "")]))
    second = work.matches_columns(None, "q", _columns([("1", TB, "")]))
    assert first == ("2", "A") and second == ("1", "B")
    assert seen and all(seen)
