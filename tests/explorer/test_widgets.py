"""The explorer driven from Python: set filters as a user would, and check every number against tabulate.

The widgets only orchestrate, so the oracle here is `lt_workbench.analysis.tabulate` itself (tested elsewhere
against an independent recomputation): what the figures, tables and evidence show must be exactly
what tabulate returns for the same filters. Clicks go through plotly's own message path
(`_js2py_pointsCallback`), as the browser sends them. In public mode the explorer session joins the
snapshot's release, so its figures are compared with the API asked *in the same release*
(`in_release`); every test starts a fresh release (its own ledger).
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from lt_workbench.analysis import tabulate as tab
from lt_workbench.analysis.publish import public_release
from lt_workbench.model.db import connect
from lt_workbench.exceptions import DatabaseError, DisclosureError, TabulationError, WorkbenchError
from lt_workbench.model.load import load
from lt_workbench.explorer.widgets import ANY, DownloadButton, Explorer, FilterPanel, PatternPicker, scope_options
from lt_workbench.present.tables import render as render_table

SAMPLE = Path(__file__).parent.parent.parent / "data" / "sample"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("widgets") / "sample.duckdb"
    result = load([SAMPLE], db, progress=False)
    assert result.exit_code == 0, result.summary()
    return db


@pytest.fixture(scope="module")
def con(sample_db: Path):
    c = connect(sample_db, read_only=True)
    yield c
    c.close()


@pytest.fixture(autouse=True)
def fresh_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test publishes into a release of its own (a ledger in its tmp_path), so no test depends on another's."""
    ledger = tmp_path / "releases.sqlite"
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(ledger))
    return ledger


def in_release(sample_db: Path, fn: Any, *args: Any, **kwargs: Any) -> pd.DataFrame:
    """A public analysis API call inside the release the explorer's session joined (same snapshot, same ledger)."""
    with public_release(sample_db, name="test: the API"):
        return fn(*args, disclosure="public", **kwargs)


@pytest.fixture
def explorer(con) -> Explorer:
    ex = Explorer(con=con, disclosure="restricted", debounce=0)
    yield ex
    ex.close()


def click(fig: Any, *, xs: list[Any], ys: list[Any], inds: list[Any], trace: int = 0) -> None:
    """What the browser sends when a point is clicked."""
    fig._js2py_pointsCallback = {
        "event_type": "plotly_click",
        "points": {"trace_indexes": [trace] * len(xs), "point_indexes": inds, "xs": xs, "ys": ys},
        "device_state": None,
        "selector": None,
    }


def top_of(freq: pd.DataFrame, n: int) -> pd.DataFrame:
    """The bars the explorer should draw: shown (non-suppressed) codes with a count, largest first, frame order on ties."""
    f = freq.assign(_n=pd.to_numeric(freq["count"], errors="coerce"), _p=pd.to_numeric(freq["percent"], errors="coerce"))
    f = f[f["_n"].notna() & (f["_n"] > 0) & f["_p"].notna()]
    return f.sort_values("_n", ascending=False, kind="mergesort").head(n)


def code_of(label: str) -> str:
    return label.rsplit(" · ", 1)[-1]


def assert_bar_matches(ex: Explorer, freq: pd.DataFrame) -> None:
    expected = top_of(freq, ex.top.value)
    bar = ex.bar.data[0]
    assert [code_of(y) for y in bar.y] == list(expected["code"]) == ex.bar_codes
    np.testing.assert_allclose(bar.x, expected["_p"].to_numpy(dtype=float))
    np.testing.assert_allclose(np.asarray(bar.x) + np.asarray(bar.error_x.array),
                               pd.to_numeric(expected["ci_high"]).to_numpy(dtype=float))
    np.testing.assert_allclose(np.asarray(bar.x) - np.asarray(bar.error_x.arrayminus),
                               pd.to_numeric(expected["ci_low"]).to_numpy(dtype=float))
    assert list(ex.bar.data[1].text) == [f"{int(c):,} of {int(d):,}" for c, d in zip(expected["count"], expected["denominator"], strict=False)]


# --------------------------------------------------------------------------------------------
# Reusable pieces


def test_filter_panel_cascades_and_builds_where(con) -> None:
    panel = FilterPanel(con=con, disclosure="restricted")
    calls: list[int] = []
    panel.on_change(lambda: calls.append(1))
    assert ("North West", "north_west") in panel.region.options  # words shown, codes kept
    panel.nation.value = "wales"
    assert [c for _, c in panel.region.options] == [ANY, "wales"]
    areas = scope_options(con).areas
    assert {c for _, c in panel.area.options} - {ANY} == set(areas.loc[areas["nation"] == "wales", "area_code"])
    assert len(calls) == 1  # one notification per user action, cascades included
    panel.set(nation=None, region="north_west", years=(2015, panel.years.max), direction="unsafe")
    assert len(calls) == 2
    where = panel.where
    assert where["region"] == "north_west" and where["direction"] == "unsafe"
    assert list(where["year"]) == list(range(2015, panel.years.max + 1))
    assert "direction" not in panel.scope_where
    assert "North West" in panel.describe() and "2015" in panel.describe()
    panel.set(frame="factors")
    assert panel.direction.description == "Influence"
    assert {c for _, c in panel.direction.options} == {ANY, "supporting", "hindering"}
    assert "direction" not in panel.where and "influence" not in panel.where
    with pytest.raises(TabulationError, match="unknown filter"):
        panel.set(colour="red")


