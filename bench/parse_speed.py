"""Scanner and parser speed: the wall-clock side of the work the tests bound by counting.

    python bench/parse_speed.py [--repeat 3] [--huge-mb 10] [--skip-lsp]

The unit tests count work (lines executed, characters read, calls) and assert it grows linearly;
this script times the same inputs, taken from the tests themselves (tests/unit/test_citations.py,
tests/e2e/test_robustness.py), so a slowdown shows here as milliseconds:

- ``citations.prose``: ``find_citations`` on 1 MB of prose per language, and ``citation_at`` plus
  ``completion_context`` in its middle (best of ``--repeat``);
- ``citations.adversarial``: every scanner of the four languages on each adversarial input
  (``ADVERSARIAL`` at n = 50,000: 100-600 KB);
- ``citations.backtick_ladder``: a Markdown paragraph of backtick runs of ever new lengths at
  80 and 320 KB (super-linear today, see the xfail test in test_citations.py);
- ``repair``: ``repair_text`` on 1 MB of clean text (one regex pass);
- ``references``: ``ReferenceMatcher`` over 10,000 random titles: build and one match;
- ``lsp.huge_document``: a real ``paperlens serve`` on examples/papers: a ``--huge-mb`` MB LaTeX
  buffer opened, then the first hover on its last citation and a completion at its end (the
  first answer includes receiving the buffer).

Prints one JSON object (milliseconds unless the name says otherwise) and the machine's load.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT / "tests" / "unit"), str(ROOT / "tests" / "e2e"),
                str(ROOT / "bench")]


def best_ms(call, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 2)


def citations(repeat: int) -> dict:
    from test_citations import ADVERSARIAL, PROSE, _prose

    from paperlens.core import citations as c

    prose = {}
    for language in c.LANGUAGES:
        text, _ = _prose(*PROSE[language])
        middle = len(text) // 2
        prose[language] = {
            "chars": len(text),
            "find_citations_ms": best_ms(lambda: c.find_citations(text, language), repeat),
            "citation_at_and_completion_ms": best_ms(
                lambda: (c.citation_at(text, middle, language), c.completion_context(text, middle, language)),
                repeat),
        }

    def every_scan(text):
        for language in c.LANGUAGES:
            c.find_citations(text, language)
            c.completion_context(text, len(text), language)
            c.completion_context(text, len(text) // 2, language)
            c.bibliography_files(text, language)

    adversarial = {}
    for name, make in ADVERSARIAL.items():
        text = make(50_000)
        adversarial[name] = {"chars": len(text), "ms": best_ms(lambda: every_scan(text), 1)}
    ladder = {}
    for n in (80_000, 320_000):
        text = "".join("`" * k + " x " for k in range(1, int((2 * n) ** 0.5))) + "@a"
        ladder[str(len(text))] = best_ms(lambda: c.find_citations(text, "markdown"), 1)
    return {"prose": prose, "adversarial": adversarial, "backtick_ladder": ladder}


def repair(repeat: int) -> dict:
    from test_formats import PARA

    from paperlens.core.parse.repair import repair_text

    text = PARA * (1_000_000 // len(PARA) + 1)
    repair_text(text)
    return {"chars": len(text), "clean_text_ms": best_ms(lambda: repair_text(text), repeat)}


def references(repeat: int) -> dict:
    from test_references import _random_library

    from paperlens.core.references import ReferenceMatcher

    library = _random_library(10_000)
    start = time.perf_counter()
    matcher = ReferenceMatcher(library)
    build_s = time.perf_counter() - start
    entry = "Jonathan Ho, Ajay Jain. Denoising diffusion probabilistic models. NeurIPS, 2020."
    return {"papers": len(library), "build_s": round(build_s, 3),
            "match_ms": best_ms(lambda: matcher.match(entry), max(repeat, 10))}


async def huge_document(mb: float) -> dict:
    from peers import LspClient
    from test_robustness import huge_latex

    text, cites = huge_latex(int(mb * 1024 * 1024))
    lines = text.split("\n")
    with tempfile.TemporaryDirectory() as tmp:
        config = {"paperlens": {"indexPath": str(Path(tmp) / "index")}}
        folder = ROOT / "examples" / "papers"
        client = LspClient([sys.executable, "-m", "paperlens", "serve", "--stdio"], config=config)
        await client.start()
        try:
            await client.request("initialize", {
                "processId": os.getpid(), "rootUri": folder.as_uri(), "initializationOptions": config,
                "capabilities": {"window": {"workDoneProgress": True},
                                 "workspace": {"configuration": True}},
                "workspaceFolders": [{"uri": folder.as_uri(), "name": "papers"}]}, timeout=60)
            client.notify("initialized", {})
            await asyncio.wait_for(client.progress_ended.wait(), 300)
            uri = (Path(tmp) / "huge.tex").as_uri()
            start = time.perf_counter()
            client.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "latex", "version": 1, "text": text}})
            n = max(i for i, line in enumerate(lines)
                    if line.startswith("Paragraph ") and "vaswani2017attention" in line)
            position = {"line": n, "character": lines[n].index("vaswani2017attention") + 2}
            hover, _, _ = await client.request("textDocument/hover", {
                "textDocument": {"uri": uri}, "position": position}, timeout=300)
            first_hover_ms = (time.perf_counter() - start) * 1000
            end = {"line": len(lines) - 1, "character": len(lines[-1])}
            completion, _, completion_ms = await client.request("textDocument/completion", {
                "textDocument": {"uri": uri}, "position": end}, timeout=300)
            _, _, hover_ms = await client.request("textDocument/hover", {
                "textDocument": {"uri": uri}, "position": position}, timeout=300)
        finally:
            await client.close()
    return {"chars": len(text), "citations": cites, "answered": hover is not None and completion is not None,
            "open_and_first_hover_ms": round(first_hover_ms, 1), "completion_ms": round(completion_ms, 1),
            "second_hover_ms": round(hover_ms, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--huge-mb", type=float, default=10.0)
    parser.add_argument("--skip-lsp", action="store_true")
    args = parser.parse_args()
    random.seed(0)
    out = {"load_before": os.getloadavg()[0]}
    out["citations"] = citations(args.repeat)
    out["repair"] = repair(args.repeat)
    out["references"] = references(args.repeat)
    if not args.skip_lsp:
        out["lsp"] = {"huge_document": asyncio.run(huge_document(args.huge_mb))}
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
