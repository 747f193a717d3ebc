"""The trial store: one JSON file per finished trial under ``OUT/trials/``, and the folder's lock."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from ..errors import ConfigError
from ..files import write_json_atomic
from .spec import Spec, Trial

TRIAL_FORMAT = "neuronet-sweep-trial"
TRIAL_FORMAT_VERSION = 1


def trial_path(out_dir, trial_or_id) -> Path:
    tid = trial_or_id.id if isinstance(trial_or_id, Trial) else str(trial_or_id)
    return Path(out_dir) / "trials" / f"{tid}.json"


def read_record(path, trial: Trial | None = None) -> dict | None:
    """The record in ``path`` if it is a complete trial file (of ``trial``, when given); else None."""
    return _read(path, trial)[0]


def _read(path, trial: Trial | None) -> tuple[dict | None, str | None]:
    """``(record, None)``, or ``(None, why it is not one)``; ``(None, None)`` for a file that does not exist."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None  # not run yet
    except (OSError, UnicodeDecodeError) as e:
        return None, f"unreadable: {getattr(e, 'strerror', None) or type(e).__name__}"
    try:
        rec = json.loads(text)
    except RecursionError:
        return None, "not JSON: nested too deeply"
    except ValueError as e:
        return None, f"not JSON: {' '.join(str(e).split())}"
    if not isinstance(rec, dict) or rec.get("format") != TRIAL_FORMAT or not isinstance(rec.get("metrics"), dict):
        return None, "not a trial record"
    if trial is not None and (rec.get("id") != trial.id or rec.get("seed") != trial.seed):
        return None, "the record of another trial"
    problem = _malformed(rec)
    if problem is not None:
        return None, problem
    return rec, None


def _malformed(rec: dict) -> str | None:
    """What in a parsed trial record the summary could not use (its fields as ``trials.record``
    writes them), or None."""
    for name, v in rec["metrics"].items():
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return f"metric {name!r} is not a number"
        try:
            float(v)
        except OverflowError:
            return f"metric {name!r} is too large"
    timing = rec.get("timing")
    if not isinstance(timing, dict):
        return "timing is not an object"
    seconds = timing.get("seconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))):
        return "timing.seconds is not a number"
    if not isinstance(timing.get("finished", ""), str):
        return "timing.finished is not a date"
    if "host" in rec and not isinstance(rec["host"], str):
        return "host is not text"
    return None


def load_records(out_dir, spec: Spec) -> dict:
    """``{trial id: record}`` of the spec's trials that are done in ``out_dir``.

    A trial file that exists but holds no usable record (truncated, not JSON, nested too deeply,
    another trial's) is skipped, so its trial counts as not done; one warning names them.
    """
    out, skipped = {}, []
    for t in spec.trials():
        path = trial_path(out_dir, t)
        rec, problem = _read(path, t)
        if rec is not None:
            out[t.id] = rec
        elif problem is not None:
            skipped.append(f"{path.name} ({problem})")
    if skipped:
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        warnings.warn(
            f"{Path(out_dir) / 'trials'}: skipped {len(skipped)} unusable trial file(s), counted as not done: "
            f"{'; '.join(skipped[:3])}{more}",
            stacklevel=2,
        )
    return out


def save_record(out_dir, record: dict) -> Path:
    return write_json_atomic(trial_path(out_dir, record["id"]), record)


class Lock:
    """An exclusive lock on ``OUT/.sweep.lock`` (POSIX); the OS releases it when the process dies."""

    def __init__(self, out_dir):
        self.path = Path(out_dir) / ".sweep.lock"
        self.fd = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; trust the user
            return self
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            self.fd = None
            raise ConfigError(f"--out {self.path.parent}: another sweep is running in this folder") from None
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