def test_pattern_picker_shows_labels_from_the_frames() -> None:
    picker = PatternPicker("patterns", 2)
    assert ("Resource–demand mismatch · P2.1", "P2.1") in picker.options
    assert all(code.count(".") == 1 for _, code in picker.options)
    every = PatternPicker.choices("patterns", None)
    assert every[0] == ("Patterns in human–tool operation · P1", "P1")
    assert every[1][0].startswith("\u2003")  # depth shown by indentation
    picker.value = ("P2.1", "P6.4")
    picker.set_frame("patterns", 3)
    assert picker.value == ()
    picker.set_frame("factors", 2)
    assert ("Aspects of the family · FL.FAM", "FL.FAM") in picker.options
    assert picker.label_of("FL.FAM") == "Aspects of the family"


def test_download_button_sends_the_file_it_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    button = DownloadButton(lambda: ("t.csv", "text/csv", b"a,b\n1,2\n"), label="CSV")
    sent: list[tuple[Any, Any]] = []
    monkeypatch.setattr(button, "send", lambda content, buffers=None: sent.append((content, buffers)))
    button._on_message(button, {"event": "download"}, [])
    assert sent == [({"event": "file", "filename": "t.csv", "mime": "text/csv"}, [b"a,b\n1,2\n"])]
    broken = DownloadButton(lambda: (_ for _ in ()).throw(ValueError("no table")))
    monkeypatch.setattr(broken, "send", lambda content, buffers=None: sent.append((content, buffers)))
    broken._on_message(broken, {"event": "download"}, [])
    assert sent[-1][0]["event"] == "error" and "no table" in sent[-1][0]["message"]


# --------------------------------------------------------------------------------------------
# Figures follow the filters, with tabulate's numbers


def test_initial_figures_are_tabulates_numbers(explorer: Explorer, con) -> None:
    freq = tab.frequency("patterns", level=2, con=con)
    assert_bar_matches(explorer, freq)
    assert explorer.in_scope == int(tab.frequency("nation", con=con)["count"].sum()) and not explorer.empty
    assert all(" · " in y and re.search(r"[a-z]{3}", y) for y in explorer.bar.data[0].y)  # words, not codes alone
    pd.testing.assert_frame_equal(explorer.tables["recurrence"], tab.recurrence("patterns", level=2, con=con))


def test_region_and_years_redraw_every_view(explorer: Explorer, con) -> None:
    before_x, before_y = tuple(explorer.bar.data[0].x), tuple(explorer.bar.data[0].y)
    last = explorer.filters.years.max
    explorer.filters.region.value = "north_west"
    explorer.filters.years.value = (2015, last)
    where = {"region": "north_west", "year": range(2015, last + 1)}

    freq = tab.frequency("patterns", level=2, where=where, con=con)
    assert (tuple(explorer.bar.data[0].x), tuple(explorer.bar.data[0].y)) != (before_x, before_y)
    assert_bar_matches(explorer, freq)
    assert "North West" in explorer.message and "2015" in explorer.message

    trend = tab.trend("patterns", level=2, where=where, con=con)
    heat = explorer.heat_year.data[0]
    assert [code_of(y) for y in heat.y] == explorer.codes == explorer.bar_codes
    assert list(heat.x) == sorted(trend["year"].unique())
    for i, code in enumerate(explorer.codes):
        for j, year in enumerate(heat.x):
            row = trend[(trend["code"] == code) & (trend["year"] == year)].iloc[0]
            shown = heat.z[i][j]
            if pd.isna(row["percent"]):  # no reviews that year: a blank cell, not a 0
                assert shown is None and heat.text[i][j] == "" and row["denominator"] == 0
            else:
                assert shown == pytest.approx(row["percent"]) and heat.text[i][j] == str(int(row["count"]))
    assert not explorer.heat_year.data[1].visible  # restricted: nothing hidden

    co = tab.cooccurrence("patterns", level=2, where=where, tests=False, con=con)
    pair = explorer.heat_pair.data[0]
    both = {(a, b): n for a, b, n in zip(co["code_a"], co["code_b"], co["n_ab"], strict=False)}
    for i, a in enumerate(explorer.codes):
        for j, b in enumerate(pair.x):
            expected = both.get((a, b), both.get((b, a), 0))
            assert pair.z[i][j] == (None if a == b else expected)

    pd.testing.assert_frame_equal(explorer.tables["recurrence"], tab.recurrence("patterns", level=2, where=where, con=con))
    assert "Resource" in explorer.table_html.value  # the table shows words


def test_unit_depth_and_direction(explorer: Explorer, con) -> None:
    explorer.filters.set(unit="episode", level=3, direction="unsafe", trigger="death")
    where = {"trigger": "death", "direction": "unsafe"}
    assert_bar_matches(explorer, tab.frequency("patterns", level=3, unit="episode", where=where, con=con))
    assert "episodes" in explorer.bar.layout.title.text
    co = tab.cooccurrence("patterns", level=3, unit="episode", where=where, tests=False, con=con)
    assert explorer.tables["cooccurrence_counts"]["n_ab"].tolist() == co["n_ab"].tolist()
    explorer.filters.set(unit="area", direction=None)
    assert_bar_matches(explorer, tab.frequency("patterns", level=3, unit="area", where={"trigger": "death"}, con=con))
    assert "counted in reviews" in explorer.heat_pair.layout.title.text  # co-occurrence says which unit it used


