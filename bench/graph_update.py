"""CPU seconds of the citation graph's update after a change of one paper, against a build from
scratch, on a 10k library. JSON.

    python bench/graph_update.py --index /tmp/ix10k --library bench/.cache/corpus-10000-s42-p0.05/library
    python bench/graph_update.py --synthetic 10000 [--seeds ../shared/seeds]

The index is only read (a copy is not needed). Each change is made to what the library reads
(its paper table and reference lines), as an index update after a changed file leaves them;
the updated graph is compared with a build from scratch of the changed library (``equal``):

- ``refs_changed``: one paper's reference list re-parsed (two entries changed, one of them now
  naming another library paper), its metadata unchanged (the common edit);
- ``title_changed``: one cited paper's title corrected (every entry that could name it is
  matched again);
- ``paper_added`` / ``paper_removed``: a paper with a reference list comes / goes;
- ``library_paper_added``: a paper new to the library comes (a new title to match).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from paperlens.core.graph import build  # noqa: E402
from paperlens.core.index.table import PaperTable  # noqa: E402
from paperlens.core.index.base import read_lazily  # noqa: E402
from paperlens.core.library import Library  # noqa: E402
from paperlens.core.models import Reference  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class Changed:
    """A store as an index update leaves it: a new table and stamp, some reference lines new."""

    def __init__(self, store, rows, lines: dict, drop: set, extra: list) -> None:
        self._store = store
        self.table = PaperTable(rows)
        self.table.get("")
        self.stamp = (getattr(store, "stamp", 0), "changed", id(self))
        self._lines, self._drop, self._extra = lines, drop, extra

    def __getattr__(self, name):
        return getattr(self._store, name)

    def reference_lines(self):
        for pid, refs in self._store.reference_lines():
            if pid in self._drop:
                continue
            yield pid, self._lines.get(pid, refs)
        yield from self._extra

    def reference_lines_lazily(self):
        """The store's own lazy lines (an unchanged list is not decoded), the changed ones read."""
        for pid, fp, read in self._store.reference_lines_lazily():
            if pid in self._drop:
                continue
            if pid in self._lines:
                yield from read_lazily([(pid, self._lines[pid])])
            else:
                yield pid, fp, read
        yield from read_lazily(self._extra)


def graph_edges(g) -> tuple:
    return (g.cites, g.cited_by, g.cited_by_label, g.read)


def changes(lib):
    """(name, function making the changed store) for each kind of change."""
    store = lib.stores[0]
    rows = list(store.table.rows)
    lines = {}
    for pid, refs in store.reference_lines():       # a paper with references, in the middle
        lines[pid] = refs
        if len(lines) > len(rows) // 4 and len(refs) >= 4:
            break
    pid, refs = next(reversed(lines.items()))
    by_id = {r.id: r for r in rows}
    cited = next(r for r in reversed(rows) if r.title and len(r.title.split()) >= 4 and not r.alias_of
                 and r.id != pid)

    def refs_changed():
        new = list(refs)
        new[0] = Reference(new[0].label, title=cited.title, year=cited.year, authors=" ".join(cited.surnames) + ".",
                           after="In Proc. of a Conference.")
        new[1] = replace(new[1], title=new[1].title + " revisited", authors=new[1].authors or "")
        return Changed(store, rows, {pid: new}, set(), [])

    def title_changed():
        new_rows = [replace(r, title=r.title + " (corrected)") if r.id == cited.id else r for r in rows]
        return Changed(store, new_rows, {}, set(), [])

    def paper_added():
        row = replace(by_id[pid], id="added-paper-0001", key="added0001", title="An added paper on graphs")
        return Changed(store, rows + [row], {}, set(), [(row.id, list(refs))])

    def library_paper_added():
        # a paper new to the library, not the text of one it has (paper_added's is a .bib
        # entry's): the entries that could name its title, of common words, are matched again
        row = replace(by_id[pid], id="added-paper-0002", key="added0002", alias_of="", doi="",
                      title="Topology-Aware Instance Embeddings for Medical Image Segmentation")
        return Changed(store, rows + [row], {}, set(), [(row.id, list(refs))])

    def paper_removed():
        return Changed(store, [r for r in rows if r.id != pid], {}, {pid}, [])

    return [("refs_changed", refs_changed), ("title_changed", title_changed),
            ("paper_added", paper_added), ("library_paper_added", library_paper_added),
            ("paper_removed", paper_removed)]


