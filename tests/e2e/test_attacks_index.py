"""Issue 13, the index build and search (cases 2, 3, 7 and 10), end to end.

2. A PDF whose 1,000 pages share one content stream of 100k text operators: the server's first
   commit is not held up by it, and ``exit`` ends the server while a parse hangs.
3. SIGKILL of ``paperlens index`` during a parallel rebuild leaves no worker and no resource
   tracker behind.
7. A full disk: "disk full while writing the index at ...", the old index kept, exit non-zero;
   in the server the same message, and the old index keeps answering. A real full disk: a
   small tmpfs in a user and mount namespace (``unshare -Urm``); skipped where the kernel does
   not allow one.
10. An empty library answers "no papers yet", quietly.

Hangs are simulated with the fault hook PAPERLENS_FAULT_HANG_ON (a worker blocks for good on
that file, after writing its pid to PAPERLENS_FAULT_HANG_MARK). The tests wait for events
(a mark, a message, a process's end); the time limits below only keep a broken test from
hanging CI.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import SERVER, start

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fixtures.bomb_pdfs import make_shared_stream_pdf  # noqa: E402
from fixtures.pdfs import make_paper_pdf  # noqa: E402
from fixtures.processes import GUARD, alive, children, cmdline, marked_pids as marked, proc_stat, wait_until  # noqa: E402

import pytest_lsp  # noqa: E402
from pytest_lsp import ClientServerConfig  # noqa: E402

PAPERLENS = [sys.executable, "-m", "paperlens"]
def hang_env(mark: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PAPERLENS_FAULT_HANG_ON": "stuck.pdf", "PAPERLENS_FAULT_HANG_MARK": str(mark),
            "PAPERLENS_PARSE_TIMEOUT": "3600", **extra}


def paper_text(title: str, word: str) -> str:
    return (f"{title}\n\nAlice Martin, Bruno Keller\n\nAbstract\nWe study {word} retrieval. The "
            f"{word} method ranks passages well.\n\n1. Introduction\nReaders search libraries.\n")


# --- a bare LSP client over stdio: its own process, its own environment -----------------------------

class RawServer:
    """``paperlens serve`` (or ``command``) driven with raw JSON-RPC, to watch the process itself:
    its environment, its children and its end."""

    def __init__(self, env: dict[str, str], command=None, cwd=None):
        self.proc = subprocess.Popen(command or SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, cwd=cwd)
        self.messages: "queue.Queue[dict]" = queue.Queue()
        self.notifications: list[dict] = []
        self.stderr: list[bytes] = []
        self._id = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            msg = json.loads(out.read(length))
            if "id" in msg and "method" in msg:        # a request of the server: answered with null
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            elif "method" in msg:
                self.notifications.append(msg)
            self.messages.put(msg)

    def send(self, msg: dict) -> None:
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params) -> dict:
        self._id += 1
        rid = self._id
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        end = time.monotonic() + GUARD
        while time.monotonic() < end:
            try:
                msg = self.messages.get(timeout=1)
            except queue.Empty:
                continue
            if msg.get("id") == rid and "method" not in msg:
                assert "error" not in msg, msg
                return msg.get("result")
        raise AssertionError(f"no answer to {method}")

    def notify(self, method: str, params) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def initialize(self, folder: Path, settings: dict) -> None:
        self.request("initialize", {"processId": os.getpid(), "rootUri": folder.as_uri(),
                                    "capabilities": {"window": {"workDoneProgress": True}},
                                    "workspaceFolders": [{"uri": folder.as_uri(), "name": folder.name}],
                                    "initializationOptions": {"paperlens": settings}})
        self.notify("initialized", {})

    def progress_ended(self) -> int:
        return sum(1 for n in self.notifications if n["method"] == "$/progress"
                   and n["params"]["value"].get("kind") == "end")

    def shown(self) -> list[str]:
        return [n["params"]["message"] for n in self.notifications if n["method"] == "window/showMessage"]

    def logged(self) -> list[str]:
        return [n["params"]["message"] for n in self.notifications if n["method"] == "window/logMessage"]

    def command(self, name: str, *args):
        return self.request("workspace/executeCommand", {"command": name, "arguments": list(args)})

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# --- 2. a PDF that costs hours: the first commit and `exit` are not held up ---------------------------

@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def bomb_client(lsp_client: LanguageClient, library_dir, index_dir):
    """A server on the example library (a small folder) with issue 13's PDF in it."""
    make_shared_stream_pdf(library_dir / "papers" / "shared-stream.pdf")
    await start(lsp_client, library_dir, index_dir)
    yield
    await lsp_client.shutdown_session()


