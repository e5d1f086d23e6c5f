"""The vocabulary a tabulation reads from the database: remembered per reader's connection, read again after a new snapshot."""

from __future__ import annotations

from pathlib import Path

from lt_workbench.analysis.vocab import FRAMES, _codes, _labels
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.model.db import connect, write

V = DEFAULT_TAXONOMY_VERSION
PATTERNS = FRAMES["patterns"]


def _rename(con, code: str, label: str) -> None:  # type: ignore[no-untyped-def]
    con.execute("UPDATE taxonomy SET label = ? WHERE frame = 'patterns' AND version = ? AND code = ?", [label, V, code])


def test_frame_codes_follow_the_snapshot_a_connection_reads(db_path: Path) -> None:
    with write(db_path) as con:
        # A writable connection can change the taxonomy under it: what it reads is never remembered.
        first = str(_codes(con, PATTERNS, 1, V)["code"].iloc[0])
        _rename(con, first, "Renamed once")
        assert _codes(con, PATTERNS, 1, V)["label"].iloc[0] == "Renamed once"
        assert _labels(con, "patterns", V)[first] == "Renamed once"
    reader = connect(db_path)
    seen = _codes(reader, PATTERNS, 1, V)
    assert seen["label"].iloc[0] == "Renamed once"
    seen.loc[0, "label"] = "changed by a caller"  # each call gets a copy
    assert _codes(reader, PATTERNS, 1, V)["label"].iloc[0] == "Renamed once"
    with write(db_path) as con:  # a new snapshot is published while the reader is open
        _rename(con, first, "Renamed twice")
    # The open reader keeps the snapshot it opened (as DuckDB does); closed and opened again (as the explorer's
    # "load the new data" does), the connection reads the new snapshot, vocabulary included.
    assert _codes(reader, PATTERNS, 1, V)["label"].iloc[0] == "Renamed once"
    assert _labels(reader, "patterns", V)[first] == "Renamed once"
    reader.close()
    fresh = connect(db_path)
    try:
        assert _codes(fresh, PATTERNS, 1, V)["label"].iloc[0] == "Renamed twice"
        assert _labels(fresh, "patterns", V)[first] == "Renamed twice"
    finally:
        fresh.close()
