"""The cross-review summary's coder-agreement section: the analysis API's numbers, small counts hidden in public."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lt_workbench import tabulate
from lt_workbench.model.load import load
from lt_workbench.reports.context import setup
from lt_workbench.reports.sections import cross_review_summary as sec
from tests.analysis.test_agreement import PRIMARY, PRIMARY_FACTORS, SECOND, SECOND_FACTORS, _doc


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


def test_public_section_hides_rows_resting_on_small_counts(double_coded: Path) -> None:
    ctx = setup("cross_review_summary", {"db": str(double_coded), "disclosure": "public"})
    shown = sec.agreement_table(ctx).set_index("code")
    raw = tabulate.agreement("patterns", level=2, db=double_coded).set_index("code")
    for code, row in raw.iterrows():
        small = min(row["primary"], row["second"], row["n_units"] - row["primary"] - row["second"] + row["both"]) < ctx.threshold \
            or 0 < row["both"] < ctx.threshold or 0 < row["disagreements"] < ctx.threshold
        assert (shown.loc[code, "kappa"] == "c") == bool(small), (code, row.to_dict())


def test_no_section_without_second_codings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lt_workbench.config import REPO_ROOT

    db = tmp_path / "s.duckdb"
    load([str(REPO_ROOT / "data" / "examples" / "apir-pilot.json")], db)
    ctx = setup("cross_review_summary", {"db": str(db), "disclosure": "public"})
    sec.show_agreement(ctx)
    assert capsys.readouterr().out == ""
