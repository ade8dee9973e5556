"""``paperlens serve`` that records the CPU time each incoming message costs the event loop's
thread (``time.thread_time``: what the request itself costs, whatever else runs on the machine),
for benches on a shared machine where wall-clock latency mostly measures the other processes.

    python bench/request_cpu.py OUT.json        # a server command line for bench/lsp_latency.py --server
                                                # or bench/pg_editor.py --server (pg_editor --cpu does it)

At exit OUT.json holds ``{"messages": {method: [[cpu_ms, wall_ms, gc_ms], ...]}}`` in arrival
order (``gc_ms``: the garbage collector's CPU time during the message; a collection on another
thread counts in its thread's time, not in ``cpu_ms``).
:func:`summary` turns that into p50/p95 CPU-ms per request kind as lsp_latency sends them (the
first completion, then ``rounds`` completions with an empty prefix, ``rounds`` with the prefix,
``rounds`` hovers)."""
from __future__ import annotations

import atexit
import json
import statistics
import sys
import time
from pathlib import Path


def summary(path: str | Path, rounds: int) -> dict:
    """p50/p95/mean CPU-ms of the requests lsp_latency timed (see the module docstring)."""
    from lsp_latency import pct       # (bench/ is on the path: this file's folder)

    messages = json.loads(Path(path).read_text(encoding="utf-8"))["messages"]
    comp = messages.get("textDocument/completion", [])
    hover = messages.get("textDocument/hover", [])
    kinds = {"first_completion": comp[:1], "completion_empty_prefix": comp[1:1 + rounds],
             "completion_prefix": comp[1 + rounds:1 + 2 * rounds], "hover": hover[-rounds:]}
    out = {}
    for kind, timed in kinds.items():
        cpu = [m[0] for m in timed]
        out[kind] = {"n": len(cpu), "cpu_p50_ms": round(pct(cpu, 50), 3) if cpu else 0.0,
                     "cpu_p95_ms": round(pct(cpu, 95), 3) if cpu else 0.0,
                     "cpu_mean_ms": round(statistics.fmean(cpu), 3) if cpu else 0.0,
                     "gc_ms_total": round(sum(m[2] if len(m) > 2 else 0.0 for m in timed), 3)}
    return out


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = sys.argv[:1]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
    from paperlens.lsp import protocol
    from paperlens.lsp.server import run

    import gc

    seen: dict[str, list] = {}
    handle = protocol.PaperlensProtocol.handle_message
    collecting = [0.0, 0.0]         # the garbage collector's time: started at, total (any thread)

    def on_gc(phase, info) -> None:
        if phase == "start":
            collecting[0] = time.thread_time()
        else:
            collecting[1] += time.thread_time() - collecting[0]

    gc.callbacks.append(on_gc)

    def timed(self, message):
        method = message.get("method") if isinstance(message, dict) else getattr(message, "method", None)
        cpu, wall, collected = time.thread_time(), time.perf_counter(), collecting[1]
        try:
            return handle(self, message)
        finally:
            if isinstance(method, str):
                seen.setdefault(method, []).append([round((time.thread_time() - cpu) * 1000, 4),
                                                    round((time.perf_counter() - wall) * 1000, 4),
                                                    round((collecting[1] - collected) * 1000, 4)])

    def dump() -> None:
        out.write_text(json.dumps({"messages": seen}), encoding="utf-8")

    protocol.PaperlensProtocol.handle_message = timed
    atexit.register(dump)
    try:
        run()
    finally:
        dump()


if __name__ == "__main__":
    main()
