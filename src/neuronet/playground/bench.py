"""Benchmark of the playground's targets: frames per second delivered, page load time, asset size.

Run ``python -m neuronet.playground.bench [--seconds 5] [--sessions 1,8] [--cores 1]``.  The server
runs in a child process pinned to ``--cores`` CPU cores (Linux); the clients (WebSocket threads in
this process) train a 2-8-8-2 tanh network on the 2-D xor set at the default speed (5 mini-batch
steps per frame, plus the output and hidden-unit maps and the per-layer diagnostics) and count
the frames they receive.  Targets (issue 15): ≥ 30 frames/s for one session on one core, ≥ 10
frames/s each for 8 sessions, first page load ≤ 1 s, page assets ≤ 1 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

ASSETS = ("/", "/static/style.css", "/static/app.js", "/static/network.js", "/static/biology.js", "/static/draw.js")
SCENE = {"dataset": "xor", "hidden-layers": "8,8", "activation": "tanh", "speed": 5}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(port: int, cores: int) -> subprocess.Popen:
    pin = ""
    if cores and hasattr(os, "sched_setaffinity"):
        pin = f"import os; os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:{cores}])); "
    code = pin + f"from neuronet.playground.server import serve; serve('127.0.0.1', {port}, open_browser=False)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the playground server did not start")


def page_load(port: int) -> tuple[float, int]:
    """Seconds to fetch the page and every asset, one after the other, and their total bytes."""
    start, total = time.perf_counter(), 0
    for path in ASSETS:
        total += len(urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read())
    return time.perf_counter() - start, total


def _client(port: int, seconds: float, out: list, ready: threading.Barrier):
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
        for _ in range(3):  # hello, config, frame
            ws.recv()
        ws.send(json.dumps({"type": "set", "changes": SCENE}))
        while json.loads(ws.recv())["type"] != "frame":
            pass
        ready.wait()
        ws.send(json.dumps({"type": "play"}))
        frames, nbytes, start = 0, 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            msg = ws.recv()
            if '"type":"frame"' in msg[:20]:
                frames += 1
                nbytes += len(msg)
        elapsed = time.perf_counter() - start
        ws.send(json.dumps({"type": "pause"}))
    out.append((frames / elapsed, nbytes / max(frames, 1)))


def frames_per_second(port: int, n_sessions: int, seconds: float) -> list[tuple[float, float]]:
    """``(frames/s, bytes/frame)`` of each of ``n_sessions`` sessions playing at once."""
    out: list = []
    ready = threading.Barrier(n_sessions)
    threads = [threading.Thread(target=_client, args=(port, seconds, out, ready)) for _ in range(n_sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--sessions", default="1,8", help="comma-separated session counts")
    ap.add_argument("--cores", type=int, default=1, help="CPU cores the server may use (0: all)")
    args = ap.parse_args(argv)
    port = _free_port()
    proc = _start_server(port, args.cores)
    try:
        load_s, size = page_load(port)
        print(f"page load (page + {len(ASSETS) - 1} assets): {1000 * load_s:.0f} ms, {size / 1024:.1f} KiB")
        for n in (int(s) for s in args.sessions.split(",")):
            res = frames_per_second(port, n, args.seconds)
            fps = sorted(r[0] for r in res)
            kib = sum(r[1] for r in res) / len(res) / 1024
            print(
                f"{n} session(s) on {args.cores or 'all'} core(s): frames/s min {fps[0]:.1f}, "
                f"mean {sum(fps) / len(fps):.1f}; {kib:.1f} KiB per frame"
            )
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
