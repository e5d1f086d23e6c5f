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
from lt_workbench.exceptions import DisclosureError, TabulationError
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


# Public mode. Thirty double-coded reviews with planted 2x2 tables per code (both, first only, second only, neither):
# P1.1.1 every cell 6 or more: shown. P2.1.1 only its "first coder only" cell is small (2): hidden, although each
# coder's total, both and the disagreements are all 6 or more. P2.1.3 both coders in every review: zeros are true
# zeros, shown (kappa not defined). P1.2.1 applied by the second coder in 5 reviews only: hidden (shown from a
# threshold of 5). P1.3.1 has every count 8 or more, or 0: shown under the nhs profile too, rounded to 5.
PLANTED = {"P1.1.1": (8, 7, 6, 9), "P2.1.1": (10, 2, 8, 10), "P2.1.3": (30, 0, 0, 0), "P1.2.1": (0, 0, 5, 25),
           "P1.3.1": (13, 9, 8, 0)}


def _planted_marks() -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    first: dict[int, list[str]] = {i: [] for i in range(30)}
    second: dict[int, list[str]] = {i: [] for i in range(30)}
    for code, (both, only1, only2, _neither) in PLANTED.items():
        for i in range(both + only1):
            first[i].append(code)
        for i in [*range(both), *range(both + only1, both + only1 + only2)]:
            second[i].append(code)
    return first, second


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("agreement-public")
    (folder / "second").mkdir()
    first, second = _planted_marks()
    for i in range(30):
        (folder / f"r{i}.json").write_text(json.dumps(_doc(i, first[i], [], "Ann", "primary")))
        (folder / "second" / f"r{i}.Ben.json").write_text(json.dumps(_doc(i, second[i], [], "Ben", "second")))
    path = folder / "p.duckdb"
    assert len(load([folder], path).second) == 30
    return path


def _hidden_by_hand(threshold: int) -> set[str]:
    out = set()
    for code, (both, only1, only2, neither) in PLANTED.items():
        a, b, n = both + only1, both + only2, both + only1 + only2 + neither
        counts = (both, only1, only2, neither, a, b, n - a, n - b, only1 + only2)
        if any(0 < x < threshold for x in counts):
            out.add(code)
    return out


def test_public_agreement_hides_every_figure_of_a_row_resting_on_a_small_count(planted_db: Path) -> None:
    raw = agreement("patterns", db=planted_db).set_index("code")
    for code, (both, only1, only2, _neither) in PLANTED.items():
        assert (raw.loc[code, "both"], raw.loc[code, "primary"], raw.loc[code, "second"]) == (both, both + only1, both + only2)
    assert raw.attrs["disclosure"] == "restricted"
    public = agreement("patterns", db=planted_db, disclosure="public").set_index("code")
    assert _hidden_by_hand(6) == {"P2.1.1", "P1.2.1"}  # the planted truth, worked by hand above
    for code in PLANTED:
        figures = public.loc[code, ["primary", "second", "both", "disagreements", "observed_agreement", "kappa", "alpha"]]
        if code in _hidden_by_hand(6):
            assert set(figures) == {"c"}, (code, figures.to_dict())
        else:
            assert "c" not in set(figures.astype(str)), code
            for stat in ("kappa", "alpha"):  # not defined: z (not applicable), never NaN (an empty CSV cell)
                assert public.loc[code, stat] == "z" if np.isnan(raw.loc[code, stat]) else public.loc[code, stat] == raw.loc[code, stat]
    assert public.loc["P1.1.1", "primary"] == 15 and public.loc["P1.1.1", "kappa"] == pytest.approx(raw.loc["P1.1.1", "kappa"])
    assert public.attrs["disclosure"] == "public" and "1 to 5" in public.attrs["note"]
    assert np.isnan(raw.loc["P2.1.3", "kappa"]) and (public.loc["P2.1.3", "kappa"], public.loc["P2.1.3", "alpha"]) == ("z", "z")
    assert "z = not applicable" in public.attrs["note"] and "not defined" in raw.attrs["note"]
    assert list(public["label"]) == list(raw["label"])  # codes and labels stay
    # a lower threshold (the house --threshold) shows P1.2.1's 5, still hides P2.1.1's 2
    low = agreement("patterns", db=planted_db, disclosure="public", threshold=5).set_index("code")
    assert _hidden_by_hand(5) == {"P2.1.1"} and low.loc["P1.2.1", "second"] == 5 and low.loc["P2.1.1", "kappa"] == "c"
    # a rounding profile (nhs: suppress 1-7, round to 5) hides P1.1.1 (7 and 6 one coder only) and rounds P1.3.1
    nhs = agreement("patterns", db=planted_db, disclosure="public", profile="nhs").set_index("code")
    assert _hidden_by_hand(8) == {"P2.1.1", "P1.2.1", "P1.1.1"} and nhs.loc["P1.1.1", "kappa"] == "c"
    assert [nhs.loc["P1.3.1", c] for c in ("primary", "second", "both", "disagreements")] == [20, 20, 15, 15]  # 22, 21, 13, 17
    assert nhs.loc["P1.3.1", "kappa"] == pytest.approx(raw.loc["P1.3.1", "kappa"]) and nhs.attrs["n_units"] == 30
    with pytest.raises(DisclosureError, match="unknown disclosure"):
        agreement("patterns", db=planted_db, disclosure="open")


def test_public_agreement_is_one_number_in_the_cli_and_the_report(planted_db: Path) -> None:
    from typer.testing import CliRunner

    from lt_workbench.cli import app
    from lt_workbench.reports.context import setup
    from lt_workbench.reports.sections import cross_review_summary as sec

    runner = CliRunner()
    done = runner.invoke(app, ["agreement", "patterns", "--format", "json", "--db", str(planted_db)])
    assert done.exit_code == 0, done.output
    rows = {r["code"]: r for r in json.loads(done.stdout)["rows"]}
    assert rows["P2.1.1"]["kappa"] == "c" and rows["P2.1.1"]["primary"] == "c" and rows["P1.2.1"]["second"] == "c"
    assert rows["P1.1.1"]["primary"] == 15 and rows["P1.1.1"]["both"] == 8
    csv = runner.invoke(app, ["agreement", "patterns", "--format", "csv", "--db", str(planted_db)])
    line = next(x for x in csv.stdout.splitlines() if x.startswith("P2.1.3,"))
    assert line.endswith(",z,z") and ",," not in line  # kappa and alpha not defined: the GSS symbol, not an empty cell
    restricted = runner.invoke(app, ["agreement", "patterns", "--disclosure", "restricted", "--format", "csv", "--db", str(planted_db)])
    assert restricted.exit_code == 0 and "P2.1.1" in restricted.stdout and "Disagreements (restricted" in restricted.stdout
    ctx = setup("cross_review_summary", {"db": str(planted_db), "disclosure": "public"})
    shown = sec.agreement_table(ctx, level=None).set_index("code")  # type: ignore[arg-type]
    api = agreement("patterns", db=planted_db, disclosure="public").set_index("code")
    assert shown.astype(str).equals(api.astype(str))
