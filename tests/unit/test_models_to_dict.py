"""Paper.to_dict: what dataclasses.asdict gave, with the references as stored."""
from __future__ import annotations

import dataclasses

from paperlens.core.models import Paper, Reference, Span


def _asdict_way(paper: Paper) -> dict:
    data = dataclasses.asdict(paper)
    data["references"] = [{k: getattr(r, k) for k in Reference.STORED}
                          for r in map(Reference.coerce, paper.references)]
    return data


def test_to_dict_is_asdict_with_stored_references():
    paper = Paper(id="p1", key="doe2020", title="A Title", authors=["Jane Doe", "John Roe"],
                  year="2020", venue="CVPR", abstract="We show.", doi="10.1/x", source="/a.txt",
                  source_line=3, source_kind="text", file="/a.txt", key_generated=True,
                  references=[Reference("1", text="Doe. T. 2019.", line=40, title="T", year="2019",
                                        span=Span(5, 9)),
                              {"label": "2", "title": "U", "doi": "10.2/y", "line": 41}])
    paper.references.append({"label": "3", "arxiv": "2101.00001", "line": "not a number"})
    data = paper.to_dict()
    assert data == _asdict_way(paper)
    assert list(data) == [f.name for f in dataclasses.fields(Paper)]
    assert data["references"][0] == {"label": "1", "text": "Doe. T. 2019.", "line": 40, "title": "T",
                                     "doi": "", "arxiv": "", "year": "2019"}
    assert data["references"][2]["line"] == 0
    data["authors"].append("Someone Else")            # a copy, as asdict made
    assert paper.authors == ["Jane Doe", "John Roe"]
    assert Paper.from_dict(data).references == [Reference.coerce(r) for r in paper.references]


def test_to_dict_of_an_empty_paper():
    paper = Paper(id="p2", key="")
    assert paper.to_dict() == _asdict_way(paper)
