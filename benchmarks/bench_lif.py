"""LIF benchmark: the same population simulated by neuronet and by Brian2 (cython runtime).

Workload: 10,000 uncoupled leaky integrate-and-fire neurons, constant currents spread evenly
over 0–20 nA, tau_m = 10 ms, R = 10 MΩ, v_rest = v_reset = −70 mV, v_thresh = −50 mV,
t_ref = 1 ms, dt = 0.1 ms, 1 s of simulated time, every spike recorded.

    .venv/bin/python benchmarks/bench_lif.py [--repeats 5] [--readme benchmarks/README.md]

Brian2 needs numpy < 2.3, so it lives in its own virtual environment (default
``benchmarks/.venv-brian2``, created on first use with ``python -m venv`` and
``pip install brian2 "numpy<2.3"``).  This same file, run by that environment's Python with
``--brian2-worker``, is the Brian2 half: a long-lived subprocess that simulates on request,
so that the two simulators' repeats can be interleaved (median of ``--repeats`` each).
Brian2's first run generates and compiles its Cython code into a fresh cache folder; it is
timed and reported separately and excluded from the repeats.

Spike timing: Brian2 does not interpolate threshold crossings (it checks ``v >= v_th`` after
each state update and stamps the spike with that step's ``t``), so neuronet runs with
``spike_timing="none"``, which follows the same convention, and the spike counts per neuron
are compared (and the spike times of neurons whose counts agree).

This is not a test; it measures.  Only the standard library is imported at the top so that
the worker can run in the Brian2 environment.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTION = "## LIF: neuronet vs Brian2"

N_NEURONS = 10_000
I_MAX_NA = 20.0
TAU_M_MS = 10.0
R_MOHM = 10.0
V_REST_MV = -70.0
V_RESET_MV = -70.0
V_THRESH_MV = -50.0
T_REF_MS = 1.0
DT_MS = 0.1
DURATION_MS = 1000.0


# -- the Brian2 half (runs inside the Brian2 virtual environment) ------------------------------
def brian2_worker(n, duration_ms, cache_dir):
    """Read commands from stdin ("run", "save PATH", "quit"); answer one JSON line each."""
    import brian2 as b2
    import numpy as np

    b2.prefs.codegen.target = "cython"
    b2.prefs.codegen.runtime.cython.cache_dir = cache_dir
    b2.prefs.logging.file_log = False
    last = {}

    def run_once():
        t0 = time.perf_counter()
        b2.start_scope()
        b2.defaultclock.dt = DT_MS * b2.ms
        tau, R = TAU_M_MS * b2.ms, R_MOHM * b2.Mohm
        v_rest, v_reset, v_th = V_REST_MV * b2.mV, V_RESET_MV * b2.mV, V_THRESH_MV * b2.mV
        eqs = """dv/dt = (-(v - v_rest) + R*I) / tau : volt (unless refractory)
                 I : amp (constant)"""
        group = b2.NeuronGroup(
            n,
            eqs,
            threshold="v >= v_th",
            reset="v = v_reset",
            refractory=T_REF_MS * b2.ms,
            method="exact",
            namespace={"tau": tau, "R": R, "v_rest": v_rest, "v_reset": v_reset, "v_th": v_th},
        )
        group.v = v_rest
        group.I = np.linspace(0.0, I_MAX_NA, n) * b2.nA
        monitor = b2.SpikeMonitor(group)
        net = b2.Network(group, monitor)
        t1 = time.perf_counter()
        net.run(duration_ms * b2.ms)
        t2 = time.perf_counter()
        last["count"] = np.asarray(monitor.count, dtype=np.int64)
        last["i"] = np.asarray(monitor.i, dtype=np.int64)
        last["t_ms"] = np.asarray(monitor.t / b2.ms, dtype=np.float64)
        return {"setup_s": t1 - t0, "run_s": t2 - t1, "spikes": int(last["count"].sum())}

    info = {"brian2": b2.__version__, "numpy": np.__version__, "python": platform.python_version()}
    try:
        import Cython

        info["cython"] = Cython.__version__
    except ImportError:
        info["cython"] = None
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "run":
            print(json.dumps(run_once()), flush=True)
        elif cmd == "save":
            np.savez(arg, **last)
            print(json.dumps({"saved": arg}), flush=True)
        elif cmd == "quit":
            return


class Brian2Process:
    """The worker subprocess, spoken to one JSON line at a time."""

    def __init__(self, python, n, duration_ms, cache_dir):
        self.proc = subprocess.Popen(
            [
                str(python),
                str(Path(__file__).resolve()),
                "--brian2-worker",
                "--neurons",
                str(n),
                "--duration-ms",
                str(duration_ms),
                "--cache-dir",
                str(cache_dir),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tempfile.gettempdir(),
        )
        self.info = self._answer()

    def _answer(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the Brian2 worker stopped (exit code {self.proc.wait()})")
        return json.loads(line)

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)


def ensure_brian2_venv(venv: Path) -> Path:
    """The Brian2 environment's Python, creating the environment if it is missing or broken."""
    python = venv / "bin" / "python"
    probe = [
        str(python),
        "-c",
        "import brian2, Cython, sysconfig, os; "
        "assert os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))",
    ]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating the Brian2 environment in {venv} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "brian2", "numpy<2.3", "cython"], check=True)
    check = subprocess.run(probe, capture_output=True, text=True)
    if check.returncode != 0:
        sys.exit(
            f"{venv}: brian2 or the Python headers (Python.h, needed to compile Cython) are missing:\n"
            f"{check.stderr.strip()}"
        )
    return python