def measure(lib, check: bool) -> dict:
    original = list(lib.stores)
    c0 = time.process_time()
    lib.graph()
    out: dict = {"papers": len(lib.rows()), "full_build_cpu_s": round(time.process_time() - c0, 2),
                 "rss_mb_after_build": rss_mb()}
    for name, make in changes(lib):
        lib.stores = [make()] + original[1:]
        c0 = time.process_time()
        g = lib.graph()
        cpu = time.process_time() - c0
        res = {"update_cpu_s": round(cpu, 3),
               "links": sum(len(v) for v in g.cites.values())}
        if check:
            full = build(lib)
            res["equal"] = graph_edges(full) == graph_edges(g)
        out[name] = res
        lib.stores = original          # back to the original library (an update too)
        lib.graph()
    out["rss_mb_end"] = rss_mb()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, help="the index folder (index_path) of --library")
    ap.add_argument("--library", type=Path)
    ap.add_argument("--synthetic", type=int, default=0)
    ap.add_argument("--seeds", type=Path, default=ROOT.parent / "shared" / "seeds")
    ap.add_argument("--no-check", action="store_true", help="skip the builds from scratch compared with")
    ap.add_argument("--restart", action="store_true",
                    help="also a new session's first graph, from the graph this one kept")
    args = ap.parse_args()
    if args.synthetic:
        from graph_accuracy import synthetic_library

        lib, _planted = synthetic_library(args.synthetic, args.seeds)
        lib.stores[0].table.get("")
        print(json.dumps({"synthetic": measure(lib, not args.no_check)}, indent=2))
        return 0
    if not args.index or not args.library:
        ap.error("--index and --library, or --synthetic")
    lib = Library([args.library], index_path=str(args.index))
    saved_as = lib.graph_file
    lib.graph_file = None       # builds from scratch: the graph the last session kept is not read
    try:
        for s in lib.stores:
            s.table.get("")
        out = {"index": str(args.index), "pid": os.getpid(), "reference_lines": line_shape(lib),
               **measure(lib, not args.no_check)}
        if args.restart:
            out["restart"] = restart(lib, saved_as, not args.no_check)
        print(json.dumps(out, indent=2))
    finally:
        lib.close()
    return 0


def line_shape(lib) -> str:
    """How the index keeps its reference lists (its first line's shape): "columns" (one list
    per field, written now) or "objects" (an object per entry, an index written before): the
    first build's cost depends on it."""
    for s in lib.stores:
        path = Path(getattr(s, "index_dir", "")) / "references.jsonl"
        try:
            with open(path, encoding="utf-8") as f:
                first = f.readline()
        except OSError:
            continue
        if first:
            return "columns" if first.partition("\t")[2].startswith("{") else "objects"
    return ""


def restart(lib, saved_as: Path, check: bool) -> dict:
    """A new session on the same library: its first graph from the one the last kept (written
    to a file of its own, not the index root's)."""
    from paperlens.core import saved_graph

    path = Path(f"/tmp/paperlens-graph-bench-{os.getpid()}.json")
    c0 = time.process_time()
    saved_graph.save(path, lib.graph())
    out: dict = {"save_cpu_s": round(time.process_time() - c0, 3), "file_mb": round(path.stat().st_size / 1e6, 2)}
    again = Library([s.folder for s in lib.stores], index_path=str(saved_as.parent))
    again.graph_file = path
    try:
        for s in again.stores:
            s.table.get("")
        c0 = time.process_time()
        g = again.graph()
        out["first_graph_cpu_s"] = round(time.process_time() - c0, 3)
        out["rss_mb"] = rss_mb()
        if check:
            out["equal"] = graph_edges(g) == graph_edges(lib.graph())
    finally:
        again.close()
        path.unlink()
    return out


if __name__ == "__main__":
    sys.exit(main())
