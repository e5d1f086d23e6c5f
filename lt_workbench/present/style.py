"""The house style of every chart: fonts, the colour-blind-safe palette, colours by meaning, the common layout.

Shared by the report builders (figures.py, trends.py) and the explorer, so a chart looks the same wherever it is drawn.
"""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go

from lt_workbench.present.fmt import (
    interval_text,
    is_hidden,
    number,
    percent_text,
)

__all__ = ["FONT", "PALETTE", "DIRECTION_COLOURS", "LEVEL_COLOURS", "STATUS_COLOURS"]

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif", "size": 13, "color": "#1f2933"}
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
DIRECTION_COLOURS = {"constructive": "#009E73", "unsafe": "#D55E00"}
LEVEL_COLOURS = {"FL": "#0072B2", "LS": "#E69F00", "NG": "#CC79A7"}
STATUS_COLOURS = {
    "completed": "#009E73",
    "open": "#56B4E9",
    "overdue": "#D55E00",
    "not_accepted": "#999999",
}



def _layout(fig: go.Figure, *, title: str, height: int, x_title: str | None = None, y_title: str | None = None,
            legend_title: str | None = None, left: int = 20, subtitle: str | None = None) -> go.Figure:
    full_title = html.escape(title)
    if subtitle:
        full_title += f"<br><span style='font-size:12px;color:#52606d'>{html.escape(subtitle)}</span>"
    fig.update_layout(
        template="simple_white",
        font=FONT,
        title={"text": full_title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        height=height,
        margin={"l": left, "r": 30, "t": 90 if subtitle else 60, "b": 60},
        hoverlabel={"font": {"family": FONT["family"], "size": 12}, "align": "left"},
        legend={"title": {"text": legend_title or ""}, "orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "xanchor": "left"},
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    fig.update_xaxes(showgrid=True, gridcolor="#e4e7eb", automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def _hover_share(label: str, count: Any, den: Any, pct: Any, lo: Any, hi: Any, unit: str) -> str:
    if is_hidden(count) or is_hidden(pct):
        return f"<b>{html.escape(label)}</b><br>hidden: a small number ({html.escape(str(count))})"
    return (f"<b>{html.escape(label)}</b><br>{percent_text(pct)} of {unit} ({number(count)} of {number(den)})"
            f"<br>95% interval {interval_text(lo, hi)}")
