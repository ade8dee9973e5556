"""Parser processes that can be stopped: time-limited, killed when stuck, dying with their parent.

A PDF is parsed by C code (pdfium) that Python cannot interrupt, and one hostile file can keep
it busy for an hour (issue 13: 1,000 pages sharing one content stream of 100k text operators).
So every file that can take long is parsed in a worker process, and this module is the only
place that runs them:

- each worker says which file it starts (``("start", rel)``); the parent gives that file
  ``parse_timeout()`` seconds *of the worker's CPU time* (utime + stime in /proc/<pid>/stat),
  then kills the worker (SIGKILL: never waiting for it), reports the file as skipped and hands
  the rest of the worker's files to a fresh worker. CPU seconds, because on a loaded machine an
  honest parse takes several times its CPU time of wall-clock time (issue 14: a 14.6 MB .bib
  needing 25 s of CPU took 131 s at load 5). A parse blocked without using CPU is killed after
  ``wall_timeout()`` seconds of wall-clock time (10 times the budget by default); where there is
  no /proc the budget is wall-clock seconds. A worker starting up (spawn, imports) or between
  two files is watched by the wall-clock backstop only: that is no file's work;
- a worker writing out its segment (after its batch's last file) has no deadline: that is the
  whole batch's work (flush, compound file, side file: a third of its CPU), not a file's, and
  a deadline there gave up whole batches on a loaded machine (6,668 of 10,002 files skipped).
  Only its death is watched (and ``kill`` still stops it);
- a file skipped for its time or for killing its worker is parsed again at the next update of
  the whole folder (``retry_next_update``), once per update: such a skip says nothing sure
  about the file;
- a worker that dies (a crash inside pdfium) costs only the file it had started;
- workers die with their parent: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` on Linux, and everywhere
  a thread that waits for the end of the pipe the parent holds (multiprocessing's parent
  sentinel). A SIGKILLed ``paperlens index`` leaves no worker, and then multiprocessing's
  resource tracker (whose pipe only the workers still held) ends too;
- ``Parsers.kill`` stops every worker of a run at once (``SearchIndex.abort``; at interpreter
  exit for every index: ``abort_all``), so that an ``exit`` never waits for a parse.

What a worker does with a file is given to ``Parsers``: a ``parse`` function (a file -> its
parse result) and, for an index built in parallel, a ``segment`` function (a batch of files ->
what the index writes of them); both must be picklable (module-level functions, or
``functools.partial`` of one), as they are sent to the spawned worker.

Workers are spawned (never forked: the server has threads) and are daemonic, so that
multiprocessing's own exit handler terminates rather than joins any that remain.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
import weakref
from typing import Iterator, Optional

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MEMORY_MB = 2048      # a worker's heap (RLIMIT_DATA): a parse needing more is refused
MAX_START_FAILURES = 3        # workers dying before they start a file: give up on workers
WALL_FACTOR = 10              # a file's wall-clock backstop: this many times its CPU budget
MIN_POLL_S = 0.05             # the least wait between two looks at a worker's CPU time

# Why a file was skipped, when it may well be parsed next time (a loaded machine, a worker
# killed by something else): the starts of those reasons. The last one is what a worker timed
# out while writing its segment said before issue 14 (found in older manifests).
TIMED_OUT = "parsing took longer than"
CRASHED = "the parser crashed on this file"
WORKER_FAILED = "the parser process failed"
RETRIED_REASONS = (TIMED_OUT, CRASHED, WORKER_FAILED, "writing the index took longer than")


def retry_next_update(reason: str) -> bool:
    """Whether a file skipped for ``reason`` is parsed again at the next update even though it
    has not changed: its parse timed out or its worker died (not a verdict on the file)."""
    return bool(reason) and reason.startswith(RETRIED_REASONS)


def _env_positive(name: str, kind, default):
    """A positive number from the environment variable ``name``, else ``default``."""
    try:
        value = kind(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def parse_timeout() -> float:
    """Seconds one file may take (``PAPERLENS_PARSE_TIMEOUT`` overrides the default)."""
    return _env_positive("PAPERLENS_PARSE_TIMEOUT", float, DEFAULT_TIMEOUT_S)


def wall_timeout(timeout: Optional[float] = None) -> float:
    """Wall-clock seconds a file may take however little CPU it uses (a parse blocked on
    something): ``PAPERLENS_PARSE_WALL_TIMEOUT``, else ``WALL_FACTOR`` times ``timeout``
    (default ``parse_timeout()``)."""
    budget = parse_timeout() if timeout is None else timeout
    return _env_positive("PAPERLENS_PARSE_WALL_TIMEOUT", float, WALL_FACTOR * budget)


def cpu_seconds(pid: Optional[int]) -> Optional[float]:
    """CPU seconds (user + system, all threads) the process ``pid`` has used, or None when
    that cannot be read (no /proc, or the process is gone)."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        # fields after the command, from state (3rd of the line): utime is the 14th, stime the 15th
        return (int(fields[11]) + int(fields[12])) / _clock_ticks()
    except (OSError, ValueError, IndexError):
        return None


