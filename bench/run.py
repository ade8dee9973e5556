"""Benchmarks: paperlens measured side by side with the tools researchers use today.

    python bench/run.py --papers 1000 [--papers 10000] [--out bench/results] [--rounds 50]
                        [--skip-peers] [--profile]

For each library size, on one generated corpus (``bench/corpus.py``) and in one run:

- indexing with the CLI (``paperlens index --workers N --json`` on a fresh index path, N = 1, 2):
  MB of text per second and papers per second, PDF extraction included; peak RSS of the process
  tree; index size on disk; the re-open of an untouched library; ``paperlens summarize`` (fills the
  summary cache the hover cards use);
- every language server through the same stdio driver (``bench/peers.py``): spawn -> first
  completion (paperlens starts on its persisted index), completion with an empty and a two-letter
  prefix, hover, definition, workspace/symbol, response sizes, RSS of the server process tree;
  peers are citation-langserver, bibli-ls (needs Python >= 3.12) and badness, each installed from
  PyPI into its own virtualenv under ``bench/.cache/venvs/``;
- full-text search: paperlens ``workspace/symbol`` and in-process ``Library.search`` against
  ``rg -i -l -F`` over the same text files, with known (query -> paper) checks;
- one changed file becoming searchable: through the server (``workspace/didChangeWatchedFiles``
  then ``paperlens.search``) and in process (``IndexStore.update(only=...)`` + ``Library.search``).

Writes ``bench-<N>.json`` and ``bench-<N>.md`` (tables, paperlens/peer ratios, the issue's targets
marked met or missed). Every peer step has a timeout; a failure is a result, never fatal.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import corpus as corpus_mod  # noqa: E402
import peers  # noqa: E402
from lsp_latency import pct, summary  # noqa: E402

CACHE = BENCH / ".cache"

TARGETS = {   # the targets, for 10k papers on a 2-core machine
    "spawn_to_first_completion_s": 0.5,
    "completion_p95_ms": 10.0,
    "hover_p95_ms": 5.0,
    "search_p95_ms": 50.0,
    "search_speedup_vs_rg": 20.0,
    "index_mb_per_s_2_workers": 3.0,
    "changed_file_searchable_s": 1.0,
    "server_rss_mb": 250.0,
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


LOAD: list[dict] = []


def note_load(phase: str) -> None:
    """Machine load at the start of a phase, and running processes that are not the bench's own
    (other sessions' test runs on the same 2 cores make timings noisy: the report says so)."""
    ours = set(peers.tree_pids(os.getpid()))
    others = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            data = stat.read_text(errors="replace")
            pid = int(data.split(" ", 1)[0])
            state = data.rsplit(")", 1)[1].split()[0]
            if state == "R" and pid not in ours:
                cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
                if cmd.strip():
                    others.append(cmd.strip()[:120])
        except (OSError, ValueError, IndexError):
            continue
    LOAD.append({"phase": phase, "time": time.strftime("%H:%M:%S"),
                 "loadavg_1m": round(os.getloadavg()[0], 2), "other_running": others[:5]})


def code_version() -> dict:
    """The commit measured, and whether server/ had uncommitted changes (read-only git)."""
    out: dict[str, Any] = {}
    try:
        out["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                       text=True, timeout=20).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "server"], cwd=ROOT, capture_output=True,
                               text=True, timeout=20).stdout.strip()
        out["server_uncommitted_files"] = len(dirty.splitlines()) if dirty else 0
    except Exception as exc:
        out["error"] = str(exc)
    return out


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def paperlens_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "paperlens", *args]


def compile_bytecode() -> dict:
    """Compile paperlens' own modules to bytecode before anything is measured, as ``pip
    install`` does for an installed package (it compiles every module it installs): the
    processes measured then start the way an installed paperlens starts. The development
    install is editable, so pip left paperlens' modules uncompiled, and PYTHONDONTWRITEBYTECODE=1
    (set in this project's shells and CI) keeps a run from writing what it compiled: every
    start of the server compiled ~130 modules again. The other packages of the virtualenv were
    compiled when pip installed them; whether any module is still uncompiled is reported."""
    import compileall
    import importlib.util

    t = time.perf_counter()
    ok = compileall.compile_dir(str(ROOT / "server" / "paperlens"), quiet=1)
    out: dict[str, Any] = {"seconds": round(time.perf_counter() - t, 2), "ok": bool(ok)}
    missing = []
    for sp in {p for p in sys.path if p.endswith("site-packages")}:
        for py in Path(sp).rglob("*.py"):
            if not Path(importlib.util.cache_from_source(str(py))).exists():
                missing.append(str(py.relative_to(sp)))
    out["site_packages_uncompiled"] = len(missing)
    if missing:
        out["uncompiled_examples"] = missing[:5]
    return out


# --- indexing ----------------------------------------------------------------------------------------

