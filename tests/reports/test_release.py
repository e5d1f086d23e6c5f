"""Reports and batches join the database snapshot's release (issue 12).

A public report protects the tables of its plan as one joint problem in the release, so the CLI asked the
same question afterwards shows the same numbers, a reader combining the report with a later CLI table
recovers no hidden cell (the independent LP attacker of tests/analysis/test_release.py), a batch protects
its reports' plans together before they run (one decision per cell in the ledger), and a report that
publishes a table outside its plan is caught.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lt_workbench.analysis import tabulate
from lt_workbench.analysis.disclosure import ledger_path
from lt_workbench.cli import app
from lt_workbench.config import REPO_ROOT
from lt_workbench.exceptions import ReportError
from lt_workbench.reports import plan
from lt_workbench.reports.context import setup
from tests.analysis.test_release import attack

COLUMNS = ["code", "count", "denominator", "percent"]


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lt_workbench.model.load import load

    db = tmp_path_factory.mktemp("report-release") / "sample.duckdb"
    result = load([str(REPO_ROOT / "data" / "sample"), str(REPO_ROOT / "data" / "examples")], db, progress=False)
    assert result.exit_code == 0, result.summary()
    return db


def _cli(db: Path, *args: str) -> pd.DataFrame:
    result = CliRunner().invoke(app, [*args, "--disclosure", "public", "--format", "json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    return pd.DataFrame(json.loads(text[text.index("{"):])["rows"])


def _norm(df: pd.DataFrame, dims: tuple[str, ...] = ()) -> pd.DataFrame:
    out = df[[*COLUMNS[:1], *dims, *COLUMNS[1:]]].copy()
    for col in ("count", "denominator"):
        out[col] = out[col].map(lambda v: v if isinstance(v, str) else str(int(v)))
    out["percent"] = out["percent"].map(lambda v: v if isinstance(v, str) else f"{float(v):.1f}")
    return out.sort_values(["code", *dims]).reset_index(drop=True)


def _outputs(db: Path) -> list[tuple[int, str, int]]:
    con = sqlite3.connect(ledger_path(db))
    try:
        return [(int(o), str(n), int(c)) for o, n, c in con.execute("SELECT output_id, name, cells FROM outputs ORDER BY output_id")]
    finally:
        con.close()


# The report's scope and each question as the notebook asks it and as the CLI asks it.
SCOPE = {"region": "north_west"}
QUESTIONS = [
    (("frequency", "patterns"), {"level": 2}, ["tabulate", "patterns", "--level", "2"]),
    (("frequency", "age-band"), {"unit": "child"}, ["tabulate", "age-band", "--unit", "child"]),
    (("frequency", "factors"), {"level": 3, "where": {"influence": "hindering"}},
     ["tabulate", "factors", "--level", "3", "--where", "influence=hindering"]),
    (("frequency", "patterns"), {"level": 2, "by": ("direction",)}, ["tabulate", "patterns", "--level", "2", "--by", "direction"]),
]


def test_a_public_report_and_the_cli_show_the_same_numbers(sample_db: Path) -> None:
    """The report protects its plan jointly in the release; the CLI asked afterwards joins it and agrees."""
    ctx = setup("cross_review_summary", {"db": str(sample_db), "disclosure": "public", **SCOPE})
    first = _outputs(sample_db)
    assert len(first) >= 1 and first[0][1].startswith("report cross_review_summary (") and first[0][2] > 0
    hidden = 0
    for (method, frame), kwargs, args in QUESTIONS:
        assert ctx.ask(method, frame, **kwargs).key in ctx.published, "a planned question"
        shown = ctx.frequency(frame, **kwargs)
        dims = tuple(kwargs.get("by", ()))
        cli = _cli(sample_db, *args, "--where", "region=north_west")
        pd.testing.assert_frame_equal(_norm(cli, dims), _norm(shown, dims), obj=f"CLI vs report: {args}")
        hidden += int((shown["count"].astype(str) == "c").sum())
    assert hidden > 0, "the questions should exercise suppression"
    assert ctx.unplanned == []
    later = _outputs(sample_db)[len(first):]
    assert later and all(cells == 0 for _, _, cells in later), f"the CLI calls found every cell decided: {later}"


@pytest.mark.parametrize("frame", ["sex", "age-band", "outcome"])
def test_a_report_then_a_cli_table_recover_no_hidden_cell(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          frame: str) -> None:
    """The issue's differencing attack across surfaces: a report's national table of children (2015-2025), then the
    CLI's table by region (no totals), attacked together by an LP reader who knows regions add up and the codes
    partition the children. Protected alone, the same two tables leak (the control); in one release they do not."""
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(tmp_path / "fresh.sqlite"))
    where = {"year": "2015..2025"}
    truth_table = tabulate.frequency(frame, by=("region",), unit="child", where=where, db=sample_db)
    truth = {(r, k): int(n) for r, k, n in zip(truth_table["region"], truth_table["code"], truth_table["count"], strict=True)}
    codes = list(dict.fromkeys(truth_table["code"]))
    regions = list(dict.fromkeys(truth_table["region"]))
    alone = [tabulate.frequency(frame, unit="child", where=where, db=sample_db, disclosure="public"),
             tabulate.frequency(frame, by=("region",), unit="child", where=where, db=sample_db, disclosure="public")]
    assert attack([(t, None, 10) for t in alone], codes, regions, truth, 6) != [], "control: protected alone they leak"

    ctx = setup("cross_review_summary", {"db": str(sample_db), "disclosure": "public", "year_from": 2015, "year_to": 2025})
    national = ctx.frequency(frame, unit="child")
    args = ["tabulate", frame, "--by", "region", "--unit", "child", "--where", "year=2015..2025", "--disclosure", "public",
            "--format", "json", "--db", str(sample_db)]
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        # Safe too: the CLI refuses a table that cannot be made consistent with the report, naming it.
        assert result.exit_code == 2 and "report cross_review_summary" in result.output, result.output
        assert attack([(national, None, 10)], codes, regions, truth, 6) == []
        return
    by_region = pd.DataFrame(json.loads(result.stdout[result.stdout.index("{"):])["rows"])
    assert (by_region["count"].astype(str) == "c").any()
    assert attack([(national, None, 10), (by_region, None, 10)], codes, regions, truth, 6) == []


def test_a_batch_of_two_reports_is_one_joint_problem(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two reports sharing questions (recommendation status by kind and level): the batch protects the union
    of their plans once; each report then finds every cell decided and shows the batch's numbers."""
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(tmp_path / "batch.sqlite"))
    params = {"db": str(sample_db), "disclosure": "public", **SCOPE}
    pre = [setup(name, params, prepare=False) for name in ("cross_review_summary", "recommendations_tracker")]
    plan.publish_batch(pre, "batch test")
    outputs = _outputs(sample_db)
    assert len(outputs) >= 1 and outputs[0][1].startswith("batch test (")
    batch_ids = {o for o, _, _ in outputs}
    shared = pre[0].ask("recommendation_status", "kind")
    assert shared.key in pre[0].published and shared.key in pre[1].published
    assert pre[0].published[shared.key] is pre[1].published[shared.key], "one table for the shared question"
    runs = [setup(name, params) for name in ("cross_review_summary", "recommendations_tracker")]
    after = [o for o in _outputs(sample_db) if o[0] not in batch_ids]
    assert after and all(cells == 0 for _, _, cells in after), f"the reports decided no new cell: {after}"
    for before, run in zip(pre, runs, strict=True):
        assert set(run.published) == set(before.published)
        for key, table in run.published.items():
            pd.testing.assert_frame_equal(table, before.published[key], obj=key)
    con = sqlite3.connect(ledger_path(sample_db))
    try:
        per_key = con.execute("SELECT count(*), count(DISTINCT key), count(DISTINCT output_id) FROM cells").fetchone()
    finally:
        con.close()
    assert per_key[0] == per_key[1], "one protection decision per cell"
    assert per_key[2] <= len(batch_ids)


