"""lt_workbench/sql/tests/*.sql on the sample database: each query returns the rows that break a rule
(documented keys unique and not NULL, every code in the taxonomy), so an empty result is a pass. The
derived tables are also compared with a rebuild from the base tables. A planted fault shows each kind
of check can fail.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from lt_workbench.config import SQL_DIR
from lt_workbench.model.db import derived_tables, refresh_derived
from lt_workbench.model.load import load

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
CHECKS = sorted((SQL_DIR / "tests").glob("*.sql"))


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("sqltests") / "sample.duckdb"
    assert load([SAMPLE], db, progress=False).exit_code == 0
    return db


def _offending(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[object, ...]]:
    return con.execute(path.read_text(encoding="utf-8")).fetchall()


def test_every_documented_key_has_a_check() -> None:
    """Each table or view whose header states `key: ...` has sql/tests/keys_<table>.sql."""
    keyed = set()
    create = re.compile(r"CREATE (?:TABLE IF NOT EXISTS|OR REPLACE TABLE|OR REPLACE VIEW) (\w+)")
    for path in [SQL_DIR / "schema" / "tables.sql", *(SQL_DIR / "derived").glob("*.sql"), *(SQL_DIR / "views").glob("*.sql")]:
        header: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            match = create.search(line)
            if match:
                if any(re.search(r"(?<!No )key: ", h) for h in header):  # "No key: ..." states there is none
                    keyed.add(match.group(1))
                header = []
            elif line.startswith("--"):
                header.append(line)
    assert len(keyed) > 20 and {f"keys_{t}" for t in keyed} <= {p.stem for p in CHECKS}, sorted(keyed)


@pytest.mark.parametrize("path", CHECKS, ids=lambda p: p.stem)
def test_sql_check_finds_nothing_on_the_sample(sample_db: Path, path: Path) -> None:
    header = path.read_text(encoding="utf-8").splitlines()[:3]
    assert header[0].startswith(f"-- {path.stem}:") and any("grain:" in line for line in header), path.name
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        rows = _offending(con, path)
    finally:
        con.close()
    assert rows == [], f"{path.name}: {len(rows)} offending rows, e.g. {rows[:5]}"


def test_derived_tables_equal_a_rebuild(sample_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(sample_db, copy)
    con = duckdb.connect(str(copy))
    try:
        names = [name for name, _ in derived_tables()]
        con.execute("DELETE FROM review_codes WHERE review_id = (SELECT min(review_id) FROM reviews) AND frame = 'patterns'")  # planted
        for name in names:
            con.execute(f"CREATE TEMP TABLE before_{name} AS SELECT * FROM {name}")
        refresh_derived(con)
        differ = {}
        for name in names:
            n = con.execute(f"SELECT count(*) FROM ((SELECT * FROM before_{name} EXCEPT ALL SELECT * FROM {name}) "
                            f"UNION ALL (SELECT * FROM {name} EXCEPT ALL SELECT * FROM before_{name}))").fetchone()
            assert n is not None
            if n[0]:
                differ[name] = n[0]
    finally:
        con.close()
    # Only the planted deletion differs: every other derived row equals its rebuild.
    assert list(differ) == ["review_codes"] and differ["review_codes"] > 0


def test_checks_find_planted_faults(sample_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "faulty.duckdb"
    shutil.copy(sample_db, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute("INSERT INTO review_codes SELECT * FROM review_codes LIMIT 1")  # a duplicate key
        con.execute("UPDATE pattern_findings SET code = 'P9.9' WHERE finding_no = 1 AND review_id = (SELECT min(review_id) FROM reviews)")
        assert len(_offending(con, SQL_DIR / "tests" / "keys_review_codes.sql")) == 1
        bad = _offending(con, SQL_DIR / "tests" / "codes_in_taxonomy.sql")
        assert [(t, c, v) for t, c, _, v, _ in bad] == [("pattern_findings", "code", "P9.9")]
    finally:
        con.close()