def test_pinned_patterns_drive_the_heat_maps(explorer: Explorer) -> None:
    explorer.picker.value = ("P6.4", "P2.1")
    assert explorer.codes == ["P6.4", "P2.1"]
    assert [code_of(y) for y in explorer.heat_year.data[0].y] == ["P6.4", "P2.1"]
    assert [code_of(y) for y in explorer.heat_pair.data[0].y] == ["P6.4", "P2.1"]
    explorer.picker.value = ()
    assert explorer.codes == explorer.bar_codes


def test_contributory_factors_frame(explorer: Explorer, con) -> None:
    explorer.filters.set(frame="factors", level=2, region="london")
    assert_bar_matches(explorer, tab.frequency("factors", level=2, where={"region": "london"}, con=con))
    assert any("Aspects of the family" in y for y in explorer.bar.data[0].y)
    assert all(code_of(x).startswith("P") for x in explorer.heat_pair.data[0].x)  # factor x pattern
    click(explorer.bar, xs=[explorer.bar.data[0].x[0]], ys=[explorer.bar.data[0].y[0]], inds=[0])
    ev = explorer.evidence_table
    assert ev is not None and "note" in ev.columns
    assert ev["review_id"].nunique() == int(tab.frequency("factors", level=2, where={"region": "london"}, con=con)
                                             .set_index("code").loc[explorer.bar_codes[0], "count"])


# --------------------------------------------------------------------------------------------
# Evidence: the rows behind the clicked number


def test_clicking_a_bar_opens_the_evidence_behind_it(explorer: Explorer, con) -> None:
    explorer.filters.set(region="north_west", years=(2015, explorer.filters.years.max))
    i = 2
    code = explorer.bar_codes[i]
    click(explorer.bar, xs=[explorer.bar.data[0].x[i]], ys=[explorer.bar.data[0].y[i]], inds=[i])
    ev = explorer.evidence_table
    count = int(explorer.tables["frequency"].set_index("code").loc[code, "count"])
    assert ev is not None and ev["review_id"].nunique() == count
    assert set(ev["region"]) == {"north_west"} and ev["year"].min() >= 2015
    assert ev["coded_as"].map(lambda c: c == code or c.startswith(code + ".")).all()
    pd.testing.assert_frame_equal(ev, tab.evidence(code, frame="patterns", where=explorer.evidence_where(explorer.evidence_target), con=con))
    html_text = explorer.evidence_html.value
    assert f"<b>{count}</b> reviews" in html_text and "Episode" in html_text
    assert ev["finding"].iloc[0][:40].replace("'", "&#x27;") in html_text
    assert explorer.bar.data[0].marker.color[i] != explorer.bar.data[0].marker.color[0]  # the clicked bar is marked
    row = explorer.codes.index(code)  # ... and its row in both heat maps
    for fig in (explorer.heat_year, explorer.heat_pair):
        assert any(sh.yref == "y" and sh.y0 == row - 0.5 and sh.y1 == row + 0.5 for sh in fig.layout.shapes)
    assert any(sh.xref == "x" for sh in explorer.heat_year.layout.shapes)  # the SCR -> CSPR mark stays
    assert "evidence" in [v for _, v in explorer.table_view.options]
    explorer.table_view.value = "evidence"
    assert explorer.csv_bytes().decode().startswith("review_id,")
    # a click on the "n of N" label beside the bar means the same bar
    click(explorer.bar, xs=[0], ys=[explorer.bar.data[1].y[0]], inds=[0], trace=1)
    assert explorer.evidence_target.code == explorer.bar_codes[0]


def test_clicking_a_year_cell_opens_that_years_evidence(explorer: Explorer, con) -> None:
    trend = explorer.tables["trend"]
    heat = explorer.heat_year.data[0]
    row = trend[(trend["code"].isin(explorer.codes)) & (trend["count"] > 0)].iloc[0]
    i, j = explorer.codes.index(row["code"]), list(heat.x).index(row["year"])
    click(explorer.heat_year, xs=[heat.x[j]], ys=[heat.y[i]], inds=[[i, j]])
    ev = explorer.evidence_table
    assert explorer.evidence_target.year == row["year"]
    assert ev["review_id"].nunique() == int(row["count"])
    assert set(ev["year"]) == {row["year"]}


def test_clicking_a_pair_cell_opens_the_reviews_with_both(explorer: Explorer, con) -> None:
    pair = explorer.heat_pair.data[0]
    i, j = next((i, j) for i in range(len(pair.y)) for j in range(len(pair.x)) if pair.z[i][j])
    a, b = code_of(pair.y[i]), code_of(pair.x[j])
    click(explorer.heat_pair, xs=[pair.x[j]], ys=[pair.y[i]], inds=[[i, j]])
    ev = explorer.evidence_table
    assert ev["review_id"].nunique() == pair.z[i][j]
    with_b = set(tab.evidence(b, frame="patterns", con=con)["review_id"])
    assert set(ev["review_id"]) <= with_b
    assert explorer.evidence_target.code == a and explorer.evidence_target.with_code == b


