"""paperlens and the tools researchers use today, driven the same way over stdio.

The generalised driver (``LspClient``, ``run_lsp_scenario``) speaks raw JSON-RPC, so a peer's
off-spec answer is measured and recorded instead of failing a typed client, and response sizes
are the bytes on the wire. It answers the server's own requests (``workspace/configuration``
from a per-server table, ``client/registerCapability``, progress tokens), and samples the RSS of
the server's whole process tree from ``/proc`` while it runs.

Peers are installed from PyPI into their own virtualenvs under ``bench/.cache/venvs/``:

- ``citation-langserver`` (pygls 0.10): reads the ``.bib`` files named in the
  ``citation.bibliographies`` setting sent with ``workspace/didChangeConfiguration``;
  completion after ``\\cite{`` or ``@`` filters keys by regex prefix;
- ``bibli-ls`` (Python >= 3.12): ``.bibli.toml`` in the workspace root with a ``bibfile``
  backend; Pandoc citations (``[@``) only;
- ``badness`` (a Rust binary on PyPI): ``badness lsp``, a LaTeX server that completes
  ``\\cite{`` keys from the ``\\bibliography{}`` the document names.
"""
from __future__ import annotations

import asyncio
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENVS = BENCH / ".cache" / "venvs"
sys.path.insert(0, str(BENCH))

from lsp_latency import pct, summary  # noqa: E402  (the existing driver's statistics)


# --- process tree memory -------------------------------------------------------------------------


# rounds of the workspace/symbol queries (each query once a round): the first is cold (what it
# reads is not cached yet), so the median of 3 was the slower of two warm rounds and one round
# disturbed by other work on the machine decided it; of 5, the middle of four warm rounds
# (bench/run.py times rg as many times a query)
SYMBOL_ROUNDS = 5


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat, "rb") as f:
                data = f.read().decode("utf-8", "replace")
            pid = int(data.split(" ", 1)[0])
            ppid = int(data.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(pid)
    return kids


def tree_pids(pid: int) -> list[int]:
    kids = _children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    return sum(rss_kb(p) for p in tree_pids(pid)) / 1024


def tree_rss_parts_mb(pid: int) -> dict:
    """RSS of a process tree split into anonymous memory (heap) and file-backed pages (mmap'd
    index files, shared libraries), from /proc/PID/status."""
    parts = {"RssAnon": 0, "RssFile": 0, "RssShmem": 0}
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    name = line.split(":", 1)[0]
                    if name in parts:
                        parts[name] += int(line.split()[1])
        except OSError:
            pass
    return {"anon_mb": round(parts["RssAnon"] / 1024, 1), "file_mb": round(parts["RssFile"] / 1024, 1)}


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid: int) -> float:
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                fields = f.read().decode("utf-8", "replace").rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / _TICK


async def wait_idle(pid: int, max_s: float, window: float = 0.5, busy: float = 0.05) -> tuple[float, bool]:
    """Wait until the process tree uses less than ``busy`` of a core over ``window`` seconds
    (background loading, indexing and caches done). Returns (seconds waited, reached idle)."""
    t0 = time.perf_counter()
    last = tree_cpu_s(pid)
    while time.perf_counter() - t0 < max_s:
        await asyncio.sleep(window)
        now = tree_cpu_s(pid)
        if now - last < busy * window:
            return time.perf_counter() - t0, True
        last = now
    return time.perf_counter() - t0, False


