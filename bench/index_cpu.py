"""CPU seconds per MB of one index worker's stages, in one process, on a fixed sample of a library.

    python bench/index_cpu.py [--library DIR] [--files 300] [--seed 42] [--no-bib] [--repeat 3]
                              [--profile OUT]

What a worker of a parallel build does with its batch (``store._segment_job``), stage by stage:
parse (per kind of file; the reference-list parsing inside it apart), writing the documents
(``add_docs`` then ``slim``), finishing the segment (flush + compound file) and its search side
file. Timed with ``time.process_time`` (this process's CPU, not the machine's wall clock), so
that other work on the machine changes the figures less; and each stage's least time over
``--repeat`` rounds is kept (on a busy machine two single rounds differed by 25%).

The sample: ``--files`` files of the library drawn with ``--seed``, each kind of file (by
suffix) in its share of the library's files (at least one of a kind that is there), written
as one segment. A big bibliography (library.bib, 14.6 MB of the 10k bench library) would be
most of a 300-file sample's bytes: every .bib is measured apart, in its own segment, unless
``--no-bib``. The ``total`` figures weight each kind's CPU-s/MB by its share of the whole
library's bytes, which is what a full build's throughput depends on.

Prints JSON: per stage CPU-s/MB (``stages``), per kind (``kinds``), the sample's sizes.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from paperlens.core import corpus  # noqa: E402
from paperlens.core import references as references_pkg  # noqa: E402
from paperlens.core.references import entries as entries_mod  # noqa: E402
from paperlens.core.index.whoosh import store  # noqa: E402
from paperlens.core.parse import bib as bib_mod  # noqa: E402

DEFAULT_LIBRARY = ROOT / "bench/.cache/corpus-10000-s42-p0.05/library"
MB = 1e6


def kind_of(rel: str) -> str:
    return rel.rsplit(".", 1)[-1].lower() if "." in rel.rsplit("/", 1)[-1] else ""


def sample(library: Path, n: int, seed: int) -> tuple[dict[str, list[str]], dict[str, int]]:
    """The sample's files per kind, and the whole library's bytes per kind."""
    found, _ = corpus.walk(library)
    by_kind: dict[str, list[str]] = {}
    for rel in sorted(found):
        by_kind.setdefault(kind_of(rel), []).append(rel)
    sizes = {k: sum((library / r).stat().st_size for r in rels) for k, rels in by_kind.items()}
    total = sum(len(v) for v in by_kind.values())
    rng = random.Random(seed)
    chosen = {}
    for k in sorted(by_kind):
        rels = by_kind[k]
        want = max(1, round(n * len(rels) / total))
        chosen[k] = sorted(rng.sample(rels, min(want, len(rels))))
    return chosen, sizes


class RefTimer:
    """parse_references wrapped to add up its CPU time (text.py and pdf.py call it)."""

    def __init__(self):
        self.seconds = 0.0
        self.original = entries_mod.parse_references

    def __enter__(self):
        original = self.original

        def timed(*args, **kwargs):
            t = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - t

        entries_mod.parse_references = timed
        references_pkg.parse_references = timed
        return self

    def __exit__(self, *exc):
        entries_mod.parse_references = self.original
        references_pkg.parse_references = self.original


def run_segment(library: Path, rels: list[str], work: Path) -> dict:
    """Parse and write ``rels`` as one segment the way a worker does; CPU seconds per stage
    (parse and add_docs per kind) and bytes per kind."""
    from paperlens.core.index.whoosh import fast

    index_dir = work / "ix"
    side_dir = work / "topk"
    shutil.rmtree(work, ignore_errors=True)
    index_dir.mkdir(parents=True)
    side_dir.mkdir()
    ix = store._create_index(index_dir)
    writer = store._new_writer(ix, lock=False, limitmb=96)
    writer.side_data = side_data = fast.SideFileData()     # as store._segment_job
    parse: dict[str, float] = {}
    refs: dict[str, float] = {}
    add: dict[str, float] = {}
    size: dict[str, int] = {}
    skipped = []
    for rel in rels:
        k = kind_of(rel)
        size[k] = size.get(k, 0) + (library / rel).stat().st_size
        with RefTimer() as rt:
            t = time.process_time()
            _, res, reason = store._parse_job(str(library), rel)
            parse[k] = parse.get(k, 0.0) + time.process_time() - t
        refs[k] = refs.get(k, 0.0) + rt.seconds
        if res is None:
            skipped.append((rel, reason))
            continue
        t = time.process_time()
        store.add_docs(writer, rel, res)
        store.slim(res)
        add[k] = add.get(k, 0.0) + time.process_time() - t
    t = time.process_time()
    segment = writer.finish_segment()
    finalize = time.process_time() - t
    t = time.process_time()
    if segment is not None:
        fast.write_side_file_of_segment(ix.storage, ix.schema, segment, side_dir, side_data)
    side = time.process_time() - t
    docs = segment.doc_count_all() if segment is not None else 0
    shutil.rmtree(work, ignore_errors=True)
    return {"parse": parse, "refs": refs, "add_docs": add, "finalize": finalize, "side": side,
            "size": size, "docs": docs, "skipped": skipped}


def least(rounds: list[list[tuple[str, dict]]]) -> list[tuple[str, dict]]:
    """Each run's stages at their least over the rounds (sizes and counts are the same)."""
    out = []
    for k, (name, first) in enumerate(rounds[0]):
        run = dict(first)
        for stage in ("parse", "refs", "add_docs"):
            run[stage] = {kind: min(r[k][1][stage][kind] for r in rounds) for kind in first[stage]}
        for stage in ("finalize", "side"):
            run[stage] = min(r[k][1][stage] for r in rounds)
        out.append((name, run))
    return out


