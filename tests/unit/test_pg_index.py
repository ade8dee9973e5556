"""The index on PostgreSQL (issue 19) against a real PostgreSQL 15 server (tests/fixtures/postgres.py)."""
import json
import logging
import threading

import pytest

from paperlens.core.index import search as search_mod
from paperlens.core.index.postgres import schema as sch
from paperlens.core.index.postgres.store import PostgresIndex, redact
from paperlens.core.index.whoosh.store import IndexStore

pytest_plugins = ["fixtures.postgres"]     # pg_server, pg_url

BIB = """@article{vaswani2017attention,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam},
  year = {2017},
  journal = {NeurIPS},
  abstract = {The dominant sequence transduction models are based on recurrent networks. We propose the
    Transformer, based solely on attention mechanisms, dispensing with recurrence entirely.}
}

@article{he2016resnet,
  title = {Deep Residual Learning for Image Recognition},
  author = {He, Kaiming and Zhang, Xiangyu},
  year = {2016},
  journal = {CVPR},
  abstract = {Deeper neural networks are more difficult to train. We present a residual learning
    framework to ease the training of networks that are substantially deeper.}
}
"""

DIFFUSION = """Denoising Diffusion Probabilistic Models
Jonathan Ho, Ajay Jain
Abstract
We present high quality image synthesis results using diffusion probabilistic models, a class of
latent variable models inspired by considerations from nonequilibrium thermodynamics.

1 Introduction
Deep generative models of all kinds have recently exhibited high quality samples. The score
matching objective connects denoising with Langevin dynamics.
"""

ZH = """# 医学图像分割综述

我们研究医学图像分割的深度学习方法，并在多个数据集上进行了实验。
三维场景理解是另一个重要的方向。
"""


def make_folder(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "refs.bib").write_text(BIB, encoding="utf-8")
    (folder / "ddpm.txt").write_text(DIFFUSION, encoding="utf-8")
    (folder / "survey.zh.md").write_text(ZH, encoding="utf-8")
    return folder


def hits(index, query, limit=10, per_paper=2):
    return [h.to_dict() for h in search_mod.search([index], query, limit=limit, per_paper=per_paper)]


@pytest.fixture
def pg_index(tmp_path, pg_url):
    folder = make_folder(tmp_path)
    index = PostgresIndex(folder, pg_url, index_dir=tmp_path / "views", workers=1)
    yield index
    index.close()


def test_index_and_search_like_the_whoosh_backend(tmp_path, pg_index):
    report = pg_index.update()
    assert report.error == "" and not report.busy
    assert report.papers_total == 4 and report.files_parsed == 3 and report.skipped == []
    whoosh = IndexStore(pg_index.folder, tmp_path / "whoosh-ix", workers=1)
    assert whoosh.update().papers_total == 4
    assert sorted(r.key for r in pg_index.table.rows) == sorted(r.key for r in whoosh.table.rows)
    for query in ("attention recurrence", "residual networks", "diffusion thermodynamics", "Langevin",
                  "vaswani transformer"):
        ours, theirs = hits(pg_index, query), hits(whoosh, query)
        assert ours and theirs, query
        # the same --json shape, and the same best passage
        assert set(ours[0]) == set(theirs[0])
        assert (ours[0]["key"], ours[0]["title"], ours[0]["file"], ours[0]["line"]) == \
               (theirs[0]["key"], theirs[0]["title"], theirs[0]["file"], theirs[0]["line"]), query
        assert "**" in ours[0]["snippet"], ours[0]
    whoosh.close()
    # records and papers read back as the Whoosh store has them
    row = next(r for r in pg_index.table.rows if r.key == "vaswani2017attention")
    paper = pg_index.paper(row.id)
    assert paper.title == "Attention Is All You Need" and paper.source == str(pg_index.folder / "refs.bib")
    ddpm = next(r for r in pg_index.table.rows if r.title.startswith("Denoising"))
    texts = [p.text for p in pg_index.passages(ddpm.id)]
    assert any("Langevin" in t for t in texts)
    assert pg_index.content_hash(str(pg_index.folder / "ddpm.txt"))


