"""Running experiments and keeping their results: each result is saved as it finishes.

``run_lecture`` runs every registered experiment (or a chosen list) into
``OUT/results/<name>.json``, skipping those already there with the same
configuration, so an interrupted lecture rerun with the same ``--out`` picks up
where it stopped.  ``OUT/results.json`` collects them with versions and seeds.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ..files import to_jsonable, versions, write_json_atomic
from .base import Result, get_experiment, sorted_names


def _save(path: Path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, obj, indent=1)


def experiment_config(name, *, quick=False, data=None, seed=None, overrides=None):
    """The config an experiment runs with: quick or full defaults, then data/seed, then ``overrides``."""
    exp = get_experiment(name)
    cfg = exp.default_config(quick=quick)
    names = {f.name for f in dataclasses.fields(cfg)}
    changes = {}
    if data is not None and "data" in names:
        changes["data"] = data
    if seed is not None and "seeds" in names:
        changes["seeds"] = tuple(seed + s for s in cfg.seeds)
    changes.update(overrides or {})
    return dataclasses.replace(cfg, **changes) if changes else cfg


def run_one(name, config, out_dir=None, log=print) -> Result:
    """Run one experiment, saving ``out_dir/results/<name>.json`` when ``out_dir`` is given."""
    exp = get_experiment(name)
    result = exp.run(config)
    if out_dir is not None:
        _save(Path(out_dir) / "results" / f"{name}.json", {"result": result.to_dict(), "versions": versions()})
    return result


def load_saved(out_dir, name, config):
    """The saved result of ``name`` if it was made with exactly ``config``; else None."""
    path = Path(out_dir) / "results" / f"{name}.json"
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))["result"]
        if saved["config"] != to_jsonable(dataclasses.asdict(config)):
            return None
        return Result.from_dict(saved)
    except (ValueError, KeyError, TypeError):
        return None  # unreadable or from another version: run it again


def run_lecture(out_dir, *, names=None, quick=False, data=None, seed=0, log=print) -> dict:
    """Run (or reuse) each experiment; returns ``{name: Result}`` and writes ``results.json``."""
    names = list(names or sorted_names())
    results = {}
    for i, name in enumerate(names, 1):
        cfg = experiment_config(name, quick=quick, data=data, seed=seed)
        saved = load_saved(out_dir, name, cfg)
        if saved is not None:
            log(f"[{i}/{len(names)}] {name}: already done ({saved.verdict}), reusing {out_dir}/results/{name}.json")
            results[name] = saved
            continue
        seeds = getattr(cfg, "seeds", ())
        log(f"[{i}/{len(names)}] {name}: running with seeds {list(seeds)} ...")
        res = run_one(name, cfg, out_dir, log)
        log(f"[{i}/{len(names)}] {name}: {res.verdict} ({res.seconds:.1f}s) - {res.reason}")
        results[name] = res
    summary = {
        "data": data or "digits",
        "quick": quick,
        "seed": seed,
        "versions": versions(),
        "experiments": {n: r.to_dict() for n, r in results.items()},
    }
    _save(Path(out_dir) / "results.json", summary)
    return results
