"""Snapshot publishing: readers never block a load and keep their view; writers queue; damage is named;
rebuild restores the content hash; check and upgrade; reads never write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from lt_workbench.exceptions import DatabaseBusy, DatabaseDamaged, DatabaseError, LoadError
from lt_workbench.model.db import connect
from lt_workbench.model.files import manifest_path, sources_path
from lt_workbench.model.load import load
from lt_workbench.model.publish import WriterLock
from lt_workbench.model.snapshot import connection_snapshot, current_snapshot, newer_snapshot, snapshot

CORPUS = sorted((Path(__file__).parent.parent / "data" / "tabulate" / "corpus").glob("*.json"))
FIRST, SECOND = CORPUS[:30], CORPUS[30:]
CLI = [sys.executable, "-m", "lt_workbench"]


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def _reviews(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM reviews").fetchall()[0][0])
    finally:
        con.close()


def test_a_reader_with_an_open_connection_never_blocks_a_load_and_sees_the_new_data_after_refreshing(tmp_path: Path) -> None:
    db = tmp_path / "team.duckdb"
    load(FIRST, db, progress=False)
    reader = textwrap.dedent(f"""
        import json, sys, time
        from lt_workbench.model.db import connect
        from lt_workbench.model.snapshot import connection_snapshot, newer_snapshot
        db = {str(db)!r}
        con = connect(db, read_only=True)
        seen = connection_snapshot(con)
        counts, errors, queries = [], [], 0
        print("ready", flush=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                n = con.execute("SELECT count(*) FROM reviews").fetchall()[0][0]
                con.execute("SELECT frame, count(*) FROM review_codes GROUP BY frame").fetchall()
                queries += 1
                if not counts or counts[-1] != n:
                    counts.append(n)
                if newer_snapshot(db, seen) is not None:  # "new data loaded - refresh"
                    con.close()
                    con = connect(db, read_only=True)
                    seen = connection_snapshot(con)
                if n == 60:
                    break
            except Exception as e:
                errors.append(repr(e))
                break
        print(json.dumps({{"counts": counts, "errors": errors, "queries": queries}}), flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", reader], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        done = _cli("load", *map(str, SECOND), "--db", str(db), "--wait", "0")
        assert done.returncode == 0, done.stderr
        out, _ = proc.communicate(timeout=150)
    finally:
        proc.kill()
    report = json.loads(out.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["counts"] == [30, 60]  # its own snapshot while the load ran, the new one after refreshing
    assert report["queries"] > 1


def test_two_loads_started_together_both_succeed_with_the_right_counts(tmp_path: Path) -> None:
    db = tmp_path / "team.duckdb"
    load(CORPUS[:2], db, progress=False)
    procs = [
        subprocess.Popen([*CLI, "load", *map(str, part), "--db", str(db), "--wait", "2m"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for part in (CORPUS[2:30], CORPUS[30:])
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert _reviews(db) == 60
    con = duckdb.connect(str(db), read_only=True)
    loads = con.execute("SELECT n_inserted FROM loads ORDER BY load_id").fetchall()
    con.close()
    assert sorted(n for (n,) in loads[1:]) == [28, 30]


def test_a_writer_waits_for_the_lock_naming_its_holder_then_proceeds_or_exits_2_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "team.duckdb"
    load(FIRST, db, progress=False)
    before = current_snapshot(db)
    lock = WriterLock(db)
    lock.acquire(0)
    try:
        done = _cli("load", *map(str, SECOND), "--db", str(db), "--wait", "0")
        assert done.returncode == 2
        assert f"being written by process {os.getpid()}" in done.stderr
        assert "The database is unchanged" in done.stderr and "Traceback" not in done.stderr
        assert current_snapshot(db) == before and _reviews(db) == 30
        waiting = subprocess.Popen([*CLI, "load", *map(str, SECOND), "--db", str(db), "--wait", "1m"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert waiting.stderr is not None
        line = waiting.stderr.readline()
        assert "waiting up to 60 s for process" in line and str(os.getpid()) in line
    finally:
        lock.release()
    out, err = waiting.communicate(timeout=180)
    assert waiting.returncode == 0, err
    assert _reviews(db) == 60
    with pytest.raises(DatabaseBusy):  # the API the same way
        lock.acquire(0)
        try:
            load(FIRST, db, wait=0.2, progress=False)
        finally:
            lock.release()


def test_snapshot_api_for_the_explorer_and_reports(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    load(FIRST, db, progress=False)
    con = connect(db, read_only=True)
    seen = connection_snapshot(con)
    published = current_snapshot(db)
    assert published is not None and seen == published.snapshot_id
    assert newer_snapshot(db, seen) is None
    load(SECOND, db, progress=False)
    newer = newer_snapshot(db, seen)
    assert newer is not None and newer.reviews == 60
    assert con.execute("SELECT count(*) FROM reviews").fetchall()[0][0] == 30  # the open connection keeps its view
    # DuckDB shares one instance per file within a process: this process reads its snapshot until every
    # connection to it is closed (one kernel, one snapshot, until refreshed).
    assert snapshot(db)["reviews"] == 30
    con.close()
    assert snapshot(db)["content_hash"] == newer.content_hash
    assert not list(tmp_path.glob("*.next-*"))


def test_reads_never_write_and_refuse_stale_derived_tables_until_upgrade(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    load(FIRST, db, progress=False)
    manifest_path(db).unlink()  # as if built by an older version, with other SQL
    con = duckdb.connect(str(db))
    con.execute("UPDATE workbench_meta SET value = 'older' WHERE key = 'schema_fingerprint'")
    con.close()
    stamp = (db.stat().st_mtime_ns, db.stat().st_size)
    with pytest.raises(DatabaseError, match="upgrade --db"):
        connect(db, read_only=True)
    done = _cli("tabulate", "sex", "--db", str(db))
    assert done.returncode == 2 and "lt-workbench upgrade" in done.stderr and "Traceback" not in done.stderr
    assert (db.stat().st_mtime_ns, db.stat().st_size) == stamp  # the read wrote nothing
    up = _cli("upgrade", "--db", str(db))
    assert up.returncode == 0 and "upgraded" in up.stdout, up.stderr
    connect(db, read_only=True).close()
    again = _cli("upgrade", "--db", str(db))
    assert again.returncode == 0 and "up to date" in again.stdout


def _damage(db: Path, how: str) -> None:
    size = db.stat().st_size
    if how == "truncated":
        os.truncate(db, size // 2)
    elif how == "emptied":
        os.truncate(db, 0)
    else:  # blocks overwritten in the middle, or the header
        with open(db, "r+b") as f:
            f.seek(0 if how == "header" else size // 2)
            f.write(b"\xde\xad" * 8192)


@pytest.mark.parametrize("how", ["truncated", "emptied", "header", "middle"])
def test_a_damaged_file_gets_one_clear_message_and_rebuild_restores_the_content_hash(tmp_path: Path, how: str) -> None:
    db = tmp_path / "d.duckdb"
    load(CORPUS, db, progress=False)
    original = snapshot(db)["content_hash"]
    _damage(db, how)
    for args in (["info"], ["load", str(CORPUS[0])], ["check"]):
        done = _cli(*args, "--db", str(db))
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert f"{db} is damaged" in done.stderr and f"lt-workbench rebuild --db {db}" in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr and "another process" not in done.stderr
    assert sources_path(db).exists()
    rebuilt = _cli("rebuild", "--db", str(db))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert snapshot(db, verify=True)["content_hash"] == original
    assert _cli("check", "--db", str(db)).returncode == 0


def test_a_damaged_file_without_a_manifest_is_still_named_not_blamed_on_a_lock(tmp_path: Path) -> None:
    db = tmp_path / "d.duckdb"
    load(FIRST, db, progress=False)
    manifest_path(db).unlink()
    _damage(db, "truncated")
    done = _cli("info", "--db", str(db))
    assert done.returncode == 2 and f"{db} is damaged" in done.stderr, done.stderr
    assert "another process" not in done.stderr and "Traceback" not in done.stderr
    with pytest.raises(DatabaseDamaged):
        connect(db, read_only=True)


def test_check_finds_derived_rows_that_differ_from_a_rebuild(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    load(FIRST, db, progress=False)
    ok = _cli("check", "--db", str(db))
    assert ok.returncode == 0 and "checks passed" in ok.stdout
    manifest_path(db).unlink()  # edited in place below: no published checksum to hold it to
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM review_codes WHERE rowid IN (SELECT rowid FROM review_codes LIMIT 3)")
    con.close()
    bad = _cli("check", "--db", str(db))
    assert bad.returncode == 1
    assert "FAIL derived review_codes: 3 rows differ from a rebuild" in bad.stdout


def _stamp(db: Path) -> tuple[int, int, int]:
    st = db.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def test_the_public_connect_reads_by_default_and_leaves_the_file_and_its_checksum_alone(tmp_path: Path) -> None:
    from lt_workbench.db import connect as public_connect
    from lt_workbench.model.snapshot import verify_file

    db = tmp_path / "r.duckdb"
    load(FIRST, db, progress=False)
    before, manifest = _stamp(db), manifest_path(db).read_bytes()
    con = public_connect(db)  # the documented call, no arguments beyond the path
    try:
        assert con.execute("SELECT count(*) FROM reviews").fetchall()[0][0] == 30
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("CREATE TABLE scratch (x INTEGER)")
        load(SECOND, db, progress=False)  # an open reader does not block a load, and keeps its view
        assert con.execute("SELECT count(*) FROM reviews").fetchall()[0][0] == 30
    finally:
        con.close()
    assert manifest_path(db).exists() and manifest_path(db).read_bytes() != manifest  # the load's, not removed
    assert _stamp(db) != before
    assert verify_file(db).startswith("matches snapshot")
    done = _cli("check", "--db", str(db))
    assert done.returncode == 0 and "FAIL" not in done.stdout, done.stdout
    with pytest.raises(DatabaseError, match=r"lt_workbench\.db\.write"):
        public_connect(db, read_only=False)
    assert verify_file(db).startswith("matches snapshot")


def test_write_publishes_a_checksummed_snapshot_and_an_error_publishes_nothing(tmp_path: Path) -> None:
    from lt_workbench.db import connect as public_connect
    from lt_workbench.db import write
    from lt_workbench.model.snapshot import verify_file

    db = tmp_path / "w.duckdb"
    load(FIRST, db, progress=False)
    reader = subprocess.Popen([*CLI[:1], "-c", textwrap.dedent(f"""
        import sys
        from lt_workbench.db import connect
        con = connect({str(db)!r})
        print(con.execute("SELECT count(*) FROM reviews").fetchall()[0][0], flush=True)
        sys.stdin.readline()
        print(con.execute("SELECT count(*) FROM reviews").fetchall()[0][0], flush=True)
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "30"
        with duckdb.connect(str(db), read_only=True) as peek:
            gone = [r for (r,) in peek.execute("SELECT review_id FROM reviews ORDER BY review_id LIMIT 2").fetchall()]
        with write(db) as con:  # a reader in another process is open on the file meanwhile
            con.execute("DELETE FROM reviews WHERE review_id IN (?, ?)", gone)
        out, _ = reader.communicate("\n", timeout=60)
        assert out.strip() == "30"  # the reader kept the snapshot it opened
    finally:
        reader.kill()
    assert verify_file(db).startswith("matches snapshot")
    con = public_connect(db)
    try:
        assert con.execute("SELECT count(*) FROM reviews").fetchall()[0][0] == 28
        assert con.execute("SELECT count(*) FROM review_codes WHERE review_id IN (?, ?)", gone).fetchall()[0][0] == 0
    finally:
        con.close()
    assert _cli("check", "--db", str(db)).returncode == 0  # derived tables rebuilt before publishing
    before = _stamp(db)
    with pytest.raises(ZeroDivisionError):
        with write(db) as con:
            con.execute("DELETE FROM reviews")
            1 / 0
    assert _stamp(db) == before and verify_file(db).startswith("matches snapshot")
    assert not list(tmp_path.glob("*.next-*"))
    empty = tmp_path / "new.duckdb"
    with write(empty):
        pass
    assert verify_file(empty).startswith("matches snapshot") and snapshot(empty)["reviews"] == 0


def test_a_memory_limit_given_or_from_the_environment_is_the_writer_connections_and_a_bad_one_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def limit_of(config: dict[str, str]) -> str:
        con = duckdb.connect(":memory:", config=config)
        try:
            return str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        finally:
            con.close()

    seen: list[str] = []
    record = lambda con: seen.append(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])  # noqa: E731
    db = tmp_path / "m.duckdb"
    monkeypatch.delenv("LT_WORKBENCH_MEMORY_LIMIT", raising=False)
    load(FIRST[:2], db, _before_commit=record)  # DuckDB's own default
    load(FIRST[2:4], db, memory_limit="123MB", _before_commit=record)
    monkeypatch.setenv("LT_WORKBENCH_MEMORY_LIMIT", "77MB")
    load(FIRST[4:6], db, _before_commit=record)
    assert seen == [limit_of({}), limit_of({"memory_limit": "123MB"}), limit_of({"memory_limit": "77MB"})]
    assert len(set(seen)) == 3
    with pytest.raises(DatabaseError, match="memory limit 'lots' is not a size DuckDB reads"):
        load(FIRST[6:8], db, memory_limit="lots")
    assert _reviews(db) == 6
    done = _cli("load", *map(str, FIRST[6:8]), "--db", str(db), "--memory-limit", "lots")
    assert done.returncode == 2 and "memory limit 'lots'" in done.stderr and _reviews(db) == 6
    done = _cli("load", *map(str, FIRST[6:8]), "--db", str(db), "--memory-limit", "1MB")  # too little to work in
    assert done.returncode == 2 and "DuckDB needed more memory than its limit (--memory-limit" in done.stderr
    assert "the database is unchanged" in done.stderr and _reviews(db) == 6


def test_a_duckdb_error_while_the_schema_is_prepared_is_a_load_error_that_says_why(tmp_path: Path) -> None:
    """Out of memory while a new database's tables are created (before the load's transaction): Python callers got
    DuckDB's raw OutOfMemoryException, and the CLI said "cannot read"; now both get the load's own explanation."""
    db = tmp_path / "new.duckdb"
    with pytest.raises(LoadError, match=r"DuckDB needed more memory than its limit .*the database is unchanged") as info:
        load(FIRST[:2], db, memory_limit="1MB")
    assert isinstance(info.value.__cause__, duckdb.OutOfMemoryException)
    assert not db.exists() and current_snapshot(db) is None
    done = _cli("load", *map(str, FIRST[:2]), "--db", str(db), "--memory-limit", "1MB")
    assert done.returncode == 2 and "cannot read" not in done.stderr and "cannot write" in done.stderr, done.stderr
    assert "DuckDB needed more memory than its limit" in done.stderr and not db.exists()
