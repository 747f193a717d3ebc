"""Every command and snippet in README.md, run as pasted, in a fresh folder.

A new user copies the README literally, so this test does too: it reads the fenced blocks out of
README.md, writes each ``toml`` block to the file its first comment names, runs each shell line
with ``.venv/bin`` first on PATH (what ``source .venv/bin/activate`` gives) and runs each
``python`` block in one interpreter.  A Python line whose comment starts with a number
(``rec.rates_hz.max()   # 487/s ...``) must evaluate to that number, to the digits shown.

Exactly three kinds of line are not run as written, each for a stated reason (``_ADAPTED``):

* the Quick start's ``make demo`` / ``make test``: ``.ci/run`` runs ``make test`` on a clean clone,
  and a test cannot run the suite it belongs to;
* ``neuronet lecture`` lines: the full lecture takes minutes (digits) to most of an hour
  (Fashion-MNIST), so each runs with ``--dry-run`` appended, which parses every option and plans
  every run without computing one (the quick lecture itself is tested in test_lecture.py);
* the multi-host Dask lines (``dask scheduler``/``dask worker`` on hosts A and B and the sweep
  pointed at ``tcp://A:8786``): they need other machines.

The playground line starts a server: it runs until the page answers, then gets Ctrl-C (SIGINT),
and must exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)]


def _shell_lines(body: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, trailing ``# comments`` dropped."""
    out, pending = [], ""
    for raw in body.splitlines():
        line = pending + (raw.lstrip() if pending else raw)
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1].rstrip() + " "
            continue
        pending = ""
        code = "" if line.lstrip().startswith("#") else re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
        if code:
            out.append(code)
    return out


def _adapted(command: str) -> str | None:
    """How the test runs ``command``: as is, adapted (see the module docstring), or None (not run)."""
    words = shlex.split(command)
    if words[:1] == ["make"]:
        return None
    if words[:1] == ["dask"] or "tcp://A:8786" in command:
        return None
    if words[:2] == ["neuronet", "lecture"]:
        return command + " --dry-run"
    return command


def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(BIN.parent)
    env["BROWSER"] = "true"  # the playground's "open a browser tab" must not start one here
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _run_playground(command: str, cwd: Path, env: dict) -> None:
    proc = subprocess.Popen(shlex.split(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:8765/", timeout=2) as r:
                    assert r.status == 200 and b"<html" in r.read(2000).lower()
                break
            except OSError:
                assert proc.poll() is None, f"{command!r} exited early: {proc.stdout.read().decode()[-2000:]}"
                assert time.monotonic() < deadline, f"{command!r}: no page within 60 s"
                time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, f"{command!r}: Ctrl-C should stop it cleanly"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


_NUMBER_COMMENT = re.compile(r"^(?P<code>\S.*?)\s+#\s*(?P<num>-?\d[\d,]*(?:\.\d+)?)(?P<rest>.*)$")


def _python_program(body: str) -> str:
    """The block with every ``expr  # <number>...`` line turned into a check of that number."""
    lines = []
    for line in body.splitlines():
        m = _NUMBER_COMMENT.match(line)
        code = m.group("code") if m else ""
        if m and "=" not in re.sub(r"[=!<>]=|\(.*\)", "", code) and not code.startswith(("import", "from")):
            shown = m.group("num").replace(",", "")
            lines.append(f"_readme_check({code}, {shown!r}, {line.strip()!r})")
        else:
            lines.append(line)
    return "\n".join(lines)


_CHECK = """
def _readme_check(value, shown, line):
    import numpy as np
    value = float(np.asarray(value).item())
    digits = len(shown.split(".")[1]) if "." in shown else 0
    assert round(value, digits) == float(shown), f"README: {line}\\n  evaluates to {value!r}, the comment shows {shown}"
"""


def _commands():
    cases = []
    text = README.read_text(encoding="utf-8")
    for i, (lang, body) in enumerate(_blocks(text)):
        if lang in ("", "sh", "bash", "console"):
            cases.extend(("shell", line) for line in _shell_lines(body))
        elif lang == "python":
            cases.append(("python", body))
        elif lang == "toml":
            cases.append(("toml", body))
        else:
            raise AssertionError(f"README block {i} has language {lang!r}: teach test_readme.py to run it")
    return cases


def test_the_readme_has_commands_and_snippets():
    kinds = [k for k, _ in _commands()]
    assert kinds.count("shell") >= 15 and kinds.count("python") >= 3 and kinds.count("toml") >= 1


def test_every_readme_command_and_snippet_runs_as_pasted(tmp_path):
    env = _env()
    not_run = []
    for kind, body in _commands():
        if kind == "toml":
            first = body.splitlines()[0]
            m = re.match(r"#\s*([\w.-]+\.toml)\b", first)
            assert m, f"a TOML block must name its file in its first line, got {first!r}"
            (tmp_path / m.group(1)).write_text(body, encoding="utf-8")
            continue
        if kind == "python":
            program = _CHECK + _python_program(body)
            r = subprocess.run(
                [sys.executable, "-c", program], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
            )
            assert r.returncode == 0, f"README snippet failed:\n{body}\n--- stderr ---\n{r.stderr[-3000:]}"
            continue
        command = _adapted(body)
        if command is None:
            not_run.append(body)
            continue
        if command.split()[:2] in (["neuronet", "playground"], [f"{Path('.venv/bin/neuronet')}", "playground"]):
            _run_playground(command.replace(".venv/bin/neuronet", str(BIN / "neuronet")), tmp_path, env)
            continue
        command = command.replace(".venv/bin/", f"{BIN}/")
        r = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"README command failed (exit {r.returncode}): {body}\n{r.stderr[-3000:]}"
    skipped = ["make demo", "make test", "dask scheduler", "dask worker", "--scheduler tcp://A:8786"]
    assert len(not_run) == len(skipped) and all(k in c for k, c in zip(skipped, not_run, strict=True)), (
        f"only make demo/test and the three multi-host Dask lines are skipped, got {not_run}"
    )
    _outputs_are_ignored(tmp_path)


def _outputs_are_ignored(folder: Path) -> None:
    """Whatever the README's commands wrote would be ignored by git in a checkout (.gitignore)."""
    written = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
    assert len(written) >= 10, written
    r = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=ROOT,
        input="\n".join(written),
        capture_output=True,
        text=True,
    )
    ignored = set(r.stdout.split())
    missing = [w for w in written if w not in ignored and w.rstrip("/") not in ignored]
    assert not missing, f".gitignore misses what the README's commands write: {missing}"


def test_a_number_in_a_comment_is_checked_and_can_fail():
    program = _python_program("x = 0.5\nx * 2            # 1.0: the value shown\nx                # 0.49: wrong")
    assert program.count("_readme_check(") == 2, program
    ok = subprocess.run([sys.executable, "-c", _CHECK + program.rsplit("\n", 1)[0]], capture_output=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "-c", _CHECK + program], capture_output=True, text=True)
    assert bad.returncode != 0 and "the comment shows 0.49" in bad.stderr, bad.stderr


def test_shell_lines_join_continuations_and_drop_comments():
    body = "neuronet train --data digits \\\n   --epochs 2   # two\n# a comment\nneuronet inspect m.safetensors\n"
    assert _shell_lines(body) == ["neuronet train --data digits --epochs 2", "neuronet inspect m.safetensors"]
