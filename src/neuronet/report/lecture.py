"""The lecture report: what the lecture says, what we measured, and the verdict, for a student.

The page (one offline file, ``write_lecture_report``) reads from the top down:

1. the counts of verdicts, for the experiments and for the lecture's statements;
2. one line per statement of the lecture (``experiments.coverage.STATEMENTS``) with a coloured
   verdict badge, linked to the experiment that tests it; an untested statement shows a grey
   "not tested" badge and the reason;
3. the experiments, each with its verdict and how many of its checks hold;
4. optionally, the verdicts of several runs side by side (digits quick, digits full, Fashion-MNIST
   full), with every verdict that differs between them flagged;
5. one section per experiment: what the lecture says, what we measured and the verdict in two or
   three sentences, its key figure (the first plot), the table of its checks, and the rule, the
   full measurement text, the other tables and figures and the configuration folded away in
   ``<details>``;
6. the coverage table: every statement, its experiment and checks, or "not tested, because …".

A statement's verdict comes from the checks it names (``Statement.checks``; a name or a prefix
ending in ``*``): all hold -> supported, none -> not supported, otherwise mixed.  An experiment
written before checks existed has none; its statements take the experiment's own verdict.

Experiments describe plots as data (``neuronet.experiments.Plot``); ``figure_from_plot`` draws
them, so matplotlib stays inside ``neuronet.report``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from ..files import write_json_atomic, write_text_atomic
from .figures import figure_to_data_uri
from .html import Details, Section, default_meta, format_interval, format_number, render_html
from .plots import figure_from_plot, metric_range
from .training import config_rows
from .verdicts import (
    NO_CHECK,
    NOT_RUN,
    NOT_TESTED,
    VERDICTS,
    _across_runs_section,
    _anchor,
    _badge,
    _check_flips_section,
    _checks,
    _get,
    _held,
    _link,
    statement_verdict,
)

__all__ = [
    "draw_figures",
    "figure_from_plot",
    "lecture_sections",
    "metric_range",
    "statement_verdict",
    "write_json_atomic",
    "write_lecture_report",
]

#: ``draw_figures(backend="auto")`` draws fewer figures than this in the calling process
MIN_FIGURES_IN_PROCESSES = 12
#: The measurement is shortened to this many sentences at the top of a section (the rest in details).
SHORT_SENTENCES = 2
SHORT_CHARS = 420


# -- text ----------------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(ΔαθτσμΣ①②③④⑤])")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(" ".join(str(text or "").split())) if s]


def _short(text: str, sentences: int = SHORT_SENTENCES, chars: int = SHORT_CHARS) -> tuple[str, bool]:
    """The first ``sentences`` sentences of ``text`` (cut at a word past ``chars``), and whether it was shortened."""
    parts = _sentences(text)
    short = " ".join(parts[:sentences])
    if len(short) > chars:
        short = short[:chars].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return short, short != " ".join(parts)


def _count_line(label: str, statuses: list[str], order) -> Markup:
    parts = [_badge(s, f"{statuses.count(s)} {s}") for s in order if statuses.count(s) or s in VERDICTS]
    return Markup("<strong>{}:</strong> ").format(label) + Markup(" ").join(parts)


# -- sections ------------------------------------------------------------------------------------
def _statement_rows(statements, results: dict, judged: list) -> list[dict]:
    rows = []
    for st, (status, checks) in zip(statements, judged):
        if status == NOT_TESTED:
            where = Markup('<span class="muted">not tested, because {}</span>').format(st.untested)
        elif status == NOT_RUN:
            where = Markup('<span class="muted">{} was not run in this report</span>').format(st.experiment)
        elif status == NO_CHECK:
            where = Markup('{} <span class="muted">(no check named {} in its result)</span>').format(
                _link(st.experiment, results), ", ".join(st.checks)
            )
        else:
            held = _held(checks) or "the experiment's verdict (it has no named checks)"
            where = Markup('{} <span class="muted small">{}</span>').format(_link(st.experiment, results), held)
        rows.append({"verdict": _badge(status), "the lecture says": st.text, "tested in": where})
    return rows


def _statement_sections(statements, results: dict, judged: list) -> list[Section]:
    parts = list(dict.fromkeys(st.part for st in statements))
    sections = []
    for part in parts:
        chosen = [(st, j) for st, j in zip(statements, judged) if st.part == part]
        title = "The lecture's statements" + (f": {part}" if len(parts) > 1 else "")
        sections.append(
            Section(
                title,
                id="statements" if part == parts[0] else None,
                text=(
                    "One line per statement of the lecture, in the lecture's order. The badge is the verdict of "
                    "the checks that test it: supported when all of them hold, not supported when none does, mixed "
                    "otherwise. Follow the link to the experiment."
                    if part == parts[0]
                    else ""
                ),
                table=_statement_rows([st for st, _ in chosen], results, [j for _, j in chosen]),
                table_class="statements",
                number_format=format_number,
            )
        )
    return sections


def _experiments_section(results: dict) -> Section:
    rows = []
    for name, r in results.items():
        checks = _checks(r)
        rows.append(
            {
                "experiment": _link(name, results),
                "what the lecture says": _get(r, "claim"),
                "verdict": _badge(_get(r, "verdict")),
                "checks": _held(checks) or "—",
                "time (s)": float(_get(r, "seconds", 0.0) or 0.0),
            }
        )
    return Section(
        "The experiments",
        id="experiments",
        text="Each experiment tests claims of the lecture on data, over several seeds, with named checks.",
        table=rows,
        table_class="experiments",
        number_format=format_number,
    )


def _check_rows(checks: list[dict]) -> list[dict]:
    rows = []
    for c in checks:
        what = Markup('{}<br><span class="muted small">Statistic: {}</span>').format(
            c.get("claim", ""), c.get("statistic", "")
        )
        if c.get("note"):
            what += Markup('<br><span class="muted small">Note: {}</span>').format(c["note"])
        ci = format_interval(*c["ci"]) if c.get("ci") is not None else "—"
        if c.get("p_value") is not None:
            ci = Markup("{}{}p = {}").format(
                ci if c.get("ci") is not None else "",
                Markup("<br>") if c.get("ci") is not None else "",
                format_number(c["p_value"], 2),
            )
        rows.append(
            {
                "check": Markup("<strong>{}</strong>").format(c.get("name", "")),
                "what it tests (statistic)": what,
                "value": c.get("value"),
                "CI": ci,
                "threshold": c.get("threshold", ""),
                "n": c.get("n"),
                "holds": _badge("holds", "✓ holds") if c.get("holds") else _badge("fails", "✗ fails"),
                "could fail if": c.get("could_fail", ""),
            }
        )
    return rows


def _verdict_sentence(result, checks: list[dict]) -> Markup:
    verdict = _get(result, "verdict")
    if checks:
        failing = [c["name"] for c in checks if not c.get("holds")]
        if not failing:
            said = f"All {len(checks)} checks hold." if len(checks) > 1 else "Its one check holds."
        elif len(failing) == len(checks):
            said = f"None of its {len(checks)} checks holds." if len(checks) > 1 else "Its one check fails."
        else:
            said = f"{_held(checks)}; " + (
                "failing: " + ", ".join(failing) + "." if len(failing) <= 3 else f"{len(failing)} fail (see the table)."
            )
    else:
        said = _short(" ".join(s for s in _sentences(_get(result, "reason", "")) if not s.startswith("Rule")))[0]
    return Markup("<strong>Verdict:</strong> {} {}").format(_badge(verdict), said)


def _rule_text(result, checks: list[dict]) -> list[str]:
    reason = str(_get(result, "reason", "") or "")
    if not checks:
        return [reason] if reason else []
    text = [
        "The verdict is the same rule for every experiment: supported when every check holds, not supported when "
        "none does, mixed otherwise. Each check compares its statistic (with its confidence interval where it has "
        "one) with a threshold fixed before the run, over n seeds, runs or points; “could fail if” says what result "
        "would have made it fail, so that no check holds by construction."
    ]
    if reason and not re.match(r"\d+ of \d+ checks hold", reason):
        text.append(reason)
    return text


def _figure(plot) -> tuple[str, str]:
    fig = figure_from_plot(plot)
    return str(_get(plot, "caption") or ""), figure_to_data_uri(fig)  # the title is drawn in the figure


@dataclass(frozen=True)
class _PlotTask:
    """One figure to draw, as a task for ``neuronet.backends.run_tasks``."""

    id: str
    plot: object
    rc: dict | None = None  # the matplotlib settings of the process that asked (drawn in another process)


def _draw(task: _PlotTask, blas_threads=None) -> tuple[str, str]:
    if not task.rc:
        return _figure(task.plot)
    import matplotlib

    with matplotlib.rc_context(task.rc):
        return _figure(task.plot)


class _Figures:
    """``run_tasks``'s sink for ``draw_figures``: the drawn figures by task id, and the first failure."""

    def __init__(self):
        self.drawn, self.error = {}, None

    def result(self, task, value):
        self.drawn[task.id] = value

    def failure(self, task, error):
        self.error = self.error or error

    def log(self, line):
        pass


