"""The PostgreSQL index keeps of each reference what the Whoosh index keeps (the year and the
matcher's evidence: author list, text after the title, other years), read back the same."""
from __future__ import annotations

from paperlens.core.index.postgres.store import PostgresIndex
from paperlens.core.index.whoosh.store import IndexStore

pytest_plugins = ["fixtures.postgres"]     # pg_server, pg_url

TEXT = """Sparse Graph Attention
Ana Ruiz
Abstract
We sparsify attention on graphs.

References
[1] A. Vaswani, N. Shazeer. Attention is all you need. In NeurIPS, 2017.
[2] K. He, X. Zhang. Deep residual learning for image recognition. In CVPR (arXiv 2015), 2016.
"""


def _refs(index):
    return {pid: [(r.label, r.title, r.doi, r.arxiv, r.year, r.authors, r.after, r.years) for r in refs]
            for pid, refs in index.reference_lines()}


def test_reference_lines_carry_the_evidence_like_whoosh(tmp_path, pg_url):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "sparse.txt").write_text(TEXT, encoding="utf-8")
    pg = PostgresIndex(folder, pg_url, index_dir=tmp_path / "views", workers=1)
    whoosh = IndexStore(folder, tmp_path / "whoosh-ix", workers=1)
    try:
        pg.update()
        whoosh.update()
        ours, theirs = _refs(pg), _refs(whoosh)
        assert ours == theirs and len(ours) == 1
        (refs,) = ours.values()
        assert refs[0][4:] == ("2017", "A. Vaswani, N. Shazeer.", ". In NeurIPS, 2017.", "")
        assert refs[1][4:] == ("2016", "K. He, X. Zhang.", ". In CVPR (arXiv 2015), 2016.", "2015")
    finally:
        pg.close()
        whoosh.close()
