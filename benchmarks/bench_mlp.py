"""Training and prediction throughput of neuronet against PyTorch, scikit-learn and the GEMM bound.

Workload: Fashion-MNIST training set (60,000 x 784, float32), MLP 784-512-512-10,
batch 128, one epoch of SGD with momentum 0.9 and softmax cross-entropy, hidden
ReLU and hidden sigmoid, at 1 and 2 BLAS threads.  Contenders run in this process,
interleaved, each repeated ``--repeats`` times; medians and min-max are reported.

The GEMM bound is the time of the same matrix products alone (forward, weight
gradients, input gradients except for the first layer) with the same shapes.

    python benchmarks/bench_mlp.py                      # full table
    python benchmarks/bench_mlp.py --quick              # 6,000 samples, 2 repeats
    python benchmarks/bench_mlp.py --write-readme       # also update benchmarks/README.md

PyTorch comes from the ``bench`` extra (``pip install -e '.[bench]'``); without it
those rows are skipped.  OPENBLAS_CORETYPE is left as the machine sets it.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import itertools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import neuronet as nn
from neuronet import kernels
from neuronet.data import load

SIZES = [784, 512, 512, 10]
BATCH = 128
LR = 0.01
MOMENTUM = 0.9
README = Path(__file__).with_name("README.md")
SECTION = "## Training throughput: neuronet vs PyTorch, scikit-learn and the GEMM bound"


# -- contenders --------------------------------------------------------------------------------
def run_neuronet(X, y, hidden, diagnostics, seed=0, compiled=True):
    """One epoch; ``compiled=False`` runs the NumPy path (the compiled kernels switched off)."""
    net = nn.mlp(SIZES, hidden=hidden, output="softmax", init="fan-in", seed=seed)
    tr = nn.Trainer(
        net, "momentum", lr=LR, momentum=MOMENTUM, epochs=1, batch_size=BATCH, seed=seed, diagnostics=diagnostics
    )
    if not compiled:
        kernels.disable()
    try:
        t0 = time.perf_counter()
        tr.fit(X, y)
        return time.perf_counter() - t0
    finally:
        kernels.enable()


def run_gemm_bound(X, y, hidden, seed=0):
    """The products of one epoch alone, into preallocated outputs."""
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in itertools.pairwise(SIZES)]
    n = X.shape[0]
    bufs = {}

    def for_batch(B):
        if B not in bufs:  # deltas hold ordinary numbers: no denormals or NaNs to slow BLAS
            bufs[B] = (
                [np.empty((B, s), np.float32) for s in SIZES[1:]],
                [rng.standard_normal((B, s), dtype=np.float32) * 0.01 for s in SIZES[1:]],
                [np.empty_like(W) for W in Ws],
            )
        return bufs[B]

    t0 = time.perf_counter()
    for s in range(0, n, BATCH):
        x = X[s : s + BATCH]
        hs, ds, gs = for_batch(x.shape[0])
        h = x
        for W, out in zip(Ws, hs):
            np.matmul(h, W, out=out)
            h = out
        for i in range(len(Ws) - 1, -1, -1):
            prev = x if i == 0 else hs[i - 1]
            np.matmul(prev.T, ds[i], out=gs[i])
            if i > 0:
                np.matmul(ds[i], Ws[i].T, out=hs[i - 1])  # same shape as delta i-1; keeps deltas fixed
    return time.perf_counter() - t0


def run_torch(X, y, hidden, threads, seed=0):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    act = torch.nn.ReLU if hidden == "relu" else torch.nn.Sigmoid
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512), act(), torch.nn.Linear(512, 512), act(), torch.nn.Linear(512, 10)
    )
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    perm = torch.randperm(Xt.shape[0], generator=g)
    for s in range(0, Xt.shape[0], BATCH):
        idx = perm[s : s + BATCH]
        xb, yb = Xt[idx], yt[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def run_sklearn(X, y, hidden, seed=0):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(512, 512),
        activation="relu" if hidden == "relu" else "logistic",
        solver="sgd",
        batch_size=BATCH,
        learning_rate_init=LR,
        momentum=MOMENTUM,
        nesterovs_momentum=False,
        alpha=0.0,
        max_iter=1,
        shuffle=True,
        random_state=seed,
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return time.perf_counter() - t0


def predict_throughput(X, threads, repeats):
    """Samples/s predicting batches of 10,000, neuronet vs PyTorch (median of repeats)."""
    net = nn.mlp(SIZES, hidden="relu", seed=0)
    Xb = np.ascontiguousarray(X[:10000])
    out = {}
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        net.predict(Xb, chunk_size=10000)
        times.append(time.perf_counter() - t0)
    out["neuronet"] = 10000 / statistics.median(times)
    try:
        import torch

        torch.set_num_threads(threads)
        model = torch.nn.Sequential(
            torch.nn.Linear(784, 512),
            torch.nn.ReLU(),
            torch.nn.Linear(512, 512),
            torch.nn.ReLU(),
            torch.nn.Linear(512, 10),
            torch.nn.Softmax(dim=1),
        ).eval()
        Xt = torch.from_numpy(Xb)
        times = []
        with torch.inference_mode():
            model(Xt)
            for _ in range(repeats):
                t0 = time.perf_counter()
                model(Xt)
                times.append(time.perf_counter() - t0)
        out["pytorch"] = 10000 / statistics.median(times)
    except ImportError:
        pass
    return out


def peak_memory(epochs, threads, kernel_mode="auto"):
    """Peak RSS (MB) of a separate process training 10 epochs on the full set.

    ``kernel_mode`` is passed as NEURONET_KERNELS: ``auto`` loads the compiled kernels (numba and
    its LLVM runtime, a fixed cost per process), ``numpy`` never loads them.
    """
    code = f"""
