"""Valid documents → row tuples of every review table → Arrow columns (in the checking workers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION, FORMAT
from lt_workbench.model import second as _second
from lt_workbench.model.db import REVIEW_TABLES
from lt_workbench.model.validate import Checked

__all__ = ["COLUMNS", "Columns", "taken_rows"]


# Column order of the row tuples built below; `_doc` is the file's index in the batch.
COLUMNS: dict[str, tuple[str, ...]] = {
    "reviews": (
        "_doc", "review_id", "title", "review_type", "method", "area_code", "area_name", "region", "nation",
        "commissioned", "completed", "published", "year", "trigger_reason", "trigger_question", "intervention_level",
        "quality_grade", "family_factors_recorded", "n_children", "n_episodes", "format", "taxonomy_version",
        "source_path", "sha256",
    ),
    "review_family_factors": ("_doc", "review_id", "code"),
    "review_agencies": ("_doc", "review_id", "code"),
    "children": ("_doc", "review_id", "child_no", "age_band", "sex", "outcome"),
    "child_harm_types": ("_doc", "review_id", "child_no", "code"),
    "episodes": (
        "_doc", "review_id", "episode_id", "episode_no", "title", "start_date", "end_date", "description",
        "significance", "practice", "judgement",
    ),
    "episode_agencies": ("_doc", "review_id", "episode_id", "code"),
    "factor_codings": ("_doc", "review_id", "episode_id", "coding_no", "code", "influence", "note"),
    "pattern_findings": ("_doc", "review_id", "finding_no", "code", "direction", "priority", "finding", "proposed_label"),
    "pattern_episodes": ("_doc", "review_id", "finding_no", "episode_id"),
    "recommendations": ("_doc", "review_id", "rec_id", "rec_no", "text", "kind", "level", "agency", "lead_role", "due", "status"),
    "recommendation_patterns": ("_doc", "review_id", "rec_id", "code"),
    "practice_points": ("_doc", "review_id", "code"),
    **_second.COLUMNS,
}


class Columns:
    """Row tuples for every review table, filled document by document, handed over as Arrow columns."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in (*REVIEW_TABLES, *_second.TABLES)}

    def to_arrow(self) -> dict[str, pa.Table]:
        out = {}
        for table, rows in self.rows.items():
            if rows:
                out[table] = pa.table(dict(zip(COLUMNS[table], map(list, zip(*rows, strict=True)), strict=True)))
        return out

    def review(self, c: Checked, doc_no: int) -> None:
        """Shape one valid document into rows of every review table."""
        d = c.doc
        assert d is not None
        rows = self.rows
        if c.second_coder is not None:
            return _second.shape(rows, d, c.source, c.sha256, doc_no)
        rid = d["review_id"]
        dates = d["dates"]
        area = d["area"]
        trigger = d["trigger"]
        completed = dt.date.fromisoformat(dates["completed"])
        ff = d.get("family_factors")
        children = d["children"]
        episodes = d["episodes"]
        rows["reviews"].append((
            doc_no, rid, d["title"], d["review_type"], d["method"], area["code"], area["name"], area["region"],
            area["nation"], _date(dates.get("commissioned")), completed, _date(dates.get("published")), completed.year,
            trigger["reason"], trigger.get("question"), d.get("intervention_level"), d.get("quality_grade"),
            ff is not None, len(children), len(episodes), d.get("format", FORMAT),
            d.get("taxonomy_version") or DEFAULT_TAXONOMY_VERSION, c.source, c.sha256,
        ))
        rows["review_family_factors"].extend((doc_no, rid, code) for code in ff or ())
        rows["review_agencies"].extend((doc_no, rid, code) for code in d.get("agencies") or ())
        harm = rows["child_harm_types"]
        for n, child in enumerate(children, start=1):
            rows["children"].append((doc_no, rid, n, child["age_band"], child["sex"], child["outcome"]))
            harm.extend((doc_no, rid, n, code) for code in child.get("harm_types") or ())
        ep_rows, ep_agencies, codings = rows["episodes"], rows["episode_agencies"], rows["factor_codings"]
        for n, ep in enumerate(episodes, start=1):
            eid = ep["episode_id"]
            ep_rows.append((
                doc_no, rid, eid, n, ep.get("title"), _date(ep["start"]), _date(ep.get("end")), ep.get("description"),
                ep.get("significance"), ep["practice"], ep.get("judgement"),
            ))
            ep_agencies.extend((doc_no, rid, eid, code) for code in ep.get("agencies") or ())
            codings.extend(
                (doc_no, rid, eid, k, f["code"], f["influence"], f.get("note"))
                for k, f in enumerate(ep.get("factors") or (), start=1)
            )
        for n, pat in enumerate(d.get("patterns") or (), start=1):
            rows["pattern_findings"].append((
                doc_no, rid, n, pat["code"], pat["direction"], _whole(pat.get("priority")), pat.get("finding"), pat.get("proposed_label"),
            ))
            rows["pattern_episodes"].extend((doc_no, rid, n, eid) for eid in dict.fromkeys(pat["episodes"]))
        for n, rec in enumerate(d.get("recommendations") or (), start=1):
            rows["recommendations"].append((
                doc_no, rid, rec["rec_id"], n, rec.get("text"), rec["kind"], rec["level"], rec.get("agency"),
                rec.get("lead_role"), _date(rec.get("due")), rec["status"],
            ))
            rows["recommendation_patterns"].extend((doc_no, rid, rec["rec_id"], code) for code in dict.fromkeys(rec.get("patterns") or ()))
        rows["practice_points"].extend((doc_no, rid, code) for code in d.get("practice_points") or ())


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else None


def _whole(value: Any) -> int | None:
    """JSON Schema's integer admits 2.0: load it as the whole number it is, so the column stays integer."""
    return None if value is None else int(value)


def taken_rows(tables: dict[str, pa.Table], taken: list[int], load_id: int, started: dt.datetime) -> dict[str, pa.Table]:
    """A chunk's rows of the documents taken (by batch index), ready to insert."""
    out = {}
    shaped = tables.get("reviews")
    keep = pa.array(taken, type=pa.int64())
    # Filtering copies every column, narrative text included: only when the chunk holds rows of
    # documents not taken (unchanged, or a review id repeated in the batch).
    whole = shaped is None or pc.all(pc.is_in(shaped["_doc"], value_set=keep)).as_py()
    for table, data in tables.items():
        if not whole:
            data = data.filter(pc.is_in(data["_doc"], value_set=keep))
        data = data.drop_columns(["_doc"])
        if table == "reviews":
            data = data.append_column("load_id", pa.array([load_id] * data.num_rows, pa.int32()))
            data = data.append_column("loaded_at", pa.array([started] * data.num_rows, pa.timestamp("us")))
        if data.num_rows:
            out[table] = data
    return out