class RssSampler:
    """Polls the RSS of a process tree every ``interval`` seconds (a daemon thread)."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval = pid, interval
        self.peak = 0.0
        self.last = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.peak_anon = self.peak_file = 0.0
        while not self._stop.is_set():
            parts = tree_rss_parts_mb(self.pid)
            v = parts["anon_mb"] + parts["file_mb"]
            if v:
                self.last = v
                self.peak = max(self.peak, v)
                self.peak_anon = max(self.peak_anon, parts["anon_mb"])
                self.peak_file = max(self.peak_file, parts["file_mb"])
            self._stop.wait(self.interval)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(2)
        return {"peak_mb": round(self.peak, 1), "last_mb": round(self.last, 1),
                "peak_anon_mb": round(getattr(self, "peak_anon", 0.0), 1),
                "peak_file_mb": round(getattr(self, "peak_file", 0.0), 1)}


def run_measured(cmd: list[str], timeout: float, env: Optional[dict] = None, cwd: Optional[str] = None) -> dict:
    """Run a command to completion: wall time, exit status, stdout, and the peak RSS of its
    process tree (sum over processes, sampled) and of its largest process (``ru_maxrss``)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    sampler = RssSampler(proc.pid, 0.05)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    t_out = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True)
    t_err = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    t_out.start(); t_err.start()
    timed_out = False
    rusage = None
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            rusage = ru
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        if time.perf_counter() - t0 > timeout:
            timed_out = True
            for p in reversed(tree_pids(proc.pid)):
                try:
                    os.kill(p, 9)
                except OSError:
                    pass
            _, status, rusage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            break
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    mem = sampler.stop()
    t_out.join(5); t_err.join(5)
    return {"seconds": round(wall, 3), "returncode": proc.returncode, "timed_out": timed_out,
            "peak_tree_rss_mb": mem["peak_mb"],
            "max_process_rss_mb": round(rusage.ru_maxrss / 1024, 1) if rusage else None,
            "stdout": b"".join(out_chunks).decode("utf-8", "replace"),
            "stderr": b"".join(err_chunks).decode("utf-8", "replace")[-4000:]}


# --- a raw JSON-RPC language client ---------------------------------------------------------------

class LspError(Exception):
    pass


