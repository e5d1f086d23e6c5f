"""Second codings: a second coder's independent coding of a review, kept apart for coder agreement.

A document whose `coding.role` is `second` is not a review: it loads into the `second_coding*`
tables (grain and keys in sql/schema/tables.sql), keyed by (review_id, coder), replacing that
coder's earlier coding of the review. No tabulation, derived table or view reads these tables;
only `analysis/agreement.py` does, against the review's primary coding in the main tables.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

__all__ = ["TABLES", "COLUMNS", "second_coder", "shape", "delete"]

TABLES = ("second_codings", "second_coding_episodes", "second_coding_codes")

# Column order of the row tuples (`_doc` is the file's index in the load batch, as in load.py).
COLUMNS: dict[str, tuple[str, ...]] = {
    "second_codings": ("_doc", "review_id", "coder", "source_path", "sha256"),
    "second_coding_episodes": ("_doc", "review_id", "coder", "episode_id", "episode_no", "practice"),
    "second_coding_codes": ("_doc", "review_id", "coder", "frame", "code", "episode_id"),
}


def second_coder(doc: Any) -> str | None:
    """The coder's name when the document is a second coding, else None."""
    coding = doc.get("coding") if isinstance(doc, dict) else None
    if isinstance(coding, dict) and coding.get("role") == "second" and isinstance(coding.get("coder"), str):
        return str(coding["coder"])
    return None


def shape(rows: dict[str, list[tuple[Any, ...]]], doc: dict[str, Any], source: str, sha256: str, doc_no: int) -> None:
    """One valid second-coding document -> rows of the second_coding tables: its episodes, and every code it applies
    (factors on their episode; patterns on each episode the finding rests on; practice points on the review)."""
    rid, coder = doc["review_id"], doc["coding"]["coder"]
    rows["second_codings"].append((doc_no, rid, coder, source, sha256))
    codes = rows["second_coding_codes"]
    for n, ep in enumerate(doc["episodes"], start=1):
        eid = ep["episode_id"]
        rows["second_coding_episodes"].append((doc_no, rid, coder, eid, n, ep["practice"]))
        codes.extend((doc_no, rid, coder, "factors", f["code"], eid) for f in ep.get("factors") or ())
    for pat in doc.get("patterns") or ():
        codes.extend((doc_no, rid, coder, "patterns", pat["code"], eid) for eid in dict.fromkeys(pat["episodes"]))
    codes.extend((doc_no, rid, coder, "practice_points", code, None) for code in dict.fromkeys(doc.get("practice_points") or ()))


def delete(con: duckdb.DuckDBPyConnection, keys: list[tuple[str, str]]) -> None:
    """Delete the earlier rows of these (review_id, coder) second codings, inside the caller's transaction."""
    if not keys:
        return
    con.register("_second_replaced", pa.table({"review_id": [k[0] for k in keys], "coder": [k[1] for k in keys]}))
    try:
        for table in TABLES:
            con.execute(f"DELETE FROM {table} WHERE (review_id, coder) IN (SELECT (review_id, coder) FROM _second_replaced)")
    finally:
        con.unregister("_second_replaced")
