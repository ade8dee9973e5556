"""Extractive summaries of the seed papers, checked. Prints JSON; exits 1 when a check fails.

    python bench/summary_check.py [--seeds ../shared/seeds] [-n 4]

Every seed paper (``cvpr2024/*.txt``) is parsed with ``parse_file`` and summarised twice:
as is (the abstract is used when the paper has one) and with the abstract passages removed
(sentences ranked by centrality). Checks per summary:

* ``verbatim`` — every sentence occurs in the text of the passage it came from (and so in the
  paper text joined the way the parser joins lines);
* ``abstract_used`` — with an abstract, the summary is its first sentences (kind ``abstract``);
* ``no_captions`` — no sentence is or contains a figure/table caption: caption regexes, and the
  caption lines of the raw file (``Figure 3. ...`` lines) are not quoted;
* ``no_references`` — no sentence looks like a reference entry (regexes) or shares an 8-word run
  with the paper's reference section;
* ``lines`` — each sentence's first words are on its line (or the next one, when the sentence
  starts at a line end);
* ``count`` — 3 to 5 sentences (``-n``).

Timing per paper: ``ms`` (as is) and ``ms_body`` (centrality ranking), parse time excluded.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from paperlens.core.parse import parse_file  # noqa: E402
from paperlens.core.parse.common import clean_text, join_lines  # noqa: E402
from paperlens.core.parse.repair import decode_text_file  # noqa: E402
from paperlens.core.summarize import extractive_summary  # noqa: E402

CAPTION_START = re.compile(r"^\s*(?:Figure|Fig\.|Table|Tab\.)\s*\d+[a-z]?\s*[.:]")
CAPTION_INSIDE = re.compile(r"(?:Figure|Fig\.|Table|Tab\.)\s*\d+[a-z]?\s*[.:]\s+[A-Z]")
REFERENCE_LIKE = re.compile(r"^\s*\[\d+\]\s*[A-Z]|arXiv preprint|In Proceedings|Proceedings of|"
                            r"\bpages\s+\d+\s*[-–]\s*\d+|\bpp\.\s*\d")
REFERENCES_HEADING = re.compile(r"^\s*(?:\d+\.?\s*)?(?:References|Bibliography)\s*$", re.IGNORECASE)


def norm(s: str) -> str:
    return " ".join(s.split())


def raw_lines(path: Path) -> list[str]:
    return clean_text(decode_text_file(path.read_bytes())).split("\n")


def reference_text(lines: list[str]) -> str:
    for i, line in enumerate(lines):
        if REFERENCES_HEADING.match(line):
            return norm(join_lines(lines[i + 1:]))
    return ""


def caption_lines(lines: list[str]) -> list[str]:
    """The text after the label of every caption line (``Figure 3. Overview of ...``)."""
    out = []
    for line in lines:
        m = re.search(r"(?:Figure|Fig\.|Table)\s*\d+[a-z]?\s*[.:]\s*(\S.{24,})", line)
        if m:
            out.append(norm(m.group(1))[:40])
    return out


def shingles(text: str, k: int = 8) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + k]) for i in range(max(0, len(words) - k + 1))}


def check(summary, passages, lines, refs: str, captions: list[str], n: int,
          expect_abstract: bool) -> dict:
    problems: list[str] = []
    src = {s.index for s in summary.sources}
    ref_shingles = shingles(refs)
    for s in summary.sentences:
        if not any(s.text in passages[i].text for i in src):
            problems.append(f"not verbatim: {s.text[:80]}")
        if CAPTION_START.search(s.text) or CAPTION_INSIDE.search(s.text) or \
                any(c in norm(s.text) for c in captions):
            problems.append(f"caption: {s.text[:80]}")
        if REFERENCE_LIKE.search(s.text) or (ref_shingles & shingles(s.text)):
            problems.append(f"reference: {s.text[:80]}")
        head = norm(s.text)[:12]
        window = norm(join_lines(lines[s.line:s.line + 3]))    # re-joins "Re-" + "markably"
        if head not in window:
            problems.append(f"line {s.line}: {s.text[:60]}")
    result = {
        "verbatim": not any(p.startswith("not verbatim") for p in problems),
        "no_captions": not any(p.startswith("caption") for p in problems),
        "no_references": not any(p.startswith("reference") for p in problems),
        "lines": not any(p.startswith("line") for p in problems),
        "count": 3 <= len(summary.sentences) <= 5 if n >= 3 else len(summary.sentences) <= n,
    }
    if expect_abstract is not None:
        result["abstract_used"] = (summary.kind == "abstract") == expect_abstract
    return {"kind": summary.kind, "ok": all(result.values()), "checks": result,
            "problems": problems, "sentences": [[s.line, s.page, s.text] for s in summary.sentences]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default=str(ROOT.parent / "shared" / "seeds"))
    ap.add_argument("-n", type=int, default=4)
    args = ap.parse_args()
    files = sorted(Path(args.seeds, "cvpr2024").glob("*.txt"))
    if not files:
        print(json.dumps({"error": f"no seed papers in {args.seeds}/cvpr2024"}))
        return 2
    rows = []
    for path in files:
        result = parse_file(path)
        paper, passages = result.papers[0], result.passages
        lines = raw_lines(path)
        refs, captions = reference_text(lines), caption_lines(lines)
        has_abstract = any(p.section == "abstract" for p in passages)

        t0 = time.perf_counter()
        summary = extractive_summary(paper, passages, n=args.n)
        ms = (time.perf_counter() - t0) * 1000
        body = [p for p in passages if p.section != "abstract"]
        t0 = time.perf_counter()
        body_summary = extractive_summary(paper, body, n=args.n)
        ms_body = (time.perf_counter() - t0) * 1000

        rows.append({"paper": path.name, "has_abstract": has_abstract, "passages": len(passages),
                     "ms": round(ms, 1), "ms_body": round(ms_body, 1),
                     "summary": check(summary, passages, lines, refs, captions, args.n,
                                      has_abstract),
                     "body_summary": check(body_summary, body, lines, refs, captions, args.n,
                                           False)})
    checks = ["verbatim", "abstract_used", "no_captions", "no_references", "lines", "count"]
    totals = {}
    for c in checks:
        values = [r[k]["checks"][c] for r in rows for k in ("summary", "body_summary")
                  if c in r[k]["checks"]]
        totals[c] = f"{sum(values)}/{len(values)}"
    report = {"papers": len(rows), "passed": totals,
              "all_ok": all(r["summary"]["ok"] and r["body_summary"]["ok"] for r in rows),
              "ms_median": round(statistics.median(r["ms"] for r in rows), 1),
              "ms_body_median": round(statistics.median(r["ms_body"] for r in rows), 1),
              "ms_body_max": round(max(r["ms_body"] for r in rows), 1),
              "rows": rows}
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0 if report["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