_ticks: Optional[float] = None


def _clock_ticks() -> float:
    global _ticks
    if _ticks is None:
        try:
            _ticks = float(os.sysconf("SC_CLK_TCK"))
        except (AttributeError, ValueError, OSError):
            _ticks = 100.0
    return _ticks


def memory_limit_mb() -> int:
    """A worker's memory limit in MB (``PAPERLENS_WORKER_MEMORY_MB`` overrides the default)."""
    return _env_positive("PAPERLENS_WORKER_MEMORY_MB", int, DEFAULT_MEMORY_MB)


def limit_memory(mb: int) -> None:
    """Cap this process's data segment (heap and anonymous mappings, Linux >= 4.7): a file
    whose parse would grow without bound fails with MemoryError (then skipped) instead of
    taking the machine's memory."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        want = mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        if soft == resource.RLIM_INFINITY or soft > want:
            resource.setrlimit(resource.RLIMIT_DATA, (want, hard))
    except (ImportError, ValueError, OSError):
        pass


class WorkersFailed(Exception):
    """Worker processes could not be started or kept dying before doing any work."""


class Aborted(Exception):
    """The run was stopped from another thread (the process is exiting)."""


# -- in the worker ---------------------------------------------------------------------------------

PR_SET_PDEATHSIG = 1


def die_with_parent(ppid: int) -> None:
    """End this process when its parent ends, even while the main thread is inside C code."""
    import signal

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except Exception:    # noqa: BLE001 - the thread below still watches
            pass
    if os.getppid() != ppid:         # the parent died before the signal was asked for
        os._exit(1)
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is not None:
        def watch() -> None:
            parent.join()            # returns when the parent's end of the pipe closes
            os._exit(1)

        threading.Thread(target=watch, name="paperlens-parent-watch", daemon=True).start()


def _quiet_stdout() -> None:
    """Worker processes never write to stdout (in the server it is the protocol channel)."""
    try:
        os.dup2(2, 1)
    except OSError:
        pass
    sys.stdout = sys.stderr


def worker_main(conn, ppid: int, folder: str, parse, segment) -> None:
    """A worker's loop: tasks ``(kind, rels)`` in, messages out (see ``Parsers``)."""
    die_with_parent(ppid)
    _quiet_stdout()
    limit_memory(memory_limit_mb())
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        kind, rels = task

        def started(rel: str) -> None:
            # with this process's CPU seconds (as /proc counts them): the file's budget starts
            # here, not when the parent, maybe slower to run, reads the message
            conn.send(("start", rel, time.process_time()))

        try:
            if kind == "parse":
                for rel in rels:
                    started(rel)
                    conn.send(("parsed", parse(folder, rel)))
            else:
                written, items = segment(folder, rels, started=started,
                                         finished=lambda rel: conn.send(("wrote", rel)))
                conn.send(("segment", written, items))
        except OSError as exc:          # writing the segment: the parent says what it means
            conn.send(("oserror", exc.errno, exc.strerror or str(exc), exc.filename))
            return
        except Exception as exc:        # noqa: BLE001
            log.exception("worker failed")
            conn.send(("failed", f"{exc.__class__.__name__}: {exc}"))
            return


# -- in the parent ---------------------------------------------------------------------------------

