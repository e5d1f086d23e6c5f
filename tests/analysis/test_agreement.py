"""Coder agreement: kappa equals the hand computation, alpha the krippendorff package's; second codings are never counted."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import krippendorff
import numpy as np
import pytest

from lt_workbench import tabulate as tab
from lt_workbench.analysis.agreement import agreement, cohen_kappa, disagreements
from lt_workbench.exceptions import TabulationError
from lt_workbench.model.load import load

BASE = json.loads((Path(__file__).resolve().parents[1] / "data" / "valid" / "minimal.json").read_text())
# Ten double-coded reviews. P6.4: primary in reviews 0-5, second in 0-3 and 6 -> a=6, b=5, both=4 of n=10.
# P2.1.2: primary in 0-9 (all), second in 0-8 -> chance agreement 0.9: kappa 0 by the formula's edge.
PRIMARY = {i: ["P6.4"] * (i < 6) + ["P2.1.2"] for i in range(10)}
SECOND = {i: ["P6.4"] * (i < 4 or i == 6) + ["P2.1.2"] * (i < 9) for i in range(10)}
PRIMARY_FACTORS = {i: ["FL.WORK.03"] * (i % 2 == 0) for i in range(10)}
SECOND_FACTORS = {i: ["FL.WORK.03"] * (i % 3 == 0) for i in range(10)}


def _doc(i: int, patterns: list[str], factors: list[str], coder: str, role: str) -> dict:
    d = copy.deepcopy(BASE)
    d["review_id"] = f"SYN-AGR-{i:03d}"
    d["coding"] = {"coder": coder, "role": role}
    d["patterns"] = [{"code": c, "direction": "unsafe", "finding": "f", "episodes": ["E1"]} for c in patterns]
    d["recommendations"] = []
    d["episodes"][0]["factors"] = [{"code": c, "influence": "hindering", "note": "n"} for c in factors]
    d["episodes"][1]["factors"] = []
    return d


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("agreement")
    (folder / "second").mkdir()
    for i in range(10):
        (folder / f"r{i}.json").write_text(json.dumps(_doc(i, PRIMARY[i], PRIMARY_FACTORS[i], "Ann", "primary")))
        (folder / "second" / f"r{i}.Ben.json").write_text(json.dumps(_doc(i, SECOND[i], SECOND_FACTORS[i], "Ben", "second")))
    # a review coded once only: not double-coded, left out of agreement
    (folder / "single.json").write_text(json.dumps(_doc(99, ["P6.4"], [], "Ann", "primary")))
    path = folder / "w.duckdb"
    result = load([folder], path)
    assert result.rejected == [] and len(result.second) == 10
    return path


def _vectors(primary: dict[int, list[str]], second: dict[int, list[str]], code: str) -> tuple[list[int], list[int]]:
    return [int(code in primary[i]) for i in range(10)], [int(code in second[i]) for i in range(10)]


def test_kappa_by_hand_and_alpha_by_the_package(db: Path) -> None:
    t = agreement("patterns", db=db).set_index("code")
    assert t.attrs["n_reviews"] == 10 and t.attrs["n_units"] == 10
    row = t.loc["P6.4"]
    assert (row.n_units, row.primary, row.second, row.both, row.disagreements) == (10, 6, 5, 4, 3)
    # by hand: po = (4 both + 3 neither) / 10 = 0.7; pe = 0.6*0.5 + 0.4*0.5 = 0.5; kappa = (0.7-0.5)/(1-0.5) = 0.4
    assert row.observed_agreement == pytest.approx(0.7)
    assert row.kappa == pytest.approx(0.4)
    x, y = _vectors(PRIMARY, SECOND, "P6.4")
    assert row.alpha == pytest.approx(krippendorff.alpha(reliability_data=np.array([x, y], dtype=float), level_of_measurement="nominal"))
    gaps = t.loc["P2.1.2"]
    assert (gaps.primary, gaps.second, gaps.both) == (10, 9, 9)
    assert gaps.observed_agreement == pytest.approx(0.9) and gaps.kappa == pytest.approx(0.0)
    assert list(t.index) == ["P6.4", "P2.1.2"]  # most disagreement first


def test_factors_and_levels(db: Path) -> None:
    t = agreement("factors", db=db).set_index("code")
    x, y = _vectors(PRIMARY_FACTORS, SECOND_FACTORS, "FL.WORK.03")
    a, b, both = sum(x), sum(y), sum(p and q for p, q in zip(x, y, strict=True))
    po = sum(p == q for p, q in zip(x, y, strict=True)) / 10
    pe = (a / 10) * (b / 10) + (1 - a / 10) * (1 - b / 10)
    assert (t.loc["FL.WORK.03"].primary, t.loc["FL.WORK.03"].second, t.loc["FL.WORK.03"].both) == (a, b, both)
    assert t.loc["FL.WORK.03"].kappa == pytest.approx((po - pe) / (1 - pe))
    rolled = agreement("factors", level=1, db=db).set_index("code")
    assert list(rolled.index) == ["FL"] and rolled.loc["FL"].kappa == pytest.approx(t.loc["FL.WORK.03"].kappa)
    assert list(agreement("patterns", level=1, db=db)["code"]) == ["P6", "P2"]


def test_episode_unit(db: Path) -> None:
    t = agreement("patterns", unit="episode", db=db).set_index("code")
    assert t.attrs["n_units"] == 20  # two episodes per review, both coders
    assert (t.loc["P6.4"].primary, t.loc["P6.4"].second, t.loc["P6.4"].both) == (6, 5, 4)  # findings rest on E1 only


def test_disagreements_are_restricted_and_listed(db: Path) -> None:
    with pytest.raises(TabulationError, match="restricted"):
        disagreements("patterns", db=db)
    d = disagreements("patterns", db=db, disclosure="restricted")
    want = {(f"SYN-AGR-{i:03d}", "P6.4") for i in (4, 5, 6)} | {("SYN-AGR-009", "P2.1.2")}
    assert set(zip(d["review_id"], d["code"], strict=True)) == want
    assert set(d["coder"]) == {"Ben"}


def test_second_codings_are_never_counted(db: Path) -> None:
    t = tab.frequency("patterns", db=db).set_index("code")
    assert int(t.loc["P6.4", "count"]) == 7  # reviews 0-5 and the single one: the second coder's P6.4 on review 6 is not counted
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 11  # type: ignore[index]
    con.close()


def test_reloading_a_second_coding_replaces_it(db: Path, tmp_path: Path) -> None:
    doc = _doc(0, [], [], "Ben", "second")
    (tmp_path / "again.json").write_text(json.dumps(doc))
    work = tmp_path / "copy.duckdb"
    work.write_bytes(db.read_bytes())
    load([tmp_path / "again.json"], work)
    con = duckdb.connect(str(work), read_only=True)
    assert con.execute("SELECT count(*) FROM second_codings").fetchone()[0] == 10  # type: ignore[index]
    assert con.execute("SELECT count(*) FROM second_coding_codes WHERE review_id = 'SYN-AGR-000' AND frame <> 'practice_points'").fetchone()[0] == 0  # type: ignore[index]
    con.close()


def test_kappa_edges_and_bad_arguments() -> None:
    assert np.isnan(cohen_kappa(5, 5, 5, 5)) and np.isnan(cohen_kappa(0, 0, 0, 0))
    assert cohen_kappa(4, 2, 2, 2) == pytest.approx(1.0)
    with pytest.raises(TabulationError):
        agreement("region")
    with pytest.raises(TabulationError):
        agreement("practice-points", unit="episode")


def test_empty_database_says_nothing_is_double_coded(tmp_path: Path) -> None:
    load([Path(__file__).resolve().parents[1] / "data" / "valid" / "minimal.json"], tmp_path / "one.duckdb")
    t = agreement("patterns", db=tmp_path / "one.duckdb")
    assert t.empty and t.attrs["n_reviews"] == 0