def bench_indexing(c: dict, work: Path, timeout: float, workers_list: tuple[int, ...] = (1, 2)) -> dict:
    lib = c["library"]
    mb = c["sizes"]["text_mb"]
    out: dict[str, Any] = {"text_mb": mb, "full_index": {}}
    for workers in sorted(set(workers_list) | {2}):      # the servers use the 2-worker index
        ix = work / f"ix-w{workers}"
        shutil.rmtree(ix, ignore_errors=True)
        log(f"index: {c['papers']} papers with {workers} worker(s)")
        note_load(f"index workers={workers}")
        r = peers.run_measured(paperlens_cmd("index", lib, "--workers", str(workers), "--json",
                                             "--index-path", str(ix)), timeout)
        entry: dict[str, Any] = {k: r[k] for k in ("seconds", "returncode", "timed_out", "peak_tree_rss_mb",
                                                   "max_process_rss_mb")}
        try:
            folder = json.loads(r["stdout"])["folders"][0]
            entry.update({"index_seconds": folder["seconds"], "papers_total": folder["papers_total"],
                          "files_parsed": folder["files_parsed"], "skipped": folder["skipped"][:5],
                          "rebuilt": folder["rebuilt"]})
        except Exception:
            entry["stderr"] = r["stderr"][-1500:]
        if r["returncode"] == 0:
            entry["mb_per_s"] = round(mb / r["seconds"], 2)
            entry["papers_per_s"] = round(c["papers"] / r["seconds"], 1)
            entry["index_size_mb"] = round(dir_size(ix) / 1e6, 1)
        out["full_index"][f"workers_{workers}"] = entry
    ix = work / "ix-w2"
    r = peers.run_measured(paperlens_cmd("index", lib, "--json", "--index-path", str(ix)), timeout)
    try:
        folder = json.loads(r["stdout"])["folders"][0]
    except Exception:
        folder = {}
    out["reopen_untouched"] = {"seconds": r["seconds"], "files_parsed": folder.get("files_parsed"),
                               "rebuilt": folder.get("rebuilt"), "returncode": r["returncode"]}
    if folder.get("files_parsed"):
        # an untouched library should parse nothing: run once more to tell a one-off from a loop
        r2 = peers.run_measured(paperlens_cmd("index", lib, "--json", "--index-path", str(ix)), timeout)
        try:
            again = json.loads(r2["stdout"])["folders"][0].get("files_parsed")
        except Exception:
            again = None
        out["reopen_untouched"]["second_reopen"] = {"seconds": r2["seconds"], "files_parsed": again}
    log("summarize: filling the summary cache (extractive)")
    r = peers.run_measured(paperlens_cmd("summarize", lib, "--json", "--index-path", str(ix)), timeout)
    try:
        s = json.loads(r["stdout"])
        out["summarize"] = {"seconds": r["seconds"], "papers": s.get("papers"), "computed": s.get("computed"),
                            "cached": s.get("cached")}
    except Exception:
        out["summarize"] = {"seconds": r["seconds"], "returncode": r["returncode"], "stderr": r["stderr"][-800:]}
    return out


# --- paperlens through the server: one changed file becomes searchable -------------------------------------

def _changed_text(original: str, word: str) -> str:
    return original.replace("Abstract\n", f"Abstract\n{word} ", 1)


def backup(target: Path) -> None:
    """Keep the pristine text of a file the bench edits, so an interrupted run is repaired."""
    keep = target.parent.parent.parent / "pristine" / target.name
    if not keep.exists():
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, keep)


def restore_pristine(c: dict) -> None:
    keep_dir = Path(c["root"]) / "pristine"
    for keep in keep_dir.glob("*") if keep_dir.is_dir() else []:
        target = Path(c["library"]) / "papers" / keep.name
        if target.read_bytes() != keep.read_bytes():
            log(f"restoring {target.name} left changed by an interrupted run")
            target.write_bytes(keep.read_bytes())


def server_incremental(target: Path, rounds: int = 5, timeout: float = 60.0, idle_timeout: float = 300.0):
    async def after(client: peers.LspClient, res: dict) -> dict:
        backup(target)
        original = target.read_text(encoding="utf-8")
        lat, errors, settle = [], [], []
        try:
            for i in range(rounds):
                # each round starts on an idle server; how long the server stays busy after
                # the file became searchable (background work a change triggers) is reported
                t_idle = time.perf_counter()
                _, idle = await peers.wait_idle(client.proc.pid, idle_timeout)
                if i:
                    settle.append(round(time.perf_counter() - t_idle, 2))
                if not idle:
                    errors.append(f"server still busy {idle_timeout:.0f} s after the previous change")
                word = "zq" + hashlib.sha1(f"server{i}".encode()).hexdigest()[:10]
                target.write_text(_changed_text(original, word), encoding="utf-8")
                t = time.perf_counter()
                client.notify("workspace/didChangeWatchedFiles",
                              {"changes": [{"uri": target.as_uri(), "type": 2}]})
                found = False
                while time.perf_counter() - t < timeout:
                    try:
                        hits, _, _ = await client.request("workspace/executeCommand", {
                            "command": "paperlens.server.search", "arguments": [word, 5]}, timeout=timeout)
                    except peers.LspError as exc:
                        errors.append(str(exc))
                        break
                    if any(str(h.get("file", "")).endswith(target.name) for h in hits or []):
                        found = True
                        break
                    await asyncio.sleep(0.01)
                if not found:
                    errors.append(f"{word} not found within {timeout} s")
                    break
                lat.append(time.perf_counter() - t)
        finally:
            target.write_text(original, encoding="utf-8")
            client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": target.as_uri(), "type": 2}]})
            await asyncio.sleep(1.0)
        out = {"rounds": len(lat), "max_s": round(max(lat), 3) if lat else None,
               "busy_after_change_s": settle,
               "mean_s": round(statistics.fmean(lat), 3) if lat else None,
               "all_s": [round(x, 3) for x in lat]}
        if errors:
            out["errors"] = errors[:3]
        return {"changed_file_searchable_via_server": out}
    return after