class _Worker:
    def __init__(self, ctx, folder: str, parse, segment):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, os.getpid(), folder, parse, segment),
                                name="paperlens-parser", daemon=True)
        try:
            self.proc.start()
        finally:
            child.close()
        self.task: Optional[list[str]] = None     # the files of the task being worked on
        self.current: Optional[str] = None        # the file it said it started
        self.started = 0                          # files of the task started so far
        self.failure = ""                         # what the worker said before it gave up
        self.timed = False                        # a deadline runs (not while writing out)
        self.wall_end = 0.0                       # its wall-clock backstop (time.monotonic)
        self.cpu_start: Optional[float] = None    # its CPU seconds when the deadline started
        self.late = ""                            # which budget it went over: "cpu", "wall"

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid

    def time_from_now(self, wall: float, cpu_start: Optional[float] = None, cpu: bool = True) -> None:
        """Start a deadline: ``wall`` wall-clock seconds from now, and with ``cpu`` the budget
        in this worker's CPU seconds from ``cpu_start`` (what it said; else its CPU time now)."""
        self.timed = True
        self.cpu_start = None if not cpu else cpu_start if cpu_start is not None else cpu_seconds(self.pid)
        self.wall_end = time.monotonic() + wall

    def untime(self) -> None:
        self.timed = False

    def left(self, budget: float) -> Optional[float]:
        """Seconds left before its deadline (<= 0: passed, ``late`` says which budget), the
        least of CPU seconds and wall-clock seconds; None when no deadline runs."""
        if not self.timed:
            return None
        left = self.wall_end - time.monotonic()
        self.late = "wall" if left <= 0 else ""
        if self.cpu_start is not None:
            used = cpu_seconds(self.pid)
            if used is not None and budget - (used - self.cpu_start) < left:
                left = budget - (used - self.cpu_start)
                self.late = "cpu" if left <= 0 else ""
        return left

    def kill(self) -> None:
        try:
            self.proc.kill()
        except Exception:   # noqa: BLE001 - already gone
            pass
        try:
            self.proc.join(5)
        except Exception:   # noqa: BLE001
            pass
        try:
            self.conn.close()
        except Exception:   # noqa: BLE001
            pass


