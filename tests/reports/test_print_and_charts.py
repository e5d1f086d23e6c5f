"""Reports a board member reads on paper: values printed on the bars, hidden segments marked, rounded
totals explained, and an A4 print layout that keeps figures and tables whole (checked in Chromium).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from lt_workbench.present import figures as f

CHROMIUM = Path("/usr/bin/chromium")


def _status(rows: dict[str, list[object]]) -> pd.DataFrame:
    recs = []
    for row, values in rows.items():
        for code, value in zip(("completed", "open", "overdue"), values, strict=True):
            recs.append({"code": code, "label": code, "kind": row, "count": value, "denominator": 100,
                         "percent": value if not isinstance(value, str) else "c"})
    return pd.DataFrame(recs)


def test_stacked_bars_mark_hidden_segments_and_say_why_bars_stop_short() -> None:
    table = _status({"a": [50, "c", 45], "b": [60, 30, 10], "c": [50, 30, 10]})
    fig = f.stacked_shares(table, row="kind", row_labels={}, group="code", group_labels={"completed": "Completed", "open": "Open",
                           "overdue": "Overdue"}, colours={}, title="t")
    hidden = [t for t in fig.data if t.name == "Hidden (small numbers)"]
    assert len(hidden) == 1 and list(hidden[0].x) == [5.0] and list(hidden[0].text) == ["c"]  # a: 100 - 50 - 45
    assert hidden[0].marker.pattern.shape == "/"
    notes = " ".join(a.text for a in fig.layout.annotations)
    assert "Hatched grey (c)" in notes and "1 bar(s) stop short of or pass 100%" in notes  # row c adds up to 90
    shown = [t for t in fig.data if t.name == "Completed"][0]
    assert list(shown.text) == ["50%", "60%", "50%"]


def test_grouped_bars_print_their_values() -> None:
    table = pd.DataFrame({"code": ["P1", "P1", "P2", "P2"], "label": ["x"] * 4, "side": ["a", "b", "a", "b"],
                          "count": [12, "c", 30, 40], "denominator": [100] * 4, "percent": [12.0, "c", 30.0, 40.0],
                          "ci_low": [1.0, "c", 2.0, 3.0], "ci_high": [20.0, "c", 40.0, 50.0]})
    fig = f.grouped_shares(table, group="side", group_labels={"a": "A", "b": "B"}, title="t")
    assert [list(t.text) for t in fig.data] == [["12%", "30%"], ["c", "40%"]]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a4_print_keeps_figures_and_tables_whole(tmp_path: Path) -> None:
    """Print media in Chromium: figures and tables may not break across pages, charts are redrawn to the
    A4 printable width, and a PDF of the page is written."""
    if not CHROMIUM.exists():
        pytest.skip("BROWSER TEST SKIPPED: /usr/bin/chromium is missing (make browser-deps)")
    playwright = pytest.importorskip("playwright.sync_api")
    from lt_workbench.config import REPO_ROOT
    from lt_workbench.model.load import load
    from lt_workbench.reports import run_report

    db = tmp_path / "sample.duckdb"
    assert load([str(REPO_ROOT / "data" / "sample")], db).exit_code == 0
    result = run_report("recommendations_tracker", {}, tmp_path / "out", db=db)
    assert result.html is not None
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(result.html.as_uri())
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
            page.emulate_media(media="print")
            styles = page.evaluate("""() => ['.js-plotly-plot', 'table.lt-table', '.lt-findings'].map(sel =>
                [...document.querySelectorAll(sel)].map(el => getComputedStyle(el).breakInside))""")
            assert all(styles) and all(v == "avoid" for group in styles for v in group), styles
            page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
            page.wait_for_timeout(500)
            widths = page.evaluate("[...document.querySelectorAll('.js-plotly-plot .main-svg')].map(s => s.getBoundingClientRect().width)")
            assert widths and max(widths) <= 705, widths
            pdf = page.pdf(format="A4")
            assert pdf[:4] == b"%PDF" and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2
        finally:
            browser.close()