def test_filters_clear_the_old_evidence(explorer: Explorer) -> None:
    explorer.open_evidence(explorer.bar_codes[0])
    assert explorer.evidence_table is not None
    explorer.filters.region.value = "london"
    assert explorer.evidence_table is None and "Filters changed. Click a bar" in explorer.evidence_html.value
    assert "evidence" not in [v for _, v in explorer.table_view.options]


# --------------------------------------------------------------------------------------------
# Empty scope, public mode, downloads, debounce


def test_a_filter_that_leaves_no_reviews_says_so(explorer: Explorer, con) -> None:
    grid = tab.frequency("nation", by=("area", "year"), con=con)
    present = set(zip(grid.loc[grid["count"] > 0, "area"], grid.loc[grid["count"] > 0, "year"], strict=False))
    years = range(explorer.filters.years.min, explorer.filters.years.max + 1)
    area, year = next((a, y) for a in sorted(set(grid["area"])) for y in years if (a, y) not in present)
    explorer.filters.set(area=area, years=(int(year), int(year)))
    assert explorer.empty and explorer.in_scope == 0
    assert "No reviews match these filters" in explorer.status.value
    assert "No reviews match" in explorer.message
    assert len(explorer.bar.data[0].x) == 0 and len(explorer.heat_year.data[0].y) == 0
    assert explorer.bar.layout.annotations[0].text == "No reviews match these filters"
    assert explorer.csv_button.disabled and explorer.current_table() is None
    with pytest.raises(TabulationError, match="no reviews"):
        explorer.csv_bytes()
    # Public mode refuses an area filter as it refuses an area dimension (#13), and says so without naming the area.
    with pytest.raises(TabulationError, match="public output never shows one area"):
        explorer.filters.disclosure.value = "public"
    assert "public output never shows one area" in explorer.status.value and area not in explorer.status.value
    explorer.filters.disclosure.value = "restricted"
    explorer.filters.set(area=None, years=(explorer.filters.years.min, explorer.filters.years.max))
    assert not explorer.empty and explorer.in_scope > 0 and "No reviews match" not in explorer.status.value
    assert len(explorer.bar.data[0].x) > 0 and not explorer.csv_button.disabled


def test_the_guides_steps_in_public_mode_show_what_can_be_shown_and_say_why_nothing_is(con, sample_db: Path) -> None:
    """The notebook's guide, one step at a time as a user clicks: all reviews, then North West, then 2015 onwards.

    Asked after the national views and the North West totals, the North West 2015- bars show the patterns whose
    2015- count does not give away a small earlier count beside those totals (on the sample 6 of 20; the session's
    release used to hide all 20: tests/analysis/test_guide_release.py), and the figure says how many are hidden. A
    single year of the North West (five reviews) then shows no bar (every count above 0 hidden), and the figure says so truthfully: not "every
    count is small", and never which cells are small.
    """
    from lt_workbench.explorer.views import NOTHING_SHOWN_PUBLIC

    ex = Explorer(con=con, debounce=0)
    try:
        assert len(ex.bar.data[0].x) > 0
        ex.filters.region.value = "north_west"
        assert len(ex.bar.data[0].x) > 0
        ex.filters.years.value = (2015, ex.filters.years.max)
        where = {"region": "north_west", "year": range(2015, ex.filters.years.max + 1)}
        public = in_release(sample_db, tab.frequency, "patterns", level=2, where=where, con=con)
        assert_bar_matches(ex, public)
        hidden = int(public["suppressed"].astype(bool).sum())
        assert 0 < hidden < len(public) and len(ex.bar.data[0].x) > 0
        assert [a.text for a in ex.bar.layout.annotations] == [f"{hidden} patterns hidden (c)"]
        ex.filters.years.value = (ex.filters.years.max, ex.filters.years.max)
        public = in_release(sample_db, tab.frequency, "patterns", level=2, con=con,
                            where={"region": "north_west", "year": range(ex.filters.years.max, ex.filters.years.max + 1)})
        assert_bar_matches(ex, public)
        hidden = int(public["suppressed"].astype(bool).sum())
        assert (public["suppressed"].astype(bool) | (public["count"].astype(str) == "0")).all() and len(ex.bar.data[0].x) == 0
        notes = [a.text for a in ex.bar.layout.annotations]
        assert notes == [f"{hidden} patterns hidden (c)", NOTHING_SHOWN_PUBLIC]
        assert "small and hidden" not in " ".join(notes) and "worked out" in NOTHING_SHOWN_PUBLIC
    finally:
        ex.close()


