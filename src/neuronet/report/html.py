"""Self-contained HTML reports: sections of text, tables and figures in one file.

``render_html`` turns a list of ``Section`` objects into a single page: CSS inline,
every figure embedded as a ``data:image/png;base64`` URI, system fonts, no script
and no external URL, so the file can be mailed, archived or opened offline.  All
text is escaped by jinja2's autoescaping; pass ``markupsafe.Markup`` for the rare
trusted fragment that must stay HTML.

``write_training_report`` builds the sections of one training run (summary,
learning curves, saturation, gradient flow, activations, configuration) and writes
``index.html`` and ``history.json`` atomically.  The lecture report reuses
``Section``, ``render_html`` and the figure functions, and adds what a long page for
students needs: an explicit anchor and a coloured badge per section, collapsible
``Details``, and numbers at three significant digits (``format_number``).
"""

from __future__ import annotations

import base64
import datetime
import math
import platform
import re
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import jinja2
import numpy as np
from markupsafe import Markup
from matplotlib.figure import Figure

from .figures import (
    PNG_SIGNATURE,
    figure_to_data_uri,
)

__all__ = [
    "TEMPLATE_NAME",
    "Details",
    "Section",
    "default_meta",
    "format_interval",
    "format_number",
    "format_value",
    "render_html",
]

TEMPLATE_NAME = "report.html.j2"


# -- sections and values -----------------------------------------------------------------------
def _paragraphs(text) -> list[str]:
    """Paragraphs of ``text``: a string split at blank lines (``Markup`` kept whole), or a list as is."""
    if isinstance(text, str):
        if isinstance(text, Markup):
            return [text] if text.strip() else []
        return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return [p for p in text if p]


@dataclass
class Details:
    """A collapsible part of a section (``<details>``): a one-line summary, and content shown on click.

    Parameters
    ----------
    summary : str
        The line that is always visible (e.g. "How the verdict is reached", "All 12 rows").
    text, table, table_caption, figures
        As in ``Section``.
    open : bool
        Shown unfolded at first.
    """

    summary: str
    text: str | list[str] = ""
    table: list[dict] | None = None
    table_caption: str | None = None
    figures: list[tuple[str, Figure | bytes | str]] = field(default_factory=list)
    open: bool = False

    @property
    def paragraphs(self) -> list[str]:
        return _paragraphs(self.text)


@dataclass
class Section:
    """One titled part of a report.

    Parameters
    ----------
    title : str
    text : str or list of str
        Paragraphs; a single string is split into paragraphs at blank lines.
    table : list of dict, optional
        Rows; the columns are the union of the rows' keys in order of first
        appearance, and each cell goes through ``number_format`` (a ``Markup``
        cell, e.g. a badge or a link, stays HTML).
    figures : list of (caption, figure)
        ``figure`` is a matplotlib ``Figure``, PNG bytes, or a ``data:image/png`` URI.
    table_caption : str, optional
    note : str, optional
        A highlighted remark (e.g. a claim's verdict, or why a figure is missing).
    warning : str, optional
        A highlighted warning shown under the title (e.g. "training diverged").
    id : str, optional
        The anchor (``#id``) for links; default a slug of the title.
    badge : str, optional
        A coloured label beside the title and in the contents, e.g. a verdict:
        "supported", "mixed", "not supported", "not tested" have their own colours.
    details : list of Details
        Collapsible parts shown after the rest.
    figures_first : bool
        Put the figures above the table (a key figure before a table of numbers).
    table_class : str, optional
        CSS class of the table (``"checks"``: compact, for wide tables of text).
    number_format : callable, optional
        Formats the table's cells (and the details' tables); default ``format_value``.
    """

    title: str
    text: str | list[str] = ""
    table: list[dict] | None = None
    figures: list[tuple[str, Figure | bytes | str]] = field(default_factory=list)
    table_caption: str | None = None
    note: str | None = None
    warning: str | None = None
    id: str | None = None
    badge: str | None = None
    details: list[Details] = field(default_factory=list)
    figures_first: bool = False
    table_class: str | None = None
    number_format: typing.Callable | None = None

    @property
    def paragraphs(self) -> list[str]:
        return _paragraphs(self.text)