def per_mb(seconds: float, nbytes: int) -> float:
    return round(seconds / (nbytes / MB), 4) if nbytes else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--library", type=Path, default=DEFAULT_LIBRARY)
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-bib", action="store_true", help="leave the .bib files out")
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds; each stage's least CPU time is kept (other work on the machine "
                         "only adds to it)")
    ap.add_argument("--profile", type=Path, help="write a cProfile of the runs to this file")
    args = ap.parse_args()
    library = args.library.resolve()
    chosen, lib_sizes = sample(library, args.files, args.seed)
    bibs = chosen.pop("bib", []) if not args.no_bib else []
    chosen.pop("bib", None)
    if args.no_bib:
        lib_sizes.pop("bib", None)
    main_rels = sorted(r for rels in chosen.values() for r in rels)

    store._worker_tokens()
    with tempfile.TemporaryDirectory(prefix="paperlens-index-cpu-") as tmp:
        # a worker's one-time loads (imports, the tokenizer, pdfium, jieba's dictionary: Han
        # text is in the bench's papers) before the clock starts: a segment of a few files
        from paperlens.core.index import segmentation

        segmentation.dictionary()
        warm = [rels[0] for k, rels in sorted(chosen.items()) if rels]
        run_segment(library, warm, Path(tmp) / "warm")

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        rounds = []
        for _ in range(args.repeat):
            forget = getattr(bib_mod, "_decoded", {}).clear   # (a worker parses a .bib once)
            forget()
            runs = [("sample", run_segment(library, main_rels, Path(tmp) / "sample"))]
            for i, rel in enumerate(bibs):
                forget()
                runs.append((rel, run_segment(library, [rel], Path(tmp) / f"bib{i}")))
            rounds.append(runs)
        runs = least(rounds)
        if profiler:
            profiler.disable()
            profiler.dump_stats(str(args.profile))

    # per kind: CPU seconds per MB of each stage (the segment stages of the run holding it)
    kinds: dict[str, dict] = {}
    for _name, run in runs:
        seg_bytes = sum(run["size"].values())
        for k, nbytes in run["size"].items():
            kinds[k] = {
                "files": sum(1 for r in (main_rels if _name == "sample" else [_name]) if kind_of(r) == k),
                "MB": round(nbytes / MB, 3),
                "parse": per_mb(run["parse"].get(k, 0.0), nbytes),
                "refs (in parse)": per_mb(run["refs"].get(k, 0.0), nbytes),
                "add_docs": per_mb(run["add_docs"].get(k, 0.0), nbytes),
                "finalize": per_mb(run["finalize"], seg_bytes),
                "side": per_mb(run["side"], seg_bytes),
            }
    weights = {k: lib_sizes.get(k, 0) for k in kinds}
    whole = sum(weights.values()) or 1
    stages = {}
    for stage in ("parse", "refs (in parse)", "add_docs", "finalize", "side"):
        stages[stage] = round(sum(kinds[k][stage] * weights[k] for k in kinds) / whole, 4)
    stages["total"] = round(sum(v for s, v in stages.items() if s != "refs (in parse)"), 4)
    stages["MB/s per worker"] = round(1 / stages["total"], 3) if stages["total"] else None
    out = {
        "library": str(library),
        "sample": {"files": len(main_rels) + len(bibs), "seed": args.seed,
                   "MB": round(sum(sum(r["size"].values()) for _, r in runs) / MB, 3),
                   "docs": sum(r["docs"] for _, r in runs),
                   "skipped": [s for _, r in runs for s in r["skipped"]]},
        "library share by kind": {k: round(v / whole, 4) for k, v in weights.items()},
        "stages (CPU-s/MB, library-weighted)": stages,
        "kinds (CPU-s/MB)": kinds,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