# -- the neuronet half -------------------------------------------------------------------------
def neuronet_run(n, duration_ms, spike_timing="none"):
    import numpy as np

    from neuronet.bio.lif import LIFPopulation

    t0 = time.perf_counter()
    pop = LIFPopulation(
        n,
        tau_m_ms=TAU_M_MS,
        r_mohm=R_MOHM,
        v_rest_mv=V_REST_MV,
        v_reset_mv=V_RESET_MV,
        v_thresh_mv=V_THRESH_MV,
        t_ref_ms=T_REF_MS,
        dt_ms=DT_MS,
        spike_timing=spike_timing,
    )
    record = pop.run(duration_ms, i_na=np.linspace(0.0, I_MAX_NA, n))
    return time.perf_counter() - t0, record


# -- comparison and report ---------------------------------------------------------------------
def compare(record, brian):
    """Spike-count agreement per neuron, and spike-time agreement where the counts agree."""
    import numpy as np

    nn_counts, b2_counts = record.spike_counts, brian["count"]
    diff = nn_counts - b2_counts
    same = diff == 0
    # spike times, neuron by neuron, for neurons with equal counts
    order_nn = np.lexsort((record.spike_time_ms, record.spike_neuron))
    order_b2 = np.lexsort((brian["t_ms"], brian["i"]))
    t_nn, t_b2 = record.spike_time_ms[order_nn], brian["t_ms"][order_b2]
    owner = record.spike_neuron[order_nn]
    if same.all():
        max_dt = float(np.abs(t_nn - t_b2).max()) if t_nn.size else 0.0
    else:
        keep_nn, keep_b2 = same[owner], same[brian["i"][order_b2]]
        max_dt = float(np.abs(t_nn[keep_nn] - t_b2[keep_b2]).max()) if keep_nn.any() else 0.0
    return {
        "neurons_differing": int((~same).sum()),
        "max_abs_count_diff": int(np.abs(diff).max()),
        "spikes_neuronet": int(nn_counts.sum()),
        "spikes_brian2": int(b2_counts.sum()),
        "max_abs_spike_time_diff_ms": max_dt,
        "differing_neurons": [int(i) for i in np.flatnonzero(~same)[:20]],
    }


def machine():
    model, cores = "unknown", 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            if line.startswith("processor"):
                cores += 1
    except OSError:
        pass
    gcc = shutil.which("gcc")
    gcc_version = (
        subprocess.run([gcc, "-dumpfullversion"], capture_output=True, text=True).stdout.strip() if gcc else None
    )
    return {"cpu": model, "logical_cpus": cores or os.cpu_count(), "os": platform.platform(), "gcc": gcc_version}


def summary(times):
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "n": len(times)}