import numpy as np
from threadpoolctl import threadpool_limits
import neuronet as nn
from neuronet.data import load
ds = load("fashion-mnist")
X, y = ds.X_train, ds.y_train
net = nn.mlp({SIZES}, hidden="relu", seed=0)
with threadpool_limits({threads}):
    nn.Trainer(net, "momentum", lr={LR}, momentum={MOMENTUM}, epochs={epochs}, batch_size={BATCH}).fit(X, y)
data_mb = (X.nbytes + y.nbytes) / 2**20
param_mb = sum(p.nbytes for p in net.params) / 2**20
# VmHWM: this process's own peak. (ru_maxrss would report the parent's peak when that was larger:
# Linux carries the pre-exec high-water mark of the forked copy over into the child.)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(hwm / 1024, data_mb, param_mb)
"""
    env = {**os.environ, "NEURONET_KERNELS": kernel_mode}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    rss, data_mb, param_mb = map(float, out.stdout.split())
    return rss, data_mb, param_mb


# -- driver ------------------------------------------------------------------------------------
def stats(times, n):
    t = sorted(times)
    return {"median": n / statistics.median(t), "min": n / t[-1], "max": n / t[0], "times": t}


def machine():
    cpu = "unknown CPU"
    try:
        m = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = m.group(1) if m else cpu
    except OSError:
        pass
    blas = [
        f"{i['internal_api']} {i.get('version')} ({i.get('architecture')})"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    versions = {"neuronet": nn.__version__, "numpy": np.__version__}
    try:
        import sklearn

        versions["scikit-learn"] = sklearn.__version__
    except ImportError:
        pass
    try:
        import torch

        versions["torch"] = torch.__version__
    except ImportError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "blas": "; ".join(blas),
        "python": platform.python_version(),
        "versions": versions,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "kernels": kernels.status(),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--hidden", default="relu,sigmoid")
    ap.add_argument("--quick", action="store_true", help="6,000 samples, 2 repeats (smoke test)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-sklearn", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--write-readme", action="store_true")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args(argv)
    kernels.warm_up(wait=True)  # the compiled kernels, loaded before anything is timed
    print(f"compiled kernels: {kernels.status()}", flush=True)
    ds = load("fashion-mnist", max_train=6000 if args.quick else None)
    X, y = ds.X_train, ds.y_train
    n = X.shape[0]
    repeats = 2 if args.quick else args.repeats
    have_torch = False
    if not args.no_torch:
        try:
            import torch  # noqa: F401

            have_torch = True
        except ImportError:
            print("PyTorch not installed (pip install -e '.[bench]'): skipping its rows", flush=True)
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for hidden in args.hidden.split(","):
            contenders = {
                "GEMM bound": functools.partial(run_gemm_bound, X, y, hidden),
                "neuronet (diagnostics off)": functools.partial(run_neuronet, X, y, hidden, False),
                "neuronet (diagnostics on)": functools.partial(run_neuronet, X, y, hidden, True),
                "neuronet, NumPy path (diagnostics off)": functools.partial(
                    run_neuronet, X, y, hidden, False, compiled=False
                ),
            }
            if have_torch:
                contenders["PyTorch"] = functools.partial(run_torch, X, y, hidden, threads)
            if not args.no_sklearn:
                contenders["scikit-learn"] = functools.partial(run_sklearn, X, y, hidden)
            times = {k: [] for k in contenders}
            with threadpool_limits(limits=threads, user_api="blas"):
                for name, f in contenders.items():  # warm-up, not timed
                    f() if name != "scikit-learn" else None
                for _r in range(repeats):  # interleaved repeats
                    for name, f in contenders.items():
                        times[name].append(f())
            res = {k: stats(v, n) for k, v in times.items()}
            bound = res["GEMM bound"]["median"]
            for name, st in res.items():
                rows.append(
                    {"threads": threads, "hidden": hidden, "contender": name, **st, "vs_bound": st["median"] / bound}
                )
                print(
                    f"{threads} thread(s) {hidden:8s} {name:28s} {st['median']:9.0f} samples/s "
                    f"[{st['min']:.0f}-{st['max']:.0f}]  {st['median'] / bound:.2f} x bound",
                    flush=True,
                )
    pred = {}
    for threads in [int(t) for t in args.threads.split(",")]:
        with threadpool_limits(limits=threads, user_api="blas"):
            pred[threads] = predict_throughput(X, threads, max(3, repeats))
        print(
            f"prediction, {threads} thread(s): " + ", ".join(f"{k} {v:.0f}/s" for k, v in pred[threads].items()),
            flush=True,
        )
    mem = None
    if not args.no_memory and not args.quick:
        mem = peak_memory(10, max(int(t) for t in args.threads.split(",")))
        rss, data_mb, param_mb = mem
        rss_numpy = peak_memory(10, max(int(t) for t in args.threads.split(",")), "numpy")[0]
        mem = (*mem, rss_numpy)
        print(
            f"peak RSS of a 10-epoch run: {rss:.0f} MB ({rss_numpy:.0f} MB with NEURONET_KERNELS=numpy); "
            f"data {data_mb:.0f} MB + params {param_mb:.1f} MB; "
            f"limit 1.5 x (data + params + 200 MB) = {1.5 * (data_mb + param_mb + 200):.0f} MB",
            flush=True,
        )
    result = {
        "machine": machine(),
        "rows": rows,
        "predict": pred,
        "memory": mem,
        "n": n,
        "repeats": repeats,
        "date": datetime.date.today().isoformat(),
        "command": "python benchmarks/bench_mlp.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    if args.write_readme:
        write_readme(result)
    return result


def _table(result):
    lines = [
        "| threads | hidden | contender | samples/s (median) | min-max | x GEMM bound | neuronet (diag off) vs this |",
        "|---|---|---|---|---|---|---|",
    ]
    by = {}
    for r in result["rows"]:
        by.setdefault((r["threads"], r["hidden"]), {})[r["contender"]] = r
    for (threads, hidden), group in by.items():
        ours = group["neuronet (diagnostics off)"]["median"]
        for name, r in group.items():
            ratio = "" if name.startswith("neuronet") or name == "GEMM bound" else f"{ours / r['median']:.2f}x"
            lines.append(
                f"| {threads} | {hidden} | {name} | {r['median']:.0f} | {r['min']:.0f}-{r['max']:.0f} | "
                f"{r['vs_bound']:.2f} | {ratio} |"
            )
    return "\n".join(lines)


def write_readme(result):
    m = result["machine"]
    pred = "; ".join(
        f"{t} thread(s): " + ", ".join(f"{k} {v:.0f} samples/s" for k, v in p.items())
        for t, p in result["predict"].items()
    )
    mem = ""
    if result["memory"]:
        rss, data_mb, param_mb = result["memory"][:3]
        mem = (
            f"\nPeak resident memory of a 10-epoch training run: {rss:.0f} MB, for {data_mb:.0f} MB of training "
            f"data and {param_mb:.1f} MB of parameters (target: at most 1.5 x (data + parameters + 200 MB) = "
            f"{1.5 * (data_mb + param_mb + 200):.0f} MB).\n"
        )
    body = f"""{SECTION}

Command: `{result["command"]}` ({result["date"]}; {result["n"]} samples, {result["repeats"]} interleaved repeats).
Machine: {m["cpu"]}, {m["cores"]} cores; BLAS {m["blas"]}; OPENBLAS_CORETYPE {m["OPENBLAS_CORETYPE"]};
Python {m["python"]}; {", ".join(f"{k} {v}" for k, v in m["versions"].items())}.
This machine is shared and noisy: compare ratios within a row group, not absolute numbers.

{_table(result)}

Prediction throughput (batch 10,000, ReLU network): {pred}.
{mem}"""
    text = (
        README.read_text() if README.exists() else "# Benchmarks\n\nFigures measured by the scripts in this folder.\n"
    )
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    text = pattern.sub(body.rstrip() + "\n", text) if SECTION in text else text.rstrip() + "\n\n" + body
    README.write_text(text)


if __name__ == "__main__":
    main()