def format_value(value, digits: int = 4) -> str:
    """Text for a table cell, the same everywhere in a report.

    None -> ``—``; bool -> ``yes``/``no``; integers as is; floats with ``digits``
    decimals when ``1e-3 <= |x| < 1e5`` (``0.8162``), otherwise in scientific
    notation (``1.235e-05``); NaN and infinities as ``nan``/``inf``/``-inf``;
    lists joined with commas; strings unchanged.
    """
    if value is None:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == 0:
            return "0"
        if 1e-3 <= abs(x) < 1e5:
            return f"{x:.{digits}f}"
        return f"{x:.{max(digits - 1, 0)}e}"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(v, digits)}" for k, v in value.items())
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(format_value(v, digits) for v in value)
    return str(value)


def format_number(value, sig: int = 3) -> str:
    """A number as a student reads it: integers as integers, other numbers to ``sig`` significant digits.

    None, NaN -> ``—``; bool -> ``yes``/``no``; a whole number below 1e6 (``16``, ``16.0``)
    without decimals; ``1e-3 <= |x| < 1e5`` in fixed notation without trailing zeros (``0.816``,
    ``0.5``, ``1234``); smaller or larger numbers in scientific notation (``3.23e-9``, ``1e-4``);
    lists and tuples as ``[a, b]`` (a confidence interval); strings unchanged.
    """
    if value is None:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(format_number(v, sig) for v in value) + "]"
    if not isinstance(value, (int, float, np.integer, np.floating)):
        return value if isinstance(value, str) else str(value)
    x = float(value)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    if 1e-3 <= abs(x) < 1e5:
        decimals = max(sig - 1 - math.floor(math.log10(abs(x))), 0)
        text = f"{x:.{decimals}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return "0" if text in ("-0", "") else text
    mantissa, exponent = f"{x:.{max(sig - 1, 0)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def format_interval(low, high, sig: int = 3) -> str:
    """``[low, high]`` with both ends on one scale: ``sig`` significant digits of the larger end.

    ``format_interval(-0.00544, 0.000982)`` is ``[-0.00544, 0.00098]`` (not ``[-0.00544, 9.82e-4]``);
    a missing end is ``—``.
    """
    ends = [None if v is None or not math.isfinite(float(v)) else float(v) for v in (low, high)]
    known = [abs(v) for v in ends if v is not None and v != 0]
    if not known:
        return "[" + ", ".join("—" if v is None else "0" for v in ends) + "]"
    scale = max(known)
    if not 1e-3 <= scale < 1e5 or all(v is None or v == int(v) for v in ends):
        return "[" + ", ".join(format_number(v, sig) for v in ends) + "]"
    decimals = max(sig - 1 - math.floor(math.log10(scale)), 0)
    return "[" + ", ".join("—" if v is None else f"{v:.{decimals}f}" for v in ends) + "]"


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _slug(title: str, taken: set) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", str(title).lower()).strip("-") or "section"
    slug, k = base, 2
    while slug in taken:
        slug, k = f"{base}-{k}", k + 1
    taken.add(slug)
    return slug


def _image_src(obj, dpi: int, where: str) -> str:
    if isinstance(obj, Figure):
        return figure_to_data_uri(obj, dpi=dpi)
    if isinstance(obj, (bytes, bytearray)):
        if not bytes(obj).startswith(PNG_SIGNATURE):
            raise ValueError(f"{where}: bytes given as a figure are not a PNG image")
        return "data:image/png;base64," + base64.b64encode(bytes(obj)).decode("ascii")
    if isinstance(obj, str) and obj.startswith("data:image/"):
        return obj
    raise TypeError(
        f"{where}: a figure must be a matplotlib Figure, PNG bytes or a data:image URI; got {type(obj).__name__}"
    )