def test_weights_title_over_body(tmp_path, pg_url):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text("Graph Transformers\nAda One\nAbstract\nWe study message passing.\n")
    (folder / "b.txt").write_text("Message Passing Networks\nBo Two\nAbstract\n"
                                  "Our method relates to graph transformers in passing.\n")
    index = PostgresIndex(folder, pg_url, workers=1)
    index.update()
    top = hits(index, "graph transformers")[0]
    assert top["title"] == "Graph Transformers"
    assert hits(index, "message passing")[0]["title"] == "Message Passing Networks"
    index.close()


def test_phrases_and_negation(pg_index):
    pg_index.update()
    found = hits(pg_index, '"residual learning"')
    assert found and all("residual learning" in (h["snippet"].replace("**", "")).lower() for h in found[:1])
    assert {h["key"] for h in found} == {"he2016resnet"}
    assert hits(pg_index, '"learning residual"') == []           # the words, not consecutive
    assert "he2016resnet" not in {h["key"] for h in hits(pg_index, "networks -residual")}
    # Whoosh's field prefixes are understood as words (not as the word "title")
    assert hits(pg_index, "title:residual")[0]["key"] == "he2016resnet"


def test_chinese(pg_index):
    pg_index.update()
    top = hits(pg_index, "医学图像分割")[0]
    assert top["file"].endswith("survey.zh.md")
    # the snippet reads as the original (segmentation and stop words are the index's business)
    assert "我们研究**医学图像分割**的深度学习方法，并在多个数据集上进行了实验。" in top["snippet"]
    assert hits(pg_index, "图像")[0]["file"].endswith("survey.zh.md")        # a word inside a longer one
    assert hits(pg_index, '"场景理解"')[0]["file"].endswith("survey.zh.md")
    assert hits(pg_index, '"理解场景"') == []


def test_update_changes_and_removes_files(pg_index):
    pg_index.update()
    folder = pg_index.folder
    (folder / "ddpm.txt").write_text(DIFFUSION.replace("Langevin", "Metropolis"), encoding="utf-8")
    (folder / "survey.zh.md").unlink()
    report = pg_index.update()
    assert report.files_parsed == 1 and report.files_removed == 1 and report.papers_total == 3
    assert hits(pg_index, "Langevin") == []
    assert hits(pg_index, "Metropolis")[0]["title"] == "Denoising Diffusion Probabilistic Models"
    assert hits(pg_index, "医学图像分割") == []
    again = pg_index.update()
    assert again.files_parsed == 0 and again.papers_total == 3


def test_a_second_writer_is_refused_while_one_holds_the_lock(tmp_path, pg_index, pg_url):
    import psycopg

    pg_index.update()
    with psycopg.connect(pg_url, autocommit=True) as holder:      # what a running update holds
        holder.execute("SELECT pg_advisory_lock(hashtext('paperlens:paperlens'))")
        (pg_index.folder / "new.txt").write_text("A New Paper\nCy Three\nAbstract\nNovel words here.\n")
        other = PostgresIndex(pg_index.folder, pg_url, workers=1)
        report = other.update()
        assert report.busy and report.papers_indexed == 0
        assert hits(other, "novel") == []
        holder.execute("SELECT pg_advisory_unlock(hashtext('paperlens:paperlens'))")
        report = other.update()
        assert not report.busy and report.papers_indexed == 1
        other.close()