def draw_figures(results: dict, *, backend: str = "serial", workers: int | None = None) -> dict:
    """Every figure of ``results``, drawn: ``{(name, i): (caption, data URI)}`` for plot ``i`` of experiment ``name``.

    Drawing is most of the time a report takes (about 0.5 s a figure, 43 figures in the lecture),
    and the figures are independent: ``backend="auto"`` draws them in one process per core
    (``neuronet.backends``).  Each figure is the same PNG wherever it is drawn.
    """
    import matplotlib

    from ..backends import run_tasks

    keys, plots = [], []
    for name, result in results.items():
        for i, plot in enumerate(_get(result, "plots", []) or []):
            keys.append((name, i))
            plots.append(plot)
    if backend == "auto" and len(plots) < MIN_FIGURES_IN_PROCESSES:
        backend = "serial"  # starting the workers (~2 s: each imports matplotlib) would cost more than it saves
    # the caller's matplotlib settings (a style, a font size, a matplotlibrc) travel with each figure to the workers
    rc = {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}
    tasks = [_PlotTask(str(j), p, rc if backend != "serial" else None) for j, p in enumerate(plots)]
    sink = _Figures()
    run_tasks(_draw, tasks, sink, backend=backend, workers=workers)
    if sink.error is not None:
        raise sink.error
    return {keys[int(j)]: drawn for j, drawn in sink.drawn.items()}