def section_markdown(res) -> str:
    m, nn, b2, b2s, agree = res["machine"], res["neuronet"], res["brian2"], res["brian2_setup"], res["agreement"]
    nx = res["neuronet_exact"]
    speed = res["speedup"]
    lines = [
        SECTION,
        "",
        f"Measured {res['date']} with `{res['command']}`.",
        "",
        f"Workload: {res['neurons']:,} uncoupled LIF neurons, constant currents evenly spaced over "
        f"0–{I_MAX_NA:g} nA, τ_m = {TAU_M_MS:g} ms, R = {R_MOHM:g} MΩ, v_rest = v_reset = {V_REST_MV:g} mV, v_thresh = "
        f"{V_THRESH_MV:g} mV, t_ref = {T_REF_MS:g} ms, dt = {DT_MS:g} ms, {res['duration_ms'] / 1000:g} s simulated, "
        f"all spikes recorded ({agree['spikes_brian2']:,} of them). Both single-threaded, float64.",
        "",
        f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, {m['os']}; load average "
        f"{res['load_before'][0]:.2f} before / {res['load_after'][0]:.2f} after (shared machine). "
        f"Versions: neuronet side Python {res['versions']['python']}, numpy {res['versions']['numpy']}; "
        f"Brian2 side Brian2 {res['versions']['brian2']}, Cython {res['versions']['cython']}, numpy "
        f"{res['versions']['brian2_numpy']}, gcc {m['gcc']}.",
        "",
        "| simulator | what is timed | median (s) | min–max (s) | repeats |",
        "|---|---|---:|---:|---:|",
        f'| neuronet `LIFPopulation(spike_timing="none")` | construct + run | {nn["median_s"]:.3f} | '
        f"{nn['min_s']:.3f}–{nn['max_s']:.3f} | {nn['n']} |",
        f'| neuronet `LIFPopulation(spike_timing="exact")` (default; counts not comparable) | construct + run | '
        f"{nx['median_s']:.3f} | {nx['min_s']:.3f}–{nx['max_s']:.3f} | {nx['n']} |",
        f"| Brian2 cython runtime | `net.run` only | {b2['median_s']:.3f} | {b2['min_s']:.3f}–{b2['max_s']:.3f} | "
        f"{b2['n']} |",
        f"| Brian2 cython runtime | building the group, monitor, network | {b2s['median_s']:.3f} | "
        f"{b2s['min_s']:.3f}–{b2s['max_s']:.3f} | {b2s['n']} |",
        f"| Brian2, first run | code generation + Cython compilation + run (excluded above) | "
        f"{res['brian2_first_run_s']:.1f} | | 1 |",
        "",
        f"**Speed-up** (Brian2 `net.run` median / neuronet median): **{speed:.2f}×** "
        f"({'meets' if speed >= 2 else 'misses'} the 2× target); against Brian2 setup + run: "
        f"{res['speedup_incl_setup']:.2f}×. Repeats interleaved (alternating which goes first).",
        "",
        f"**Spike counts**: {agree['neurons_differing']} of {res['neurons']:,} neurons differ "
        f"(max |difference| {agree['max_abs_count_diff']} spike); totals {agree['spikes_neuronet']:,} (neuronet) vs "
        f"{agree['spikes_brian2']:,} (Brian2). Where counts agree, spike times differ by at most "
        f"{agree['max_abs_spike_time_diff_ms']:.3g} ms.",
        "",
        "Why the counts can be compared at all: Brian2 does not interpolate the threshold crossing; it stamps the "
        "spike with the time of the step whose update reached the threshold and keeps the neuron refractory for "
        '`timestep(t_ref)` whole steps. neuronet\'s `spike_timing="none"` follows that convention (its default, '
        '`"exact"`, solves the crossing time inside the step and would give different, more accurate counts). '
        "Both integrate exactly; the update formulas are algebraically equal but rounded differently "
        "(Brian2: `I*R + v*e + v_rest + (-I*R - v_rest)*e` with `e = exp(-dt*not_refractory/tau)` per neuron; "
        "neuronet: `v*e + v_inf*(1-e)`), so a neuron whose voltage landed within a few ulp of the threshold could "
        "cross one step apart; a difference of one spike would come from that. The convention has a cost in "
        "accuracy: at dt = 0.1 ms it makes firing rates up to about 9% higher than the analytic LIF rate for some "
        'currents (every interval is rounded down to whole steps), while `"exact"` matches it to ~1e-12 '
        "(see the `lif` experiment).",
        "",
        f"The numbers move with the load of this shared 2-CPU machine; the ratio is the figure to read. The Brian2 "
        f"environment is `{res['brian2_venv']}` (created by the script; keep it out of git).",
        "",
    ]
    return "\n".join(lines)


