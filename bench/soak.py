"""Soak test: a real `paperlens serve` under a mixed request stream while its folder keeps changing.

    python bench/soak.py [--seconds 60] [--papers 100] [--concurrency 2] [--seed 1]
                         [--typist-seconds 20] [--typist-mb 2]

Copies examples/papers plus ``--papers`` generated text papers into a temporary folder, starts the
server on it (stdio, its own index directory; the server watches the folder with watchdog), waits
for the first index, then for ``--seconds``:

- ``--concurrency`` request loops send hovers, completions, completion resolves, workspace/symbol
  searches and didChange edits of an open LaTeX draft, and check the answers that must hold
  whatever the folder does (a key of library.bib, which is never touched, always hovers to its
  card and completes);
- a thread modifies, adds, removes and atomically rewrites paper files (text papers and a .bib),
  a few times a second, keeping the folder bounded;
- the RSS of the server and its child processes is sampled from /proc every ``--sample`` seconds.

Before that, the typist (``--typist-seconds``, 0 to skip): a ``--typist-mb`` MB LaTeX chapter is
opened, and for ``--typist-seconds`` a reader hovers a citation and asks for completion in
``\\cite{vas`` above the cursor, one request after the other with a short pause, first while
nobody types ("quiet"), then while a typist types in the middle of the chapter ("typing"): one
incremental didChange per keystroke, 4-12 a second, a backspace now and then, a new line at the
end of a sentence.  ``typist`` in the output gives the hover and completion p50/p95/max of both
phases (typing in a big document must not slow the reader down) and the keystrokes sent.

Prints one JSON object: request counts and p50/p95/max latencies per kind, errors (error answers,
timeouts, error-level log messages and tracebacks on the server's stderr: all must be 0), wrong
answers, file operations done, the RSS series (MB) with start/end/max, and the server's final
status. Everything is local (stdio pipes, no sockets); every loop is bounded by the deadline.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "papers"
REQUEST_TIMEOUT = 30.0

WORDS = ("sparse dense retrieval passage ranking citation library reader summary transformer "
         "attention diffusion gaze pathology index probe feature query expansion encoder decoder "
         "benchmark corpus annotation evaluation baseline ablation latency memory").split()
QUERIES = ["sparse retrieval", "attention transformer", "gaze estimation", "diffusion pathology",
           "citation expansion", "passage ranking library", "probe features", "topic17 retrieval",
           "deep residual", "zzzz nothing matches this"]
STABLE = {"vaswani2017attention": "Attention Is All You Need",
          "he2016deep": "Deep Residual Learning for Image Recognition"}


# --- the library --------------------------------------------------------------------------------

def paper_text(i: int, rev: int, rng: random.Random) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(120))
    return (f"Generated Soak Paper {i} Revision {rev} on {rng.choice(WORDS).title()} Retrieval\n\n"
            f"Ada Lovelace, Alan Turing\n\nAbstract\nWe study topic{i} with {words}.\n\n"
            f"1. Introduction\n{words}\n\n2. Method\nThe method of topic{i}: {words}\n\n"
            f"References\n[1] A. Vaswani et al. Attention is all you need. In NeurIPS, 2017.\n"
            f"[2] K. He et al. Deep residual learning for image recognition. In CVPR, 2016.\n")


def bib_text(n: int, rev: int) -> str:
    return "".join(f"@article{{soak{k:03d},\n  title = {{Soak Entry {k} Revision {rev}}},\n"
                   f"  author = {{Turing, Alan}},\n  year = {{{2000 + k % 24}}},\n}}\n\n" for k in range(n))


def build_library(dest: Path, papers: int, rng: random.Random) -> None:
    shutil.copytree(EXAMPLES, dest)
    gen = dest / "generated"
    gen.mkdir()
    for i in range(papers):
        (gen / f"soak-{i:04d}.txt").write_text(paper_text(i, 0, rng), encoding="utf-8")
    (gen / "soak.bib").write_text(bib_text(20, 0), encoding="utf-8")


class Churn(threading.Thread):
    """Keeps changing the generated part of the folder until ``stop`` is set."""

    def __init__(self, folder: Path, papers: int, seed: int, interval: float) -> None:
        super().__init__(name="soak-churn", daemon=True)
        self.gen = folder / "generated"
        self.rng = random.Random(seed)
        self.next_id = papers
        self.interval = interval
        self.stop = threading.Event()
        self.ops: dict[str, int] = {}
        self.errors: list[str] = []
        self.rev = 0
        self.bib_entries = 20

    def _do(self) -> str:
        files = sorted(self.gen.glob("soak-*.txt"))
        r = self.rng.random()
        self.rev += 1
        if r < 0.35 and files:
            f = self.rng.choice(files)
            f.write_text(paper_text(int(f.stem.split("-")[1]), self.rev, self.rng), encoding="utf-8")
            return "modify"
        if r < 0.55 and len(files) < 160:
            (self.gen / f"soak-{self.next_id:04d}.txt").write_text(paper_text(self.next_id, 0, self.rng),
                                                                    encoding="utf-8")
            self.next_id += 1
            return "add"
        if r < 0.75 and len(files) > 60:
            self.rng.choice(files).unlink()
            return "remove"
        if r < 0.9 and files:               # Zotero-style: write aside, rename over
            f = self.rng.choice(files)
            tmp = f.with_name(f".{f.name}.tmp")
            tmp.write_text(paper_text(int(f.stem.split("-")[1]), self.rev, self.rng), encoding="utf-8")
            os.replace(tmp, f)
            return "rename_over"
        n = self.rng.randint(10, 40)
        (self.gen / "soak.bib").write_text(bib_text(n, self.rev), encoding="utf-8")
        self.bib_entries = n
        return "bib"

    def run(self) -> None:
        while not self.stop.wait(self.interval * self.rng.uniform(0.5, 1.5)):
            try:
                op = self._do()
                self.ops[op] = self.ops.get(op, 0) + 1
            except OSError as exc:
                self.errors.append(repr(exc))


# --- the typist's chapter ------------------------------------------------------------------------------

TYPED = ("The results confirm what the ablation suggested. Retrieval with sparse features stays "
         "competitive when the corpus grows, as the benchmark shows. We leave the study of latency "
         "and memory to future work. ")


def big_chapter(mb: float, rng: random.Random) -> tuple[str, str, str]:
    """(text, hover needle, completion needle) of a LaTeX chapter of about ``mb`` MB: paragraphs
    of prose citing the stable keys, soak keys and a few unknown keys (diagnostics have work)."""
    keys = list(STABLE) + [f"soak{k:03d}" for k in range(10)] + ["unknownkey2031", "vaswani2017atention"]
    head = ("\\documentclass{article}\n\\begin{document}\n\\section{Reading}\n"
            "The reader hovers \\cite{vaswani2017attention} here.\n"
            "Typing \\cite{vas\n\n")
    parts, size = [head], len(head)
    while size < mb * 1_000_000:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90)))
        para = f"{words.capitalize()} \\cite{{{rng.choice(keys)}}} {words} \\citep{{{rng.choice(keys)}}}.\n\n"
        parts.append(para)
        size += len(para)
    parts.append("\\bibliography{library}\n\\end{document}\n")
    return "".join(parts), "\\cite{vaswani2017attention}", "Typing \\cite{vas"


# --- process memory --------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            pass
    return out


def tree_rss_mb(pid: int) -> tuple[float, int]:
    """(RSS of ``pid`` and all its descendants in MB, number of processes)."""
    total, n, todo, seen = 0, 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    n += 1
        except OSError:
            continue
        todo += _children(p)
    return round(total / 1024, 1), n


# --- the client ------------------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))], 2)


class Soak:
    def __init__(self, args, folder: Path, index: Path) -> None:
        self.args = args
        self.folder = folder
        self.index = index
        self.rng = random.Random(args.seed)
        self.lat: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.wrong: list[str] = []
        self.log_errors: list[str] = []
        self.tracebacks = 0
        self.stderr_lines = 0
        self.indexed = asyncio.Event()
        self.client = LanguageClient("paperlens-soak", "1")
        self.version = 1
        self.doc_lock = asyncio.Lock()
        draft = folder / "drafts" / "survey.tex"
        self.uri = draft.as_uri()
        self.base = draft.read_text(encoding="utf-8")
        self.text = self.base
        c = self.client

        @c.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def _create(params):
            return None

        @c.feature(types.PROGRESS)
        def _progress(params):
            value = params.value if isinstance(params.value, dict) else {}
            if value.get("kind") == "end":
                self.indexed.set()

        @c.feature(types.WINDOW_LOG_MESSAGE)
        def _log(params):
            if params.type == types.MessageType.Error:
                self.log_errors.append(params.message[:300])

        @c.feature(types.WINDOW_SHOW_MESSAGE)
        def _show(params):
            if params.type == types.MessageType.Error:
                self.log_errors.append(params.message[:300])

        @c.feature(types.WORKSPACE_CONFIGURATION)
        def _config(params):
            return [{"indexPath": str(self.index)} for _ in params.items]

        @c.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _diags(params):
            return None

    async def _stderr(self, stream) -> None:
        while True:
            line = await stream.readline()
            if not line:
                return
            self.stderr_lines += 1
            if line.startswith(b"Traceback"):
                self.tracebacks += 1

    async def timed(self, kind: str, coro):
        t = time.perf_counter()
        try:
            res = await asyncio.wait_for(coro, REQUEST_TIMEOUT)
        except Exception as exc:   # an error answer or a timeout
            self.errors.append(f"{kind}: {type(exc).__name__}: {str(exc)[:200]}")
            return None
        self.lat.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        return res

    def _pos_of(self, needle: str, delta: int) -> types.Position:
        i = self.text.index(needle) + delta
        line = self.text.count("\n", 0, i)
        col = i - (self.text.rfind("\n", 0, i) + 1)
        return types.Position(line=line, character=len(self.text[i - col:i].encode("utf-16-le")) // 2)

    async def edit(self) -> None:
        async with self.doc_lock:
            extra = "".join(f"\nNew sentence {self.rng.choice(WORDS)} \\cite{{{self.rng.choice(list(STABLE))}}}."
                            for _ in range(self.rng.randint(0, 6)))
            self.text = self.base + extra + "\nTyping \\cite{vas"
            self.version += 1
            t = time.perf_counter()
            self.client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=self.text)]))
            self.lat.setdefault("didChange", []).append((time.perf_counter() - t) * 1000)

    async def one(self) -> None:
        c = self.client
        r = self.rng.random()
        if r < 0.15:
            await self.edit()
            return
        if r < 0.7:     # position-based: no edit may come between the position and the answer
            async with self.doc_lock:
                await self._at_position(r)
            return
        q = self.rng.choice(QUERIES)
        await self.timed("workspace_symbol", c.workspace_symbol_async(types.WorkspaceSymbolParams(query=q)))

    async def _at_position(self, r: float) -> None:
        c, uri = self.client, types.TextDocumentIdentifier(uri=self.uri)
        text = self.text
        key = self.rng.choice(list(STABLE))
        hover_pos = self._pos_of("\\cite{" + key, len("\\cite{") + 2) if ("\\cite{" + key) in text else None
        end_pos = self._pos_of("Typing \\cite{vas", len("Typing \\cite{vas"))
        if r < 0.45 and hover_pos is not None:
            h = await self.timed("hover", c.text_document_hover_async(types.HoverParams(text_document=uri,
                                                                                       position=hover_pos)))
            if h is not None and f"**{STABLE[key]}**" not in h.contents.value:
                self.wrong.append(f"hover {key}: {h.contents.value[:120]!r}")
            elif h is None:
                self.wrong.append(f"hover {key}: no answer")
        else:
            res = await self.timed("completion", c.text_document_completion_async(types.CompletionParams(
                text_document=uri, position=end_pos)))
            if res is not None:
                labels = [i.label for i in res.items]
                if "vaswani2017attention" not in labels:
                    self.wrong.append(f"completion: {labels[:5]}")
                elif res.items and self.rng.random() < 0.3:
                    await self.timed("resolve", c.completion_item_resolve_async(res.items[0]))

    # -- the typist ------------------------------------------------------------------------------
    async def typist_phase(self) -> dict:
        c = self.client
        rng = random.Random(self.args.seed + 2)
        text, hover_needle, comp_needle = big_chapter(self.args.typist_mb, rng)
        path = self.folder / "drafts" / "chapter-big.tex"
        uri = path.as_uri()
        doc = types.TextDocumentIdentifier(uri=uri)
        c.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="latex", version=1, text=text)))

        def pos(needle: str, delta: int) -> types.Position:     # both are above the cursor: fixed
            i = text.index(needle) + delta
            return types.Position(line=text.count("\n", 0, i), character=i - (text.rfind("\n", 0, i) + 1))

        hover_pos = pos(hover_needle, len("\\cite{") + 3)
        comp_pos = pos(comp_needle, len(comp_needle))
        # the cursor: the start of a paragraph in the middle of the chapter (ASCII: one unit a char)
        mid = text.index("\n\n", len(text) // 2) + 2
        cursor = [text.count("\n", 0, mid), 0]
        lat: dict[str, dict[str, list[float]]] = {}
        wrong: list[str] = []
        keystrokes = [0]
        version = [1]

        async def reader(phase: str, deadline: float) -> None:
            out = lat.setdefault(phase, {"hover": [], "completion": []})
            while time.monotonic() < deadline:
                for kind in ("hover", "completion"):
                    t = time.perf_counter()
                    try:
                        if kind == "hover":
                            res = await asyncio.wait_for(c.text_document_hover_async(
                                types.HoverParams(text_document=doc, position=hover_pos)), REQUEST_TIMEOUT)
                            ok = res is not None and f"**{STABLE['vaswani2017attention']}**" in res.contents.value
                        else:
                            res = await asyncio.wait_for(c.text_document_completion_async(
                                types.CompletionParams(text_document=doc, position=comp_pos)), REQUEST_TIMEOUT)
                            ok = res is not None and "vaswani2017attention" in [i.label for i in res.items]
                    except Exception as exc:
                        self.errors.append(f"typist {kind}: {type(exc).__name__}: {str(exc)[:200]}")
                        continue
                    out[kind].append((time.perf_counter() - t) * 1000)
                    if not ok:
                        wrong.append(f"{phase} {kind}")
                    await asyncio.sleep(rng.uniform(0.03, 0.08))

        def send(start: tuple[int, int], end: tuple[int, int], new_text: str) -> None:
            version[0] += 1
            keystrokes[0] += 1
            c.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version[0]),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=start[0], character=start[1]),
                                      end=types.Position(line=end[0], character=end[1])),
                    text=new_text)]))

        async def typist(deadline: float) -> None:
            n = 0
            while time.monotonic() < deadline:
                await asyncio.sleep(rng.uniform(1 / 12, 1 / 4))
                line, col = cursor
                if col > 0 and rng.random() < 0.08:                 # a typo taken back
                    send((line, col - 1), (line, col), "")
                    cursor[1] -= 1
                    continue
                ch = TYPED[n % len(TYPED)]
                n += 1
                if ch == " " and col > 70 and rng.random() < 0.3:  # the editor wraps the line
                    send((line, col), (line, col), "\n")
                    cursor[0], cursor[1] = line + 1, 0
                    continue
                send((line, col), (line, col), ch)
                cursor[1] += 1

        seconds = self.args.typist_seconds
        await self.timed("hover", c.text_document_hover_async(types.HoverParams(text_document=doc, position=hover_pos)))
        await reader("quiet", time.monotonic() + seconds)
        deadline = time.monotonic() + seconds
        await asyncio.gather(reader("typing", deadline), typist(deadline))
        # the server took every keystroke: its diagnostics end up for the last version
        c.text_document_did_close(types.DidCloseTextDocumentParams(text_document=doc))
        self.wrong.extend(f"typist: wrong {w}" for w in wrong[:10])

        def stats(v: list[float]) -> dict:
            return {"n": len(v), "p50_ms": pct(v, 50), "p95_ms": pct(v, 95), "max_ms": pct(v, 100)}

        return {"document_mb": round(len(text.encode()) / 1e6, 2), "seconds_per_phase": seconds,
                "keystrokes": keystrokes[0], "keystrokes_per_s": round(keystrokes[0] / seconds, 1),
                **{phase: {kind: stats(v) for kind, v in kinds.items()} for phase, kinds in lat.items()},
                "wrong_answers": len(wrong)}

    async def requests(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            await self.one()

    async def sample(self, pid: int, deadline: float, series: list) -> None:
        t0 = time.monotonic()
        while True:
            rss, n = tree_rss_mb(pid)
            series.append({"t": round(time.monotonic() - t0, 1), "rss_mb": rss, "processes": n})
            if time.monotonic() >= deadline:
                return
            await asyncio.sleep(min(self.args.sample, max(0.0, deadline - time.monotonic())))

    async def run(self) -> dict:
        c = self.client
        cmd = [sys.executable, "-m", "paperlens", "serve", "--stdio", "--log-file", str(self.index / "server.log")]
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        self.index.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        await c.start_io(*cmd, env=env)
        server = c._server
        stderr_task = asyncio.create_task(self._stderr(server.stderr))
        await c.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True),
                workspace=types.WorkspaceClientCapabilities(configuration=True)),
            root_uri=self.folder.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=self.folder.as_uri(), name=self.folder.name)],
            initialization_options={"paperlens": {"indexPath": str(self.index)}}))
        c.initialized(types.InitializedParams())
        await asyncio.wait_for(self.indexed.wait(), 300)
        t_indexed = time.perf_counter() - t0
        c.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=self.uri, language_id="latex", version=1, text=self.text)))
        await self.edit()
        status = await self.timed("status", c.workspace_execute_command_async(
            types.ExecuteCommandParams(command="paperlens.server.status")))
        examples = status["papers"] - self.args.papers - 20      # the copy of examples/papers
        typist = await self.typist_phase() if self.args.typist_seconds > 0 else None

        series: list = []
        churn = Churn(self.folder, self.args.papers, self.args.seed + 1, self.args.churn_interval)
        deadline = time.monotonic() + self.args.seconds
        churn.start()
        try:
            await asyncio.gather(self.sample(server.pid, deadline, series),
                                 *(self.requests(deadline) for _ in range(self.args.concurrency)))
        finally:
            churn.stop.set()
            churn.join(10)
        # the index catches up with the folder: every paper file and .bib entry, nothing more
        expected = examples + len(list((self.folder / "generated").glob("soak-*.txt"))) + churn.bib_entries
        t_end = time.monotonic()
        while True:
            status = await self.timed("status", c.workspace_execute_command_async(
                types.ExecuteCommandParams(command="paperlens.server.status")))
            caught_up = isinstance(status, dict) and status["papers"] == expected and not status["indexing"]
            if caught_up or time.monotonic() - t_end > 30:
                break
            await asyncio.sleep(0.5)
        if not caught_up:
            self.wrong.append(f"index has {status.get('papers') if isinstance(status, dict) else status} "
                              f"papers 30 s after the last change, the folder {expected}")
        t_caught_up = time.monotonic() - t_end
        rss_after, _ = tree_rss_mb(server.pid)
        try:
            await asyncio.wait_for(c.shutdown_async(None), 30)
            c.exit(None)
            await asyncio.wait_for(server.wait(), 30)
        except Exception as exc:
            self.errors.append(f"shutdown: {type(exc).__name__}: {exc}")
            server.kill()
        stderr_task.cancel()
        await c.stop()
        rss = [s["rss_mb"] for s in series]
        kinds = {k: {"n": len(v), "p50_ms": pct(v, 50), "p95_ms": pct(v, 95), "max_ms": pct(v, 100),
                     "mean_ms": round(statistics.fmean(v), 2) if v else None} for k, v in sorted(self.lat.items())}
        files = sorted((self.folder / "generated").glob("soak-*.txt"))
        return {
            **({"typist": typist} if typist is not None else {}),
            "seconds": self.args.seconds, "concurrency": self.args.concurrency,
            "library": {"generated_papers_at_start": self.args.papers, "generated_papers_at_end": len(files),
                        "first_index_s": round(t_indexed, 2)},
            "requests": {"total": sum(len(v) for k, v in self.lat.items() if k not in ("didChange", "status")),
                         "by_kind": kinds},
            "errors": len(self.errors) + len(self.log_errors) + self.tracebacks + len(churn.errors),
            "error_details": {"requests": self.errors[:20], "log_messages": self.log_errors[:20],
                              "stderr_tracebacks": self.tracebacks, "file_ops": churn.errors[:20]},
            "wrong_answers": len(self.wrong), "wrong_examples": self.wrong[:10],
            "file_operations": dict(sorted(churn.ops.items())),
            "rss_mb": {"start": rss[0] if rss else None, "end": rss[-1] if rss else None,
                       "max": max(rss) if rss else None, "after_settle": rss_after,
                       "series": series},
            "server_stderr_lines": self.stderr_lines,
            "final_status": ({"papers": status.get("papers"), "indexing": status.get("indexing")}
                             if isinstance(status, dict) else status),
            "index_caught_up": {"ok": caught_up, "papers_expected": expected,
                                "seconds_after_last_change": round(t_caught_up, 2)},
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--papers", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--churn-interval", type=float, default=0.3, help="mean seconds between file changes")
    ap.add_argument("--sample", type=float, default=3.0, help="seconds between RSS samples")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--typist-seconds", type=float, default=20,
                    help="seconds of each typist phase (quiet, then typing); 0 skips the typist")
    ap.add_argument("--typist-mb", type=float, default=2.0, help="size of the typist's LaTeX chapter")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="paperlens-soak-"))
    try:
        rng = random.Random(args.seed)
        folder = tmp / "papers"
        build_library(folder, args.papers, rng)
        result = asyncio.run(Soak(args, folder, tmp / "index").run())
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))
    sys.exit(1 if result["errors"] else 0)


if __name__ == "__main__":
    main()