def test_public_mode_protects_numbers_and_hides_evidence(con, sample_db: Path) -> None:
    ex = Explorer(con=con, debounce=0)  # public is the default
    try:
        ex.filters.set(region="north_west", years=(2015, ex.filters.years.max))
        where = {"region": "north_west", "year": range(2015, ex.filters.years.max + 1)}
        public = in_release(sample_db, tab.frequency, "patterns", level=2, where=where, con=con)
        assert_bar_matches(ex, public)
        threshold = int(public.attrs["threshold"])
        shown = [int(t.split(" of ")[0].replace(",", "")) for t in ex.bar.data[1].text]
        assert shown and min(shown) >= threshold
        hidden = set(public.loc[public["suppressed"].astype(bool), "code"])
        assert hidden and not hidden & set(ex.bar_codes)
        assert "hidden (c)" in ex.bar.layout.annotations[0].text
        assert "Public" in ex.status.value
        assert ex.csv_bytes().decode() == render_table(ex.tables["frequency"], "csv")  # the default table: the bars'
        # The recurrence table splits each count into recent + before: beside the totals the bars show, that split
        # would give small numbers away here, so the release refuses it, and says so where the table would be.
        assert "recurrence" not in ex.tables and "recurrence" not in ex._snap.refused  # public: asked only when shown
        with pytest.raises(DisclosureError, match="explorer session .* North West · 2015"):
            in_release(sample_db, tab.recurrence, "patterns", level=2, where=where, con=con)
        ex.table_view.value = "recurrence"
        assert "recurrence" not in ex.tables and "frequency" in ex._snap.refused["recurrence"]
        assert "Not shown in public mode" in ex.table_html.value and "explorer session" in ex.table_html.value
        assert ex.current_table() is None
        ex.table_view.value = "frequency"

        ex.open_evidence(ex.bar_codes[0])
        assert ex.evidence_table is None
        assert "not shown in public mode" in ex.evidence_html.value
        restricted_text = tab.evidence(ex.bar_codes[0], frame="patterns", where=where, con=con)["finding"].iloc[0]
        assert restricted_text[:30] not in ex.evidence_html.value
        assert "evidence" not in [v for _, v in ex.table_view.options]
        for fig in (ex.heat_pair,):  # no small count reaches a heat map either
            for row in fig.data[0].text:
                assert all(t in ("", "0") or int(t) >= threshold for t in row)
            # hidden cells are drawn grey and marked, so a gap never reads as "none"
            hidden = [t for row in fig.data[1].text for t in row if t]
            assert fig.data[1].visible and hidden and set(hidden) <= {"c", "0"}
        # Years (and five-year periods) beside the exact totals on the bars would give thin years away (a total of
        # 10 over 8 years: each at most 3): refused, with the reason in the figure, and nothing drawn.
        assert {"trend", "trend_periods"} <= set(ex._snap.refused) and "trend" not in ex.tables
        assert ex.heat_year.layout.title.text == "By year: not shown in public mode"
        assert "Not shown: cannot protect" in ex.heat_year.layout.annotations[0].text
        assert not ex.heat_year.data[0].x and not ex.heat_year.data[1].x

        ex.filters.disclosure.value = "restricted"  # the same click now shows the evidence
        ex.open_evidence(ex.bar_codes[0])
        assert ex.evidence_table is not None and "Restricted" in ex.evidence_html.value
    finally:
        ex.close()


def test_downloads_are_the_table_shown(explorer: Explorer, con) -> None:
    explorer.table_view.value = "recurrence"
    filename, mime, data = explorer.csv_button.payload()
    assert filename == "lt-workbench-recurrence-patterns-level2-restricted.csv" and mime == "text/csv"
    back = pd.read_csv(io.StringIO(data.decode("utf-8")))
    assert list(back["code"]) == list(explorer.tables["recurrence"]["code"])
    assert back["reviews"].tolist() == explorer.tables["recurrence"]["reviews"].tolist()

    explorer.table_view.value = "cooccurrence"
    filename, mime, data = explorer.xlsx_button.payload()
    assert filename.endswith(".xlsx") and "spreadsheetml" in mime
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["table", "about"]
    rows = list(book["table"].values)
    full = tab.cooccurrence("patterns", level=2, con=con)
    assert list(rows[0][:4]) == ["code_a", "label_a", "code_b", "label_b"] and len(rows) - 1 == len(full)
    about = dict(list(book["about"].values)[1:])
    assert about["disclosure"] == "restricted" and "RESTRICTED" in about["note"]
    assert about["table"] == "Co-occurrence"

    explorer.table_view.value = "trend"
    assert explorer.csv_bytes().decode().splitlines()[0].startswith("code,label,year,count")
    explorer.table_view.value = "frequency"
    assert "Out of" in explorer.table_html.value
    filename, _, data = explorer.csv_button.payload()
    assert filename == "lt-workbench-frequency-patterns-level2-restricted.csv"


def test_rapid_changes_are_debounced_into_one_refresh(con) -> None:
    async def scenario() -> Explorer:
        ex = Explorer(con=con, disclosure="restricted", debounce=0.05)
        start = ex.refresh_count
        ex.filters.region.value = "north_west"
        ex.filters.trigger.value = "death"
        ex.top.value = 5
        assert ex.refresh_count == start  # nothing recomputed while changes keep coming
        for _ in range(100):
            await asyncio.sleep(0.02)
            if ex.refresh_count > start and ex.tables.get("recurrence") is not None and ex._handle is None:
                break
        await asyncio.sleep(0.1)  # let the remaining stages run
        assert ex.refresh_count == start + 1 and ex.debounced_count == 1
        return ex

    ex = asyncio.run(scenario())
    try:
        where = {"region": "north_west", "trigger": "death"}
        freq = tab.frequency("patterns", level=2, where=where, con=con)
        assert_bar_matches(ex, freq)
        assert len(ex.bar_codes) <= 5
        pd.testing.assert_frame_equal(ex.tables["recurrence"], tab.recurrence("patterns", level=2, where=where, con=con))
    finally:
        ex.close()


def test_explorer_opens_a_database_by_path_and_releases_it(sample_db: Path) -> None:
    ex = Explorer(sample_db, debounce=0)
    assert ex.in_scope > 0
    ex.close()
    with pytest.raises(Exception):
        ex.con.execute("SELECT 1")


