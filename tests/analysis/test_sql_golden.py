"""Golden snapshots of the SQL the query plan generates for representative tabulations (tests/golden/sql).

A change to how a scope, a join or a filter becomes SQL shows up here as a diff to review; regenerate with
LT_UPDATE_GOLDEN=1 after reading it. Every user value must appear among the bound parameters, never in
the SQL text (checked for each plan).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lt_workbench.analysis.frequency import count_sql
from lt_workbench.analysis.plan import _plan, _scope
from lt_workbench.analysis.queries import query
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.model.db import connect

HERE = Path(__file__).resolve().parent.parent
GOLDEN = HERE / "golden" / "sql"

# name -> (frame, unit, by, where, level, year_basis)
PLANS: dict[str, tuple[str, str, tuple[str, ...], dict[str, Any], int | None, str]] = {
    "patterns_all_levels": ("patterns", "review", (), {}, None, "completed"),
    "patterns_l2_by_region_nw_since_2015": ("patterns", "review", ("region",), {"region": "North West", "year": "2015.."}, 2, "completed"),
    "patterns_l2_by_period_years_range": ("patterns", "review", ("period",), {"year": "2010..2020"}, 2, "completed"),
    "factors_l2_unit_episode_hindering": ("factors", "episode", (), {"influence": "hindering"}, 2, "completed"),
    "factors_unit_coding_by_factor_level": ("factors", "coding", ("factor_level",), {}, 1, "completed"),
    "patterns_unit_coding_unsafe": ("patterns", "coding", (), {"direction": "unsafe"}, 1, "completed"),
    "age_band_unit_child_by_sex": ("age_band", "child", ("sex",), {"nation": "england"}, None, "completed"),
    "harm_types_unit_child_by_age_band": ("harm_type", "child", ("age_band",), {}, None, "completed"),
    "family_factors_with_pattern": ("family_factor", "review", (), {"pattern": "P2.1"}, None, "completed"),
    "practice_points_where_practice": ("practice_points", "review", (), {"practice": "Problematic"}, 1, "commissioned"),
    "review_type_by_year_until_2014": ("review_type", "review", ("year",), {"year": "..2014"}, None, "published"),
}


@pytest.fixture(scope="module")
def con(corpus_db: Path) -> Any:
    c = connect(corpus_db, read_only=True)
    yield c
    c.close()


def _text(con: Any, name: str) -> str:
    frame, unit, by, where, level, basis = PLANS[name]
    plan = _plan(con, frame, unit, by, where, level, basis, 5, DEFAULT_TAXONOMY_VERSION)
    sql, params, sql2, params2 = count_sql(plan, plan.by)
    scope, scope_params = _scope(plan)
    parts = [
        f"-- plan: {json.dumps({'frame': frame, 'unit': unit, 'by': list(by), 'where': where, 'level': level, 'year_basis': basis})}",
        f"-- counts; params: {json.dumps(params, default=str)}", sql.strip() + ";", "",
        f"-- denominators; params: {json.dumps(params2, default=str)}", sql2.strip() + ";", "",
        f"-- scope (recurrence, compare, records); params: {json.dumps(scope_params, default=str)}",
        scope.strip(), "SELECT count(*) FROM scope;", "",
    ]
    for text, bound in ((sql, params), (sql2, params2), (scope, scope_params)):
        assert text.count("?") == len(bound), name
        con.execute(text + ("\nSELECT count(*) FROM scope" if text is scope else ""), bound).fetchall()  # it runs
    for value in where.values():
        assert str(value) not in sql + sql2 + scope, f"{name}: filter value {value!r} spliced into SQL"
    return "\n".join(parts)


@pytest.mark.parametrize("name", sorted(PLANS))
def test_generated_sql_matches_the_golden_snapshot(con: Any, name: str) -> None:
    text = _text(con, name)
    golden = GOLDEN / f"{name}.sql"
    if os.environ.get("LT_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{name}: generated SQL changed; review the diff, then LT_UPDATE_GOLDEN=1"


# The query files of the tabulation modules (other files in sql/queries belong to agreement, scope and reports).
TABULATION_QUERIES = ("code_frames", "episode_factor_notes", "frame_codes", "frame_terms", "scoped_overdue",
                      "scoped_proposed_patterns", "scoped_recommendations", "scoped_recurrence",
                      "scoped_recurrence_denominators", "scoped_unaddressed_counts", "scoped_unaddressed_findings",
                      "taxonomy_codes")


@pytest.mark.parametrize("path", [Path(__file__).resolve().parents[2] / "lt_workbench" / "sql" / "queries" / f"{n}.sql"
                                  for n in TABULATION_QUERIES], ids=lambda p: p.stem)
def test_every_static_query_states_grain_parameters_and_ordering(path: Path) -> None:
    header = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("--")]
    text = "\n".join(header)
    assert header[0].startswith(f"-- {path.stem}:"), path.name
    for word in ("grain:", "parameters", "ordering:"):
        assert word in text, f"{path.name}: header lacks {word}"
    assert query(path.stem)  # loadable by name
