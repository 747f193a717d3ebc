"""Fashion-MNIST: ``neuronet.MLPClassifier`` against scikit-learn's, side by side.

The rows are those of the MLPClassifier table of the Fashion-MNIST paper's
benchmark (Xiao, Rasul & Vollgraf 2017, https://github.com/zalandoresearch/fashion-mnist):
activation relu/tanh x hidden_layer_sizes (100,), (100, 10), (10,), (10, 10).

Both libraries get the same data and the same settings:

* the full 60k/10k split from ``neuronet.data.load("fashion-mnist")``,
  standardized by a ``StandardScaler`` fitted on the training set (as the
  Fashion-MNIST benchmark did), as float32;
* the estimators' defaults (adam, learning_rate_init=1e-3, batch_size=200,
  max_iter=200, tol=1e-4, n_iter_no_change=10, alpha=1e-4) and one ``random_state``;
* neuronet additionally gets ``dtype="float32"`` (scikit-learn already keeps
  float32 input in float32);
* BLAS threads limited with threadpoolctl (``--threads``).

The two libraries are interleaved row by row (and which one goes first
alternates from fit to fit), so a slow spell of the machine hits both.

Targets checked per row:

* ``acc >= sk``: neuronet's test accuracy >= scikit-learn's in the same run;
* ``acc >= pub``: neuronet's test accuracy >= the published accuracy - 0.005;
* ``time <= 0.5``: neuronet's fit time <= 0.5 x scikit-learn's in the same run.

Examples
--------
Quick smoke run (a minute)::

    python benchmarks/bench_sklearn_fashion.py --max-train 5000 --max-iter 5

Full run, writing benchmarks/README.md (tens of minutes on two cores)::

    python benchmarks/bench_sklearn_fashion.py --write-readme
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shlex
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

#: (activation, hidden_layer_sizes, published scikit-learn test accuracy), in the paper's order.
ROWS = [
    ("relu", (100,), 0.871),
    ("relu", (100, 10), 0.870),
    ("tanh", (100,), 0.868),
    ("tanh", (100, 10), 0.863),
    ("relu", (10, 10), 0.850),
    ("relu", (10,), 0.848),
    ("tanh", (10, 10), 0.841),
    ("tanh", (10,), 0.840),
]
ACC_MARGIN = 0.005  # neuronet may be this far below the published accuracy
TIME_RATIO = 0.5  # neuronet's fit time must be at most this share of scikit-learn's
LOAD_SLACK = 0.5  # load above the BLAS threads + this: other processes shared the CPUs
SECTION = "## Fashion-MNIST: neuronet vs scikit-learn MLPClassifier"
README_INTRO = (
    "# neuronet benchmarks\n\nLatest figures from the scripts in this folder; each section says how it was produced.\n"
)
HERE = Path(__file__).resolve().parent


def row_name(activation, hidden) -> str:
    """``relu (100,)``, ``tanh (100,10)``: the key ``--rows`` matches against."""
    return f"{activation} ({','.join(map(str, hidden))}{',' if len(hidden) == 1 else ''})"


def _norm_key(s) -> str:
    return re.sub(r"[\s(),\-_/]+", "-", s.strip().lower()).strip("-")


def select_rows(spec):
    """Rows chosen by ``--rows``: names such as ``relu-100``, ``tanh-100-10`` or 1-based numbers.

    Items are separated by spaces, semicolons, or commas before a name
    (``relu-100,tanh-10``); a list of numbers may use commas (``1,3``).
    """
    if not spec:
        return list(ROWS)
    by_key = {_norm_key(row_name(a, h)): (a, h, p) for a, h, p in ROWS}
    chosen = []
    sep = r"[;,\s]+" if re.fullmatch(r"[\d,;\s]+", spec) else r"\s*;\s*|\s+(?!\()|\s*,(?=\s*[a-zA-Z])"
    for item in re.split(sep, spec.strip()):
        if not item:
            continue
        if item.isdigit() and 1 <= int(item) <= len(ROWS):
            row = ROWS[int(item) - 1]
        else:
            row = by_key.get(_norm_key(item))
        if row is None:
            valid = ", ".join(sorted(by_key)) + f", or 1..{len(ROWS)}"
            raise SystemExit(f"--rows: unknown row {item!r}; valid: {valid}")
        if row not in chosen:
            chosen.append(row)
    return chosen


# -- machine description --------------------------------------------------------------------
def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    name = m.group(1).strip() if m else platform.machine()
    fam = re.search(r"^cpu family\s*:\s*(\d+)$", text, re.M)
    mod = re.search(r"^model\s*:\s*(\d+)$", text, re.M)
    if fam and mod:
        name += f" (family {fam.group(1)}, model {mod.group(1)})"
    return name


def machine_info(threads) -> dict:
    import sklearn
    from threadpoolctl import threadpool_info

    import neuronet

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    blas = [
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture', '?')}, "
        f"{p.get('threading_layer', '?')}) from {Path(p.get('filepath', '')).name}"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "neuronet": getattr(neuronet, "__version__", "?"),
        "blas": blas,
        "blas_threads": threads,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "kernels": neuronet.kernels.status(),
    }


# -- data -----------------------------------------------------------------------------------
def load_data(max_train, seed):
    from sklearn.preprocessing import StandardScaler

    from neuronet.data import load

    ds = load("fashion-mnist", max_train=max_train, seed=seed)
    scaler = StandardScaler().fit(ds.X_train)  # fitted on the training set only
    X_train = np.ascontiguousarray(scaler.transform(ds.X_train), dtype=np.float32)
    X_test = np.ascontiguousarray(scaler.transform(ds.X_test), dtype=np.float32)
    return X_train, ds.y_train, X_test, ds.y_test, ds.source


# -- fitting --------------------------------------------------------------------------------
def make_estimator(lib, activation, hidden, max_iter, random_state):
    common = {
        "hidden_layer_sizes": hidden,
        "activation": activation,
        "max_iter": max_iter,
        "random_state": random_state,
    }
    if lib == "sklearn":
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(**common)
    from neuronet import MLPClassifier

    return MLPClassifier(**common, dtype="float32")


def fit_once(lib, activation, hidden, data, max_iter, random_state) -> dict:
    from sklearn.exceptions import ConvergenceWarning

    X_train, y_train, X_test, y_test = data
    est = make_estimator(lib, activation, hidden, max_iter, random_state)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        c0, t0 = time.process_time(), time.perf_counter()
        est.fit(X_train, y_train)
        fit_s = time.perf_counter() - t0
        cpu_s = time.process_time() - c0
    t0 = time.perf_counter()
    acc = float(np.mean(est.predict(X_test) == y_test))
    predict_s = time.perf_counter() - t0
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return {
        "fit_s": fit_s,
        "cpu_s": cpu_s,
        "load_1min": _load(),
        "predict_s": predict_s,
        "acc": acc,
        "n_iter": int(est.n_iter_),
        "s_per_iter": fit_s / max(int(est.n_iter_), 1),
        "converged": converged,
        "final_loss": float(est.loss_),
    }


def _load():
    """The 1-minute load average after a fit: other processes on the machine skew the timings."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def summarize_fits(fits) -> dict:
    """Median fit time over repeats; accuracy and n_iter of every repeat (they should agree)."""
    accs = [f["acc"] for f in fits]
    return {
        "fit_s": statistics.median(f["fit_s"] for f in fits),
        "fit_s_all": [round(f["fit_s"], 3) for f in fits],
        "s_per_iter": statistics.median(f["s_per_iter"] for f in fits),
        "acc": statistics.mean(accs),
        "acc_all": accs,
        "n_iter": fits[0]["n_iter"],
        "n_iter_all": [f["n_iter"] for f in fits],
        "converged": all(f["converged"] for f in fits),
        "final_loss": fits[0]["final_loss"],
        "cpu_s": statistics.median(f["cpu_s"] for f in fits),
        "load_1min": [f["load_1min"] for f in fits],
    }


