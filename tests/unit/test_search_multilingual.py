"""Chinese and English on the same index: Chinese words, English phrases, a paper table."""
from paperlens.core.library import Library

TABLE = """# ICCV 2023 医学影像论文

| 年份 | 题目 | 作者 | 摘要 | 中文摘要 | link |
| --- | --- | --- | --- | --- | --- |
| 2023 | Universal Segmentation of Medical Images | Ana Ruiz, Bo Li | Deep models segment medical images but fail on unseen tasks. | 深度学习模型已经成为医学图像分割的主要方法，但通常不能推广到未见任务。 | https://arxiv.org/abs/2304.06131 |
| 2023 | Diffusion for CT Volumes | Cy Park | We lift 2D diffusion models to 3D volumes. | 扩散模型已成为图像生成和重建的流行方法。 | https://example.org/x |
"""

SLIDES = """AIGC驱动的三维场景理解
我们探索了三维视觉定位任务，并提出了新的方法。
# InstanceRefer: Cooperative Holistic Understanding for Visual Grounding
Visual grounding (VG) aims at localizing the described object in a 3D scene.
"""


def test_chinese_and_english_queries_on_one_index(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "iccv-table.md").write_text(TABLE, encoding="utf-8")
    (folder / "slides.zh.md").write_text(SLIDES, encoding="utf-8")
    (folder / "english.txt").write_text("Grounding Language in Vision\nAda Lovelace1\n1Univ\nAbstract\n"
                                        "We study grounding of language, not visual grounding of objects.\n",
                                        encoding="utf-8")
    lib = Library([folder], str(tmp_path / "ix"))
    (report,) = lib.update()
    assert report.papers_total == 4 and report.skipped == []
    # a Chinese query finds the Chinese abstract of the right table row ...
    hit = lib.search("医学图像分割")[0]
    assert hit.title == "Universal Segmentation of Medical Images" and hit.section == "abstract-zh"
    assert lib.search("扩散模型")[0].title == "Diffusion for CT Volumes"
    # ... and the Chinese slides
    assert lib.search("三维视觉定位")[0].path.endswith("slides.zh.md")
    # a quoted Chinese phrase only matches where its words are consecutive
    assert lib.search('"场景理解"')[0].path.endswith("slides.zh.md")
    assert lib.search('"理解场景"') == []
    # English phrase queries still work on the same index
    phrase = lib.search('"visual grounding"', limit=5)
    assert phrase and all("visual grounding" in h.text.lower() for h in phrase)
    # table rows get generated keys and their links
    row = lib.resolve("ruiz2023universal")
    assert row is not None and lib.paper(row).arxiv == "2304.06131"


def test_a_chinese_run_as_written_beats_its_words_apart(tmp_path):
    """医学图像分割 written out in a long passage ranks above a short one whose paper title has
    医学图像 and whose text has 分割 elsewhere (the seed slides did, before runs counted)."""
    folder = tmp_path / "lib"
    folder.mkdir()
    filler = "我们提出了一种新的方法来处理这个问题，并在多个数据集上进行了实验。" * 8
    (folder / "survey.zh.md").write_text("# 深度学习方法综述\n\n" + filler + "其中医学图像分割是重要的应用。"
                                         + filler + "\n", encoding="utf-8")
    (folder / "talk.zh.md").write_text("# AIGC驱动的3D场景理解及 医学图像解析\n\n李镇博士\n\n# 1 讲者介绍\n\n"
                                       "- 2022年05月CAMEO蛋白打分月度第一, 2022 SemancticKITTI分割竞赛第一\n", encoding="utf-8")
    lib = Library([folder], str(tmp_path / "ix"))
    lib.update()
    hits = lib.search("医学图像分割")
    assert [h.path.rsplit("/", 1)[1] for h in hits[:2]] == ["survey.zh.md", "talk.zh.md"]
    assert "医学图像分割" in hits[0].text