# --- search: in process and ripgrep ------------------------------------------------------------------------

def bench_inprocess(c: dict, ix: Path, queries: list[str], rounds: int = 3, budget_s: float = 300) -> dict:
    from paperlens.core.library import Library

    lib_dir = Path(c["library"])
    t = time.perf_counter()
    lib = Library([lib_dir], str(ix))
    lib.update()
    open_s = time.perf_counter() - t
    per_query, all_ms = {}, []
    t_end = time.perf_counter() + budget_s
    for q in queries:
        ms = []
        for r in range(rounds):
            t = time.perf_counter()
            hits = lib.search(q, limit=50, per_paper=3)
            ms.append((time.perf_counter() - t) * 1000)
            if time.perf_counter() > t_end:
                break
        all_ms += ms
        per_query[q] = {"p50_ms": round(pct(ms, 50), 2), "results": len(hits),
                        "top_files": [Path(h.path).name for h in hits[:10]]}
    checks = []
    for chk in c["search_checks"]:
        name = Path(chk["expected_file"]).name
        top = per_query.get(chk["query"], {}).get("top_files", [])
        checks.append({**chk, "paperlens_rank": (top.index(name) + 1) if name in top else None})
    # one changed file -> searchable, in process
    store = lib.stores[0]
    target = first_txt(c)
    backup(target)
    original = target.read_text(encoding="utf-8")
    lat = []
    try:
        for i in range(5):
            word = "zq" + hashlib.sha1(f"inproc{i}".encode()).hexdigest()[:10]
            target.write_text(_changed_text(original, word), encoding="utf-8")
            t = time.perf_counter()
            store.update(only=[target.relative_to(lib_dir).as_posix()])
            hits = lib.search(word)
            lat.append(time.perf_counter() - t)
            if not (hits and hits[0].path == str(target)):
                lat[-1] = float("nan")
    finally:
        target.write_text(original, encoding="utf-8")
        store.update(only=[target.relative_to(lib_dir).as_posix()])
        lib.close()
    return {"library_open_and_update_s": round(open_s, 3), **summary(all_ms), "per_query": per_query,
            "checks": checks,
            "changed_file_searchable": {"max_s": round(max(lat), 3), "mean_s": round(statistics.fmean(lat), 3)}}


def bench_rg(c: dict, rg: str, queries: list[str], rounds: int = peers.SYMBOL_ROUNDS,
             timeout: float = 120) -> dict:
    papers = str(Path(c["library"]) / "papers")
    per_query, all_ms = {}, []
    for q in queries:
        ms, files = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            p = subprocess.run([rg, "-i", "-l", "-F", "--", q, papers], capture_output=True, text=True,
                               timeout=timeout)
            ms.append((time.perf_counter() - t) * 1000)
            files = p.stdout.splitlines()
        all_ms += ms
        per_query[q] = {"p50_ms": round(pct(ms, 50), 2), "ms": [round(x, 2) for x in ms], "files": len(files),
                        "names": [Path(f).name for f in files[:50]]}
    count_ms = []
    for q in queries[:5]:
        t = time.perf_counter()
        subprocess.run([rg, "-i", "-c", "-F", "--", q, papers], capture_output=True, timeout=timeout)
        count_ms.append((time.perf_counter() - t) * 1000)
    checks = []
    for chk in c["search_checks"]:
        names = per_query[chk["query"]]["names"]
        checks.append({"query": chk["query"], "found": Path(chk["expected_file"]).name in names,
                       "files": per_query[chk["query"]]["files"]})
    for q in per_query.values():
        q.pop("names")
    return {"command": "rg -i -l -F QUERY papers/", **summary(all_ms), "per_query": per_query,
            "rg_c_p50_ms": round(pct(count_ms, 50), 2), "checks": checks,
            "note": "rg reads the .txt files only (it cannot search PDFs); a phrase broken across "
                    "wrapped lines is not found"}