def update_readme(path: Path, text: str):
    """Replace this benchmark's section of ``path`` (or append it), leaving every other section alone."""
    old = path.read_text() if path.exists() else "# Benchmarks\n"  # re-read right before writing
    lines = old.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == SECTION), None)
    if start is None:
        new = old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + text.rstrip("\n") + "\n" + ("\n" + tail if tail else "")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="timed repeats per simulator (median reported; >= 3)")
    p.add_argument("--neurons", type=int, default=N_NEURONS)
    p.add_argument("--duration-ms", type=float, default=DURATION_MS)
    p.add_argument("--venv", type=Path, default=HERE / ".venv-brian2", help="the Brian2 virtual environment")
    p.add_argument("--readme", type=Path, default=None, help="write the results section into this README")
    p.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    p.add_argument("--brian2-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.brian2_worker:
        return brian2_worker(args.neurons, args.duration_ms, args.cache_dir)
    if args.repeats < 3:
        p.error("--repeats must be >= 3")

    import numpy as np

    python = ensure_brian2_venv(args.venv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench_lif_") as tmp:
        cache = Path(tmp) / "cython-cache"  # empty: the first Brian2 run compiles
        brian = Brian2Process(python, args.neurons, args.duration_ms, cache)
        try:
            t0 = time.perf_counter()
            brian.ask("run")
            first_run_s = time.perf_counter() - t0
            print(f"Brian2 first run (code generation + compilation): {first_run_s:.1f} s", file=sys.stderr)
            neuronet_run(args.neurons, args.duration_ms)  # warm-up, untimed
            nn_times, nn_exact_times, b2_times, b2_setup = [], [], [], []
            record = None
            for r in range(args.repeats):
                for who in ("neuronet", "brian2") if r % 2 == 0 else ("brian2", "neuronet"):
                    if who == "neuronet":
                        seconds, record = neuronet_run(args.neurons, args.duration_ms)
                        nn_times.append(seconds)
                        nn_exact_times.append(neuronet_run(args.neurons, args.duration_ms, "exact")[0])
                    else:
                        answer = brian.ask("run")
                        b2_times.append(answer["run_s"])
                        b2_setup.append(answer["setup_s"])
                print(f"repeat {r + 1}: neuronet {nn_times[-1]:.3f} s, Brian2 {b2_times[-1]:.3f} s", file=sys.stderr)
            npz = Path(tmp) / "brian2_spikes.npz"
            brian.ask(f"save {npz}")
            with np.load(npz) as f:
                brian_spikes = {k: f[k] for k in f.files}
        finally:
            brian.close()
    load_after = os.getloadavg()

    nn, b2, b2s = summary(nn_times), summary(b2_times), summary(b2_setup)
    command = " ".join(
        [os.path.relpath(sys.executable), os.path.relpath(__file__)] + list(argv if argv is not None else sys.argv[1:])
    )
    res = {
        "date": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "command": command,
        "machine": machine(),
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            **{("brian2_numpy" if k == "numpy" else k): v for k, v in brian.info.items() if k != "python"},
        },
        "neurons": args.neurons,
        "duration_ms": args.duration_ms,
        "neuronet": nn,
        "neuronet_exact": summary(nn_exact_times),
        "brian2": b2,
        "brian2_setup": b2s,
        "brian2_first_run_s": first_run_s,
        "speedup": b2["median_s"] / nn["median_s"],
        "speedup_incl_setup": (b2["median_s"] + b2s["median_s"]) / nn["median_s"],
        "agreement": compare(record, brian_spikes),
        "load_before": load_before,
        "load_after": load_after,
        "brian2_venv": os.path.relpath(args.venv),
    }
    text = section_markdown(res)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    if args.readme:
        update_readme(args.readme, text)
        print(f"wrote the section {SECTION!r} into {args.readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