def experiment_section(index: int, name: str, result, figures: dict | None = None) -> Section:
    """One experiment: lecture / measurement / verdict, key figure, checks table, the rest in details.

    ``figures`` (optional): this experiment's figures drawn beforehand (``draw_figures``), else
    they are drawn here.
    """

    def figure(i, plot):
        drawn = (figures or {}).get((name, i))
        return drawn if drawn is not None else _figure(plot)

    checks = _checks(result)
    tables = list(_get(result, "tables", []) or [])
    if checks:  # the checks table replaces an experiment's own table of its checks
        tables = [t for t in tables if str(t.get("title", "")).strip().lower() != "checks"]
    plots = list(_get(result, "plots", []) or [])
    measurement, shortened = _short(_get(result, "measurement", ""))
    text = [
        Markup("<strong>The lecture says:</strong> “{}”").format(_get(result, "claim", "")),
        Markup("<strong>What we measured:</strong> {}").format(measurement),
        _verdict_sentence(result, checks),
    ]
    details = [Details("How the verdict is reached", text=_rule_text(result, checks))]
    if shortened:
        details.append(Details("The measurement in full", text=str(_get(result, "measurement", ""))))
    main_table, caption, table_class = None, None, None
    if checks:
        main_table, table_class = _check_rows(checks), "checks"
        caption = "The checks. A check holds when its value meets its threshold; CI is its confidence interval."
    elif tables:
        first = tables.pop(0)
        main_table, caption = first["rows"], first["title"]
    for t in tables:
        rows = t.get("rows") or []
        details.append(Details(f"Table: {t.get('title', '')} ({len(rows)} row{'s' * (len(rows) != 1)})", table=rows))
    if len(plots) > 1:
        details.append(
            Details(f"More figures ({len(plots) - 1})", figures=[figure(i, p) for i, p in enumerate(plots) if i]),
        )
    seeds = list(_get(result, "seeds", []) or [])
    details.append(
        Details(
            "Configuration, seeds and time",
            text=f"Seeds: {', '.join(map(str, seeds)) or 'none'}; time {format_number(_get(result, 'seconds'))} s.",
            table=config_rows(_get(result, "config")) or None,
        )
    )
    verdict = _get(result, "verdict")
    return Section(
        f"{index}. {name}",
        id=_anchor(name),
        badge=verdict,
        text=text,
        figures=[figure(0, plots[0])] if plots else [],
        figures_first=True,
        table=main_table,
        table_caption=caption,
        table_class=table_class,
        details=details,
        number_format=format_number,
    )


def _coverage_section(statements, results: dict, judged: list) -> Section:
    rows = []
    for st, (status, checks) in zip(statements, judged):
        if st.experiment is None:
            tested, named = "—", f"not tested, because {st.untested}"
        else:
            tested = _link(st.experiment, results)
            if checks:
                named = Markup("<br>").join(
                    Markup("{} {}").format("✓" if c.get("holds") else "✗", c["name"]) for c in checks
                )
            elif status in (NO_CHECK, NOT_RUN):
                named = ", ".join(st.checks) + f" ({'not found in its result' if status == NO_CHECK else 'not run'})"
            else:
                named = "the experiment's own verdict (its result has no named checks)"
        rows.append(
            {
                "statement": st.text,
                "part": st.part,
                "verdict": _badge(status),
                "tested in": tested,
                "checks, or why not tested": named,
            }
        )
    n_untested = sum(st.experiment is None for st in statements)
    return Section(
        "Coverage: every statement of the lecture",
        id="coverage",
        text=(
            f"{len(statements)} statements of the lecture, {len(statements) - n_untested} tested and "
            f"{n_untested} not tested. A tested statement names its experiment and the checks that decide it "
            "(✓ holds, ✗ fails); an untested one says why."
        ),
        table=rows,
        table_class="coverage",
        number_format=format_number,
    )