def first_txt(c: dict) -> Path:
    lib = Path(c["library"])
    for key in c["keys"]:
        rel = c["files"][key]
        if rel.endswith(".txt"):
            return lib / rel
    raise RuntimeError("no text paper in the corpus")


# --- profiling (optional) ------------------------------------------------------------------------------------

def profile_text(prof_path: Path, n: int = 30) -> str:
    s = io.StringIO()
    pstats.Stats(str(prof_path), stream=s).sort_stats("cumulative").print_stats(n)
    return s.getvalue()


def run_profiles(c: dict, work: Path, out_dir: Path, queries: list[str], timeout: float) -> dict:
    n = c["papers"]
    out: dict[str, Any] = {}
    ix = work / "ix-profile"
    shutil.rmtree(ix, ignore_errors=True)
    prof = out_dir / f"profile-index-{n}.prof"
    log("profile: cProfile of paperlens index --workers 1")
    r = peers.run_measured([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "paperlens", "index",
                            c["library"], "--workers", "1", "--json", "--index-path", str(ix)], timeout)
    out["index_workers_1"] = {"seconds": r["seconds"], "file": str(prof)}
    if prof.exists():
        (out_dir / f"profile-index-{n}.txt").write_text(profile_text(prof, 45))
    shutil.rmtree(ix, ignore_errors=True)
    from paperlens.core.library import Library

    lib = Library([c["library"]], str(work / "ix-w2"))
    lib.update()
    pr = cProfile.Profile()
    pr.enable()
    for q in queries:
        lib.search(q, limit=50, per_paper=3)
    pr.disable()
    lib.close()
    prof = out_dir / f"profile-search-{n}.prof"
    pr.dump_stats(str(prof))
    (out_dir / f"profile-search-{n}.txt").write_text(profile_text(prof, 40))
    out["search"] = {"file": str(prof)}
    return out


# --- one library size ---------------------------------------------------------------------------------------------

def save(result: dict, out_dir: Path) -> None:
    """Write the JSON and the markdown report (also after each phase, so an interrupted run
    still leaves what it measured)."""
    n = result["papers"]
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        result["targets"] = evaluate(result)
        md = markdown(result)
    except Exception:
        md = "report failed:\n\n```\n" + traceback.format_exc() + "```\n"
    (out_dir / f"bench-{n}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    (out_dir / f"bench-{n}.md").write_text(md, encoding="utf-8")


def run_size(n: int, args) -> dict:
    t_all = time.perf_counter()
    result: dict[str, Any] = {"papers": n, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                              "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0],
                                          "platform": sys.platform},
                              "code": code_version()}
    result["bytecode"] = compile_bytecode()
    log(f"corpus: {n} papers")
    c = corpus_mod.build(n, seed=args.seed, pdf_share=args.pdf_share, log=log)
    restore_pristine(c)
    result["corpus"] = {k: c[k] for k in ("root", "papers", "pdf_papers", "txt_papers", "sizes", "build_s",
                                          "prefix2", "prefix2_keys", "hover_key")}
    work = CACHE / f"work-{n}"
    work.mkdir(parents=True, exist_ok=True)
    log_dir = Path(args.out) / f"logs-{n}"
    queries = c["topic_queries"] + [chk["query"] for chk in c["search_checks"]]
    result["search_checks_kinds"] = [{"query": chk["query"], "kind": chk["kind"]} for chk in c["search_checks"]]
    big = n >= 5000
    idx_timeout = args.index_timeout or (7200 if big else 1800)
    out_dir = Path(args.out)
    result["status"] = "running"
    result["indexing"] = bench_indexing(c, work, idx_timeout,
                                        tuple(int(w) for w in args.index_workers.split(",") if w.strip()))
    save(result, out_dir)
    ix = work / "ix-w2"

    # language servers
    rounds = args.rounds
    servers: dict[str, Any] = {}
    scen = []
    pl = peers.paperlens(c, rounds, str(ix), "tex",
                         after=server_incremental(first_txt(c), rounds=3 if big else 5,
                                                  idle_timeout=1200 if big else 300))
    scen.append(pl)
    md_scenario = peers.paperlens(c, rounds, str(ix), "md")
    installs: dict[str, Any] = {}
    if not args.skip_peers:
        for name, fn in (("citation-langserver", peers.citation_langserver), ("bibli-ls", peers.bibli_ls),
                         ("badness", peers.badness)):
            try:
                sc, info = fn(c, rounds)
            except Exception as exc:
                sc, info = None, {"status": f"not run: {type(exc).__name__}: {exc}"}
            installs[name] = info
            if sc is None:
                servers[name] = {"server": name, "status": info.get("status", "not run")}
            else:
                if name == "badness":
                    sc.notes.append("its workspace/symbol lists LaTeX symbols (labels, sections), "
                                    "not passages of papers: not compared")
                scen.append(sc)
    scen.append(md_scenario)     # last: the peers first when time is short
    result["peer_installs"] = installs
    result["servers"] = servers
    for sc in scen:
        sc.first_completion_timeout = 600 if big else 120
        sc.idle_timeout = 900 if big else 120
        if sc is md_scenario and big:
            sc.idle_timeout = 60
        sc.request_timeout = 120 if big else 60
        sc.loop_seconds = args.loop_seconds
        log(f"server: {sc.name}")
        note_load(f"server {sc.name}")
        try:
            servers[sc.name] = asyncio.run(asyncio.wait_for(peers.run_lsp_scenario(sc, log_dir),
                                                            args.server_timeout * (2 if big else 1)))
        except Exception as exc:
            servers[sc.name] = {"server": sc.name, "status": f"failed: {type(exc).__name__}: {exc}"}
        s = servers[sc.name]
        save(result, out_dir)
        if sc.name.startswith("paperlens"):
            # bring the persisted index back in line with the (restored) corpus for the next server
            peers.run_measured(paperlens_cmd("index", c["library"], "--json", "--index-path", str(ix)), idx_timeout)
        log(f"server: {sc.name}: {s.get('status')} first completion {s.get('spawn_to_first_completion_s')} s")

    # search: in process and rg
    log("search: in-process Library.search")
    note_load("search")
    try:
        result["search_inprocess"] = bench_inprocess(c, ix, queries, rounds=1 if big else 3)
    except Exception:
        result["search_inprocess"] = {"status": "failed", "error": traceback.format_exc()[-1500:]}
    save(result, out_dir)
    rg, rg_version = peers.ensure_ripgrep()
    if rg:
        log("search: ripgrep")
        try:
            result["search_rg"] = {"version": rg_version, **bench_rg(c, rg, queries)}
        except Exception as exc:
            result["search_rg"] = {"status": f"failed: {exc}"}
    else:
        result["search_rg"] = {"status": rg_version}
    sym = servers.get("paperlens", {}).get("workspace_symbol", {})
    if "per_query" in sym:
        checks = []
        for chk in c["search_checks"]:
            top = sym["per_query"].get(chk["query"], {}).get("top_uris", [])
            name = Path(chk["expected_file"]).name
            checks.append({"query": chk["query"], "rank": (top.index(name) + 1) if name in top else None})
        result["search_symbol_checks"] = checks
    if args.profile:
        try:
            result["profiles"] = run_profiles(c, work, Path(args.out), queries, idx_timeout)
        except Exception:
            result["profiles"] = {"status": "failed", "error": traceback.format_exc()[-1500:]}
    result["status"] = "complete"
    note_load("end")
    result["load"] = list(LOAD)
    LOAD.clear()
    result["targets"] = evaluate(result)
    result["total_s"] = round(time.perf_counter() - t_all, 1)
    return result