def judge(sk, nn, published, threads) -> dict:
    """The three targets; ``contended`` when other processes loaded the CPUs during the row's fits.

    The benchmark itself keeps ``threads`` CPUs busy, so a 1-minute load average
    above ``threads + LOAD_SLACK`` after a fit means something else ran too; such a
    row's fit times (and so its time verdict) are not reliable.
    """
    ratio = nn["fit_s"] / sk["fit_s"]
    loads = [x for x in (*sk["load_1min"], *nn["load_1min"]) if x is not None]
    return {
        "time_ratio": ratio,
        "acc_vs_sklearn": nn["acc"] >= sk["acc"],
        "acc_vs_published": nn["acc"] >= published - ACC_MARGIN,
        "time": ratio <= TIME_RATIO,
        "contended": bool(loads) and max(loads) > threads + LOAD_SLACK,
    }


# -- report ---------------------------------------------------------------------------------
def _mark(ok) -> str:
    return "pass" if ok else "**FAIL**"


def _sec(x) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def _iters(s) -> str:
    return f"{s['n_iter']}" + ("" if s["converged"] else "*")


def table(results) -> str:
    head = (
        "| row | sklearn acc | neuronet acc | published | sklearn fit s | neuronet fit s | time ratio "
        "| n_iter sk / nn | s/iter sk / nn | acc >= sk | acc >= pub - 0.005 | time <= 0.5 |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        sk, nn, j = r["sklearn"], r["neuronet"], r["judge"]
        lines.append(
            f"| {r['row']} | {sk['acc']:.4f} | {nn['acc']:.4f} | {r['published']:.3f} | {_sec(sk['fit_s'])} "
            f"| {_sec(nn['fit_s'])} | {j['time_ratio']:.2f} | {_iters(sk)} / {_iters(nn)} "
            f"| {sk['s_per_iter']:.3f} / {nn['s_per_iter']:.3f} | {_mark(j['acc_vs_sklearn'])} "
            f"| {_mark(j['acc_vs_published'])} | {_mark(j['time'])}{' †' if j.get('contended') else ''} |"
        )
    return "\n".join(lines)


def tally(results) -> str:
    n = len(results)
    parts = []
    for key, label in (
        ("acc_vs_sklearn", "accuracy >= scikit-learn's"),
        ("acc_vs_published", "accuracy >= published - 0.005"),
        ("time", "fit time <= 0.5 x scikit-learn's"),
    ):
        parts.append(f"{label}: {sum(r['judge'][key] for r in results)}/{n}")
    return "; ".join(parts)


def load_range(results) -> str:
    loads = [x for r in results for lib in ("sklearn", "neuronet") for x in r[lib]["load_1min"] if x is not None]
    return f"{min(loads):.2f} to {max(loads):.2f}" if loads else "unknown"


def section(results, info, args, command, started, finished, n_planned, notes) -> str:
    m = info
    out = [SECTION, ""]
    if len(results) < n_planned:
        out += [
            f"**Incomplete run: {len(results)} of {n_planned} planned rows measured"
            f"{'' if finished else ' so far (still running or stopped)'}.** "
            "Rows not in the table were not measured.",
            "",
        ]
    out += [
        'Test accuracy and fit time of `neuronet.MLPClassifier(dtype="float32")` and '
        "`sklearn.neural_network.MLPClassifier` on the same standardized float32 data, with the same "
        f"settings: estimator defaults (adam, lr 1e-3, batch 200, max_iter={args.max_iter}, tol 1e-4, "
        f"n_iter_no_change=10, alpha 1e-4), random_state={args.random_state}. "
        f"Training set: {args.n_train} samples; test set: {args.n_test}. "
        "Published = scikit-learn's accuracy in the Fashion-MNIST paper's benchmark table.",
        "",
        table(results),
        "",
        f"Targets met: {tally(results)}.",
        "",
        *(
            [
                f"† the 1-minute load average exceeded {args.threads + LOAD_SLACK:g} after a fit of this row: other "
                "processes shared the CPUs, so its fit times are inflated by an unknown, different amount for each "
                "library and its time verdict is not reliable (accuracies and n_iter do not depend on load). "
                f"Contended rows: {sum(r['judge'].get('contended', False) for r in results)}/{len(results)}.",
                "",
            ]
            if any(r["judge"].get("contended") for r in results)
            else []
        ),
        "`*` after n_iter: stopped by max_iter without converging (ConvergenceWarning). "
        f"Fit times are the median of {args.repeats} fit(s) per library and row"
        f"{' (one full fit each: full fits are long, so the default is --repeats 1)' if args.repeats == 1 else ''}; "
        "the two libraries alternate row by row, and which goes first alternates from fit to fit. "
        "s/iter = fit time / n_iter (the libraries may stop after different numbers of epochs, so compare "
        "s/iter for speed per epoch and fit s for the target).",
        "",
        "Machine:",
        "",
        f"- CPU: {m['cpu']}; {m['logical_cpus']} logical CPUs ({m['usable_cpus']} usable)",
        f"- BLAS threads (threadpoolctl): {m['blas_threads']}; OPENBLAS_CORETYPE={m['openblas_coretype'] or 'unset'}; "
        f"compiled kernels: {m.get('kernels', 'none')}",
        *[f"- BLAS: {b}" for b in m["blas"]],
        f"- Python {m['python']}, numpy {m['numpy']}, scikit-learn {m['sklearn']}, neuronet {m['neuronet']}",
        f"- 1-minute load average after each fit: {load_range(results)} (above {m['blas_threads']} means other "
        "processes shared the CPUs during the run, which inflates and scatters the fit times)",
        f"- Date: {started} (finished {finished or 'not finished'})",
        "",
        "Command:",
        "",
        "```",
        command,
        "```",
    ]
    if notes:
        for n in notes:
            out += ["", f"Note: {n.strip()}"]
    return "\n".join(out) + "\n"


def write_readme(path: Path, text: str):
    """Replace (or append) our section in ``path``, keeping every other section as it is."""
    old = path.read_text() if path.exists() else README_INTRO
    pattern = re.compile(rf"^{re.escape(SECTION)}[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _: text + "\n", old, count=1)
        new = new.rstrip("\n") + "\n"
    else:
        new = old.rstrip("\n") + "\n\n" + text
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new)
    os.replace(tmp, path)


# -- main -----------------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Rows: " + "; ".join(f"{i + 1} = {_norm_key(row_name(a, h))}" for i, (a, h, _) in enumerate(ROWS)) + ".",
    )
    p.add_argument(
        "--rows",
        default="",
        help="subset of rows: names such as 'relu-100 tanh-100-10' or 'relu (100,);tanh (10,)', "
        "or numbers '1,3' (default: all 8; the numbers are listed below)",
    )
    p.add_argument("--max-iter", type=int, default=200, help="max_iter for both libraries (default 200)")
    p.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="fits per library and row; the median time is reported (default 1: full fits are long)",
    )
    p.add_argument(
        "--max-train",
        type=int,
        default=None,
        help="keep this many training samples (a seeded subset) for a quick smoke run",
    )
    p.add_argument("--threads", type=int, default=2, help="BLAS threads, set with threadpoolctl (default 2)")
    p.add_argument("--random-state", type=int, default=0, help="random_state for both libraries (default 0)")
    p.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    p.add_argument(
        "--write-readme",
        action="store_true",
        help=f"write/replace the section '{SECTION[3:]}' of benchmarks/README.md (after every row)",
    )
    p.add_argument("--note", action="append", default=[], help="a note to print under the README table (repeatable)")
    p.add_argument("--readme", type=Path, default=HERE / "README.md", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for name in ("max_iter", "repeats", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.max_train is not None and args.max_train < 10:
        p.error("--max-train must be >= 10")
    return args


def say(*a):
    print(*a, flush=True)


def main(argv=None):
    args = parse_args(argv)
    from threadpoolctl import threadpool_limits

    from neuronet import kernels

    kernels.warm_up(wait=True)  # the compiled kernels, loaded before anything is timed

    rows = select_rows(args.rows)
    command = "python benchmarks/bench_sklearn_fashion.py" + "".join(
        f" {shlex.quote(a)}" for a in (sys.argv[1:] if argv is None else argv)
    )
    started = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    notes = list(args.note)
    if args.max_train is not None:
        notes.append(
            f"smoke run on a {args.max_train}-sample training subset; not comparable with the published accuracies."
        )
    if args.max_iter != 200:
        notes.append(f"max_iter={args.max_iter}, not the default 200.")

    with threadpool_limits(limits=args.threads, user_api="blas"):
        info = machine_info(args.threads)
        t0 = time.perf_counter()
        X_train, y_train, X_test, y_test, source = load_data(args.max_train, args.random_state)
        args.n_train, args.n_test = X_train.shape[0], X_test.shape[0]
        data = (X_train, y_train, X_test, y_test)
        say(
            f"Fashion-MNIST from {source}: train {X_train.shape} test {X_test.shape} {X_train.dtype}, "
            f"standardized ({time.perf_counter() - t0:.1f}s)"
        )
        say(
            f"CPU {info['cpu']}, BLAS threads {args.threads}; numpy {info['numpy']}, sklearn {info['sklearn']}, "
            f"neuronet {info['neuronet']}"
        )
        say(f"{len(rows)} row(s) x 2 libraries x {args.repeats} repeat(s), max_iter={args.max_iter}")

        results = []
        k = 0  # fits so far, for alternating the order
        for activation, hidden, published in rows:
            name = row_name(activation, hidden)
            fits = {"sklearn": [], "neuronet": []}
            for rep in range(args.repeats):
                order = ("sklearn", "neuronet") if k % 2 == 0 else ("neuronet", "sklearn")
                k += 1
                for lib in order:
                    say(f"[{name}] {lib:8s} repeat {rep + 1}/{args.repeats} fitting...")
                    f = fit_once(lib, activation, hidden, data, args.max_iter, args.random_state)
                    fits[lib].append(f)
                    say(
                        f"[{name}] {lib:8s} acc {f['acc']:.4f}  fit {_sec(f['fit_s'])}s  n_iter {f['n_iter']}"
                        f"{'' if f['converged'] else ' (max_iter reached)'}  {f['s_per_iter']:.3f} s/iter  "
                        f"loss {f['final_loss']:.4f}  cpu {_sec(f['cpu_s'])}s  load {f['load_1min']:.2f}"
                    )
            sk, nn = summarize_fits(fits["sklearn"]), summarize_fits(fits["neuronet"])
            r = {
                "row": name,
                "activation": activation,
                "hidden_layer_sizes": list(hidden),
                "published": published,
                "sklearn": sk,
                "neuronet": nn,
            }
            r["judge"] = judge(sk, nn, published, args.threads)
            results.append(r)
            j = r["judge"]
            say(
                f"[{name}] acc sk {sk['acc']:.4f} nn {nn['acc']:.4f} pub {published:.3f} | time ratio "
                f"{j['time_ratio']:.2f} | acc>=sk {_mark(j['acc_vs_sklearn'])}  acc>=pub-0.005 "
                f"{_mark(j['acc_vs_published'])}  time<=0.5 {_mark(j['time'])}"
                f"{'  (CPUs shared with other processes: time verdict unreliable)' if j['contended'] else ''}"
            )
            done = len(results) == len(rows)
            finished = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z") if done else None
            if args.write_readme:
                write_readme(args.readme, section(results, info, args, command, started, finished, len(rows), notes))
            if args.json is not None:
                args.json.write_text(
                    json.dumps(
                        {
                            "machine": info,
                            "command": command,
                            "started": started,
                            "finished": finished,
                            "results": results,
                        },
                        indent=1,
                    )
                )

    say("")
    say(table(results))
    say("")
    say(f"Targets met: {tally(results)}")
    if args.write_readme:
        say(f"wrote section to {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
