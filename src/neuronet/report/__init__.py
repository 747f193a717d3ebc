"""Figures and self-contained HTML reports.

The only part of neuronet that imports matplotlib (object API with the Agg canvas,
never pyplot) and jinja2; the engine never imports this package.
"""

from ..files import to_jsonable, write_json_atomic, write_text_atomic
from .figures import (
    activation_histograms_figure,
    figure_to_data_uri,
    figure_to_png_bytes,
    gradient_figure,
    layer_label,
    loss_accuracy_figure,
    new_figure,
    saturation_figure,
)
from .html import Section, default_meta, format_value, render_html
from .training import config_rows, diagnostics_rows, summary_rows, training_sections, write_training_report

__all__ = [
    "Section",
    "activation_histograms_figure",
    "config_rows",
    "default_meta",
    "diagnostics_rows",
    "figure_to_data_uri",
    "figure_to_png_bytes",
    "format_value",
    "gradient_figure",
    "layer_label",
    "loss_accuracy_figure",
    "new_figure",
    "render_html",
    "saturation_figure",
    "summary_rows",
    "to_jsonable",
    "training_sections",
    "write_json_atomic",
    "write_text_atomic",
    "write_training_report",
]