async def test_hostile_pdf_does_not_hold_up_the_first_commit(bomb_client: LanguageClient):
    """Parsed in the indexing thread, the file blocked the first commit for ~45 minutes; now only
    its first pages are read (the text budget of one file) and the whole folder is committed."""
    status = await bomb_client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.status", arguments=[]))
    (last,) = status["last"]
    assert last["skipped"] == []
    assert any(w.startswith("shared-stream.pdf: only the first 10 of 1000 pages were read")
               for w in last["warnings"])
    hits = await bomb_client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="paperlens.server.search", arguments=["attention recurrence"]))
    assert hits[0]["key"] == "vaswani2017attention"


@pytest.mark.parametrize("shutdown_first", [True, False], ids=["shutdown-exit", "exit"])
def test_exit_ends_the_server_while_a_parse_hangs(tmp_path, shutdown_first):
    """``exit`` ended the event loop, then the interpreter joined the index thread, which waited
    for the stuck parse. The worker is killed and the process ends."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(paper_text("Quokka Passage Ranking", "quokka"), encoding="utf-8")
    make_paper_pdf(folder / "stuck.pdf", title="A Paper That Never Ends")
    mark = tmp_path / "hung"
    server = RawServer(hang_env(mark))
    try:
        server.initialize(folder, {"indexPath": str(tmp_path / "index")})
        wait_until(lambda: marked(mark), "the parser to hang")
        (worker,) = marked(mark)
        started = proc_stat(worker)[2]
        if shutdown_first:
            assert server.request("shutdown", None) is None
        server.notify("exit", None)
        server.proc.wait(GUARD)                  # raises if the server does not end
        assert not alive(worker, started)
        assert b"Traceback" not in b"".join(server.stderr)
    finally:
        server.close()


# --- 3. SIGKILL of `paperlens index` leaves no process behind -------------------------------------------

def test_sigkill_of_index_leaves_no_worker_and_no_resource_tracker(tmp_path):
    """Workers (~110 MB each) and multiprocessing's resource tracker lived on under PID 1."""
    from paperlens.core.index.whoosh.store import POOL_MIN_FILES

    folder = tmp_path / "lib"
    folder.mkdir()
    for i in range(POOL_MIN_FILES + 6):
        (folder / f"p{i:02d}.txt").write_text(paper_text(f"Paper {i}", f"zq{i}word"), encoding="utf-8")
    make_paper_pdf(folder / "p03-stuck.pdf", title="A Paper That Never Ends")
    mark = tmp_path / "hung"
    parent = subprocess.Popen([*PAPERLENS, "index", str(folder), "--workers", "2", "--index-path",
                               str(tmp_path / "index")], env=hang_env(mark),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kids: dict[int, int] = {}
    try:
        wait_until(lambda: marked(mark), "a worker to be busy")
        wait_until(lambda: len(children(parent.pid)) >= 3, "two workers and the resource tracker")
        kids = children(parent.pid)
        kinds = sorted("tracker" if "resource_tracker" in cmdline(p) else
                       "worker" if "multiprocessing" in cmdline(p) else cmdline(p) for p in kids)
        assert kinds == ["tracker", "worker", "worker"]
        assert set(marked(mark)) <= set(kids)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_until(lambda: not any(alive(p, s) for p, s in kids.items()), "the children to end")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for p, s in kids.items():           # never leave them to the next test
            if alive(p, s):
                os.kill(p, signal.SIGKILL)


# --- 7. a full disk ----------------------------------------------------------------------------------------

def _userns_tmpfs() -> bool:
    if not shutil.which("unshare") or not sys.platform.startswith("linux"):
        return False
    r = subprocess.run(["unshare", "-Urm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d"],
                       capture_output=True)
    return r.returncode == 0


needs_tmpfs = pytest.mark.skipif(not _userns_tmpfs(), reason="no unprivileged user and mount namespaces "
                                                             "(unshare -Urm) for a small tmpfs")

FILL = r'''
import os, sys
path, leave = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
try:
    with open(path, "wb") as f:
        while True:
            f.write(b"\0" * 4096)
            f.flush()
except OSError as exc:
    assert exc.errno == 28, exc
os.truncate(path, max(0, os.path.getsize(path) - leave))    # ``leave`` bytes free
'''


def run_in_tmpfs(tmp_path: Path, steps: str, size: str = "4m") -> subprocess.CompletedProcess:
    """Run the shell ``steps`` in a mount namespace where ``$IX`` is a tmpfs of ``size``;
    ``$PL`` runs paperlens, ``fill`` fills the disk to the last byte."""
    script = tmp_path / "steps.sh"
    fill = tmp_path / "fill.py"
    fill.write_text(FILL)
    script.write_text(f'set -u\nIX={tmp_path / "index"}\nmkdir -p "$IX"\n'
                      f'mount -t tmpfs -o size={size} tmpfs "$IX"\n'
                      f'PL="{sys.executable} -m paperlens"\n'
                      f'fill() {{ {sys.executable} {fill} "$IX/ballast" "$@"; }}\n' + steps)
    return subprocess.run(["unshare", "-Urm", "sh", str(script)], capture_output=True, text=True,
                          timeout=600)


def index_path_of(folder: Path) -> str:
    from paperlens.config import index_dir_for

    return str(index_dir_for(folder.resolve(), "INDEX")).replace("INDEX", "$IX", 1)


@needs_tmpfs
@pytest.mark.parametrize("workers,files,rebuild,leave", [(1, 3, "", 0), (2, 30, "--rebuild", 48 * 1024)],
                         ids=["incremental-in-process", "rebuild-in-workers"])
def test_cli_disk_full(tmp_path, workers, files, rebuild, leave):
    """The disk full to the last byte; for the rebuild, with room for the new index's first
    files (the workers' segments then meet the full disk)."""
    folder = tmp_path / "lib"
    folder.mkdir()
    for i in range(files):
        (folder / f"p{i:02d}.txt").write_text(paper_text(f"Paper {i} On Ranking", f"zq{i}word"),
                                              encoding="utf-8")
    new = folder / "new.txt"
    out = run_in_tmpfs(tmp_path, f'''
$PL index {folder} --workers {workers} --index-path "$IX" > /dev/null || exit 9
fill {leave}
echo "{paper_text('Numbat Search', 'numbat')}" > {new}
$PL index {folder} --workers {workers} {rebuild} --index-path "$IX"; echo "rc=$?"
ls -a {index_path_of(folder)}
echo "--- search"
$PL search zq1word --dir {folder} --index-path "$IX" --limit 1
echo "--- after"
rm "$IX/ballast"
$PL search numbat --dir {folder} --index-path "$IX" --limit 1
''')
    assert out.returncode == 0, out.stderr
    where = index_path_of(folder).replace("$IX", str(tmp_path / "index"))
    said = f"disk full while writing the index at {where}"
    before, _, rest = out.stdout.partition("--- search")
    searched, _, after = rest.partition("--- after")
    assert "rc=1" in before
    assert f"  error: {said}; the index was kept as it was" in before
    assert f"paperlens: {said}; the index was kept as it was\n" in out.stderr
    assert "Traceback" not in out.stderr
    # nothing left half-written on the full disk; the old index answers
    assert sorted(before.split("rc=1\n")[1].split()) == [".", "..", "heads.jsonl", "manifest.json", "meta.json",
                                                        "references.jsonl", "table.json", "update.lock", "whoosh"]
    assert "Paper 1 On Ranking" in searched
    assert f"paperlens: {said}; using the index as it was" in out.stderr
    # once there is room again, the next run does the work
    assert "Numbat Search" in after


@needs_tmpfs
def test_server_disk_full_says_so_and_keeps_answering(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.txt").write_text(paper_text("Quokka Passage Ranking", "quokka"), encoding="utf-8")
    script = tmp_path / "serve.sh"
    fill = tmp_path / "fill.py"
    fill.write_text(FILL)
    ix = tmp_path / "index"
    script.write_text(f'''set -e
mkdir -p {ix}
mount -t tmpfs -o size=4m tmpfs {ix}
{sys.executable} -m paperlens index {folder} --index-path {ix} --workers 1 > /dev/null
{sys.executable} {fill} {ix}/ballast
exec {sys.executable} -m paperlens serve
''')
    server = RawServer(dict(os.environ), command=["unshare", "-Urm", "sh", str(script)])
    try:
        server.initialize(folder, {"indexPath": str(ix), "indexWorkers": 1})
        wait_until(lambda: server.progress_ended() >= 1, "the first update (nothing to write)")
        (folder / "b.txt").write_text(paper_text("Numbat Search", "numbat"), encoding="utf-8")
        server.command("paperlens.server.reindex")
        said = f"disk full while writing the index at {index_path_of(folder).replace('$IX', str(ix))}"
        # the status has the report once the update is done; the warning was sent before it
        wait_until(lambda: [r["error"] for r in server.command("paperlens.server.status")["last"]] == [said],
                   "the update that meets the full disk")
        assert any(said in m for m in server.shown())
        hits = server.command("paperlens.server.search", "quokka")
        assert hits[0]["title"] == "Quokka Passage Ranking"
        assert server.command("paperlens.server.search", "numbat") == []
        assert not any("Traceback" in m for m in server.logged())
    finally:
        server.close()


# --- 10. an empty library ------------------------------------------------------------------------------------

def drafts_only(folder: Path) -> None:
    folder.mkdir()
    (folder / "draft.md").write_text("---\nbibliography: refs.bib\n---\nAs shown in [@smith2020], ...\n",
                                     encoding="utf-8")


@pytest.mark.parametrize("what", ["drafts only", "nothing at all"])
def test_cli_search_on_an_empty_library(tmp_path, what):
    folder = tmp_path / "lib"
    if what == "drafts only":
        drafts_only(folder)
    else:
        folder.mkdir()
    r = subprocess.run([*PAPERLENS, "search", "attention", "--dir", str(folder), "--index-path",
                        str(tmp_path / "index")], capture_output=True, text=True, timeout=GUARD)
    assert (r.returncode, r.stdout, r.stderr) == (0, f"no papers yet in {folder}\n", "")
    r = subprocess.run([*PAPERLENS, "search", "title:attention", "--dir", str(folder), "--index-path",
                        str(tmp_path / "index"), "--json"], capture_output=True, text=True, timeout=GUARD)
    assert r.returncode == 0 and r.stderr == ""
    assert json.loads(r.stdout)["results"] == []


def test_server_search_on_an_empty_library_is_quiet(tmp_path):
    """Every search and the warm-up after indexing raised AttributeError in fast.py (273 of them
    in one short session)."""
    folder = tmp_path / "lib"
    drafts_only(folder)
    server = RawServer(dict(os.environ))
    try:
        server.initialize(folder, {"indexPath": str(tmp_path / "index")})
        wait_until(lambda: server.progress_ended() >= 1, "the first update")
        for query in ("attention", "neural attention", "title:attention"):
            assert server.command("paperlens.server.search", query) == []
            assert server.request("workspace/symbol", {"query": query}) == []
        assert server.command("paperlens.server.status")["papers"] == 0
        assert server.request("shutdown", None) is None
        server.notify("exit", None)
        server.proc.wait(GUARD)
        errors = [m for m in server.logged() if "Traceback" in m or "Error" in m]
        assert errors == []
        assert b"Traceback" not in b"".join(server.stderr)
    finally:
        server.close()
