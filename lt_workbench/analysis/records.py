"""Listings of single records behind a number (restricted only): evidence and proposed patterns.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Mapping

import duckdb
import pandas as pd

from lt_workbench.analysis.plan import _connection, _plan, _scope, _scope_plan
from lt_workbench.analysis.queries import query
from lt_workbench.analysis.publish import _refuse_public, _restricted_note
from lt_workbench.analysis.vocab import FRAMES, Disclosure, _labels, frame_spec, canonical_where
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import TabulationError

__all__ = ["evidence", "proposed_patterns"]


def _frame_of(con: duckdb.DuckDBPyConnection, code: str, version: str) -> str:
    """The one countable frame holding `code`, or a message that says there is none (or several)."""
    rows = [str(f) for (f,) in con.execute(query("code_frames"), [code, version]).fetchall() if f in FRAMES]
    if not rows:
        known = [str(c) for (c,) in con.execute(query("taxonomy_codes"), [version]).fetchall()]
        close = difflib.get_close_matches(code, known, n=1)
        raise TabulationError(f"code {code!r} is in no frame of {version}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    if len(rows) > 1:
        raise TabulationError(f"code {code!r} is in several frames ({', '.join(rows)}): name one with frame=")
    return rows[0]


def evidence(
    code: str,
    *,
    frame: str | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """What reviewers wrote behind a cell: every coding of `code` (or a code below it) that the cell counts.

    Patterns: review, finding, and each episode the finding rests on (title, description, judgement) with
    the factors coded on that episode. Factors: review, episode and the factor note. Other frames: the
    reviews (and children) concerned. Filter with the same `where` as the cell. Restricted only.
    """
    _refuse_public("evidence", disclosure)
    where = dict(where or {})
    with _connection(db, con) as c:
        fname = frame_spec(frame).name if frame else _frame_of(c, code, version)
        if fname in ("patterns", "factors"):
            plan = _plan(c, fname, "coding", (), where, None, year_basis, 5, version)
            plan.need_episode = True
            plan.member = "coding"
            cte, cp0 = plan.base_cte()
            j, jp = plan.joins(with_member=True)
            conds, cp = plan.conditions(with_member=True, population_only=False)
            conds.append("m.code = ?")
            cp.append(code)
            if fname == "patterns":
                select = """SELECT DISTINCT r.review_id, r.year, r.area_code, r.region, pf.finding_no, pf.code AS coded_as,
                       pf.direction, pf.priority, pf.finding, pf.proposed_label, e.episode_id, e.episode_no,
                       e.title AS episode_title, e.description AS episode_description, e.practice, e.judgement"""
                text_join = "JOIN pattern_findings AS pf ON pf.review_id = m.review_id AND 'F' || pf.finding_no = m.coding_key"
                order = "r.review_id, pf.finding_no, e.episode_no"
            else:
                select = """SELECT DISTINCT r.review_id, r.year, r.area_code, r.region, e.episode_id, e.episode_no,
                       e.title AS episode_title, e.description AS episode_description, e.practice, e.judgement,
                       fc.coding_no, fc.code AS coded_as, fc.influence, fc.note"""
                text_join = ("JOIN factor_codings AS fc ON fc.review_id = m.review_id AND fc.episode_id = m.episode_id "
                             "AND fc.episode_id || '#' || fc.coding_no = m.coding_key")
                order = "r.review_id, e.episode_no, fc.coding_no"
            sql = f"{cte}\n{select}\n{j}\n{text_join}\nWHERE {' AND '.join(conds)}\nORDER BY {order}"
            out = c.execute(sql, cp0 + jp + cp).df()
            if fname == "patterns" and not out.empty:
                notes = c.execute(query("episode_factor_notes")).df()
                out = out.merge(notes, on=["review_id", "episode_id"], how="left")
        else:
            plan = _plan(c, fname, "review", (), where, None, year_basis, 5, version)
            cte, cp0 = plan.base_cte()
            j, jp = plan.joins(with_member=True)
            conds, cp = plan.conditions(with_member=True, population_only=False)
            conds += plan.recorded([])
            conds.append("m.code = ?")
            cp.append(code)
            child = ", c.child_no" if plan.need_child else ""
            sql = (f"{cte}\nSELECT DISTINCT r.review_id, r.year, r.area_code, r.region, r.title{child}\n{j}\n"
                   f"WHERE {' AND '.join(conds)}\nORDER BY r.review_id{child}")
            out = c.execute(sql, cp0 + jp + cp).df()
        label = _labels(c, fname, version).get(code, code)
    out.attrs.update({"table": "evidence", "frame": fname, "code": code, "label": label, "where": canonical_where(plan.where),
                      "disclosure": "restricted", "note": _restricted_note(), "unit": "coding" if fname in ("patterns", "factors") else "review"})
    return out


def proposed_patterns(
    *,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """New sub-patterns reviewers proposed (proposed_label), under their parent code, for curation.

    The findings already count under the parent in every tabulation; this lists the proposals so a
    curator can decide which to add to the typology. Restricted: the labels are reviewers' own words.
    """
    _refuse_public("proposed_patterns", disclosure)
    with _connection(db, con) as c:
        plan = _scope_plan(c, "patterns", dict(where or {}), year_basis, version)
        scope_sql, sp = _scope(plan)
        out = c.execute(f"{scope_sql}\n{query('scoped_proposed_patterns')}", sp + [version]).df().drop(columns="_k")
    out.attrs.update({"table": "proposed_patterns", "unit": "review", "where": canonical_where(plan.where), "disclosure": "restricted", "note": _restricted_note()})
    return out