def test_a_reader_never_sees_half_a_change_set_and_hears_the_notify(tmp_path, pg_index, pg_url):
    """The update's transaction is held open at its last step (just before the commit, by a
    lock the test holds on the meta table): a reader then still sees the old state whole; after
    the commit it sees the new state whole, and a NOTIFY arrived."""
    import psycopg

    pg_index.update()
    reader = PostgresIndex(pg_index.folder, pg_url, workers=1)
    assert len(reader.table.rows) == 4
    with psycopg.connect(pg_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {sch.CHANNEL}")
        blocker = psycopg.connect(pg_url)
        blocker.execute("LOCK TABLE paperlens.meta IN EXCLUSIVE MODE")   # the writer's UPDATE waits
        (pg_index.folder / "refs.bib").write_text(BIB.replace("he2016resnet", "he2016deep"), encoding="utf-8")
        (pg_index.folder / "ddpm.txt").unlink()
        done = []
        writer = threading.Thread(target=lambda: done.append(pg_index.update()))
        writer.start()
        with psycopg.connect(pg_url, autocommit=True) as watch:     # wait until the writer waits on the lock
            while not watch.execute("SELECT count(*) FROM pg_locks WHERE relation = 'paperlens.meta'::regclass"
                                    " AND NOT granted").fetchone()[0]:
                watch.execute("SELECT pg_sleep(0.05)")
        # mid-transaction: the reader sees the old state, whole
        assert not reader.reload_if_changed()
        keys = {r.key for r in reader.table.rows}
        assert "he2016resnet" in keys and "he2016deep" not in keys
        fresh = PostgresIndex(pg_index.folder, pg_url, workers=1)    # reads the table from the database
        assert {r.key for r in fresh.table.rows} == keys and len(keys) == 4
        fresh.close()
        assert reader.paper(next(r.id for r in reader.table.rows if r.title.startswith("Denoising"))) is not None
        assert [h["key"] for h in hits(reader, "Langevin")] != []
        assert list(listener.notifies(timeout=0)) == []
        blocker.commit()
        blocker.close()
        writer.join()
        assert done and done[0].error == "" and done[0].papers_total == 3
        notes = list(listener.notifies(timeout=10, stop_after=1))
        assert notes and notes[0].payload.split()[0] == "paperlens"
    assert reader.reload_if_changed()          # the NOTIFY told it
    keys = {r.key for r in reader.table.rows}
    assert "he2016deep" in keys and "he2016resnet" not in keys and len(keys) == 3
    assert hits(reader, "Langevin") == []
    assert not reader.reload_if_changed()
    reader.close()


def test_the_password_is_never_logged(tmp_path, pg_server, caplog):
    from fixtures.postgres import PASSWORD

    caplog.set_level(logging.DEBUG)
    folder = make_folder(tmp_path)
    good = PostgresIndex(folder, pg_server.url(), workers=1, schema="pwtest")
    report = good.update()
    assert report.error == ""
    good.close()
    # a wrong password, then a server that is away: clear messages without the password
    wrong = pg_server.url().replace(PASSWORD, PASSWORD + "-wrong")
    bad = PostgresIndex(folder, wrong, workers=1, schema="pwtest")
    failed = bad.update()
    assert "cannot reach the library's database at postgresql://paperlens@127.0.0.1" in failed.error
    away = PostgresIndex(folder, f"postgresql://paperlens:{PASSWORD}@127.0.0.1:1/postgres", workers=1)
    assert not away.is_ready() and "cannot reach" in away.unavailable
    assert search_mod.search([away], "attention") == []
    everything = caplog.text + json.dumps(failed.to_dict()) + away.unavailable + bad.unavailable
    assert PASSWORD not in everything
    assert redact(pg_server.url()) == f"postgresql://paperlens@127.0.0.1:{pg_server.port}/postgres"


def test_the_table_is_kept_when_the_server_goes_away(tmp_path, pg_index, pg_url):
    import psycopg

    pg_index.update()
    assert pg_index.is_ready() and len(pg_index.table.rows) == 4
    pid = psycopg.connect(pg_url, autocommit=True)
    # end this index's connections from the server's side (as a restart would)
    pid.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()")
    pid.close()
    # the first read after it: nothing crashes, it says why; the table stays for completion and hover
    assert search_mod.search([pg_index], "attention") == []
    assert pg_index.unavailable.startswith("lost the library's database at postgresql://paperlens@")
    assert len(pg_index.table.rows) == 4 and not pg_index.reload_if_changed()
    # ... and the index reconnects by itself
    again = hits(pg_index, "attention")
    assert again and again[0]["key"] == "vaswani2017attention" and pg_index.unavailable == ""


REFS_TEXT = """Sparse Graph Attention
Ana Ruiz
Abstract
We sparsify attention on graphs.

References
[1] A. Vaswani, N. Shazeer. Attention is all you need. In NeurIPS, 2017.
[2] K. He, X. Zhang. Deep residual learning for image recognition. In CVPR, 2016.
"""


def test_reference_lines_and_a_requested_rebuild(tmp_path, pg_index):
    (pg_index.folder / "sparse.txt").write_text(REFS_TEXT, encoding="utf-8")
    pg_index.update()
    whoosh = IndexStore(pg_index.folder, tmp_path / "whoosh-ix", workers=1)
    whoosh.update()
    ours = {pid: [(r.label, r.title) for r in refs] for pid, refs in pg_index.reference_lines()}
    theirs = {pid: [(r.label, r.title) for r in refs] for pid, refs in whoosh.reference_lines()}
    whoosh.close()
    assert ours == theirs and len(ours) == 1
    (refs,) = ours.values()
    assert [label for label, _ in refs] == ["1", "2"]
    rows = sorted((r.id, r.key) for r in pg_index.table.rows)
    report = pg_index.update(force_rebuild=True)
    assert report.rebuilt == "requested" and report.files_parsed == 4
    assert sorted((r.id, r.key) for r in pg_index.table.rows) == rows      # the same ids and keys
    assert hits(pg_index, "sparsify")[0]["title"] == "Sparse Graph Attention"


def test_a_common_word_is_ranked_within_bounds_title_matches_first(tmp_path, pg_url, monkeypatch):
    from paperlens.core.index.postgres import store

    folder = tmp_path / "lib"
    folder.mkdir()
    for n in range(8):
        (folder / f"p{n}.txt").write_text(f"Paper Number {n}\nAuthor {n}\nAbstract\nNothing of note here.\n\n"
                                          "1 Introduction\nWe mention the transformer only in passing.\n")
    (folder / "z.txt").write_text("Transformer Models\nZed Last\nAbstract\nAll about them.\n")
    index = PostgresIndex(folder, pg_url, workers=1)
    index.update()
    monkeypatch.setattr(store, "CANDIDATES", 3)      # the bound, small enough for 9 papers
    found = search_mod.search([index], "transformer", limit=5)
    assert found[0].title == "Transformer Models"
    assert "more than 3 passages" in found.note
    index.close()


def test_a_title_typed_out_ranks_its_paper_first(tmp_path, pg_url):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text("TexGraph: Learning to with Tailored Samples\nAna One\nAbstract\nWe build graphs.\n")
    (folder / "b.txt").write_text("Samples Tailored for Learning\nBo Two\nAbstract\nLearning with tailored samples: "
                                  "tailored samples make learning from samples easier.\n")
    index = PostgresIndex(folder, pg_url, workers=1)
    index.update()
    assert hits(index, "Learning to with Tailored Samples")[0]["title"] == "TexGraph: Learning to with Tailored Samples"
    index.close()


def test_an_entry_merged_with_its_paper_text_is_found_once_and_again_when_the_text_goes(tmp_path, pg_url):
    """An entry's abstract is left out of the search while the entry's paper text is merged
    into it (the text has it: sch.HEADS, ``shadowed``), and found again once the text is gone."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "refs.bib").write_text(BIB.replace("dispensing with", "dispensing zebrafish with"), encoding="utf-8")
    index = PostgresIndex(folder, pg_url, workers=1)
    index.update()
    found = hits(index, "zebrafish")
    assert [(h["key"], h["file"]) for h in found] == [("vaswani2017attention", str(folder / "refs.bib"))]
    (folder / "attention.txt").write_text(
        "Attention Is All You Need\nAshish Vaswani, Noam Shazeer\nAbstract\nThe dominant sequence transduction "
        "models are based on recurrent networks. We propose the Transformer, based solely on attention "
        "mechanisms, dispensing zebrafish with recurrence entirely.\n\n1 Introduction\nRecurrent models.\n",
        encoding="utf-8")
    index.update()
    entry = next(r for r in index.table.rows if r.key == "vaswani2017attention")
    assert entry.fulltext, "the text was not merged into its entry: this test needs a join"
    found = hits(index, "zebrafish")
    assert [h["file"] for h in found] == [str(folder / "attention.txt")]     # once, from the text
    (folder / "attention.txt").unlink()
    index.update()
    found = hits(index, "zebrafish")
    assert [(h["key"], h["file"]) for h in found] == [("vaswani2017attention", str(folder / "refs.bib"))]
    index.close()


def test_a_rebuild_leaves_the_words_statistics_to_the_planner(pg_index, pg_url):
    """The search's plans depend on how common its words are (store._SEARCH): a rebuild
    analyzes the passages itself instead of leaving the first searches to autovacuum."""
    import psycopg

    assert pg_index.update().error == ""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        analyzed, = conn.execute("SELECT last_analyze FROM pg_stat_user_tables"
                                 " WHERE relid = 'paperlens.passages'::regclass").fetchone()
        stats = conn.execute("SELECT most_common_elems IS NOT NULL FROM pg_stats WHERE schemaname = 'paperlens'"
                             " AND tablename = 'passages' AND attname = 'tsv'").fetchone()
    assert analyzed is not None and stats == (True,)
