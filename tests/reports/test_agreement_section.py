"""The cross-review summary's coder-agreement section: the analysis API's numbers; in public, suppress_agreement's rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lt_workbench import tabulate
from lt_workbench.model.load import load
from lt_workbench.reports.context import setup
from lt_workbench.reports.sections import cross_review_summary as sec
from lt_workbench.analysis.agreement import suppress_agreement
from tests.analysis.test_agreement import PRIMARY, PRIMARY_FACTORS, SECOND, SECOND_FACTORS, _doc, _planted_marks


@pytest.fixture(scope="module")
def double_coded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("agreement-report")
    (folder / "second").mkdir()
    for i in range(10):
        (folder / f"r{i}.json").write_text(json.dumps(_doc(i, PRIMARY[i], PRIMARY_FACTORS[i], "Ann", "primary")))
        (folder / "second" / f"r{i}.Ben.json").write_text(json.dumps(_doc(i, SECOND[i], SECOND_FACTORS[i], "Ben", "second")))
    path = folder / "w.duckdb"
    assert len(load([folder], path).second) == 10
    return path


def test_restricted_section_shows_the_analysis_numbers(double_coded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = setup("cross_review_summary", {"db": str(double_coded), "disclosure": "restricted"})
    shown = sec.agreement_table(ctx).set_index("code")
    expected = tabulate.agreement("patterns", level=2, db=double_coded).set_index("code")
    assert len(shown) and shown[["primary", "second", "both", "kappa"]].equals(expected[["primary", "second", "both", "kappa"]])
    sec.show_agreement(ctx)
    assert "Markdown object" in capsys.readouterr().out  # the section was drawn (outside a kernel, display prints reprs)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/analysis/test_agreement's planted 2x2 tables: rows whose zero cells are not small (shown) among rows
    resting on a count of 1-5 (hidden)."""
    folder = tmp_path_factory.mktemp("agreement-planted")
    (folder / "second").mkdir()
    first, second = _planted_marks()
    for i in range(30):
        (folder / f"r{i}.json").write_text(json.dumps(_doc(i, first[i], [], "Ann", "primary")))
        (folder / "second" / f"r{i}.Ben.json").write_text(json.dumps(_doc(i, second[i], [], "Ben", "second")))
    path = folder / "p.duckdb"
    assert len(load([folder], path).second) == 30
    return path


@pytest.mark.parametrize(("which", "level"), [("double_coded", 2), ("planted", None)])
def test_public_section_is_suppress_agreement(which: str, level: int | None, request: pytest.FixtureRequest) -> None:
    """The public section shows what suppress_agreement makes of the analysis table (the one place the rule
    lives): a row is hidden when a cell, margin or the disagreements of its 2x2 table is a count from 1 to
    threshold-1; a zero is not small. Undefined kappa and alpha are z."""
    db = request.getfixturevalue(which)
    ctx = setup("cross_review_summary", {"db": str(db), "disclosure": "public"})
    shown = sec.agreement_table(ctx, level=level).set_index("code")  # type: ignore[arg-type]
    raw = tabulate.agreement("patterns", level=level, db=db)
    rule = suppress_agreement(raw, profile=ctx.profile, threshold=ctx.threshold).set_index("code")
    assert shown.astype(str).equals(rule.astype(str))
    hidden = set()
    for code, row in raw.set_index("code").iterrows():  # the rule by hand
        n, a, b, both = (int(row[c]) for c in ("n_units", "primary", "second", "both"))
        parts = (both, a - both, b - both, n - a - b + both, a, b, n - a, n - b, a + b - 2 * both)
        if any(0 < x < ctx.threshold for x in parts):
            hidden.add(code)
        assert (shown.loc[code, "kappa"] == "c") == (code in hidden), (code, parts)
    if which == "planted":  # zeros are not small: P1.3.1 (no review where neither coder marked it) is shown
        assert hidden == {"P2.1.1", "P1.2.1"} and shown.loc["P1.3.1", "kappa"] != "c"
        assert (shown.loc["P2.1.3", "kappa"], shown.loc["P2.1.3", "alpha"]) == ("z", "z")


def test_no_section_without_second_codings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lt_workbench.config import REPO_ROOT

    db = tmp_path / "s.duckdb"
    load([str(REPO_ROOT / "data" / "examples" / "apir-pilot.json")], db)
    ctx = setup("cross_review_summary", {"db": str(db), "disclosure": "public"})
    sec.show_agreement(ctx)
    assert capsys.readouterr().out == ""