# --- targets and the report ---------------------------------------------------------------------------------------

def _get(d: Any, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


def evaluate(r: dict) -> list[dict]:
    pl = _get(r, "servers", "paperlens", default={})
    out = []

    def add(name, value, target, op, unit, how):
        met = None if value is None else (value <= target if op == "<=" else value >= target)
        out.append({"target": name, "value": value, "limit": f"{op} {target} {unit}", "met": met, "how": how})

    add("spawn -> first completion (persisted index)", pl.get("spawn_to_first_completion_s"),
        TARGETS["spawn_to_first_completion_s"], "<=", "s", "paperlens serve, LaTeX draft, index built before")
    comp = [v for v in (_get(pl, "completion_empty_prefix", "p95_ms"), _get(pl, "completion_prefix2", "p95_ms"))
            if v is not None]
    add("completion p95", max(comp) if comp else None, TARGETS["completion_p95_ms"], "<=", "ms",
        "worst of empty and two-letter prefix")
    add("hover p95 (cached summaries)", _get(pl, "hover", "p95_ms"), TARGETS["hover_p95_ms"], "<=", "ms",
        "after paperlens summarize")
    add("hover p95, each cited key once (cold cards)", _get(pl, "hover_each_key_once", "p95_ms"),
        TARGETS["hover_p95_ms"], "<=", "ms", "50 different keys, summaries cached on disk")
    add("search p95", _get(pl, "workspace_symbol", "p95_ms"), TARGETS["search_p95_ms"], "<=", "ms",
        "workspace/symbol over the query set")
    kinds = speedups(r)
    worst = min((v["median_speedup"] for v in kinds.values()), default=None)
    add("search speed-up vs rg (worst query kind)", worst, TARGETS["search_speedup_vs_rg"], ">=", "x",
        "per query: rg -i -l -F median / workspace/symbol median; the median per kind of query "
        "(" + ", ".join(f"{k} {v['median_speedup']}x" for k, v in kinds.items()) + ")")
    add("index throughput, 2 workers", _get(r, "indexing", "full_index", "workers_2", "mb_per_s"),
        TARGETS["index_mb_per_s_2_workers"], ">=", "MB/s", "paperlens index CLI wall time, PDFs included")
    add("one changed file searchable", _get(pl, "changed_file_searchable_via_server", "max_s"),
        TARGETS["changed_file_searchable_s"], "<=", "s", "didChangeWatchedFiles -> paperlens.search finds it")
    rss = [v for v in (_get(pl, "rss", "peak_mb"), pl.get("rss_end_mb")) if v is not None]
    add("server RSS", max(rss) if rss else None, TARGETS["server_rss_mb"], "<=", "MB",
        "peak RSS of the server process tree (VmRSS: heap and mmap'd index pages)")
    add("server RSS, anonymous only", _get(pl, "rss", "peak_anon_mb"), TARGETS["server_rss_mb"], "<=", "MB",
        "peak RssAnon of the tree (without file-backed pages)")
    return out


def speedups(r: dict) -> dict:
    """rg time / paperlens workspace/symbol time for each query, summarised by kind of query
    (topic words, a unique method name, a title phrase): medians of every round of both
    (``median_speedup``, the target's), and of their first three rounds only
    (``median_speedup_3_rounds``: what runs before peers.SYMBOL_ROUNDS was 5 reported)."""
    sym = _get(r, "servers", "paperlens", "workspace_symbol", "per_query", default={}) or {}
    rgq = _get(r, "search_rg", "per_query", default={}) or {}
    kind_of = {chk["query"]: chk["kind"] for chk in _get(r, "search_checks_kinds", default=[]) or []}
    out: dict[str, list[float]] = {}
    first3: dict[str, list[float]] = {}
    for q, v in sym.items():
        ms = v.get("ms") or []
        if not ms or q not in rgq or not rgq[q].get("p50_ms"):
            continue
        kind = kind_of.get(q, "topic")
        out.setdefault(kind, []).append(rgq[q]["p50_ms"] / statistics.median(ms))
        rg3 = rgq[q].get("ms") or []
        rg3 = pct(rg3[:3], 50) if rg3 else rgq[q]["p50_ms"]
        first3.setdefault(kind, []).append(rg3 / statistics.median(ms[:3]))
    return {k: {"queries": len(v), "median_speedup": round(statistics.median(v), 2),
                "min_speedup": round(min(v), 3),
                "median_speedup_3_rounds": round(statistics.median(first3[k]), 2)} for k, v in out.items()}


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        v = f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return f"{v}{unit}"


def _ratio(a: Any, b: Any) -> str:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or not b:
        return "–"
    return f"{a / b:.2g}×"


SERVER_ROWS = [
    ("spawn → initialized (s)", ("spawn_to_initialized_s",)),
    ("spawn → first completion (s)", ("spawn_to_first_completion_s",)),
    ("spawn → idle (background work done) (s)", ("spawn_to_idle_s",)),
    ("first completion: items", ("first_completion", "items")),
    ("first completion: bytes", ("first_completion", "bytes")),
    ("completion, empty prefix p50 (ms)", ("completion_empty_prefix", "p50_ms")),
    ("completion, empty prefix p95 (ms)", ("completion_empty_prefix", "p95_ms")),
    ("completion, empty prefix max (ms)", ("completion_empty_prefix", "max_ms")),
    ("completion, empty prefix bytes", ("completion_empty_prefix", "bytes")),
    ("completion, 2-letter prefix p50 (ms)", ("completion_prefix2", "p50_ms")),
    ("completion, 2-letter prefix p95 (ms)", ("completion_prefix2", "p95_ms")),
    ("completion, 2-letter prefix max (ms)", ("completion_prefix2", "max_ms")),
    ("completion, 2-letter prefix items", ("completion_prefix2", "items")),
    ("completion, 2-letter prefix bytes", ("completion_prefix2", "bytes")),
    ("hover p50 (ms)", ("hover", "p50_ms")),
    ("hover p95 (ms)", ("hover", "p95_ms")),
    ("hover bytes", ("hover", "bytes")),
    ("hover, each cited key once p50 (ms)", ("hover_each_key_once", "p50_ms")),
    ("hover, each cited key once p95 (ms)", ("hover_each_key_once", "p95_ms")),
    ("hover, each cited key once: answered", ("hover_each_key_once", "answered")),
    ("definition p50 (ms)", ("definition", "p50_ms")),
    ("definition p95 (ms)", ("definition", "p95_ms")),
    ("workspace/symbol p50 (ms)", ("workspace_symbol", "p50_ms")),
    ("workspace/symbol p95 (ms)", ("workspace_symbol", "p95_ms")),
    ("RSS after first completion (MB)", ("rss_after_first_completion_mb",)),
    ("RSS peak, process tree (MB)", ("rss", "peak_mb")),
    ("  of which anonymous (heap) peak (MB)", ("rss", "peak_anon_mb")),
    ("  of which file-backed (mmap) peak (MB)", ("rss", "peak_file_mb")),
    ("RSS at end (MB)", ("rss_end_mb",)),
]


def markdown(r: dict) -> str:
    n = r["papers"]
    c = r["corpus"]
    sz = c["sizes"]
    L = [f"# paperlens benchmark: {n} papers", "",
         f"{r['started']} · {r['machine']['cores']} cores · Python {r['machine']['python']} · total {r.get('total_s')} s"
         + ("" if r.get("status", "complete") == "complete" else " · **partial: the run had not finished**")
         + (f" · commit {r['code'].get('commit')}"
            + (f" + {r['code']['server_uncommitted_files']} uncommitted files in server/"
               if r["code"].get("server_uncommitted_files") else "") if r.get("code") else ""), "",
         f"Corpus `{c['root']}`: {c['papers']} papers ({c['txt_papers']} text, {c['pdf_papers']} PDF), "
         f"{sz['text_mb']} MB of text ({sz['txt_mb']} MB .txt, {sz['pdf_text_mb']} MB extracted from "
         f"{sz['pdf_file_mb']} MB of PDFs, {sz['bib_mb']} MB .bib); built in {c['build_s']} s.", "",
         "## Targets (the issue's, set for 10k papers on this 2-core machine)", "",
         "| target | limit | paperlens | met | how |", "| --- | --- | --- | --- | --- |"]
    for t in r["targets"]:
        met = "–" if t["met"] is None else ("met" if t["met"] else "**missed**")
        L.append(f"| {t['target']} | {t['limit']} | {_fmt(t['value'])} | {met} | {t['how']} |")
    if n < 10000:
        L += ["", f"(At {n} papers these are indications only: the limits are for 10k.)"]
    # servers side by side
    servers = r.get("servers") or {}
    names = list(servers)
    if names:
        L += ["", "## Language servers, same corpus, same driver", "",
              "| metric | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
        for label, path in SERVER_ROWS:
            L.append(f"| {label} | " + " | ".join(_fmt(_get(servers[s], *path)) for s in names) + " |")
        L.append("| status | " + " | ".join(str(servers[s].get("status", "")).replace("|", "/")[:90]
                                            for s in names) + " |")
    peers_ = [s for s in names if not s.startswith("paperlens")]
    if peers_:
        L += ["", "### paperlens / peer ratios (< 1: paperlens is faster or smaller)", "",
              "| metric | " + " | ".join(f"paperlens / {p}" for p in peers_) + " |",
              "| --- |" + " --- |" * len(peers_)]
        for label, path in SERVER_ROWS:
            if "items" in label:
                continue
            row = []
            for p in peers_:
                base = "paperlens-md" if p == "bibli-ls" and "paperlens-md" in servers else "paperlens"
                row.append(_ratio(_get(servers[base], *path), _get(servers[p], *path)))
            L.append(f"| {label} | " + " | ".join(row) + " |")
        L += ["", "bibli-ls is compared with paperlens on the Markdown draft (`paperlens-md`), the others "
                  "with paperlens on the LaTeX draft."]
    notes = [(s, servers[s].get("notes")) for s in names if servers[s].get("notes")]
    if notes:
        L += ["", "Notes on the peers:"]
        for s, ns in notes:
            for x in ns:
                L.append(f"- {s}: {x}")
    inst = r.get("peer_installs") or {}
    for name, info in inst.items():
        if not notes:
            L += ["", "Notes on the peers:"]
            notes = [None]
        if isinstance(info, dict) and "versions" in info:
            L.append(f"- {name}: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
                     + (f" on {info['python']}" if "python" in info else ""))
        elif isinstance(info, dict):
            L.append(f"- {name}: {info.get('status')}")
    # search
    L += ["", "## Full-text search: paperlens vs ripgrep (same queries)", "",
          "| | p50 (ms) | p95 (ms) | max (ms) | n |", "| --- | --- | --- | --- | --- |"]
    sym = _get(servers, "paperlens", "workspace_symbol", default={})
    inp = r.get("search_inprocess", {})
    rg = r.get("search_rg", {})
    for label, d in (("paperlens workspace/symbol (server)", sym), ("paperlens Library.search (in process)", inp),
                     ("rg -i -l -F over papers/*.txt", rg)):
        L.append(f"| {label} | {_fmt(d.get('p50_ms'))} | {_fmt(d.get('p95_ms'))} | {_fmt(d.get('max_ms'))} | {_fmt(d.get('n'))} |")
    if sym.get("p50_ms") and rg.get("p50_ms"):
        L += ["", f"rg / workspace/symbol: {rg['p50_ms'] / sym['p50_ms']:.2g}× at p50, "
                  f"{rg['p95_ms'] / sym['p95_ms']:.2g}× at p95"
                  + (f"; rg / Library.search: {rg['p50_ms'] / inp['p50_ms']:.2g}× at p50." if inp.get("p50_ms") else ".")]
    kinds = speedups(r)
    if kinds:
        L += ["", "Speed-up over rg per kind of query (rg median / workspace/symbol median, per query): "
              + "; ".join(f"{k}: median {v['median_speedup']}× ({v.get('median_speedup_3_rounds')}× over 3 rounds), worst {v['min_speedup']}× ({v['queries']} queries)"
                          for k, v in kinds.items()) + "."]
    checks_pl = {x["query"]: x["rank"] for x in r.get("search_symbol_checks", [])}
    checks_in = {x["query"]: x["paperlens_rank"] for x in inp.get("checks", [])}
    checks_rg = {x["query"]: x for x in rg.get("checks", [])}
    if checks_in:
        k = len(checks_in)
        top1 = sum(1 for v in checks_pl.values() if v == 1)
        top10 = sum(1 for v in checks_pl.values() if v)
        in10 = sum(1 for v in checks_in.values() if v)
        rgf = sum(1 for v in checks_rg.values() if v["found"])
        L += ["", f"Known-paper checks ({k} queries: unique method names and title phrases): "
                  f"workspace/symbol finds the paper first for {top1}, in its top 10 for {top10}; "
                  f"Library.search top 10: {in10}; rg lists the file for {rgf} "
                  f"(rg sees no PDF text)."]
    # indexing
    ixr = r.get("indexing", {})
    L += ["", "## Indexing (paperlens index CLI, fresh index path)", "",
          "| workers | wall (s) | MB/s | papers/s | peak RSS tree (MB) | largest process (MB) | index size (MB) |",
          "| --- | --- | --- | --- | --- | --- | --- |"]
    for w in (1, 2):
        e = _get(ixr, "full_index", f"workers_{w}", default={})
        L.append(f"| {w} | {_fmt(e.get('seconds'))} | {_fmt(e.get('mb_per_s'))} | {_fmt(e.get('papers_per_s'))} | "
                 f"{_fmt(e.get('peak_tree_rss_mb'))} | {_fmt(e.get('max_process_rss_mb'))} | {_fmt(e.get('index_size_mb'))} |")
    ru = ixr.get("reopen_untouched", {})
    sm = ixr.get("summarize", {})
    inc = _get(servers, "paperlens", "changed_file_searchable_via_server", default={})
    L += ["", f"- re-open of an untouched library (`paperlens index` again): {_fmt(ru.get('seconds'))} s, "
              f"{_fmt(ru.get('files_parsed'))} files parsed"
              + (f" (rebuilt: {ru['rebuilt']})" if ru.get("rebuilt") else "")
              + (f"; once more: {ru['second_reopen'].get('seconds')} s, {ru['second_reopen'].get('files_parsed')} parsed"
                 if ru.get("second_reopen") else ""),
          f"- `paperlens summarize` (extractive, fills the hover cache): {_fmt(sm.get('seconds'))} s "
          f"for {_fmt(sm.get('papers'))} papers",
          f"- one changed file searchable through the server: max {_fmt(inc.get('max_s'))} s, "
          f"mean {_fmt(inc.get('mean_s'))} s over {_fmt(inc.get('rounds'))} rounds"
          + (f"; the server then stayed busy {', '.join(map(str, inc['busy_after_change_s']))} s after "
             "each change" if inc.get("busy_after_change_s") else "")
          + (f" ({'; '.join(inc['errors'])})" if inc.get("errors") else ""),
          f"- in process (`IndexStore.update(only=[file])` + `Library.search`): "
          f"max {_fmt(_get(inp, 'changed_file_searchable', 'max_s'))} s"]
    busy = [x for x in r.get("load", []) if x["other_running"] or x["loadavg_1m"] > 1.5]
    if busy:
        L += ["", "Machine load during the run (other processes on the same 2 cores make timings noisy):"]
        for x in r.get("load", []):
            L.append(f"- {x['time']} {x['phase']}: load {x['loadavg_1m']}"
                     + (f"; also running: {'; '.join(x['other_running'])}" if x["other_running"] else ""))
    if r.get("profiles"):
        L += ["", "Profiles: " + ", ".join(f"`{v.get('file')}`" for v in r["profiles"].values()
                                          if isinstance(v, dict) and v.get("file"))]
    return "\n".join(L) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, action="append", help="library size (repeatable); default 1000")
    ap.add_argument("--out", default=str(BENCH / "results"))
    ap.add_argument("--rounds", type=int, default=50, help="requests per latency measurement")
    ap.add_argument("--loop-seconds", type=float, default=60.0, help="time bound of each measurement loop")
    ap.add_argument("--server-timeout", type=float, default=1800.0, help="bound of one server scenario")
    ap.add_argument("--index-timeout", type=float, default=0, help="bound of one index run (default by size)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--pdf-share", type=float, default=0.05)
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--index-workers", default="1,2", help="worker counts of the full-index runs (2 always)")
    ap.add_argument("--profile", action="store_true", help="cProfile the index run and the searches")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for n in args.papers or [1000]:
        r = run_size(n, args)
        save(r, out)
        log(f"wrote {out / f'bench-{n}.json'} and {out / f'bench-{n}.md'}")
        print((out / f"bench-{n}.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
