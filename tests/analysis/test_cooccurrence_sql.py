"""Golden snapshots of the co-occurrence SQL (tests/golden/sql/cooccurrence_*.sql) and its static query files.

The query shapes live in lt_workbench/sql/queries/cooccurrence_*.sql; Python only joins the plan's scope, one
units file and one pairs file, and binds every value. A change to them shows up here as a diff to review;
regenerate with LT_UPDATE_GOLDEN=1 after reading it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lt_workbench.analysis.cooccurrence import _pairs_query
from lt_workbench.analysis.plan import _scope_plan
from lt_workbench.analysis.queries import query
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.model.db import connect

HERE = Path(__file__).resolve().parent.parent
GOLDEN = HERE / "golden" / "sql"
QUERIES = Path(__file__).resolve().parents[2] / "lt_workbench" / "sql" / "queries"

# name -> (kind, unit, level, factor_level, where, min_together, year_basis)
PLANS: dict[str, tuple[str, str, int, int, dict[str, Any], int, str]] = {
    "cooccurrence_patterns_l2_review": ("patterns", "review", 2, 2, {}, 1, "completed"),
    "cooccurrence_patterns_l1_review_unsafe_north_west": ("patterns", "review", 1, 2, {"direction": "unsafe", "region": "north_west"}, 2,
                                                          "completed"),
    "cooccurrence_patterns_l2_episode_problematic": ("patterns", "episode", 2, 2, {"practice": "problematic"}, 1, "completed"),
    "cooccurrence_factor_pattern_episode_hindering": ("factor-pattern", "episode", 1, 2, {"influence": "hindering", "year": "2015.."}, 1,
                                                      "completed"),
    "cooccurrence_factor_pattern_review_fl_level": ("factor-pattern", "review", 2, 3, {"factor_level": "FL", "direction": "constructive"}, 1,
                                                    "published"),
}


@pytest.fixture(scope="module")
def con(corpus_db: Path) -> Any:
    c = connect(corpus_db, read_only=True)
    yield c
    c.close()


def _text(con: Any, name: str) -> str:
    kind, unit, level, factor_level, where, min_together, basis = PLANS[name]
    plan = _scope_plan(con, "patterns", where, basis, DEFAULT_TAXONOMY_VERSION)
    if unit == "episode":
        plan.need_episode = True
    sql, params = _pairs_query(plan, kind, unit, level, factor_level, min_together)
    assert sql.count("?") == len(params), name
    rows = con.execute(sql, params).fetchall()  # it runs, and orders its rows
    assert rows == sorted(rows, key=lambda r: (r[0], r[1])), name
    for value in where.values():
        assert str(value) not in sql, f"{name}: filter value {value!r} spliced into SQL"
    head = {"kind": kind, "unit": unit, "level": level, "factor_level": factor_level, "where": where,
            "min_together": min_together, "year_basis": basis}
    return "\n".join([f"-- plan: {json.dumps(head)}", f"-- params: {json.dumps(params, default=str)}", sql.strip() + ";", ""])


@pytest.mark.parametrize("name", sorted(PLANS))
def test_cooccurrence_sql_matches_the_golden_snapshot(con: Any, name: str) -> None:
    text = _text(con, name)
    golden = GOLDEN / f"{name}.sql"
    if os.environ.get("LT_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{name}: generated SQL changed; review the diff, then LT_UPDATE_GOLDEN=1"


def test_the_units_files_differ_only_in_how_units_are_picked(con: Any) -> None:
    """One variant per unit (and per how episodes are picked); the pair files follow any of them."""
    kinds = {p[0] for p in PLANS.values()}
    assert kinds == {"patterns", "factor-pattern"}
    used = set()
    for kind, unit, level, factor_level, where, min_together, basis in PLANS.values():
        plan = _scope_plan(con, "patterns", where, basis, DEFAULT_TAXONOMY_VERSION)
        plan.need_episode = unit == "episode"
        sql, _ = _pairs_query(plan, kind, unit, level, factor_level, min_together)
        used |= {f.stem for f in QUERIES.glob("cooccurrence_*.sql") if query(f.stem) in sql}
    shapes = {f.stem for f in QUERIES.glob("cooccurrence_*.sql")} - {"cooccurrence_code_depth"}  # with_code's check, not a shape
    assert used == shapes  # every query shape is exercised by a golden


@pytest.mark.parametrize("path", sorted(QUERIES.glob("cooccurrence_*.sql")), ids=lambda p: p.stem)
def test_every_cooccurrence_query_states_grain_parameters_and_ordering(path: Path) -> None:
    header = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("--")]
    text = "\n".join(header)
    assert header[0].startswith(f"-- {path.stem}:"), path.name
    for word in ("grain:", "parameters", "ordering:"):
        assert word in text, f"{path.name}: header lacks {word}"
    assert query(path.stem)
