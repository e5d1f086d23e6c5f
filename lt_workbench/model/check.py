"""`lt-workbench check`: is the published database whole and what the review files say?

Read-only throughout. Each check gives a line: the file against its published checksum, the
schema fingerprint (derived tables built by this version's SQL and frames), every documented key
unique (and its review id present), every derived table equal to a rebuild from the base tables,
and the content hash equal to the one recorded when the snapshot was published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lt_workbench.config import DEFAULT_DB, SQL_DIR
from lt_workbench.exceptions import DatabaseError
from lt_workbench.model.db import derived_select, derived_tables, schema_state
from lt_workbench.model.files import entry_for
from lt_workbench.model.publish import content_hash
from lt_workbench.model.snapshot import verify_file

__all__ = ["Finding", "check_database", "documented_keys"]


@dataclass(frozen=True)
class Finding:
    """One check: its name, whether it passed, and what was found."""

    check: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.check}: {self.detail}"


_KEY = re.compile(r"(?<![Nn]o )\bkey:\s*(\([^)]*\)|\w+)")
_CREATE = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I)


def documented_keys() -> dict[str, list[str]]:
    """Each table's key, as its SQL file's header states it (`-- ... key: (a, b)` before its CREATE; a table
    whose header says `No key:` has none to check)."""
    out: dict[str, list[str]] = {}
    for path in [SQL_DIR / "schema" / "tables.sql", *sorted((SQL_DIR / "derived").glob("*.sql"))]:
        comment: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("--"):
                comment.append(line)
                continue
            create = _CREATE.search(line)
            if create:
                key = _KEY.search(" ".join(comment))
                if key:
                    out[create.group(1)] = [c.strip() for c in key.group(1).strip("()").split(",")]
            if line.strip():
                comment = []
    return out


def check_database(db: str | Path | None = None) -> list[Finding]:
    """Every check, in order; a damaged or unreadable file stops at the first (DatabaseDamaged)."""
    path = Path(db) if db is not None else DEFAULT_DB
    if not path.exists():
        raise DatabaseError(f"database {path} does not exist: load reviews first with `lt-workbench load PATH --db {path}`")
    findings = [Finding("file", True, verify_file(path))]

    con = duckdb.connect(str(path), read_only=True)
    try:
        state = schema_state(con)
        findings.append(Finding("schema", state == "current", {
            "current": "built by this version's tables, derived SQL and coding frames",
            "stale": f"built by another version: run `lt-workbench upgrade --db {path}`",
            "empty": "no tables yet",
        }[state]))
        have = {n for (n,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        for table, key in documented_keys().items():
            if table not in have:
                findings.append(Finding(f"key {table}", False, "the table is missing"))
                continue
            cols = ", ".join(key)
            dups = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {table} GROUP BY ALL HAVING count(*) > 1)").fetchall()[0][0]
            nulls = con.execute(f"SELECT count(*) FROM {table} WHERE {key[0]} IS NULL").fetchall()[0][0]
            findings.append(Finding(f"key {table}", dups == 0 and nulls == 0,
                                    f"({cols}) unique" if dups == 0 and nulls == 0 else f"{dups} repeated keys, {nulls} rows without {key[0]}"))
        for name, sql in derived_tables():
            if name not in have:
                findings.append(Finding(f"derived {name}", False, "the table is missing: run `lt-workbench upgrade`"))
                continue
            select = derived_select(name, sql)
            differ = con.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM {name} EXCEPT ALL SELECT * FROM ({select}))) + "
                f"(SELECT count(*) FROM (SELECT * FROM ({select}) EXCEPT ALL SELECT * FROM {name}))"
            ).fetchall()[0][0]
            findings.append(Finding(f"derived {name}", differ == 0,
                                    "equal to a rebuild" if differ == 0 else f"{differ} rows differ from a rebuild: run `lt-workbench upgrade`"))
        if "reviews" in have:
            digest, n = content_hash(con)
            entry = entry_for(path, path.stat().st_ino)
            if entry is None:
                findings.append(Finding("content", True, f"hash {digest} over {n} reviews (none recorded to compare with)"))
            else:
                findings.append(Finding("content", entry.content_hash == digest,
                                        f"hash {digest} over {n} reviews" + ("" if entry.content_hash == digest else
                                                                             f", but {entry.content_hash} was published")))
    finally:
        con.close()
    return findings