def _table(rows: list[dict], caption, formatter=None, css_class=None) -> dict | None:
    if not rows:
        return None
    fmt = formatter or format_value
    columns: list = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    body = [
        [{"text": fmt(row[c]) if c in row else "", "numeric": _is_number(row.get(c))} for c in columns] for row in rows
    ]
    return {"columns": [str(c) for c in columns], "rows": body, "caption": caption, "css_class": css_class}


# -- rendering ---------------------------------------------------------------------------------
def _load_template(name: str) -> str:
    # importlib.resources finds the template next to this module both in an editable
    # install (src/ on the path) and in a wheel (package data "report/templates/*.j2").
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _badge(text) -> dict | None:
    """``{"text", "kind"}`` for the template; ``kind`` is the CSS class (``not supported`` -> ``not-supported``)."""
    if not text:
        return None
    return {"text": str(text), "kind": re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")}


def _figures_of(part, where: str, dpi: int) -> list[dict]:
    return [
        {"caption": str(caption), "src": _image_src(fig, dpi, f"{where}, figure {caption!r}")}
        for caption, fig in part.figures
    ]


def _prepare_section(s: Section, sid: str, dpi: int) -> dict:
    """What the template needs of one section: figures as data URIs, tables as formatted cells."""
    where = f"section {s.title!r}"
    details = [
        {
            "summary": d.summary,
            "open": d.open,
            "paragraphs": d.paragraphs,
            "table": _table(d.table or [], d.table_caption, s.number_format),
            "figures": _figures_of(d, f"{where}, details {d.summary!r}", dpi),
        }
        for d in s.details
    ]
    return {
        "id": sid,
        "title": s.title,
        "badge": _badge(s.badge),
        "paragraphs": s.paragraphs,
        "table": _table(s.table or [], s.table_caption, s.number_format, s.table_class),
        "figures": _figures_of(s, where, dpi),
        "figures_first": s.figures_first,
        "details": details,
        "note": s.note,
        "warning": s.warning,
    }


def render_html(
    title: str,
    sections: list[Section],
    meta: dict | None = None,
    *,
    dpi: int = 100,
    intro: list | None = None,
    meta_summary: str | None = None,
    toc: bool = True,
) -> str:
    """One self-contained HTML page.

    Parameters
    ----------
    title : str
        Page title and heading (escaped).
    sections : list of Section
    meta : dict, optional
        Shown under the heading as ``key: value`` lines (seed, versions, date);
        values go through ``format_value``.
    dpi : int
        Resolution at which ``Figure`` objects are rendered to PNG.
    intro : list of str, optional
        Paragraphs shown under the heading, above the contents (``Markup`` stays HTML).
    meta_summary : str, optional
        Fold ``meta`` into a ``<details>`` with this summary line, at the foot of the page.
    toc : bool
        List the sections under the heading (when there are two or more).

    Returns
    -------
    str
        The page; it loads nothing from anywhere (no script, stylesheet, font or
        image URL).
    """
    taken: set = set()
    prepared = []
    for s in sections:
        if s.id is not None and s.id in taken:
            raise ValueError(f"section {s.title!r}: id {s.id!r} is used twice")
        sid = s.id if s.id is not None else _slug(s.title, taken)
        taken.add(sid)
        prepared.append(_prepare_section(s, sid, dpi))
    meta_items = [(str(k), format_value(v)) for k, v in (meta or {}).items()]
    return (
        _environment()
        .get_template(TEMPLATE_NAME)
        .render(
            title=title,
            sections=prepared,
            meta=meta_items,
            intro=_paragraphs(intro or []),
            meta_summary=meta_summary,
            toc=toc,
        )
    )


def default_meta() -> dict:
    """Date and library versions, recorded with every report."""
    import matplotlib

    from .. import __version__

    return {
        "generated (UTC)": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "neuronet": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
        "platform": platform.platform(terse=True),
    }
