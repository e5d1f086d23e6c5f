"""Reports' HTML output: offline plotly with deterministic ids, the report stylesheet, plain HTML tables.

Why this module exists (figures.py re-exports every name, so notebooks keep `from
lt_workbench.present.figures import show, show_table, ...`):

- Under papermill plotly's default renderer emits only its own mimetype, which nbconvert drops, so
  figures silently vanish from HTML. `show()` emits `text/html` instead: a div and a `Plotly.newPlot`
  call, with plotly.js embedded once per notebook by `init_notebook()` (no CDN, so reports open
  offline and inside secure networks).
- plotly gives every figure a random div id, so two runs on the same data differ. `show()` numbers
  figures in order (`lt-figure-01`, ...), so the HTML is stable.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any, Callable

import pandas as pd
import plotly.graph_objects as go

from lt_workbench.present.fmt import HIDDEN as _HIDDEN
from lt_workbench.present.fmt import as_number as _num
from lt_workbench.present.fmt import number, percent_text

__all__ = ["REPORT_CSS", "init_notebook", "figure_html", "show", "show_text", "table_html", "show_table"]

REPORT_CSS = """
<style>
.lt-header {border: 1px solid #cbd2d9; border-radius: 6px; padding: 14px 18px; margin: 4px 0 12px 0; background: #f5f7fa; max-width: 1100px;}
.lt-header h2 {margin: 0 0 6px 0; font-size: 1.25em;}
.lt-header dl {display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 8px 0 0 0;}
.lt-header dt {font-weight: 600; color: #3e4c59; white-space: nowrap;}
.lt-header dd {margin: 0;}
.lt-mode {display: inline-block; padding: 3px 10px; border-radius: 4px; font-weight: 700; letter-spacing: .03em;}
.lt-mode.public {background: #e3f8ee; color: #05603a; border: 1px solid #05603a;}
.lt-mode.restricted {background: #fde8e8; color: #9b1c1c; border: 1px solid #9b1c1c;}
.lt-banner {border-left: 6px solid #9b1c1c; background: #fde8e8; padding: 8px 14px; margin: 6px 0; font-weight: 600; max-width: 1100px;}
.lt-note {color: #3e4c59; font-size: 0.92em; margin: 4px 0 14px 0; max-width: 1100px;}
.lt-text {max-width: 1100px; line-height: 1.5;}
table.lt-table {border-collapse: collapse; margin: 6px 0 2px 0; font-size: 0.92em;}
table.lt-table caption {caption-side: top; text-align: left; font-weight: 600; padding: 4px 0; color: #1f2933;}
table.lt-table th, table.lt-table td {border-bottom: 1px solid #e4e7eb; padding: 4px 10px; text-align: left !important; vertical-align: top;}
table.lt-table th {background: #f5f7fa; font-weight: 600; vertical-align: bottom;}
table.lt-table td:first-child {min-width: 14em; max-width: 36em;}
table.lt-wide {font-size: 0.85em;}
table.lt-wide th, table.lt-wide td {padding: 3px 5px;}
table.lt-wide td:first-child {min-width: 10em;}
table.lt-table td.lt-num, table.lt-table th.lt-num {text-align: right !important; font-variant-numeric: tabular-nums; white-space: nowrap;}
table.lt-table tr.lt-total td {font-weight: 600; border-top: 2px solid #9aa5b1;}
.lt-hidden {color: #7b8794; font-style: italic;}
.lt-excerpt {border-left: 3px solid #cbd2d9; padding: 4px 12px; margin: 8px 0; max-width: 1000px;}
.lt-excerpt .lt-meta {color: #52606d; font-size: 0.88em;}
</style>
"""

_figure_counter = 0


# --------------------------------------------------------------------------------------------
# Output: offline plotly and deterministic ids


def _ipython_display(markup: str, kind: str = "html") -> None:
    """Display HTML (or Markdown) in the running notebook; IPython's display functions are untyped."""
    from IPython import display as ipd

    show_fn: Callable[..., None] = ipd.display
    wrap: Callable[[str], object] = ipd.Markdown if kind == "markdown" else ipd.HTML
    show_fn(wrap(markup))



def _next_id() -> str:
    global _figure_counter
    _figure_counter += 1
    return f"lt-figure-{_figure_counter:02d}"


def _register_renderer() -> None:
    """Make `fig.show()` emit the same offline, deterministic HTML as show(), so no figure can vanish from a report."""
    import plotly.io as pio
    from plotly.io.base_renderers import MimetypeRenderer

    class OfflineHtmlRenderer(MimetypeRenderer):  # type: ignore[misc]  # plotly is untyped
        """text/html with a numbered div id and no scripts from elsewhere; plotly.js comes from init_notebook()."""

        def to_mimebundle(self, fig_dict: dict[str, Any]) -> dict[str, str]:
            return {"text/html": figure_html(go.Figure(fig_dict), _next_id())}

    pio.renderers["lt_offline"] = OfflineHtmlRenderer()
    pio.renderers.default = "lt_offline"


def init_notebook() -> None:
    """Embed plotly.js and the report style once, at the top of a notebook; restart figure numbering;
    set plotly's renderer to one that works in exported HTML and offline.

    plotly's own "notebook" renderer would embed the library too, but adds a MathJax script from a CDN
    to every figure, and its default renderer under papermill emits only a mimetype nbconvert drops.
    """
    from plotly.offline import get_plotlyjs

    global _figure_counter
    _figure_counter = 0
    _register_renderer()
    script = (
        "<script type=\"text/javascript\">window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script>\n"
    )
    _ipython_display(REPORT_CSS + script)


def figure_html(fig: go.Figure, div_id: str) -> str:
    """A figure as an HTML fragment (div + Plotly.newPlot) that relies on plotly.js already on the page."""
    import plotly.io as pio

    height = fig.layout.height or 480
    out: str = pio.to_html(
        fig,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        div_id=div_id,
        default_width="100%",
        default_height=f"{int(height)}px",
        validate=True,
        config={"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]},
    )
    return out


def show(fig: go.Figure) -> None:
    """Display a figure as interactive, offline HTML with a deterministic id (lt-figure-NN)."""

    _ipython_display(figure_html(fig, _next_id()))


def show_text(markdown: str) -> None:
    """Plain-words text computed from the data, as Markdown."""

    _ipython_display(markdown, "markdown")


# --------------------------------------------------------------------------------------------
# Tables


def table_html(
    df: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    counts: Sequence[str] = (),
    percents: Sequence[str] = (),
    numbers: Sequence[str] = (),
    caption: str | None = None,
    total_rows: Sequence[bool] | None = None,
    css_class: str = "lt-table",
    hidden_title: str = "hidden to protect children: a small number, or one that would reveal a small number",
) -> str:
    """A plain HTML table with headers in words; count cells carry class lt-count so checks can find them.

    columns: source column -> header, in display order. counts: columns holding counts of units
    (shown with thousands separators; c/z/: kept). percents: columns of percentages. numbers: other
    numeric columns (right-aligned as given).
    """
    count_cols, percent_cols, number_cols = set(counts), set(percents), set(numbers)
    head = []
    for src, title in columns.items():
        cls = ' class="lt-num"' if src in count_cols | percent_cols | number_cols else ""
        head.append(f"<th{cls}>{html.escape(title)}</th>")
    body = []
    totals = list(total_rows) if total_rows is not None else [False] * len(df)
    for (_, row), is_total in zip(df.iterrows(), totals, strict=False):
        cells = []
        for src in columns:
            value = row[src]
            if src in count_cols:
                text, cls = number(value), "lt-num lt-count"
            elif src in percent_cols:
                text, cls = percent_text(value), "lt-num lt-percent"
            elif src in number_cols:
                text = value if isinstance(value, str) else ("" if _num(value) is None else f"{_num(value):g}")
                cls = "lt-num"
            else:
                text, cls = ("" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)), ""
            inner = html.escape(str(text))
            if isinstance(value, str) and value in _HIDDEN and (src in count_cols or src in percent_cols or src in number_cols):
                inner = f'<span class="lt-hidden" title="{html.escape(hidden_title)}">{inner}</span>'
            cells.append(f'<td class="{cls}">{inner}</td>' if cls else f"<td>{inner}</td>")
        tr = '<tr class="lt-total">' if is_total else "<tr>"
        body.append(f"{tr}{''.join(cells)}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="{html.escape(css_class)}">{cap}<thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def show_table(df: pd.DataFrame, columns: Mapping[str, str], *, note: str | None = None, **kwargs: Any) -> None:
    """Display table_html() with an optional note underneath (unit, symbols)."""

    out = table_html(df, columns, **kwargs)
    if note:
        out += f'<p class="lt-note">{html.escape(note)}</p>'
    _ipython_display(out)
