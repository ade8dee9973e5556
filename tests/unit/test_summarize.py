"""Extractive summaries, the summary cache and the prompt's token budget (no network)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import paperlens.core.summarize as summarize
from paperlens.core.summarize import extractive, service
from paperlens.config import SummarySettings
from paperlens.core.models import Paper, Passage
from paperlens.core.parse import parse_file
from paperlens.core.summarize import (EXTRACTIVE_VERSION, PROMPT_VERSION, Summary, SummaryCache,
                                      SummarySentence, SummaryService, SummarySource,
                                      build_prompt, extractive_summary, messages_tokens,
                                      plan_prompts, split_sentences)

PAPER = """\
Sparse Voxel Diffusion for Indoor Scene Completion
Ada Lovelace1, Alan Turing2
1University of Somewhere, 2Institute of Elsewhere
Abstract
Indoor scene completion recovers the missing geometry of partially scanned rooms. We
propose a sparse voxel diffusion model that completes scans at high resolution. Our
model reaches 71.2 IoU on ScanNet, e.g. 3.5 points above prior work. Experiments show
that sparse diffusion scales to whole apartments.
1. Introduction
Depth sensors capture rooms only partially, because furniture occludes large parts of
the scene and scanning is tedious. Completing the missing geometry helps robots and
virtual reality applications reason about whole rooms. Prior work by Smith et al. [4]
uses dense grids, which limits the resolution to a few centimetres.
Figure 1. Overview of the sparse voxel diffusion pipeline. Occupied voxels are shown in
blue and completed voxels in red.
We build on diffusion models for images [7, 8] and adapt them to sparse voxel grids, so
that memory grows with the surface area rather than with the volume of the room.
[12, 13].
2. Method
Our diffusion model denoises the occupancy of sparse voxels around the observed surface.
The network is a sparse convolutional U-Net (see Fig. 3) with 4 levels and 3.5M weights.
Table 2. Results on ScanNet with 0.5 1.0 2.0 cm voxels.
0.51 0.62 0.71 0.74 0.80 0.12 0.33 0.54
The diffusion model generates the missing voxels of the room in 50 denoising steps.
3. Conclusion
Sparse voxel diffusion completes partially scanned rooms at a resolution that dense
grids cannot reach, and it scales to whole apartments.
References
[1] A. Author and B. Author. Dense scene completion. In Proceedings of the IEEE
Conference on Computer Vision and Pattern Recognition, pages 1-10, 2020.
[2] C. Author. Diffusion models for voxels. arXiv preprint arXiv:2101.00001, 2021.
"""

# the same paper without an abstract: the summary must come from the body
NO_ABSTRACT = PAPER.replace("""Abstract
Indoor scene completion recovers the missing geometry of partially scanned rooms. We
propose a sparse voxel diffusion model that completes scans at high resolution. Our
model reaches 71.2 IoU on ScanNet, e.g. 3.5 points above prior work. Experiments show
that sparse diffusion scales to whole apartments.
""", "")


def parse(tmp_path: Path, text: str, name: str = "paper.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = parse_file(path)
    return result.papers[0], result.passages, path


# ------------------------------------------------------------------------------ sentences

@pytest.mark.parametrize("text, expected", [
    ("Smith et al. [4] propose a model. It works.", ["Smith et al. [4] propose a model.", "It works."]),
    ("We use priors, e.g. shape priors. The model is small.",
     ["We use priors, e.g. shape priors.", "The model is small."]),
    ("As shown in Fig. 3, it works. Accuracy is 3.5 points higher.",
     ["As shown in Fig. 3, it works.", "Accuracy is 3.5 points higher."]),
    ("Figure 2. Overview of the method. We then train it.",
     ["Figure 2. Overview of the method.", "We then train it."]),
    ("J. Smith wrote it (i.e. the paper). Then he left!", ["J. Smith wrote it (i.e. the paper).",
                                                           "Then he left!"]),
    ("• We derive a dataset [19]. • We propose a model.",
     ["We derive a dataset [19].", "We propose a model."]),
    ("我们提出了一种方法。实验证明了有效性。", ["我们提出了一种方法。", "实验证明了有效性。"]),
])
def test_split_sentences(text, expected):
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == expected


# ----------------------------------------------------------------------------- extractive

def test_abstract_first_sentences_with_lines(tmp_path):
    paper, passages, path = parse(tmp_path, PAPER)
    summary = extractive_summary(paper, passages, n=3)
    assert summary.kind == "abstract"
    assert [s.text for s in summary.sentences] == [
        "Indoor scene completion recovers the missing geometry of partially scanned rooms.",
        "We propose a sparse voxel diffusion model that completes scans at high resolution.",
        "Our model reaches 71.2 IoU on ScanNet, e.g. 3.5 points above prior work.",
    ]
    lines = path.read_text().split("\n")
    assert [s.line for s in summary.sentences] == [4, 4, 5]     # each sentence's own line
    assert lines[4].startswith("Indoor") and lines[4].endswith(" We")
    assert lines[5].endswith(" Our")
    assert summary.text == " ".join(s.text for s in summary.sentences)
    assert summary.sources == [SummarySource(0, 4, None)]


def test_extractive_without_abstract(tmp_path):
    paper, passages, path = parse(tmp_path, NO_ABSTRACT)
    assert not any(p.section == "abstract" for p in passages)
    summary = extractive_summary(paper, passages)
    assert summary.kind == "extractive"
    assert 3 <= len(summary.sentences) <= 5
    texts = [s.text for s in summary.sentences]
    body = {p.text for p in passages}
    lines = path.read_text().split("\n")
    for s in summary.sentences:
        assert any(s.text in t for t in body)      # verbatim from a passage
        assert s.text[:10] in lines[s.line] or s.text[:10] in " ".join(lines[s.line:s.line + 2])
        assert "Figure" not in s.text and "Table" not in s.text
        assert "Overview of the sparse" not in s.text and "Occupied voxels" not in s.text
        assert "Proceedings" not in s.text and "arXiv" not in s.text
        assert "0.51 0.62" not in s.text and s.text != "[12, 13]."
    # original order: by passage, then by position
    positions = []
    for s in summary.sentences:
        k = next(i for i, p in enumerate(passages) if s.text in p.text)
        positions.append((k, passages[k].text.index(s.text)))
    assert positions == sorted(positions)
    assert extractive_summary(paper, passages).to_dict() == summary.to_dict()  # deterministic
    assert texts


def test_filters():
    reject = extractive._reject_reason
    assert reject("Figure 3. Overview of our method and its three stages.") == "caption"
    assert reject("Fig. 2: Results of the method on the test set shown here.") == "caption"
    assert reject("Table 1. Mean per vertex error of the proposed methods here.") == "caption"
    assert reject("[3] A. Author. Dense completion. In Proceedings of the IEEE CVPR, 2020.") \
        == "reference"
    assert reject("[12, 13].") in ("citations only", "too short")
    assert reject("This is short.") == "too short"
    assert reject("The scores of the models are 0.51 0.62 0.71 0.74 0.80 0.12 0.33 0.54 0.61 "
                  "0.77 0.91 0.42 for all.") == "numbers or symbols"
    assert reject("Temporal point cloud representations using sparse transformers.") \
        == "not prose"
    assert reject(" ".join(["word"] * 61) + ".") == "too long"
    assert reject("We propose a sparse voxel diffusion model for completion.") is None


def test_line_falls_back_to_passage_start_and_keeps_page():
    text = ("Depth sensors capture rooms only partially in practice. Completing the geometry "
            "helps robots reason about whole rooms. We build on diffusion models for images.")
    passages = [Passage("p", text, "/nonexistent/paper.pdf", 40, 43, "1. Introduction", page=3)]
    paper = Paper(id="p", key="k", title="T")
    summary = extractive_summary(paper, passages, n=3)
    assert summary.kind == "extractive"
    assert [s.line for s in summary.sentences] == [40, 40, 40]
    assert {s.page for s in summary.sentences} == {3}


def test_bib_only_abstract():
    paper = Paper(id="b", key="k", title="T", source_line=12,
                  abstract="We study sparse voxel diffusion for scene completion. It scales to "
                           "whole apartments with ease. Results improve over dense grids a lot.")
    summary = extractive_summary(paper, [])
    assert summary.kind == "abstract" and len(summary.sentences) == 3
    assert {s.line for s in summary.sentences} == {12}
    assert summary.sources == []


def test_empty_paper():
    summary = extractive_summary(Paper(id="e", key="e"), [])
    assert summary.text == "" and summary.sentences == []


# ---------------------------------------------------------------------------------- cache

def test_cache_roundtrip_atomic_and_keyed(tmp_path):
    cache = SummaryCache(tmp_path / "cache")
    summary = Summary(text="A b.", sentences=[SummarySentence("A b.", 3, 2)], kind="llm",
                      model="m", sources=[SummarySource(1, 3, 2)])
    assert cache.get("h", "openai", "m", "http://x/v1") is None
    cache.put("h", "openai", "m", "http://x/v1", summary)
    assert cache.get("h", "openai", "m", "http://x/v1") == summary
    for other in [("h2", "openai", "m", "http://x/v1"), ("h", "openai", "m2", "http://x/v1"),
                  ("h", "openai", "m", "http://y/v1"), ("h", "extractive", "", "")]:
        assert cache.get(*other) is None
    assert cache.get("h", "openai", "m", "http://x/v1", version="other") is None
    assert SummaryCache.key("h", "openai", "m", "u") == SummaryCache.key("h", "openai", "m", "u",
                                                                          PROMPT_VERSION)
    assert SummaryCache.key("h", "extractive") == SummaryCache.key("h", "extractive", "", "",
                                                                    EXTRACTIVE_VERSION)
    files = list((tmp_path / "cache").rglob("*"))
    assert [f.suffix for f in files if f.is_file()] == [".json"]   # no temp files left
    stored = json.loads(next(f for f in files if f.is_file()).read_text())
    assert "http://x" not in json.dumps(stored)                    # base URL only hashed
    # a corrupt file is a miss, not a crash
    next(f for f in files if f.is_file()).write_text("{broken")
    assert cache.get("h", "openai", "m", "http://x/v1") is None


def test_service_extractive_is_cached(tmp_path, monkeypatch):
    paper, passages, _ = parse(tmp_path, PAPER)
    calls = []
    real = service.extractive_summary
    monkeypatch.setattr(service, "extractive_summary",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    settings = SummarySettings(provider="extractive")
    first = SummaryService(settings, tmp_path / "cache").card_summary(paper, passages, "h1")
    again = SummaryService(settings, tmp_path / "cache")
    assert again.card_summary(paper, passages, "h1") == first
    assert again.card_summary(paper, passages, "h1") == first
    assert len(calls) == 1 and first.kind == "abstract"


def test_fill_extractive(tmp_path):
    paper, passages, _ = parse(tmp_path, PAPER)
    paper2, passages2, _ = parse(tmp_path, NO_ABSTRACT, "other.txt")
    service = SummaryService(SummarySettings(), tmp_path / "cache")
    seen = []
    result = service.fill([(paper, passages, "a"), (paper2, passages2, "b")],
                          progress=lambda done, p, s, err: seen.append((done, s.kind, err)))
    assert (result.total, result.computed, result.cached) == (2, 2, 0)
    assert seen == [(1, "abstract", None), (2, "extractive", None)]
    again = SummaryService(SummarySettings(), tmp_path / "cache").fill(
        [(paper, passages, "a"), (paper2, passages2, "b")])
    assert (again.total, again.cached, again.computed) == (2, 2, 0)


# ---------------------------------------------------------------------------- prompt budget

def _long_paper(tmp_path, sections=8, paragraphs=3):
    parts = ["Sparse Voxel Diffusion for Indoor Scene Completion", "Ada Lovelace1, Alan Turing2",
             "1University of Somewhere", "Abstract",
             "We propose a sparse voxel diffusion model for indoor scene completion.",
             "It scales to whole apartments and improves completion accuracy.", ""]
    names = ["Introduction"] + [f"Part {k}" for k in range(2, sections)] + ["Conclusion"]
    for k, name in enumerate(names, start=1):
        parts.append(f"{k}. {name}")
        for j in range(paragraphs):
            parts.append(f"Paragraph {j} of section {name} explains one idea of the method in "
                         f"detail, with voxels, diffusion steps and occupancy grids number {k}. "
                         * 6)
            parts.append("")
    parts += ["References", "[1] A. Author. Something. In CVPR, 2020."]
    return parse(tmp_path, "\n".join(parts), "long.txt")


def test_prompt_within_budget_and_prioritised(tmp_path, localhost_only):
    paper, passages, _ = _long_paper(tmp_path)
    settings = SummarySettings(provider="openai", model="gpt-4o-mini", max_input_tokens=700)
    messages, used = build_prompt(paper, passages, settings)
    assert messages_tokens(messages, settings.model) <= 700
    user = messages[1]["content"]
    assert "Sparse Voxel Diffusion" in user and "sparse voxel diffusion model" in user
    assert "[P1]" in user and "3 to 5 sentences" in user
    sections = [p.section for p in used]
    assert sections[0] == "abstract"
    assert "1. Introduction" in sections and any("Conclusion" in s for s in sections)
    assert not any("Part 4" in s for s in sections)     # the middle is left out
    order = [passages.index(p) for p in used]
    assert order == sorted(order)                        # shown in document order
    for k, p in enumerate(used, start=1):
        assert f"[P{k}] ({p.section}" in user


def test_map_reduce_plan(tmp_path, localhost_only):
    paper, passages, _ = _long_paper(tmp_path, sections=12, paragraphs=4)
    settings = SummarySettings(provider="openai", model="gpt-4o-mini", max_input_tokens=600)
    plan = plan_prompts(paper, passages, settings)
    assert plan.single is None and 2 <= len(plan.parts) <= summarize.MAX_PARTS
    for part in plan.parts:
        assert messages_tokens(part.messages, settings.model) <= 600
    # numbered across parts, in document order, abstract and conclusion kept
    assert plan.used == sorted(plan.used)
    assert passages[plan.used[0]].section == "abstract"
    assert any("Conclusion" in passages[i].section for i in plan.used)
    assert "[P1]" in plan.parts[0].messages[1]["content"]
    assert f"[P{len(plan.used)}]" in plan.parts[-1].messages[1]["content"]
    # a paper that fits needs one call
    small = plan_prompts(paper, passages[:3], settings)
    assert small.single is not None and small.parts == []


def test_token_budget_uses_model_encoding(tmp_path, localhost_only):
    paper, passages, _ = _long_paper(tmp_path)
    for model in ("gpt-4o-mini", "gpt-4", "llama3.1:8b"):
        settings = SummarySettings(provider="openai", model=model, max_input_tokens=500)
        messages, _ = build_prompt(paper, passages, settings)
        assert messages_tokens(messages, model) <= 500


# ------------------------------------------------------------------------------ hygiene

def test_core_module_is_pure_and_lazy():
    code = ("import sys, paperlens.core.summarize; "
            "bad = [m for m in ('openai', 'tiktoken', 'pygls', 'lsprotocol', 'httpx2') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_nothing_printed(tmp_path, capsys):
    paper, passages, _ = parse(tmp_path, PAPER)
    extractive_summary(paper, passages)
    SummaryService(SummarySettings(), tmp_path / "c").card_summary(paper, passages, "h")
    assert capsys.readouterr().out == ""
