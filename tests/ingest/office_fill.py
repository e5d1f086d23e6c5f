"""Fill a coding workbook made by `template xlsx` the way a reviewer does: labels picked from the drop-downs.

Independent of the importer: labels come from the frame CSVs (csv module), cells are written with
openpyxl, dates as real date cells. Used by the Excel import tests and benchmarks/bench_import_xlsx.py.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

FRAMES = Path(__file__).resolve().parents[2] / "lt_workbench" / "frames" / "scie-2008"
CODE_LABEL = ("patterns", "factors", "practice_points")


def _labels(frame: str) -> dict[str, str]:
    with (FRAMES / f"{frame}.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if frame in CODE_LABEL:
        return {r["code"]: f"{r['code']} {r['label']}" for r in rows}
    return {r["code"]: r["label"] for r in rows}


LABELS = {f.stem: _labels(f.stem) for f in FRAMES.glob("*.csv")}


def shown(frame: str, code: str | None) -> str | None:
    """What the drop-down shows for a code."""
    return None if code is None else LABELS[frame][code]


def many(frame: str, codes: list[str] | None) -> str | None:
    return None if codes is None else "; ".join(LABELS[frame][c] for c in codes)


def day(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def rows_of(doc: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """The rows a reviewer types for one review, sheet by sheet, in the template's column order."""
    rid = doc["review_id"]
    ff = doc.get("family_factors")
    review = [rid, doc["title"], shown("review_type", doc["review_type"]), shown("method", doc["method"]),
              doc["area"]["code"], doc["area"]["name"], shown("region", doc["area"]["region"]),
              shown("nation", doc["area"]["nation"]), day(doc["dates"].get("commissioned")), day(doc["dates"]["completed"]),
              day(doc["dates"].get("published")), shown("trigger_reason", doc["trigger"]["reason"]), doc["trigger"].get("question"),
              shown("intervention_level", doc.get("intervention_level")), shown("quality_grade", doc.get("quality_grade")),
              ("none" if ff == [] else many("family_factor", ff)), many("agency", doc.get("agencies")),
              many("practice_points", doc.get("practice_points"))]
    children = [[rid, shown("age_band", c["age_band"]), shown("sex", c["sex"]), shown("outcome", c["outcome"]),
                 many("harm_type", c.get("harm_types"))] for c in doc["children"]]
    episodes, factors = [], []
    for e in doc["episodes"]:
        episodes.append([rid, e["episode_id"], e["title"], day(e["start"]), day(e.get("end")), e["description"],
                         e["significance"], shown("practice", e["practice"]), e["judgement"], many("agency", e.get("agencies"))])
        factors += [[rid, e["episode_id"], shown("factors", f["code"]), shown("influence", f["influence"]), f.get("note")]
                    for f in e.get("factors") or []]
    patterns = [[rid, shown("patterns", p["code"]), shown("direction", p["direction"]), p["priority"], p["finding"],
                 "; ".join(p["episodes"]), p.get("proposed_label")] for p in doc.get("patterns") or []]
    recs = [[rid, r["rec_id"], r["text"], shown("recommendation_kind", r["kind"]), shown("recommendation_level", r["level"]),
             many("patterns", r.get("patterns")), shown("agency", r.get("agency")), r.get("lead_role"), day(r.get("due")),
             shown("recommendation_status", r.get("status"))] for r in doc.get("recommendations") or []]
    return {"Review": [review], "Children": children, "Episodes": episodes, "Factors": factors, "Patterns": patterns,
            "Recommendations": recs}


def fill(template: Path, docs: list[dict[str, Any]], out: Path, edit: Any = None) -> Path:
    """Copy of `template` with `docs` typed in (openpyxl); `edit(workbook)` may then change cells, as a user's slip."""
    import openpyxl

    wb = openpyxl.load_workbook(template)
    for doc in docs:
        for sheet, rows in rows_of(doc).items():
            ws = wb[sheet]
            for row in rows:
                r = _next_free(ws)
                for j, v in enumerate(row, start=1):
                    c = ws.cell(row=r, column=j, value=v)
                    if isinstance(v, dt.date):
                        c.number_format = "yyyy-mm-dd"
    if edit is not None:
        edit(wb)
    wb.save(out)
    return out


def _next_free(ws: Any) -> int:
    r = 2
    while ws.cell(row=r, column=1).value is not None:
        r += 1
    return r