def test_an_unplanned_public_table_is_caught(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside its plan a report's table is still protected in the release and listed; strict mode refuses it."""
    ctx = setup("recommendations_tracker", {"db": str(sample_db), "disclosure": "public"})
    assert ctx.unplanned == []
    table = ctx.frequency("patterns", level=1)
    assert table.attrs["disclosure"] == "public" and "release" in table.attrs
    assert ctx.unplanned == ["frequency('patterns', level=1, where={})"]
    monkeypatch.setenv(plan.STRICT_ENV, "strict")
    with pytest.raises(ReportError, match=r"not in its plan: add it to plan\(\) in lt_workbench/reports/sections/recommendations_tracker"):
        ctx.frequency("patterns", level=3)


@pytest.mark.parametrize("name", ["cross_review_summary", "recommendations_tracker", "pattern_deep_dive", "area_profile"])
def test_plans_list_questions_the_notebook_asks(sample_db: Path, name: str) -> None:
    """Every plan entry is a question a report's tabulation understands (its key binds to the function)."""
    extra = {"pattern": "P2.1"} if name == "pattern_deep_dive" else {}
    ctx = setup(name, {"db": str(sample_db), "disclosure": "restricted", **extra}, prepare=False)
    items = plan.plan_of(ctx)
    asks = [a for a in items if isinstance(a, plan.Ask)]
    assert asks and len({a.key for a in asks}) == len(asks), "no question twice"


def test_a_table_the_notebook_builds_joins_the_release(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ctx.protect(): public inside the snapshot's release (and listed as unplanned); restricted unchanged."""
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(tmp_path / "own.sqlite"))
    table = pd.DataFrame({"code": ["a", "b"], "label": ["A", "B"], "count": [3, 40], "denominator": [43, 43]})
    restricted = setup("recommendations_tracker", {"db": str(sample_db), "disclosure": "restricted"})
    assert list(restricted.protect(table, name="mine", partition=True)["count"]) == [3, 40]
    ctx = setup("recommendations_tracker", {"db": str(sample_db), "disclosure": "public"})
    shown = ctx.protect(table, name="mine", partition=True)
    assert list(shown["count"]) == ["c", "c"] and "release" in shown.attrs
    assert ctx.unplanned == ["protect(name='mine')"]
    assert _outputs(sample_db)[-1][1] == "report recommendations_tracker: mine"


def test_run_batch_protects_its_reports_together_before_running_them(sample_db: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end (papermill): the batch's first ledger output is the union of both reports' plans; the reports
    themselves then decide no new cell, and both succeed."""
    from lt_workbench.reports import run_batch

    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(tmp_path / "batch.sqlite"))
    monkeypatch.setenv(plan.STRICT_ENV, "strict")
    batch = tmp_path / "two.toml"
    batch.write_text('[defaults]\ndisclosure = "public"\n\n[[report]]\nname = "recommendations_tracker"\n\n'
                     '[[report]]\nname = "recommendations_tracker"\nparameters = { region = "north_west" }\n', encoding="utf-8")
    result = run_batch(batch, out=tmp_path / "out", db=sample_db)
    assert result.exit_code == 0, [r.error for r in result.results]
    outputs = _outputs(sample_db)
    assert outputs[0][1] == "batch two.toml (10 tables)" and outputs[0][2] > 0, outputs
    assert all(cells == 0 for _, name, cells in outputs[1:] if name.startswith("report ")), outputs


def test_a_report_under_another_profile_than_its_release_is_refused(sample_db: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Not withheld table by table: refused at once, naming the release's profile and how to fix it."""
    from lt_workbench.exceptions import DisclosureError

    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(tmp_path / "profile.sqlite"))
    _cli(sample_db, "tabulate", "region")
    with pytest.raises(DisclosureError, match="profile 'dfe'"):
        setup("recommendations_tracker", {"db": str(sample_db), "disclosure": "public", "profile": "ons"})
    assert len(_outputs(sample_db)) == 1