class LspClient:
    """Speaks LSP over a child's stdio; answers what a typical editor answers."""

    def __init__(self, cmd: list[str], cwd: Optional[str] = None, env: Optional[dict] = None,
                 config: Optional[dict] = None, stderr_path: Optional[Path] = None):
        self.cmd, self.cwd, self.env = cmd, cwd, env
        self.config = config or {}
        self.stderr_path = stderr_path
        self.proc: Optional[asyncio.subprocess.Process] = None
        self._id = 0
        self._pending: dict[int, asyncio.Future] = {}
        self.notifications: list[tuple[float, str, Any]] = []
        self.progress_ended = asyncio.Event()
        self.registrations: list[dict] = []
        self._reader: Optional[asyncio.Task] = None
        self.closed = False
        self.server_requests: dict[str, int] = {}

    async def start(self) -> None:
        errf = open(self.stderr_path, "wb") if self.stderr_path else asyncio.subprocess.DEVNULL
        self.proc = await asyncio.create_subprocess_exec(
            *self.cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=errf,
            cwd=self.cwd, env=self.env, limit=1 << 26)
        self._reader = asyncio.create_task(self._read_loop())

    async def _read_loop(self) -> None:
        reader = self.proc.stdout
        try:
            while True:
                length = None
                while True:
                    line = await reader.readline()
                    if not line:
                        raise EOFError
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.decode("ascii", "replace").partition(":")
                    if name.lower() == "content-length":
                        length = int(value.strip())
                if length is None:
                    continue
                body = await reader.readexactly(length)
                try:
                    msg = json.loads(body)
                except ValueError:
                    continue
                self._dispatch(msg, length)
        except (EOFError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed = True
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(LspError("server closed the connection"))

    def _dispatch(self, msg: dict, nbytes: int) -> None:
        if "id" in msg and ("result" in msg or "error" in msg) and "method" not in msg:
            fut = self._pending.pop(msg["id"], None)
            if fut is not None and not fut.done():
                fut.set_result((msg, nbytes))
            return
        method = msg.get("method", "")
        params = msg.get("params")
        if "id" in msg:         # a request from the server
            self.server_requests[method] = self.server_requests.get(method, 0) + 1
            result: Any = None
            if method == "workspace/configuration":
                result = [self._section((item or {}).get("section")) for item in (params or {}).get("items", [])]
            elif method == "client/registerCapability":
                self.registrations += (params or {}).get("registrations", [])
            elif method == "workspace/workspaceFolders":
                result = None
            self._send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            return
        self.notifications.append((time.perf_counter(), method, params))
        if len(self.notifications) > 5000:
            del self.notifications[:1000]
        if method == "$/progress":
            value = (params or {}).get("value") or {}
            if value.get("kind") == "end":
                self.progress_ended.set()

    def _section(self, section: Optional[str]) -> Any:
        if not section:
            return self.config
        node: Any = self.config
        for part in section.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def _send(self, msg: dict) -> None:
        if self.proc is None or self.proc.stdin is None or self.proc.stdin.is_closing():
            return
        body = json.dumps(msg, ensure_ascii=False).encode("utf-8")
        try:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        except (ConnectionError, RuntimeError):
            pass

    async def request(self, method: str, params: Any, timeout: float = 30.0) -> tuple[Any, int, float]:
        """(result, response bytes, milliseconds). Raises LspError on an error response."""
        if self.closed:
            raise LspError("server has exited")
        self._id += 1
        rid = self._id
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        t = time.perf_counter()
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        try:
            await self.proc.stdin.drain()
            msg, nbytes = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self._pending.pop(rid, None)
            self._send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": rid}})
            raise LspError(f"{method}: no answer within {timeout:.0f} s")
        ms = (time.perf_counter() - t) * 1000
        if "error" in msg:
            raise LspError(f"{method}: {msg['error'].get('message', msg['error'])}")
        return msg.get("result"), nbytes, ms

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def close(self, timeout: float = 5.0) -> None:
        if self.proc is None:
            return
        if not self.closed:
            try:
                await self.request("shutdown", None, timeout=timeout)
            except Exception:
                pass
            self.notify("exit", None)
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()
            except Exception:
                pass
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            for p in reversed(tree_pids(self.proc.pid)):
                try:
                    os.kill(p, 9)
                except OSError:
                    pass
            await self.proc.wait()
        if self._reader:
            self._reader.cancel()


# --- one server on one corpus ------------------------------------------------------------------------

@dataclass
class Scenario:
    """How to drive one server: what it needs, which document, where to ask."""
    name: str
    cmd: list[str]
    root: str                               # workspace folder
    doc: str                                # the draft opened in the editor
    language: str                           # "latex" | "markdown"
    trigger: str                            # text after which completion is asked ("\\cite{", "[@")
    hover_key: str
    prefix2: str
    cited_keys: list[str] = field(default_factory=list)     # hovered once each (cold cards)
    init_options: Any = None
    config: dict = field(default_factory=dict)          # answers to workspace/configuration
    did_change_configuration: Any = None                # settings sent after initialized
    env: Optional[dict] = None
    watch_files: bool = False                           # advertise dynamic file watching
    symbol_queries: list[str] = field(default_factory=list)
    rounds: int = 50
    loop_seconds: float = 60.0                          # bound of every measurement loop
    first_completion_timeout: float = 120.0
    idle_timeout: float = 120.0
    request_timeout: float = 60.0
    notes: list[str] = field(default_factory=list)
    after: Optional[Callable] = None                    # async fn(client, result) for extra steps


def _items(result: Any) -> int:
    if result is None:
        return 0
    if isinstance(result, dict):
        return len(result.get("items") or [])
    if isinstance(result, list):
        return len(result)
    return 0


def _key_position(text: str, key: str, language: str) -> Optional[tuple[int, int]]:
    """(line, character) inside the first citation of ``key`` (character in UTF-16 units)."""
    pat = re.compile(r"\\\w*cite\w*\*?(?:\[[^\]]*\])*\{[^}]*?\b" + re.escape(key) if language == "latex"
                     else r"@" + re.escape(key))
    m = pat.search(text)
    if not m:
        return None
    off = m.end() - len(key) + 2
    line = text.count("\n", 0, off)
    col = off - (text.rfind("\n", 0, off) + 1)
    return line, len(text[off - col:off].encode("utf-16-le")) // 2


async def _timed_loop(fn, rounds: int, seconds: float) -> tuple[list[float], int, int, list[str]]:
    """Call ``fn`` up to ``rounds`` times within ``seconds``: (ms list, last bytes, last items, errors)."""
    ms, nbytes, items, errors = [], 0, 0, []
    t_end = time.perf_counter() + seconds
    for _ in range(rounds):
        try:
            result, nbytes, dt = await fn()
            ms.append(dt)
            items = _items(result)
        except LspError as exc:
            errors.append(str(exc))
            if "exited" in str(exc) or "closed" in str(exc) or len(errors) > 3:
                break
        if time.perf_counter() > t_end:
            break
    return ms, nbytes, items, errors


def _stat(ms: list[float], nbytes: int, items: Optional[int] = None, errors: Optional[list[str]] = None) -> dict:
    out = {**summary(ms), "bytes": nbytes}
    if items is not None:
        out["items"] = items
    if errors:
        out["errors"] = errors[:3]
    return out


async def run_lsp_scenario(sc: Scenario, log_dir: Path) -> dict:
    """spawn -> initialize -> first non-empty completion; completion (empty and two-letter
    prefix), hover, definition, workspace/symbol; RSS of the process tree."""
    log_dir.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"server": sc.name, "command": sc.cmd, "document": sc.doc, "status": "ok"}
    if sc.notes:
        res["notes"] = list(sc.notes)
    client = LspClient(sc.cmd, cwd=sc.root, env=sc.env, config=sc.config,
                       stderr_path=log_dir / f"{sc.name}.stderr.log")
    text = Path(sc.doc).read_text(encoding="utf-8")
    full = text.rstrip("\n") + "\n" + sc.trigger
    last_line = full.count("\n")
    uri = Path(sc.doc).as_uri()
    root_uri = Path(sc.root).as_uri()
    sampler = None
    t0 = time.perf_counter()
    try:
        await client.start()
        sampler = RssSampler(client.proc.pid, 0.1)
        caps = {
            "workspace": {"configuration": True, "workspaceFolders": True, "symbol": {},
                          "didChangeConfiguration": {"dynamicRegistration": False},
                          "didChangeWatchedFiles": {"dynamicRegistration": sc.watch_files,
                                                    "relativePatternSupport": True}},
            "textDocument": {"completion": {"completionItem": {"snippetSupport": False,
                                                               "documentationFormat": ["markdown", "plaintext"]}},
                             "hover": {"contentFormat": ["markdown", "plaintext"]},
                             "definition": {}, "synchronization": {"didSave": True}},
            "window": {"workDoneProgress": True},
        }
        init, _, _ = await client.request("initialize", {
            "processId": os.getpid(), "rootUri": root_uri, "rootPath": sc.root,
            "workspaceFolders": [{"uri": root_uri, "name": Path(sc.root).name}],
            "capabilities": caps, "initializationOptions": sc.init_options,
            "clientInfo": {"name": "paperlens-bench", "version": "1"}}, timeout=sc.first_completion_timeout)
        res["spawn_to_initialized_s"] = round(time.perf_counter() - t0, 3)
        server_caps = (init or {}).get("capabilities", {})
        res["server_info"] = (init or {}).get("serverInfo")
        client.notify("initialized", {})
        if sc.did_change_configuration is not None:
            client.notify("workspace/didChangeConfiguration", {"settings": sc.did_change_configuration})
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": sc.language, "version": 1, "text": full}})
        comp_pos = {"line": last_line, "character": len(sc.trigger)}

        def completion(pos):
            return lambda: client.request("textDocument/completion", {
                "textDocument": {"uri": uri}, "position": pos,
                "context": {"triggerKind": 1}}, timeout=sc.request_timeout)

        # first completion with at least one item (servers that load in the background answer
        # empty lists, or not at all, until they are ready)
        attempts, first_items, first_bytes = 0, 0, 0
        deadline = t0 + sc.first_completion_timeout
        while time.perf_counter() < deadline:
            attempts += 1
            try:
                result, first_bytes, _ = await completion(comp_pos)()
                first_items = _items(result)
            except LspError as exc:
                if client.closed:
                    raise
                res.setdefault("first_completion_errors", []).append(str(exc))
            if first_items:
                break
            await asyncio.sleep(0.02)
        res["spawn_to_first_completion_s"] = round(time.perf_counter() - t0, 3) if first_items else None
        res["first_completion"] = {"items": first_items, "bytes": first_bytes, "attempts": attempts}
        if not first_items:
            res["status"] = "no completion items"
        res["rss_after_first_completion_mb"] = round(tree_rss_mb(client.proc.pid), 1)
        # latencies are measured on an idle server (startup work done), as an editor sees it
        # once the user starts typing; how long that took is reported
        waited, idle = await wait_idle(client.proc.pid, sc.idle_timeout)
        res["spawn_to_idle_s"] = round(time.perf_counter() - t0, 3)
        if not idle:
            res["idle_note"] = f"still busy after {waited:.0f} s; measured anyway"
        res["rss_idle_mb"] = round(tree_rss_mb(client.proc.pid), 1)

        ms, nb, it, err = await _timed_loop(completion(comp_pos), sc.rounds, sc.loop_seconds)
        res["completion_empty_prefix"] = _stat(ms, nb, it, err)
        version = 2
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"text": full + sc.prefix2}]})
        pos2 = {"line": last_line, "character": len(sc.trigger) + len(sc.prefix2)}
        ms, nb, it, err = await _timed_loop(completion(pos2), sc.rounds, sc.loop_seconds)
        res["completion_prefix2"] = {**_stat(ms, nb, it, err), "prefix": sc.prefix2}

        key_pos = _key_position(full, sc.hover_key, sc.language)
        if key_pos is None:
            res["hover"] = {"error": f"key {sc.hover_key} not found in the document"}
        else:
            pos = {"line": key_pos[0], "character": key_pos[1]}
            ms, nb, it, err = await _timed_loop(lambda: client.request("textDocument/hover", {
                "textDocument": {"uri": uri}, "position": pos}, timeout=sc.request_timeout),
                sc.rounds, sc.loop_seconds)
            res["hover"] = _stat(ms, nb, None, err)
            res["hover"]["answered"] = nb > 60
            # every cited key once: the first hover of a paper (card not cached yet)
            ms, answered, errs = [], 0, []
            t_end = time.perf_counter() + sc.loop_seconds
            for key in sc.cited_keys[: sc.rounds]:
                kp = _key_position(full, key, sc.language)
                if kp is None:
                    continue
                try:
                    result, nb, dt = await client.request("textDocument/hover", {
                        "textDocument": {"uri": uri}, "position": {"line": kp[0], "character": kp[1]}},
                        timeout=sc.request_timeout)
                    ms.append(dt)
                    answered += result is not None
                except LspError as exc:
                    errs.append(str(exc))
                    if client.closed:
                        break
                if time.perf_counter() > t_end:
                    break
            res["hover_each_key_once"] = {**summary(ms), "answered": answered, **({"errors": errs[:3]} if errs else {})}
            if server_caps.get("definitionProvider"):
                ms, nb, it, err = await _timed_loop(lambda: client.request("textDocument/definition", {
                    "textDocument": {"uri": uri}, "position": pos}, timeout=sc.request_timeout),
                    max(5, sc.rounds // 2), sc.loop_seconds)
                res["definition"] = _stat(ms, nb, it, err)
            else:
                res["definition"] = {"supported": False}
        if server_caps.get("workspaceSymbolProvider") and sc.symbol_queries:
            per_query, all_ms, nb_max = {}, [], 0
            t_end = time.perf_counter() + sc.loop_seconds
            for rnd in range(SYMBOL_ROUNDS):
                for q in sc.symbol_queries:
                    try:
                        result, nb, dt = await client.request("workspace/symbol", {"query": q},
                                                              timeout=sc.request_timeout)
                    except LspError as exc:
                        per_query.setdefault(q, {"errors": []}).setdefault("errors", []).append(str(exc))
                        continue
                    all_ms.append(dt)
                    nb_max = max(nb_max, nb)
                    entry = per_query.setdefault(q, {"ms": [], "results": _items(result)})
                    entry.setdefault("ms", []).append(round(dt, 2))
                    if rnd == 0:
                        entry["top_uris"] = [((s.get("location") or {}).get("uri") or "").rsplit("/", 1)[-1]
                                             for s in (result or [])[:10] if isinstance(s, dict)]
                    if rnd > 0 and time.perf_counter() > t_end:
                        break
                if time.perf_counter() > t_end:
                    break
            res["workspace_symbol"] = {**summary(all_ms), "max_bytes": nb_max, "per_query": per_query}
        else:
            res["workspace_symbol"] = {"supported": bool(server_caps.get("workspaceSymbolProvider")),
                                       "measured": False}
        if sc.after is not None:
            res.update(await sc.after(client, res))
        res["rss_end_mb"] = round(tree_rss_mb(client.proc.pid), 1)
    except Exception as exc:   # every failure is a result
        res["status"] = f"failed: {type(exc).__name__}: {exc}"
    finally:
        try:
            await client.close()
        except Exception:
            pass
        if sampler is not None:
            res["rss"] = sampler.stop()
            res["rss"]["peak_mb"] = max([res["rss"]["peak_mb"]] + [res[k] for k in (
                "rss_after_first_completion_mb", "rss_idle_mb", "rss_end_mb") if isinstance(res.get(k), float)])
        res["server_requests"] = client.server_requests
        res["wall_s"] = round(time.perf_counter() - t0, 2)
        shown = [p.get("message", "") for _, m, p in client.notifications
                 if m in ("window/showMessage", "window/logMessage") and isinstance(p, dict)]
        if shown:
            res["messages"] = [s[:200] for s in shown[-5:]]
        errlog = log_dir / f"{sc.name}.stderr.log"
        if res["status"] != "ok" and errlog.exists():
            res["stderr_tail"] = errlog.read_text(errors="replace")[-1500:]
    return res


# --- installing the peers ------------------------------------------------------------------------------

def python_312() -> tuple[Optional[str], str]:
    """A Python >= 3.12 interpreter, and where it was found (or why none was)."""
    cands = [shutil.which(n) for n in ("python3.13", "python3.12")]
    cands += sorted(glob.glob("/root/.pyenv/versions/3.1[2-9]*/bin/python3"), reverse=True)
    cands += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python3")), reverse=True)
    cands += sorted(glob.glob("/usr/bin/python3.1[2-9]"), reverse=True)
    cands += sorted(glob.glob("/usr/local/bin/python3.1[2-9]"), reverse=True)
    if shutil.which("uv"):
        try:
            p = subprocess.run(["uv", "python", "find", ">=3.12"], capture_output=True, text=True, timeout=20)
            if p.returncode == 0 and p.stdout.strip():
                cands.append(p.stdout.strip())
        except Exception:
            pass
    for c in cands:
        if not c:
            continue
        try:
            p = subprocess.run([c, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, timeout=20)
        except Exception:
            continue
        if p.returncode == 0 and tuple(map(int, p.stdout.strip().split("."))) >= (3, 12):
            return c, f"{c} (Python {p.stdout.strip()})"
    return None, f"not run: needs Python >=3.12, only {sys.version_info[0]}.{sys.version_info[1]} available"


def ensure_venv(name: str, packages: list[str], python: str = sys.executable, timeout: float = 600) -> dict:
    """A virtualenv under bench/.cache/venvs/NAME with ``packages`` installed (reused when present)."""
    venv = VENVS / name
    stamp = venv / ".bench-installed"
    info: dict[str, Any] = {"venv": str(venv), "python": python}
    if stamp.exists() and stamp.read_text() == json.dumps(packages):
        info["installed"] = "cached"
    else:
        t = time.perf_counter()
        shutil.rmtree(venv, ignore_errors=True)
        VENVS.mkdir(parents=True, exist_ok=True)
        p = subprocess.run([python, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"venv failed: {p.stderr[-500:]}")
        p = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *packages],
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"pip install {' '.join(packages)} failed: {p.stderr.strip()[-800:]}")
        stamp.write_text(json.dumps(packages))
        info["installed"] = f"{time.perf_counter() - t:.0f} s"
    versions = {}
    for pkg in packages:
        p = subprocess.run([str(venv / "bin" / "pip"), "show", pkg.split("=")[0].split("<")[0].split(">")[0]],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"^Version: (.+)$", p.stdout, re.MULTILINE)
        versions[pkg] = m.group(1) if m else None
    info["versions"] = versions
    return info


def ensure_ripgrep() -> tuple[Optional[str], str]:
    rg = shutil.which("rg")
    if rg:
        return rg, subprocess.run([rg, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    if os.geteuid() == 0 and shutil.which("apt-get"):
        for cmd in (["apt-get", "install", "-y", "-q", "ripgrep"], ["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "ripgrep"]):
            try:
                subprocess.run(cmd, capture_output=True, timeout=300,
                               env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            except Exception:
                pass
            rg = shutil.which("rg")
            if rg:
                return rg, subprocess.run([rg, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return None, "ripgrep is not installed and could not be installed"


# --- the peer scenarios -----------------------------------------------------------------------------------

def citation_langserver(corpus: dict, rounds: int) -> tuple[Optional[Scenario], dict]:
    try:
        info = ensure_venv("citation-langserver", ["citation-langserver"])
    except Exception as exc:
        return None, {"status": f"not run: install failed: {exc}"}
    bib, compat = citation_bib(corpus)
    info["original_bib"] = compat
    sc = Scenario(
        name="citation-langserver", cmd=[str(VENVS / "citation-langserver" / "bin" / "citation-langserver")],
        root=corpus["library"], doc=corpus["draft_tex"], language="latex", trigger="\\cite{",
        hover_key=corpus["hover_key"], prefix2=corpus["prefix2"], rounds=rounds, cited_keys=corpus["cited_keys"],
        config={"citation": {"bibliographies": [bib]}},
        did_change_configuration={"citation": {"bibliographies": [bib]}},
        notes=["settings: citation.bibliographies = [absolute .bib path] via workspace/didChangeConfiguration",
               f"its parser (bibparse) reads {compat.get('entries')} of {len(corpus['keys'])} entries of the "
               f"original library.bib ({compat.get('error') or 'no error'}): a '\\\"' inside a braced "
               "value (LaTeX umlauts such as M{\\\"u}ller) ends the value; it is measured on a copy with "
               "those accents written in UTF-8",
               "completion filters keys by regex prefix only (no author/title matching), every item "
               "carries its documentation; no workspace/symbol"])
    return sc, info


_UMLAUT = re.compile(r'\{\\"\{?([A-Za-z])\}?\}')


def citation_bib(corpus: dict) -> tuple[str, dict]:
    """A copy of library.bib that bibparse reads whole (UTF-8 umlauts), and how much of the
    original it reads (entries before it stops, the error)."""
    import unicodedata

    src = Path(corpus["bib"])
    dest = Path(corpus["root"]) / "peer-files" / "library-utf8-umlauts.bib"
    dest.parent.mkdir(parents=True, exist_ok=True)
    text = src.read_text(encoding="utf-8")
    dest.write_text(_UMLAUT.sub(lambda m: unicodedata.normalize("NFC", m.group(1) + "\u0308"), text),
                    encoding="utf-8")
    py = str(VENVS / "citation-langserver" / "bin" / "python")
    code = ("import sys, json\nfrom bibparse import Biblio\nb = Biblio()\nerr = ''\n"
            "try:\n    b.read(sys.argv[1])\nexcept Exception as e:\n    err = type(e).__name__ + str(e.args)\n"
            "print(json.dumps({'entries': len(b), 'error': err}))")
    out: dict = {}
    for name, path in (("original", src), ("copy", dest)):
        try:
            p = subprocess.run([py, "-c", code, str(path)], capture_output=True, text=True, timeout=300)
            out[name] = json.loads(p.stdout)
        except Exception as exc:
            out[name] = {"error": str(exc)}
    return str(dest), {**out["original"], "copy": out["copy"]}


def bibli_ls(corpus: dict, rounds: int) -> tuple[Optional[Scenario], dict]:
    py, where = python_312()
    if py is None:
        return None, {"status": where}
    try:
        info = ensure_venv("bibli-ls", ["bibli-ls"], python=py)
    except Exception as exc:
        return None, {"status": f"not run: install failed: {exc}", "python": where}
    info["python"] = where
    root = Path(corpus["library"])
    (root / ".bibli.toml").write_text(
        '[backends.library]\nbackend_type = "bibfile"\nbibfiles = ["library.bib"]\n\n'
        '[cite]\npreset = "pandoc"\n', encoding="utf-8")
    env = dict(os.environ)
    env["PATH"] = str(VENVS / "bibli-ls" / "bin") + os.pathsep + env.get("PATH", "")
    sc = Scenario(
        name="bibli-ls", cmd=[str(VENVS / "bibli-ls" / "bin" / "bibli_ls")], env=env,
        root=str(root), doc=corpus["draft_md"], language="markdown", trigger="[@",
        hover_key=corpus["hover_key"], prefix2=corpus["prefix2"], rounds=rounds, cited_keys=corpus["cited_keys"],
        notes=["config: .bibli.toml in the workspace root, backend_type = \"bibfile\"",
               "Pandoc citations only, so it is driven with the Markdown draft; completion returns "
               "every entry (no server-side filtering); definition and references shell out to rg"])
    return sc, info


def badness(corpus: dict, rounds: int) -> tuple[Optional[Scenario], dict]:
    try:
        info = ensure_venv("badness", ["badness"])
    except Exception as exc:
        return None, {"status": f"not run: install failed: {exc}"}
    sc = Scenario(
        name="badness", cmd=[str(VENVS / "badness" / "bin" / "badness"), "lsp"],
        root=corpus["library"], doc=corpus["draft_tex"], language="latex", trigger="\\cite{",
        hover_key=corpus["hover_key"], prefix2=corpus["prefix2"], rounds=rounds, cited_keys=corpus["cited_keys"],
        notes=["LaTeX language server (Rust); keys come from the \\bibliography{library} the draft names"])
    return sc, info


def paperlens(corpus: dict, rounds: int, index_path: str, doc: str = "tex",
              after: Optional[Callable] = None) -> Scenario:
    md = doc == "md"
    return Scenario(
        name="paperlens" + ("-md" if md else ""),
        cmd=[sys.executable, "-m", "paperlens", "serve"],
        root=corpus["library"], doc=corpus["draft_md" if md else "draft_tex"],
        language="markdown" if md else "latex", trigger="[@" if md else "\\cite{",
        hover_key=corpus["hover_key"], prefix2=corpus["prefix2"], rounds=rounds, cited_keys=corpus["cited_keys"],
        init_options={"paperlens": {"indexPath": index_path}},
        config={"paperlens": {"indexPath": index_path}},
        watch_files=True, after=after,
        symbol_queries=[] if md else corpus["topic_queries"] + [c["query"] for c in corpus["search_checks"]])