def test_the_notebook_runs_headless_on_the_database_named_by_the_environment(sample_db: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """notebooks/explorer.ipynb: a guide, one `parameters` cell and a call; it runs top to bottom in a kernel."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(__file__).parent.parent.parent / "notebooks" / "explorer.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 2 and code[0].metadata.get("tags") == ["parameters"]
    assert "which patterns recur most in the North West since 2015" in nb.cells[0].source
    monkeypatch.setenv("LT_WORKBENCH_DB", str(sample_db))
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = code[1].outputs
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)


def test_clicks_from_another_thread_run_on_the_explorers_own_thread(con) -> None:
    """ipykernel 7 may deliver a click on a subshell thread: the work must still run on the home thread, in order."""

    async def scenario() -> tuple[set[int], Explorer]:
        ex = Explorer(con=con, disclosure="restricted", debounce=0.05)
        seen: set[int] = set()
        inner = ex._open_evidence

        def spy(*args: Any) -> None:
            seen.add(threading.get_ident())
            inner(*args)

        ex._open_evidence = spy  # type: ignore[method-assign]
        worker = threading.Thread(target=lambda: click(ex.bar, xs=[ex.bar.data[0].x[0]], ys=[ex.bar.data[0].y[0]], inds=[0]))
        worker.start()
        worker.join(10)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if ex.evidence_table is not None:
                break
        return seen, ex

    seen, ex = asyncio.run(scenario())
    try:
        assert seen == {threading.get_ident()}
        assert ex.evidence_table is not None and ex.evidence_target.code == ex.bar_codes[0]
    finally:
        ex.close()


@pytest.mark.slow
def test_every_frame_depth_unit_and_mode_draws_tabulates_numbers(con, sample_db: Path) -> None:
    ex = Explorer(con=con, disclosure="restricted", debounce=0)
    try:
        for mode in ("restricted", "public"):
            for frame in ("patterns", "factors"):
                for level in (1, 2, 3):
                    for unit in tab.UNITS:
                        ex.filters.set(disclosure=mode, frame=frame, level=level, unit=unit, region="north_west")
                        ask = tab.frequency if mode == "restricted" else lambda *a, **k: in_release(sample_db, tab.frequency, *a, **k)
                        kw = {"disclosure": "restricted"} if mode == "restricted" else {}
                        freq = ask(frame, level=level, unit=unit, where={"region": "north_west"}, con=con, **kw)
                        assert_bar_matches(ex, freq)
                        assert ex.last_error is None and not ex.empty
                        refused = ex._snap.refused
                        assert mode == "public" or not refused
                        if "trend" in refused and "trend_periods" in refused:  # public: refused, and says so
                            assert "not shown in public mode" in ex.heat_year.layout.title.text
                        else:
                            assert len(ex.heat_year.data[0].y) == len(ex.codes)
                        if mode == "restricted":  # public: recurrence is asked only when its view is shown
                            assert ("recurrence" in ex.tables) != ("recurrence" in refused)
    finally:
        ex.close()


def test_bad_arguments_fail_clearly_and_a_half_built_explorer_closes(sample_db: Path) -> None:
    built: list[Explorer] = []

    class Probe(Explorer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(self)
            super().__init__(*args, **kwargs)

    with pytest.raises(TabulationError, match="disclosure must be 'public' or 'restricted'"):
        Probe(db=sample_db, disclosure="secret")
    with pytest.raises(DatabaseError, match="does not exist: load reviews first"):
        Probe(db=sample_db.parent / "missing.duckdb")
    # ipywidgets calls close() when the object is collected: it must not fail on what was never set.
    for half_built in built:
        half_built.close()


# --------------------------------------------------------------------------------------------
# Defects found reading the code (#14 §5): each test failed before its fix


def test_widgets_raise_the_packages_own_errors(con, sample_db: Path) -> None:
    """Bad arguments raise lt_workbench.exceptions (catchable as WorkbenchError), never a bare ValueError."""
    for make in (lambda: FilterPanel(con=con, frame="colours"), lambda: FilterPanel(con=con, disclosure="secret"),
                 lambda: FilterPanel(con=con).set(colour="red"), lambda: Explorer(db=sample_db, disclosure="secret")):
        with pytest.raises(WorkbenchError) as err:
            make()
        assert not isinstance(err.value, ValueError)


def test_changing_frame_or_depth_keeps_the_explorers_lock_and_home_thread(con) -> None:
    """_quiet_picker used to replace the lock, the home thread and the loop on every frame or depth change."""
    ex = Explorer(con=con, disclosure="restricted", debounce=0)
    try:
        lock, home = ex._lock, ex._sched.home_thread
        ex.filters.set(frame="factors", level=3)
        ex.filters.set(level=1)
        assert ex._lock is lock and ex._sched.home_thread == home == threading.get_ident()
        # A change delivered on another thread (ipykernel's subshell) must not move the home there either.
        worker = threading.Thread(target=lambda: ex.filters.set(frame="patterns", level=2))
        worker.start()
        worker.join(30)
        assert ex._lock is lock and ex._sched.home_thread == home
        assert ex.picker.frame == "patterns" and ex.picker.level == 2
    finally:
        ex.close()


def _cell_number(html_text: str) -> int:
    return int(re.search(r": <b>(\d+)</b> ", html_text).group(1))


@pytest.mark.parametrize("frame,unit", [("patterns", "review"), ("patterns", "episode"), ("factors", "review"),
                                        ("factors", "episode")])
def test_every_cell_opens_exactly_the_units_behind_its_number(con, frame: str, unit: str) -> None:
    """A click on a bar, a year cell or a pair cell shows evidence for exactly the units its number counts."""
    ex = Explorer(con=con, disclosure="restricted", debounce=0, frame=frame, unit=unit)
    try:
        ex.filters.set(region="north_west")
        keys = ["review_id", "episode_id"] if unit == "episode" else ["review_id"]

        def units(ev: pd.DataFrame) -> int:
            return len(ev[keys].dropna().drop_duplicates())

        # the bar: its "n of N" text is the number clicked
        bar = ex.bar.data[0]
        for i in (0, len(ex.bar_codes) - 1):
            click(ex.bar, xs=[bar.x[i]], ys=[bar.y[i]], inds=[i])
            shown = int(ex.bar.data[1].text[i].split(" of ")[0].replace(",", ""))
            assert units(ex.evidence_table) == shown == _cell_number(ex.evidence_html.value)
        # a year cell: the count printed in it
        heat = ex.heat_year.data[0]
        i, j = next((i, j) for i in range(len(heat.y)) for j in range(len(heat.x)) if heat.text[i][j] not in ("", "0"))
        click(ex.heat_year, xs=[heat.x[j]], ys=[heat.y[i]], inds=[[i, j]])
        assert units(ex.evidence_table) == int(heat.text[i][j]) == _cell_number(ex.evidence_html.value)
        assert set(ex.evidence_table["year"]) == {heat.x[j]}
        # pair cells: the number of units holding both
        pair = ex.heat_pair.data[0]
        cells = [(i, j) for i in range(len(pair.y)) for j in range(len(pair.x)) if pair.z[i][j]]
        for i, j in cells[:3] + cells[-2:]:
            click(ex.heat_pair, xs=[pair.x[j]], ys=[pair.y[i]], inds=[[i, j]])
            assert units(ex.evidence_table) == pair.z[i][j] == _cell_number(ex.evidence_html.value)
    finally:
        ex.close()


def test_factor_pattern_cell_lists_the_episodes_it_counts_not_every_review_with_the_pattern(explorer: Explorer, con) -> None:
    """LS.ORG x P4.3 within episodes: the cell said 114 episodes and the panel listed 487 (every LS.ORG coding in
    a review with P4.3). Oracle: the co-occurrence table's n_ab, and episode sets read straight from the base tables."""
    explorer.filters.set(frame="factors", level=2, unit="episode")
    explorer.open_evidence("LS.ORG", with_code="P4.3")
    co = tab.cooccurrence("factor-pattern", level=2, factor_level=2, unit="episode", tests=False, con=con)
    n_ab = int(co.loc[(co["code_a"] == "LS.ORG") & (co["code_b"] == "P4.3"), "n_ab"].iloc[0])
    ev = explorer.evidence_table
    episodes = set(zip(ev["review_id"], ev["episode_id"], strict=True))
    assert len(episodes) == n_ab == _cell_number(explorer.evidence_html.value)
    # independent recomputation from the base tables: episodes coded LS.ORG.* on which a P4.3(.*) finding rests
    truth = set(con.execute(
        """SELECT DISTINCT fc.review_id, fc.episode_id FROM factor_codings AS fc
           JOIN pattern_episodes AS pe ON pe.review_id = fc.review_id AND pe.episode_id = fc.episode_id
           JOIN pattern_findings AS pf ON pf.review_id = pe.review_id AND pf.finding_no = pe.finding_no
           WHERE (fc.code = 'LS.ORG' OR fc.code LIKE 'LS.ORG.%') AND (pf.code = 'P4.3' OR pf.code LIKE 'P4.3.%')""").fetchall())
    assert episodes == truth
    assert ev["coded_as"].str.startswith("LS.ORG").all()


def test_evidence_names_factors_by_their_labels_beside_codes(explorer: Explorer) -> None:
    explorer.open_evidence(explorer.bar_codes[0])
    text = explorer.evidence_html.value
    factors = re.findall(r"<div class='ltw-ev-factors'>Factors: (.*?)</div>", text)
    assert factors and all("<i>" in f for f in factors)
    assert "<i>Organisational" in text or "<i>Aspects" in text or "<i>Nature" in text


@pytest.mark.parametrize("mode", ["restricted", "public"])
def test_the_bar_chart_and_the_table_under_it_show_the_same_figures(con, mode: str) -> None:
    """#14 §3: the bar said 136 of 301 and the table under it 140. The table first shown under the bars is now the
    bars' own table (public recurrence protects each code's count as a recent + before total, rounded like one)."""
    ex = Explorer(con=con, disclosure=mode, debounce=0)
    try:
        ex.filters.set(region="north_west", years=(2015, ex.filters.years.max))
        assert ex.table_view.value == "frequency"
        rows = re.findall(r"<tr><td>.*?<span style='color:#888'>([^<]+)</span></td>(.*?)</tr>", ex.table_html.value)
        table = {code: re.findall(r"<td class='n'>([^<]*)</td>", cells) for code, cells in rows}
        assert ex.bar_codes
        for code, text, pct in zip(ex.bar_codes, ex.bar.data[1].text, ex.bar.data[0].x, strict=True):
            count, den = text.split(" of ")
            assert table[code][:3] == [count, den, f"{pct:.1f}"], code
        # and the same numbers as the analysis API gives for the same question
        freq = tab.frequency("patterns", level=2, where={"region": "north_west", "year": range(2015, ex.filters.years.max + 1)},
                             con=con, disclosure=mode).set_index("code")
        for code, text in zip(ex.bar_codes, ex.bar.data[1].text, strict=True):
            assert text == f"{int(freq.loc[code, 'count']):,} of {int(freq.loc[code, 'denominator']):,}"
    finally:
        ex.close()


def test_public_year_heat_map_uses_periods_when_single_years_would_be_mostly_hidden(con, sample_db: Path) -> None:
    """#14 §3: serious case reviews by single year are ~78% c in public mode; by five-year period far fewer.

    In the session's release single years are refused outright (beside the totals on the bars they would give
    thin years away), and the periods drawn are the release's."""
    ex = Explorer(con=con, debounce=0)
    try:
        ex.filters.set(review_type="serious_case_review")
        where = {"review_type": "serious_case_review"}
        trend = tab.trend("patterns", level=2, where=where, con=con, disclosure="public")  # alone, outside any release
        periods = in_release(sample_db, tab.frequency, "patterns", level=2, by=("period",), where=where, con=con)
        assert ex.tables["trend_periods"].equals(periods) and "trend" in ex._snap.refused

        def share(t: pd.DataFrame) -> float:
            part = t[t["code"].isin(ex.codes) & (t["denominator"].astype(str) != "0")]
            return float((part["count"].astype(str) == "c").mean())

        assert share(trend) > 0.5 and share(periods) < share(trend)  # the premise, from the analysis API
        heat = ex.heat_year.data[0]
        assert list(heat.x) == list(dict.fromkeys(periods["period"]))  # periods, in time order
        assert "period" in ex.heat_year.layout.title.text and "Five-year periods" in ex.heat_year.layout.title.text
        assert "single years cannot be shown beside the totals" in ex.heat_year.layout.title.text  # says why
        for i, code in enumerate(ex.codes):
            for j, period in enumerate(heat.x):
                row = periods[(periods["code"] == code) & (periods["period"] == period)].iloc[0]
                if str(row["count"]) == "c":
                    assert ex.heat_year.data[1].text[i][j] == "c"
                elif heat.visible and heat.z[i][j] is not None:
                    assert heat.text[i][j] == str(int(row["count"])) and heat.z[i][j] == pytest.approx(float(row["percent"]))
        # a click on a period cell is understood (public: evidence explained, not shown)
        click(ex.heat_year, xs=[heat.x[0]], ys=[heat.y[0]], inds=[[0, 0]])
        assert ex.last_error is None and isinstance(ex.evidence_target.year, tuple)
        assert "not shown in public mode" in ex.evidence_html.value
        # restricted mode keeps single years
        ex.filters.disclosure.value = "restricted"
        assert all(isinstance(x, int) for x in ex.heat_year.data[0].x)
    finally:
        ex.close()


def test_an_open_explorer_says_when_new_data_is_loaded_and_reloads_on_request(tmp_path: Path) -> None:
    """#13: a load publishes a new snapshot while the explorer is open; the explorer keeps its numbers, says
    "new data loaded — refresh" with the new snapshot's id, and on request reopens and recomputes."""
    from lt_workbench.model.snapshot import current_snapshot

    files = sorted(SAMPLE.glob("*.json"))
    db = tmp_path / "team.duckdb"
    assert load(files[:40], db, progress=False).exit_code == 0
    ex = Explorer(db, disclosure="restricted", debounce=0)
    try:
        assert ex.in_scope == 40 and ex.fresh.note.value == "" and ex.fresh.button.layout.display == "none"
        # A load that changes no review publishes a snapshot with the same content: no "new data" (it said so before)
        bad = tmp_path / "bad"
        bad.mkdir()
        (bad / "not-a-review.json").write_text('{"review_id": "X"}')
        before = current_snapshot(db)
        assert load([bad], db, progress=False).exit_code != 0 and load(files[:40], db, progress=False).exit_code == 0
        same = current_snapshot(db)
        assert before is not None and same is not None and same.snapshot_id != before.snapshot_id
        assert same.content_hash == before.content_hash
        ex.filters.region.value = "london"
        ex.filters.region.value = ""
        assert ex.fresh.newer is None and ex.fresh.note.value == "" and ex.fresh.button.layout.display == "none"
        assert load(files[40:90], db, progress=False).exit_code == 0  # the explorer's connection stays open
        ex.filters.region.value = "london"  # any refresh checks
        info = current_snapshot(db)
        assert info is not None and ex.fresh.newer == info.snapshot_id
        assert "New data loaded — refresh" in ex.fresh.note.value and info.snapshot_id in ex.fresh.note.value
        assert ex.fresh.button.layout.display == ""
        ex.filters.region.value = ""
        assert ex.in_scope == 40  # still the snapshot it opened
        ex.fresh.button.click()
        assert ex.in_scope == 90 and ex.fresh.note.value == "" and ex.fresh.newer is None
    finally:
        ex.close()