class Parsers:
    """Up to ``n`` worker processes working through tasks: in ``"parse"`` mode a task is one
    file, ``parse(folder, rel)`` parses it and ``run`` yields ``("parsed", (rel, result,
    reason))``; in ``"segment"`` mode a task is a batch of files, ``segment(folder, rels,
    started=, finished=)`` writes them as one part of the index being built and ``run`` yields
    ``("segment", part, items)``. Both modes yield ``("skipped", rel, reason)`` for a
    file whose parse timed out or crashed its worker; the other files of that worker's task are
    given to a fresh worker (in segment mode also the ones it had written: their segment is
    lost with the worker).

    ``timeout``: a file's budget in the worker's CPU seconds (default ``parse_timeout()``);
    ``wall``: its wall-clock backstop (default ``wall_timeout(timeout)``). Without /proc the
    budget is ``timeout`` wall-clock seconds."""

    def __init__(self, folder: str, n: int, parse, segment=None,
                 timeout: Optional[float] = None, aborted: Optional[threading.Event] = None,
                 wall: Optional[float] = None):
        import multiprocessing

        self.ctx = multiprocessing.get_context("spawn")   # never fork a process that has threads
        self.folder = folder
        self.n = max(1, n)
        self.parse = parse
        self.segment = segment
        self.timeout = parse_timeout() if timeout is None else timeout
        self.cpu_clock = cpu_seconds(os.getpid()) is not None   # else the budget is wall-clock
        if not self.cpu_clock:
            self.wall = self.timeout
        else:
            self.wall = wall_timeout(self.timeout) if wall is None else wall
        self.aborted = aborted or threading.Event()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._workers if w.pid]

    def kill(self) -> None:
        """Stop the run from any thread: every worker is killed now, none is started any more,
        and ``run`` raises Aborted."""
        self.aborted.set()
        with self._lock:
            workers = list(self._workers)
        for w in workers:
            try:
                w.proc.kill()
            except Exception:   # noqa: BLE001
                pass

    def _spawn(self) -> _Worker:
        with self._lock:          # (kill() sees this worker, or this sees kill()'s flag)
            if self._closed or self.aborted.is_set():
                raise Aborted()
            w = _Worker(self.ctx, self.folder, self.parse, self.segment)
            self._workers.append(w)
        return w

    def _drop(self, w: _Worker) -> None:
        w.kill()
        with self._lock:
            if w in self._workers:
                self._workers.remove(w)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = list(self._workers), []
        for w in workers:
            try:
                w.conn.send(None)
            except Exception:   # noqa: BLE001
                pass
            w.kill()            # nothing of theirs is still needed: never wait for one

    def run(self, tasks: list[list[str]], mode: str = "parse") -> Iterator[tuple]:
        from multiprocessing.connection import wait

        queue = [list(t) for t in tasks if t]
        idle: list[_Worker] = []
        busy: list[_Worker] = []
        failures = 0
        try:
            while queue or busy:
                if self.aborted.is_set():
                    raise Aborted()
                while queue and len(busy) < self.n:
                    if idle:
                        w = idle.pop()
                    else:
                        try:
                            w = self._spawn()
                        except Aborted:
                            raise
                        except Exception as exc:
                            raise WorkersFailed(f"cannot start a parser process: {exc}") from exc
                    task = queue.pop(0)
                    try:
                        w.conn.send((mode, task))
                    except (OSError, ValueError):
                        self._drop(w)
                        queue.insert(0, task)
                        failures += 1
                        if failures > MAX_START_FAILURES:
                            raise WorkersFailed("parser processes die as they start")
                        continue
                    w.task, w.current, w.started = task, None, 0
                    # until it starts a file (a fresh worker starts up first): no file's CPU
                    # budget, only the wall-clock backstop
                    w.time_from_now(self.wall, cpu=False)
                    busy.append(w)
                if not busy:
                    continue
                ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                                 self._wait_timeout(busy)))
                if self.aborted.is_set():
                    raise Aborted()
                for w in list(busy):
                    outcome = None
                    left = w.left(self.timeout)
                    late = left is not None and left <= 0
                    if late or w.conn in ready or w.proc.sentinel in ready:
                        outcome = yield from self._read(w, mode)   # what came in time counts
                    if outcome is None and late:
                        left = w.left(self.timeout)
                        if left is not None and left <= 0:
                            outcome = "timeout"
                    if outcome is None:
                        continue
                    busy.remove(w)
                    if outcome == "done":
                        idle.append(w)
                        failures = 0
                        continue
                    # the worker is dead or stuck: it goes, its file is skipped, the rest requeued
                    self._drop(w)
                    rest = self._unfinished(w, mode)
                    if w.current is not None:
                        failures = 0
                        reason = (self._late_reason(w) if outcome == "timeout" else
                                  f"{WORKER_FAILED}: {w.failure}" if w.failure else
                                  f"{CRASHED} (its worker process died)")
                        yield ("skipped", w.current, reason)     # (the caller logs it)
                    else:
                        # it died between files or writing out its segment (which has no
                        # deadline), or did not start a file in time (starting up): no file
                        # to blame, its files go to a fresh worker (a few times, see failures)
                        failures += 1
                        if failures > MAX_START_FAILURES:
                            raise WorkersFailed("parser processes die before doing any work")
                    if rest:
                        queue.insert(0, rest)
        finally:
            for w in idle + busy:
                self._drop(w)

    def _wait_timeout(self, busy: list[_Worker]) -> Optional[float]:
        """How long to wait for the busy workers: until the nearest deadline (a CPU budget is
        looked at again then: the worker may have had less than the whole of a CPU), never
        less than ``MIN_POLL_S`` unless one has passed; None (until a message or a death)
        when none runs: every busy worker writes out its segment."""
        lefts = [left for left in (w.left(self.timeout) for w in busy) if left is not None]
        if not lefts:
            return None
        nearest = min(lefts)
        return 0.0 if nearest <= 0 else max(nearest, MIN_POLL_S)

    def _late_reason(self, w: _Worker) -> str:
        if w.late == "cpu":
            return f"{TIMED_OUT} {self.timeout:g} s of CPU time; skipped"
        return f"{TIMED_OUT} {self.wall:g} s; skipped"

    def _unfinished(self, w: _Worker, mode: str) -> list[str]:
        """The files of a dropped worker's task to do again."""
        task = w.task or []
        if mode == "segment":      # the segment goes with the worker: all but the culprit
            return [r for r in task if r != w.current]
        done = max(0, w.started - (1 if w.current is not None else 0))
        return [r for r in task[done:] if r != w.current]

    def _read(self, w: _Worker, mode: str):
        """Handle what ``w`` sent: "done" when its task is finished, "dead" when the worker
        died, None while it is still working. Results are yielded as they come."""
        while True:
            try:
                if not w.conn.poll():
                    if not w.proc.is_alive():
                        return "dead"
                    return None
                msg = w.conn.recv()
            except (EOFError, OSError):
                return "dead"
            kind = msg[0]
            if kind == "start":
                w.current = msg[1]
                w.started += 1
                w.time_from_now(self.wall, msg[2] if len(msg) > 2 else None)
            elif kind == "wrote":
                w.current = None
                if w.started >= len(w.task or ()):
                    w.untime()          # writing out the segment: no deadline, only its death
                else:
                    w.time_from_now(self.wall, cpu=False)    # until the next file's start
            elif kind == "parsed":
                w.current = None
                yield msg
                if w.started >= len(w.task or ()):
                    return "done"
                w.time_from_now(self.wall, cpu=False)
            elif kind == "segment":
                w.current = None
                yield msg
                return "done"
            elif kind == "oserror":
                _, errno_, strerror, filename = msg
                raise OSError(errno_, strerror, filename)
            elif kind == "failed":      # an error outside the parsers (which report theirs)
                w.failure = msg[1]
                return "dead"


