"""The DuckDB database: read-only connections (`connect`), writes as new snapshots (`write`), the schema and derived tables."""

from __future__ import annotations

import contextlib
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from lt_workbench.config import DEFAULT_DB, FRAMES_DIR, SQL_DIR
from lt_workbench.exceptions import DatabaseDamaged, DatabaseError
from lt_workbench.model.files import entry_for, explain, rebuild_hint
from lt_workbench.model.frames import available_versions, taxonomy_frame
from lt_workbench.model.publish import writing

__all__ = [
    "connect", "write", "ensure_schema", "schema_state", "refresh_derived", "derive_incoming", "derived_tables", "derived_review_tables", "derived_select", "sql_file",
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


@lru_cache(maxsize=32)
def _parse_derived(path: str, sql: str) -> tuple[str, exp.Query]:
    """A derived file's table name and query, from SQLGlot's parse of its one CREATE OR REPLACE TABLE ... AS."""
    try:
        statements = [st for st in sqlglot.parse(sql, read="duckdb") if st is not None]
    except sqlglot.errors.ParseError as e:
        raise DatabaseError(f"{path}: cannot parse the SQL: {e}") from e
    create = statements[0] if len(statements) == 1 else None
    if not (isinstance(create, exp.Create) and create.kind == "TABLE" and isinstance(create.expression, exp.Query)):
        raise DatabaseError(f"{path}: a derived file must hold one CREATE OR REPLACE TABLE <name> AS <query> statement")
    target = create.this if isinstance(create.this, exp.Table) else create.this.find(exp.Table)
    if target is None:
        raise DatabaseError(f"{path}: no table name in its CREATE statement")
    return target.name, create.expression


def derived_tables() -> list[tuple[str, str]]:
    """(table name, SQL) of every derived table, in build order (sql/derived/*.sql by name)."""
    out = []
    for path in _sql_files("derived"):
        sql = path.read_text(encoding="utf-8")
        out.append((_parse_derived(str(path), sql)[0], sql))
    return out


def derived_select(name: str, sql: str, shadow: dict[str, str] | None = None) -> str:
    """The query of a derived file, as DuckDB SQL; `shadow` renames the tables it reads (SQLGlot's
    table replacement, so a qualified `main.reviews` or an aliased one is renamed as surely as a bare one)."""
    _, query = _parse_derived(name, sql)
    if shadow:
        mapping = {**shadow, **{f"main.{k}": v for k, v in shadow.items()}}
        query = exp.replace_tables(query, mapping, dialect="duckdb")
    return query.sql(dialect="duckdb")


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
    derived SELECT runs once over the batch alone: SQLGlot renames every base table it reads to
    the incoming Arrow rows (`_incoming_<table>`), and every derived table built before it to a
    view of the rows just appended for these reviews. The caller has already deleted the derived
    rows of reviews being replaced. `incoming` maps base table name to the batch's rows.
    """
    registered: list[str] = []
    views: list[str] = []
    shadow: dict[str, str] = {}
    try:
        for table in REVIEW_TABLES:
            data = incoming.get(table)
            if data is None:  # no rows of this kind in the batch: an empty relation of the same shape
                data = con.sql(f"SELECT * FROM main.{table} LIMIT 0").to_arrow_table()
            name = f"_incoming_{table}"
            con.register(name, data)
            registered.append(name)
            shadow[table] = name
        per_review = derived_review_tables(con)  # taxonomy-only tables (code_ancestors) do not change with reviews
        for name, sql in derived_tables():
            if name not in per_review:
                continue
            con.execute(f"INSERT INTO main.{name} BY NAME SELECT * FROM ({derived_select(name, sql, shadow)})")
            view = f"_incoming_{name}"
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM main.{name} "
                        "WHERE review_id IN (SELECT review_id FROM _incoming_reviews)")
            views.append(view)
            shadow[name] = view
    finally:  # after a failure the transaction is aborted: tidying must not hide the error that stopped it
        for view in views:
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DROP VIEW IF EXISTS {view}")
        for name in registered:
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)


def derived_review_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The derived tables holding rows per review (all but the taxonomy-only ones), in build order."""
    return [name for name, _ in derived_tables() if _has_review_id(con, name)]


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


@lru_cache(maxsize=1)
def _fingerprint() -> str:
    """Hash of everything the database's shape depends on: DDL, derived and view SQL, the frames."""
    h = hashlib.sha256()
    files = [SQL_DIR / "schema" / "tables.sql", *_sql_files("derived"), *_sql_files("views")]
    files += sorted(FRAMES_DIR.rglob("*.csv"))
    for f in files:
        h.update(str(f.relative_to(f.parents[2])).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> bool:
    """The explicit migration step, run by writers only (load, rebuild, upgrade): create the tables if
    absent; reload the taxonomy and rebuild derived tables and views when the SQL or the frames have
    changed since the database was built (one transaction). True when anything was rebuilt."""
    con.execute(sql_file("schema/tables.sql"))
    con.execute("CREATE TABLE IF NOT EXISTS workbench_meta (key VARCHAR NOT NULL, value VARCHAR NOT NULL)")
    fingerprint = _fingerprint()
    stored = con.execute("SELECT value FROM workbench_meta WHERE key = 'schema_fingerprint'").fetchall()
    if stored and stored[0][0] == fingerprint:
        return False
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
    return True


def schema_state(con: duckdb.DuckDBPyConnection) -> str:
    """'current' when the database's taxonomy, derived tables and views were built by this version's SQL
    and frames; 'stale' when by another (run `lt-workbench upgrade`); 'empty' when it has no tables yet."""
    have = {n for (n,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()}
    if "reviews" not in have:
        return "empty"
    if "workbench_meta" not in have:
        return "stale"
    stored = con.execute("SELECT value FROM workbench_meta WHERE key = 'schema_fingerprint'").fetchall()
    return "current" if stored and stored[0][0] == _fingerprint() else "stale"


def connect(db: str | Path | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the workbench database (default data/workbench.duckdb) read-only, ready to query.

    Reads never write: the connection reads the published snapshot, so it never blocks a load and
    never changes the file or its recorded checksum. The database must exist, its file must match
    its manifest entry (size), and its derived tables must have been built by this version's SQL
    and frames, else a DatabaseError says to run `lt-workbench upgrade` (reads never migrate). The
    connection keeps the snapshot it opened until it is closed, whatever loads publish meanwhile.

    To write, use `write(db)`: it builds the next snapshot and publishes it atomically with its
    checksum, as loads do. `read_only=False` is refused with a DatabaseError saying so (writing the
    published file in place would fail while any reader has it open, and would leave `info` and
    `check` unable to vouch for the file).
    """
    path = Path(db) if db is not None else DEFAULT_DB
    if not read_only:
        raise DatabaseError(
            f"connect({str(path)!r}, read_only=False) would write the published database in place; connections are "
            f"read-only. To change {path}, write a new snapshot: `with lt_workbench.db.write({str(path)!r}) as con: ...` "
            "(published atomically with its checksum when the block ends; readers keep their view)"
        )
    return _open_read_only(path)


@contextlib.contextmanager
def write(db: str | Path | None = None, *, wait: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Write to the database from Python the way `lt-workbench load` does: `with write(db) as con: ...`.

    Takes the writer lock (waiting up to `wait` seconds; DatabaseBusy past that, database unchanged),
    opens a copy of the published snapshot (or a new database) read-write with the documented tables,
    and yields it. When the block ends normally the derived tables are rebuilt from the base tables
    and the copy is published by one atomic rename with its checksum; readers keep the snapshot they
    opened. When the block raises, nothing is published and the copy is removed.
    """
    path = Path(db) if db is not None else DEFAULT_DB
    with writing(path, wait=wait) as w:
        ensure_schema(w.con)
        yield w.con
        refresh_derived(w.con)  # the file is published whole or not at all, so no transaction is needed here


def _open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    for _attempt in range(5):
        try:
            st = path.stat()
        except FileNotFoundError:
            raise DatabaseError(
                f"database {path} does not exist: load reviews first with `lt-workbench load PATH --db {path}`"
            ) from None
        entry = entry_for(path, st.st_ino)
        if entry is not None and st.st_size < entry.size:  # a DuckDB file written in place grows, never shrinks
            raise DatabaseDamaged(
                f"{path} is damaged: it is {st.st_size} bytes, but snapshot {entry.snapshot_id} was published with "
                f"{entry.size} (truncated); {rebuild_hint(path)}"
            )
        try:
            con = duckdb.connect(str(path), read_only=True)
            state = schema_state(con)
        except duckdb.Error as e:
            raise explain(path, e, "cannot open") from e
        if path.stat().st_ino != st.st_ino:  # a load published between the stat and the open: look again
            con.close()
            continue
        if state == "stale":
            con.close()
            raise DatabaseError(
                f"{path} was built by another version of lt-workbench's tables, derived SQL or coding frames, so its "
                f"derived tables may be out of date; reading it would give wrong counts. Bring it up to date with "
                f"`lt-workbench upgrade --db {path}` (readers may stay open meanwhile)"
            )
        return con
    raise DatabaseError(f"{path} is being replaced too often to open a consistent snapshot; try again")
