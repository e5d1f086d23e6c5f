"""Every question command on the tabulation corpus: golden outputs, numbers equal to the API's, and counts
checked against a plain-Python recount of the corpus JSON (no DuckDB, no lt_workbench SQL).

Regenerate the goldens after a reviewed change with LT_UPDATE_GOLDEN=1 (as tests/analysis does).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from lt_workbench import tabulate as tab
from lt_workbench.cli import app

from .conftest import CORPUS_DIR

GOLDEN = Path(__file__).parent.parent / "golden" / "cli"
runner = CliRunner()
DOCS = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CORPUS_DIR.glob("*.json"))]

GOLDEN_RUNS: dict[str, list[str]] = {
    "trend_family_factors_domestic_abuse_restricted.csv": ["trend", "family-factors", "--code", "domestic_abuse", "--disclosure", "restricted"],
    "trend_patterns_level1_periods_long_restricted.csv": ["trend", "patterns", "--level", "1", "--periods", "5", "--layout", "long",
                                                           "--disclosure", "restricted"],
    "trend_patterns_level1_public.md": ["trend", "patterns", "--level", "1", "--periods", "4", "--threshold", "5"],
    "compare_patterns_level1_north_west_restricted.csv": ["compare", "patterns", "--level", "1", "--group", "region=north_west",
                                                           "--disclosure", "restricted"],
    "funnel_p2_restricted.csv": ["funnel", "patterns", "P2", "--disclosure", "restricted"],
    "overdue_2020_restricted.csv": ["overdue", "--as-of", "2020-03-31", "--disclosure", "restricted"],
    "overdue_2020_public_by_level.csv": ["overdue", "--as-of", "2020-03-31", "--by", "level", "--threshold", "5"],
    "recommendations_by_level_2020_restricted.csv": ["recommendations", "--by", "level", "--as-of", "2020-03-31",
                                                     "--disclosure", "restricted"],
    "cooccurrence_factor_pattern_with_p2_lift_top5_restricted.csv": [
        "cooccurrence", "factor-pattern", "--level", "1", "--with", "P2", "--sort", "lift", "--top", "5", "--disclosure", "restricted"],
    "recurrence_level2_sort_q_top5_restricted.csv": ["recurrence", "--level", "2", "--sort", "q", "--top", "5", "--disclosure", "restricted"],
    "values_region.csv": ["values", "region"],
    "values_year.csv": ["values", "year"],
    "values_patterns_level2.csv": ["values", "patterns", "--level", "2"],
}


def run(args: list[str], db: Path) -> Any:
    res = runner.invoke(app, [*args, "--db", str(db)])
    assert res.exit_code == 0, res.output
    return res


def run_json(args: list[str], db: Path) -> pd.DataFrame:
    payload = json.loads(run([*args, "--format", "json"], db).stdout)
    return pd.DataFrame(payload["rows"])


@pytest.mark.parametrize("name", sorted(GOLDEN_RUNS))
def test_golden_outputs(name: str, corpus_db: Path, tmp_path: Path) -> None:
    out = tmp_path / name
    run([*GOLDEN_RUNS[name], "--out", str(out)], corpus_db)
    text = out.read_text(encoding="utf-8")
    golden = GOLDEN / name
    if os.environ.get("LT_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{name} differs from tests/golden/cli; review and re-run with LT_UPDATE_GOLDEN=1"


# --- numbers equal the API's ------------------------------------------------------------------


def test_trend_equals_trend_and_trend_tests(corpus_db: Path) -> None:
    cli = run_json(["trend", "patterns", "--level", "1", "--disclosure", "restricted"], corpus_db).set_index("code")
    shares = tab.trend("patterns", level=1, db=corpus_db)
    tests = tab.trend_tests("patterns", level=1, db=corpus_db).set_index("code")
    overall = tab.frequency("patterns", level=1, db=corpus_db).set_index("code")
    for row in shares.itertuples(index=False):
        assert cli.loc[row.code, f"percent_{row.year}"] == pytest.approx(round(row.percent, 1), nan_ok=True)
    for code in tests.index:
        assert cli.loc[code, "q_value"] == pytest.approx(float(f"{tests.loc[code, 'q_value']:.4g}"))
        assert cli.loc[code, "direction"] == tests.loc[code, "direction"]
        assert cli.loc[code, "percent_all_years"] == pytest.approx(round(overall.loc[code, "percent"], 1))


def test_trend_code_does_not_change_q(corpus_db: Path) -> None:
    one = run_json(["trend", "patterns", "--level", "1", "--code", "P2", "--disclosure", "restricted"], corpus_db)
    every = run_json(["trend", "patterns", "--level", "1", "--disclosure", "restricted"], corpus_db).set_index("code")
    assert list(one["code"]) == ["P2"]
    assert one["q_value"].iloc[0] == every.loc["P2", "q_value"]


def test_domestic_abuse_share_recounted_from_the_json(corpus_db: Path) -> None:
    """Question (b): share of reviews recording domestic abuse, per year, against a recount of the documents."""
    cli = run_json(["trend", "family-factors", "--code", "domestic_abuse", "--layout", "long", "--disclosure", "restricted"],
                   corpus_db)
    recorded = [d for d in DOCS if d.get("family_factors") is not None]
    for row in cli.itertuples(index=False):
        in_year = [d for d in recorded if int(d["dates"]["completed"][:4]) == row.year]
        assert row.denominator == len(in_year)
        assert row.count == sum("domestic_abuse" in d["family_factors"] for d in in_year)


def test_compare_equals_api(corpus_db: Path) -> None:
    cli = run_json(["compare", "patterns", "--level", "2", "--group", "region=north_west", "--disclosure", "restricted"], corpus_db)
    api = tab.compare("patterns", group={"region": "north_west"}, level=2, db=corpus_db)
    assert list(cli["code"]) == list(api["code"])
    assert list(cli["count_group"]) == list(api["count_group"]) and list(cli["count_rest"]) == list(api["count_rest"])
    nw = [d for d in DOCS if d["area"]["region"] == "north_west"]
    assert set(cli["denominator_group"]) == {len(nw)}


def test_funnel_equals_api(corpus_db: Path) -> None:
    cli = run_json(["funnel", "patterns", "P2.1", "--disclosure", "restricted"], corpus_db)
    api = tab.funnel("patterns", code="P2.1", db=corpus_db)
    assert list(cli["count"]) == list(api["count"]) and list(cli["position"]) == list(api["position"])


def _overdue_oracle(as_of: str) -> list[dict[str, Any]]:
    return [r for d in DOCS for r in d["recommendations"]
            if r.get("due") and r["due"] < as_of and r["status"] not in ("completed", "not_accepted")]


def test_overdue_restricted_lists_every_item(corpus_db: Path) -> None:
    cli = run_json(["overdue", "--as-of", "2020-03-31", "--disclosure", "restricted"], corpus_db)
    expected = _overdue_oracle("2020-03-31")
    assert len(expected) > 10 and len(cli) == len(expected)
    assert sorted(cli["text"]) == sorted(r["text"] for r in expected)


def test_overdue_public_counts_only(corpus_db: Path) -> None:
    res = run(["overdue", "--as-of", "2020-03-31", "--threshold", "5"], corpus_db)
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert "text" not in rows[0] and "review_id" not in rows[0]
    late = _overdue_oracle("2020-03-31")
    expected = {**Counter(r["kind"] for r in late), "All": len(late)}
    kinds = {**Counter(r["kind"] for d in DOCS for r in d["recommendations"]), "All": sum(len(d["recommendations"]) for d in DOCS)}
    shown = {r["code"]: (int(r["count"]), int(r["denominator"])) for r in rows if r["count"] != "c"}
    assert shown and all(shown[k] == (expected.get(k, 0), kinds[k]) for k in shown if k != "All")
    assert abs(shown["All"][0] - expected["All"]) < 5, "the total is rounded to the nearest 10"
    assert all(expected[r["code"]] for r in rows if r["count"] == "c"), "only non-zero counts are hidden"
    assert "as of: 2020-03-31" in res.stderr and "disclosure: public" in res.stderr


def test_overdue_public_suppresses_small_counts(corpus_db: Path) -> None:
    rows = run_json(["overdue", "--as-of", "2020-03-31", "--by", "agency"], corpus_db)
    for v in rows["count"]:
        assert v == "c" or int(v) == 0 or int(v) >= 6


def test_overdue_bad_date_is_a_usage_error(corpus_db: Path) -> None:
    res = runner.invoke(app, ["overdue", "--as-of", "31/03/2026", "--db", str(corpus_db)])
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output


def _status_group(rec: dict[str, Any], as_of: str) -> str:
    if rec["status"] in ("completed", "not_accepted"):
        return str(rec["status"])
    return "overdue" if rec.get("due") and rec["due"] < as_of else "open"


@pytest.mark.parametrize("by", ["kind", "level", "agency"])
def test_recommendation_status_equals_a_recount(corpus_db: Path, by: str) -> None:
    cli = run_json(["recommendations", "--by", by, "--as-of", "2020-03-31", "--disclosure", "restricted"], corpus_db)
    recs = [r for d in DOCS for r in d["recommendations"]]
    expected = Counter((r.get(by) or "not_recorded", _status_group(r, "2020-03-31")) for r in recs)
    expected.update(Counter(("All", _status_group(r, "2020-03-31")) for r in recs))
    got = {(getattr(r, by), r.code): r.count for r in cli.itertuples(index=False) if r.count}
    assert got == dict(expected)


def test_cooccurrence_with_keeps_only_pairs_with_the_code(corpus_db: Path) -> None:
    every = run_json(["cooccurrence", "factor-pattern", "--level", "1", "--disclosure", "restricted"], corpus_db)
    cli = run_json(["cooccurrence", "factor-pattern", "--level", "1", "--with", "P2", "--disclosure", "restricted"], corpus_db)
    assert len(cli) and set(cli["code_b"]) == {"P2"}
    assert len(cli) == int((every["code_b"] == "P2").sum())
    ranked = run_json(["cooccurrence", "factor-pattern", "--level", "1", "--with", "P2", "--sort", "lift", "--top", "3",
                       "--disclosure", "restricted"], corpus_db)
    assert list(ranked["lift"]) == sorted(cli["lift"], reverse=True)[:3]


def test_cooccurrence_with_a_code_of_another_level_is_not_silent(corpus_db: Path) -> None:
    """P2 is a level-1 code: asking for pairs with it at level 2 is refused (exit 2) or warned about, never a silent empty table."""
    res = runner.invoke(app, ["cooccurrence", "patterns", "--level", "2", "--with", "P2", "--disclosure", "restricted",
                              "--db", str(corpus_db)])
    assert res.exit_code in (0, 2), res.output
    if res.exit_code == 0:
        assert "warning: no pair includes P2" in res.stderr
    else:
        assert "P2" in res.stderr and "Traceback" not in res.output


@pytest.mark.parametrize(("args", "col", "ascending"), [
    (["recurrence", "--level", "2", "--sort", "count"], "reviews", False),
    (["recurrence", "--level", "2", "--sort", "q"], "q_value", True),
    (["tabulate", "patterns", "--level", "2", "--sort", "count"], "count", False),
    (["compare", "patterns", "--level", "2", "--group", "region=london", "--sort", "q"], "q_value", True),
])
def test_sort_and_top(corpus_db: Path, args: list[str], col: str, ascending: bool) -> None:
    full = run_json([*args, "--disclosure", "restricted"], corpus_db)
    top = run_json([*args, "--top", "4", "--disclosure", "restricted"], corpus_db)
    values = list(full[col].astype(float))
    assert values == sorted(values, reverse=not ascending)
    assert len(top) == 4 and list(top["code"]) == list(full["code"][:4])


def test_sort_key_that_does_not_apply_is_a_usage_error(corpus_db: Path) -> None:
    res = runner.invoke(app, ["recurrence", "--sort", "lift", "--db", str(corpus_db)])
    assert res.exit_code == 2 and "--sort" in res.output


def test_values_year_are_the_years_in_the_database(corpus_db: Path) -> None:
    cli = run_json(["values", "year"], corpus_db)
    assert list(cli["code"]) == sorted({int(d["dates"]["completed"][:4]) for d in DOCS})


def test_values_region_are_the_frame(corpus_db: Path) -> None:
    frame = Path(tab.__file__).parent / "frames" / "scie-2008" / "region.csv"
    with frame.open(encoding="utf-8") as f:
        expected = [(r["code"], r["label"]) for r in csv.DictReader(f)]
    cli = run_json(["values", "region"], corpus_db)
    assert list(zip(cli["code"], cli["label"], strict=True)) == expected


def test_values_unknown_name_lists_what_exists(corpus_db: Path) -> None:
    res = runner.invoke(app, ["values", "regoin"])
    assert res.exit_code == 2 and "review-type" in res.output


def test_compare_without_a_group_is_a_usage_error(corpus_db: Path) -> None:
    res = runner.invoke(app, ["compare", "patterns", "--db", str(corpus_db)])
    assert res.exit_code == 2 and "--group region=north_west" in res.output


def test_trend_periods_are_in_time_order_and_equal_frequency(corpus_db: Path) -> None:
    cli = run_json(["trend", "patterns", "--level", "1", "--periods", "4", "--disclosure", "restricted"], corpus_db)
    starts = [int(c.split("_")[1][:4]) for c in cli.columns if c.startswith("percent_") and c != "percent_all_years"]
    assert starts == sorted(starts) and len(starts) > 1
    api = tab.frequency("patterns", level=1, by=("period",), periods=4, db=corpus_db)
    wide = cli.set_index("code")
    for row in api.itertuples(index=False):
        assert wide.loc[row.code, f"percent_{row.period}"] == pytest.approx(round(row.percent, 1), nan_ok=True)


# --- the guards of #14 §2 (computed by the analysis API, printed by the CLI) ----------------------


def _guards_landed() -> bool:
    from lt_workbench.analysis import frequency

    return hasattr(frequency, "same_frame_warnings")


@pytest.mark.skipif(not _guards_landed(), reason="the analysis API does not compute same-frame warnings yet")
def test_same_frame_filter_warning_shows(corpus_db: Path) -> None:
    res = run(["tabulate", "family-factors", "--where", "family-factor=domestic_abuse"], corpus_db)
    warnings = [line for line in res.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings and "domestic_abuse" in warnings[0] and "100%" in warnings[0]
    assert "family-factor=domestic_abuse" in res.stderr.splitlines()[0], "the header names the filter"
    assert "family_factor" not in " ".join(warnings), "dimensions spelt as on the command line"
    as_json = runner.invoke(app, ["tabulate", "family-factors", "--where", "family-factor=domestic_abuse", "--format", "json",
                                  "--db", str(corpus_db)])
    assert json.loads(as_json.stdout)["meta"].get("warnings") or "warning: " in as_json.stderr


@pytest.mark.skipif(not _guards_landed(), reason="the analysis API does not refuse cooccurrence --where pattern= yet")
def test_cooccurrence_where_pattern_points_to_with(corpus_db: Path) -> None:
    res = runner.invoke(app, ["cooccurrence", "factor-pattern", "--where", "pattern=P2.1", "--db", str(corpus_db)])
    assert res.exit_code == 2, res.output
    assert "--with P2.1" in res.stderr and "with_code" not in res.stderr