def _run_label(meta: dict | None) -> str:
    meta = meta or {}
    if "data" not in meta:
        return "this run"
    quick = str(meta.get("quick", "")).lower() in ("true", "1", "yes")
    return f"{meta['data']}, {'quick' if quick else 'full'}"


def lecture_sections(
    results: dict,
    *,
    statements=None,
    other_runs: dict | None = None,
    run_label: str = "this run",
    flip_notes: dict | None = None,
    figures: dict | None = None,
) -> tuple[list[Section], list[Markup]]:
    """The sections of the lecture report and the lines at its top (the counts).

    ``results`` maps a name to a ``Result`` or its dict; ``statements`` defaults to
    ``experiments.coverage.STATEMENTS``; ``other_runs`` maps a column label to another run's
    ``{name: verdict or result dict}`` (or its whole results.json); ``figures``: the figures drawn
    beforehand by ``draw_figures`` (else each is drawn in turn).
    """
    if statements is None:
        from ..experiments.coverage import STATEMENTS as statements
    statements = list(statements)
    judged = [statement_verdict(st, results) for st in statements]
    verdicts = [_get(r, "verdict") for r in results.values()]
    top = [_count_line("Experiments", verdicts, VERDICTS)]
    if statements:
        order = (*VERDICTS, NOT_TESTED, NOT_RUN, NO_CHECK)
        top.append(_count_line("Statements of the lecture", [s for s, _ in judged], order))
    sections = _statement_sections(statements, results, judged) if statements else []
    sections.append(_experiments_section(results))
    if other_runs:
        if flip_notes is None:
            from ..experiments.flips import FLIP_NOTES as flip_notes
        across, flips = _across_runs_section(results, other_runs, run_label, flip_notes)
        sections.append(across)
        check_flips = _check_flips_section(results, other_runs, run_label, flip_notes)
        if check_flips is not None:
            sections.append(check_flips)
        top.append(
            Markup(
                '<strong>Across datasets and modes:</strong> {} of {} verdicts differ (<a href="#{}">table</a>)'
            ).format(flips, len(across.table), "across-runs")
        )
    sections.extend(experiment_section(i, name, r, figures) for i, (name, r) in enumerate(results.items(), 1))
    if statements:
        sections.append(_coverage_section(statements, results, judged))
    else:
        top.append(Markup('<span class="muted">The coverage table of the lecture\'s statements is empty.</span>'))
    return sections, top


def write_lecture_report(
    out_dir,
    results: dict,
    *,
    meta: dict | None = None,
    title: str = "Variations on neural networks: the lecture's claims, measured",
    other_runs: dict | None = None,
    run_label: str | None = None,
    statements=None,
    flip_notes: dict | None = None,
    backend: str = "serial",
    workers: int | None = None,
) -> Path:
    """Write ``out_dir/index.html`` (one offline file) and return its path.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing.
    results : dict
        ``{name: Result or Result.to_dict()}`` of this run, in report order.
    meta : dict, optional
        ``key: value`` lines about the run (data, quick, seed), added to ``default_meta()`` and
        shown folded at the foot of the page.
    title : str
    other_runs : dict, optional
        ``{column label: {name: verdict or result dict}}`` (or a whole results.json) of other runs
        for the verdict table per dataset and mode, e.g. ``{"digits, quick": ..., "fashion-mnist,
        full": ...}``; this run is one more column.
    run_label : str, optional
        This run's column label; default from ``meta`` ("digits, quick"), else "this run".  A label
        equal to one of ``other_runs`` replaces that column.
    statements : sequence of coverage.Statement, optional
        Default ``experiments.coverage.STATEMENTS``.
    flip_notes : dict, optional
        ``{"experiment": why its verdict differs}`` and ``{"experiment: check": why that check
        differs}`` between runs; default ``experiments.flips.FLIP_NOTES`` (pass ``{}`` for none).
        Without a note the tables name the checks that changed and read the cause off their numbers.
    backend, workers : optional
        Where the figures are drawn (``draw_figures``): ``"serial"`` (default) in this process,
        ``"auto"`` in one process per core; the page is the same either way.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sections, top = lecture_sections(
        results,
        statements=statements,
        other_runs=other_runs,
        run_label=run_label or _run_label(meta),
        flip_notes=flip_notes,
        figures=draw_figures(results, backend=backend, workers=workers),
    )
    info = {**default_meta(), **(meta or {})}
    info = {k: info[k] for k in [*(meta or {}), *info] if k in info}  # the run's own lines first
    html = render_html(
        title,
        sections,
        info,
        intro=top,
        meta_summary="About this run: data, seeds, versions, date",
        toc=False,
    )
    return write_text_atomic(out / "index.html", html)
