"""A public funnel's centre line is the published overall share, never the true one (found when closing issue 12:
p0 came from unprotected counts, so p0 x the overall denominator gave back an overall count of 1 that
`tabulate` hides)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lt_workbench import tabulate as tab
from lt_workbench.analysis.publish import public_release


def _true(db: Path, code: str) -> tuple[int, int]:
    t = tab.frequency("patterns", level=code.count(".") + 1, db=db)
    row = t[t["code"] == code].iloc[0]
    return int(row["count"]), int(row["denominator"])


def test_a_hidden_overall_count_leaves_no_centre_line(corpus_db: Path) -> None:
    count, den = _true(corpus_db, "P2.3")
    assert 1 <= count <= 5  # planted by the corpus: the overall count is primary-suppressed in public output
    f = tab.funnel("patterns", code="P2.3", by="region", db=corpus_db, disclosure="public")
    assert set(f["p0"]) == {"c"}
    assert f[["lower_95", "upper_95", "lower_998", "upper_998"]].isna().all().all()
    restricted = tab.funnel("patterns", code="P2.3", by="region", db=corpus_db)
    assert restricted["p0"].iloc[0] == 100 * count / den  # restricted output keeps the true share


def test_a_shown_overall_share_is_the_published_cell(corpus_db: Path, tmp_path: Path) -> None:
    with public_release(corpus_db, ledger=tmp_path / "ledger.sqlite"):
        f = tab.funnel("patterns", code="P2", by="region", db=corpus_db, disclosure="public")
        whole = tab.frequency("patterns", level=1, db=corpus_db, disclosure="public")
    row = whole[whole["code"] == "P2"].iloc[0]
    shown = pd.to_numeric(pd.Series([row["count"], row["denominator"]]), errors="coerce")
    assert shown.notna().all()
    assert set(f["p0"]) == {100 * shown[0] / shown[1]}
