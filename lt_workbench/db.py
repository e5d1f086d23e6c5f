"""Open the DuckDB database, creating the documented tables and the taxonomy when they are missing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from .config import DEFAULT_DB, FRAMES_DIR, SQL_DIR
from .exceptions import DatabaseError
from .frames import available_versions, taxonomy_frame

__all__ = ["connect", "ensure_schema", "refresh_derived", "derive_incoming", "derived_tables", "sql_file", "TABLES"]

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


def refresh_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every derived table from the base tables (used when the SQL or the frames change)."""
    for _, sql in derived_tables():
        con.execute(sql)


def derive_incoming(tables: dict[str, list[pa.Table]]) -> dict[str, pa.Table]:
    """Derived rows for a batch of incoming reviews only, computed in a scratch in-memory database.

    Derived rows of a review depend only on that review's own rows and the taxonomy, so the
    loader appends these (after deleting the rows of replaced reviews) instead of rebuilding
    everything inside its transaction, where scans of uncommitted rows are slow.
    Returns the review-keyed derived tables (those with a review_id column).
    """
    scratch = duckdb.connect(config={"preserve_insertion_order": False})
    try:
        scratch.execute(sql_file("schema/tables.sql"))
        _insert_taxonomy(scratch)
        for table, parts in tables.items():
            # The incoming Arrow data stands in for the (empty) base table: no copy of the texts.
            scratch.execute(f"DROP TABLE {table}")  # table names are fixed by load.py
            scratch.register(table, pa.concat_tables(parts, promote_options="permissive"))
        out = {}
        for name, sql in derived_tables():
            scratch.execute(sql)
            cols = [c for (c,) in scratch.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]).fetchall()]
            if "review_id" in cols:
                out[name] = scratch.sql(f"SELECT * FROM {name}").to_arrow_table()
        return out
    finally:
        scratch.close()


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
