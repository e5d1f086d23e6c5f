"""Open the DuckDB database, creating the documented tables and the taxonomy when they are missing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from lt_workbench.config import DEFAULT_DB, FRAMES_DIR, SQL_DIR
from lt_workbench.exceptions import DatabaseError
from lt_workbench.model.frames import available_versions, taxonomy_frame

__all__ = [
    "connect", "ensure_schema", "refresh_derived", "derive_incoming", "derived_tables", "derived_review_tables", "sql_file",
    "TABLES", "REVIEW_TABLES",
]

# Base tables holding one review's rows, all keyed by review_id: a replacement deletes from each.
REVIEW_TABLES = (
    "reviews", "review_family_factors", "review_agencies", "children", "child_harm_types", "episodes",
    "episode_agencies", "factor_codings", "pattern_findings", "pattern_episodes", "recommendations",
    "recommendation_patterns", "practice_points",
)

TABLES = (
    "taxonomy", "loads", "load_errors", "review_changes", "reviews", "review_family_factors",
    "review_agencies", "children", "child_harm_types", "episodes", "episode_agencies", "factor_codings",
    "pattern_findings", "pattern_episodes", "recommendations", "recommendation_patterns", "practice_points",
)


def sql_file(relative: str) -> str:
    """Text of a SQL file under lt_workbench/sql/."""
    path = SQL_DIR / relative
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatabaseError(f"missing SQL file {path}") from None


def _sql_files(folder: str) -> list[Path]:
    return sorted((SQL_DIR / folder).glob("*.sql"))


_CREATE_TABLE = re.compile(r"CREATE\s+OR\s+REPLACE\s+TABLE\s+(\w+)", re.IGNORECASE)


def derived_tables() -> list[tuple[str, str]]:
    """(table name, SQL) of every derived table, in build order (sql/derived/*.sql by name)."""
    out = []
    for path in _sql_files("derived"):
        sql = path.read_text(encoding="utf-8")
        match = _CREATE_TABLE.search(sql)
        if not match:
            raise DatabaseError(f"{path}: a derived file must hold one CREATE OR REPLACE TABLE statement")
        out.append((match.group(1), sql))
    return out


# Derived tables an earlier version built and this one no longer does: dropped on the next rebuild.
_RETIRED_TABLES = ("episode_factor_pattern",)


def refresh_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every derived table from the base tables (used when the SQL or the frames change)."""
    for name in _RETIRED_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {name}")
    for _, sql in derived_tables():
        con.execute(sql)


def derive_incoming(con: duckdb.DuckDBPyConnection, incoming: dict[str, pa.Table]) -> None:
    """Append the derived rows of a batch of incoming reviews, inside the caller's transaction.

    Derived rows of a review depend only on that review's own rows and the taxonomy, so each
    derived SELECT runs once over the batch alone: every base table it reads is shadowed by a
    CTE of the same name over the incoming Arrow rows, and every derived table built before it
    by the rows just appended for these reviews. The caller has already deleted the derived
    rows of reviews being replaced. `incoming` maps base table name to the batch's rows.
    """
    registered = []
    shadows = []
    try:
        for table in REVIEW_TABLES:
            data = incoming.get(table)
            if data is None:  # no rows of this kind in the batch: an empty relation of the same shape
                data = con.sql(f"SELECT * FROM main.{table} LIMIT 0").to_arrow_table()
            name = f"_incoming_{table}"
            con.register(name, data)
            registered.append(name)
            shadows.append(f"{table} AS (SELECT * FROM {name})")
        per_review = derived_review_tables(con)  # taxonomy-only tables (code_ancestors) do not change with reviews
        for name, sql in derived_tables():
            if name not in per_review:
                continue
            select = _select_of(name, sql)
            con.execute(f"INSERT INTO main.{name} BY NAME WITH {', '.join(shadows)} SELECT * FROM ({select})")
            shadows.append(
                f"{name} AS (SELECT * FROM main.{name} WHERE review_id IN (SELECT review_id FROM _incoming_reviews))"
            )
    finally:
        for name in registered:
            con.unregister(name)


def derived_review_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The derived tables holding rows per review (all but the taxonomy-only ones), in build order."""
    return [name for name, _ in derived_tables() if _has_review_id(con, name)]


_AS_SELECT = re.compile(r"CREATE\s+OR\s+REPLACE\s+TABLE\s+\w+\s+AS\s", re.IGNORECASE)


def _select_of(name: str, sql: str) -> str:
    """The query of a derived file's CREATE OR REPLACE TABLE ... AS <query>."""
    match = _AS_SELECT.search(sql)
    if not match:
        raise DatabaseError(f"derived table {name}: expected CREATE OR REPLACE TABLE {name} AS <query>")
    return sql[match.end():].strip().rstrip(";")


def _has_review_id(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? AND column_name = 'review_id'",
        [table],
    ).fetchall())


def _insert_taxonomy(con: duckdb.DuckDBPyConnection) -> None:
    for version in available_versions():
        con.register("_taxonomy_rows", taxonomy_frame(version))
        con.execute("DELETE FROM taxonomy WHERE version = ?", [version])
        con.execute(
            "INSERT INTO taxonomy SELECT frame, version, code, parent, depth, label, description, sort_key FROM _taxonomy_rows"
        )
        con.unregister("_taxonomy_rows")


def _create_views(con: duckdb.DuckDBPyConnection) -> None:
    for path in _sql_files("views"):
        con.execute(path.read_text(encoding="utf-8"))


def _fingerprint() -> str:
    """Hash of everything the database's shape depends on: DDL, derived and view SQL, the frames."""
    h = hashlib.sha256()
    files = [SQL_DIR / "schema" / "tables.sql", *_sql_files("derived"), *_sql_files("views")]
    files += sorted(FRAMES_DIR.rglob("*.csv"))
    for f in files:
        h.update(str(f.relative_to(f.parents[2])).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables if absent; reload the taxonomy and rebuild derived tables and views when the
    SQL or the frames have changed since this database was last opened (one transaction)."""
    con.execute(sql_file("schema/tables.sql"))
    con.execute("CREATE TABLE IF NOT EXISTS workbench_meta (key VARCHAR NOT NULL, value VARCHAR NOT NULL)")
    fingerprint = _fingerprint()
    stored = con.execute("SELECT value FROM workbench_meta WHERE key = 'schema_fingerprint'").fetchall()
    if stored and stored[0][0] == fingerprint:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        _insert_taxonomy(con)
        refresh_derived(con)
        _create_views(con)
        con.execute("DELETE FROM workbench_meta WHERE key = 'schema_fingerprint'")
        con.execute("INSERT INTO workbench_meta VALUES ('schema_fingerprint', ?)", [fingerprint])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def connect(db: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the workbench database (default data/workbench.duckdb), ready to query.

    Read-only connections never write, so the database must already exist.
    """
    path = Path(db) if db is not None else DEFAULT_DB
    if read_only:
        if not path.exists():
            raise DatabaseError(
                f"database {path} does not exist: load reviews first with `lt-workbench load PATH --db {path}`"
            )
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.Error as e:
            raise DatabaseError(f"cannot open {path} read-only: {e}") from e
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as e:
        hint = ""
        if "lock" in str(e).lower():
            hint = (" - another process has the database open (a notebook, the explorer or another load?); "
                    "DuckDB allows one writer and no readers beside it: shut that kernel down and try again")
        raise DatabaseError(f"cannot open {path}: {e}{hint}") from e
    ensure_schema(con)
    return con
