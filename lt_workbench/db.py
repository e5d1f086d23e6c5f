"""Open the DuckDB database, creating the documented tables and the taxonomy when they are missing."""

from __future__ import annotations

from pathlib import Path

import duckdb

from .config import DEFAULT_DB, SQL_DIR
from .exceptions import DatabaseError
from .frames import available_versions, taxonomy_frame

__all__ = ["connect", "ensure_schema", "refresh_derived", "sql_file", "TABLES"]

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


def refresh_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the derived tables (sql/derived/*.sql, in name order) from the base tables.

    The loader calls this inside its transaction, so derived tables never disagree with the base tables.
    """
    for path in _sql_files("derived"):
        con.execute(path.read_text(encoding="utf-8"))


def _create_views(con: duckdb.DuckDBPyConnection) -> None:
    for path in _sql_files("views"):
        con.execute(path.read_text(encoding="utf-8"))


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables if absent, (re)load every shipped taxonomy version, build derived tables and views; idempotent."""
    con.execute(sql_file("schema/tables.sql"))
    for version in available_versions():
        t = taxonomy_frame(version)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM taxonomy WHERE version = ?", [version])
            con.register("_taxonomy_rows", t)
            con.execute(
                "INSERT INTO taxonomy SELECT frame, version, code, parent, depth, label, description, sort_key FROM _taxonomy_rows"
            )
            con.unregister("_taxonomy_rows")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    con.execute("BEGIN TRANSACTION")
    try:
        refresh_derived(con)
        _create_views(con)
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
        raise DatabaseError(f"cannot open {path}: {e}") from e
    ensure_schema(con)
    return con