# -- one call in a worker ----------------------------------------------------------------------------

_calls: set = set()
_calls_lock = threading.Lock()


def _call_main(conn, ppid: int, fn, args) -> None:
    die_with_parent(ppid)
    _quiet_stdout()
    limit_memory(memory_limit_mb())
    try:
        result = ("ok", fn(*args))
    except BaseException as exc:   # noqa: BLE001 - said to the parent
        result = ("error", exc if _picklable(exc) else RuntimeError(f"{exc.__class__.__name__}: {exc}"))
    conn.send(result)


def _picklable(obj) -> bool:
    import pickle

    try:
        pickle.dumps(obj)
        return True
    except Exception:   # noqa: BLE001
        return False


def call(fn, *args, timeout: Optional[float] = None):
    """``fn(*args)`` in a worker process that is killed after ``timeout`` seconds (default
    ``parse_timeout()``) or when this process exits (``kill_calls``). For pdfium work outside
    the indexer (a PDF's text view): it cannot be interrupted in this process, and it is not
    thread-safe. ``fn`` must be importable (a module-level function). Raises TimeoutError,
    the function's own exception, or RuntimeError when the worker died."""
    import multiprocessing
    from multiprocessing.connection import wait

    register_exit_hook()               # exiting kills the worker (kill_calls)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_call_main, args=(child, os.getpid(), fn, args),
                       name="paperlens-call", daemon=True)
    limit = parse_timeout() if timeout is None else timeout
    with _calls_lock:
        proc.start()
        _calls.add(proc)
    child.close()
    try:
        ready = wait([parent, proc.sentinel], limit)
        if parent in ready:
            try:
                kind, value = parent.recv()
            except (EOFError, OSError):
                raise RuntimeError("the worker process died") from None
            if kind == "ok":
                return value
            raise value
        if proc.sentinel in ready:
            raise RuntimeError("the worker process died")
        raise TimeoutError(f"took longer than {limit:g} s")
    finally:
        with _calls_lock:
            _calls.discard(proc)
        try:
            proc.kill()
            proc.join(5)
        except Exception:   # noqa: BLE001
            pass
        parent.close()


def kill_calls() -> None:
    """Kill the workers of every ``call`` in progress (their callers get RuntimeError)."""
    with _calls_lock:
        procs = list(_calls)
    for proc in procs:
        try:
            proc.kill()
        except Exception:   # noqa: BLE001
            pass


# -- exiting ------------------------------------------------------------------------------------------

_indexes: "weakref.WeakSet" = weakref.WeakSet()    # indexes whose updates abort_all stops
_exit_hook = False


def track(index) -> None:
    """Have ``abort_all`` stop ``index``'s updates (anything with an ``abort()`` method)."""
    _indexes.add(index)


def abort_all() -> None:
    """Stop every update running in this process: its worker processes are killed and it ends
    at its next step without committing (the index stays as it was). Run at interpreter exit
    before threads are joined, so that exiting never waits for a parse."""
    for index in list(_indexes):
        index.abort()
    kill_calls()


def register_exit_hook() -> None:
    """``abort_all`` when the interpreter exits, *before* it joins non-daemon threads (an
    update runs on one: the server's index thread, which concurrent.futures joins). Hooks of
    threading._register_atexit run last-registered first: this one is registered after
    concurrent.futures' own (it is imported here first), so it runs before they join."""
    global _exit_hook
    if _exit_hook:
        return
    import importlib

    for name in ("concurrent.futures.thread", "concurrent.futures.process"):
        importlib.import_module(name)       # each registers its hook (joining) on import
    try:
        threading._register_atexit(abort_all)      # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):         # exiting already, or another Python
        import atexit

        atexit.register(abort_all)
    _exit_hook = True
