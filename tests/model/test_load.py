"""Loading: partial success, idempotence, replacement, provenance, atomicity, exit codes."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from lt_workbench.exceptions import LoadError
from lt_workbench.model.load import REVIEW_TABLES, collect_paths, load

from tests.conftest import INVALID, VALID, write_doc


def _state(db: Path) -> dict[str, list]:
    """Every row of every review table plus the bookkeeping tables, for before/after comparisons."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall()))
            for t in (*REVIEW_TABLES, "loads", "load_errors", "review_changes")
        }
    finally:
        con.close()


def _count(db: Path, sql: str, params: list | None = None) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()[0][0]
    finally:
        con.close()


def test_valid_and_invalid_together_loads_the_valid_and_records_the_rest(tmp_path: Path, db_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(VALID, corpus / "valid")
    shutil.copytree(INVALID, corpus / "invalid")
    result = load([corpus], db_path)
    n_invalid = len(list(INVALID.glob("*.json")))
    assert len(result.inserted) == len(list(VALID.glob("*.json")))
    assert len(result.rejected) == n_invalid
    assert result.exit_code == 1
    assert _count(db_path, "SELECT count(DISTINCT source_path) FROM load_errors") == n_invalid
    # Each rejection names its file and a place in it.
    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute("SELECT source_path, pointer, message FROM load_errors WHERE source_path LIKE '%dangling_episode.json'").fetchall()
    con.close()
    assert rows == [(str(corpus / "invalid" / "dangling_episode.json"), "/patterns/0/episodes/0", "episode 'E9' does not exist in this review")]


def test_rows_match_the_document(db_path: Path, minimal_doc: dict) -> None:
    load([VALID / "minimal.json"], db_path)
    assert _count(db_path, "SELECT count(*) FROM children WHERE review_id = 'TEST-MIN-001'") == len(minimal_doc["children"])
    assert _count(db_path, "SELECT count(*) FROM child_harm_types") == sum(len(c["harm_types"]) for c in minimal_doc["children"])
    assert _count(db_path, "SELECT count(*) FROM factor_codings") == sum(len(e["factors"]) for e in minimal_doc["episodes"])
    assert _count(db_path, "SELECT count(*) FROM pattern_episodes") == sum(len(p["episodes"]) for p in minimal_doc["patterns"])
    assert _count(db_path, "SELECT year FROM reviews") == 2020
    assert _count(db_path, "SELECT count(*) FROM reviews WHERE family_factors_recorded AND region = 'north_west'") == 1
    assert _count(db_path, "SELECT count(*) FROM pattern_findings WHERE proposed_label IS NOT NULL") == 1
    con = duckdb.connect(str(db_path), read_only=True)
    prov = con.execute("SELECT source_path, length(sha256), format, taxonomy_version, loaded_at IS NOT NULL FROM reviews").fetchall()
    con.close()
    assert prov == [(str(VALID / "minimal.json"), 64, "lt-review/1", "scie-2008", True)]


def test_null_family_factors_is_not_recorded_rather_than_absent(tmp_path: Path, db_path: Path, minimal_doc: dict) -> None:
    doc = copy.deepcopy(minimal_doc)
    doc["family_factors"] = None
    load([write_doc(tmp_path, doc)], db_path)
    assert _count(db_path, "SELECT count(*) FROM reviews WHERE NOT family_factors_recorded") == 1
    assert _count(db_path, "SELECT count(*) FROM review_family_factors") == 0


def test_reloading_the_same_review_is_a_no_op(db_path: Path) -> None:
    load([VALID], db_path)
    before = _state(db_path)
    result = load([VALID], db_path)
    after = _state(db_path)
    assert result.unchanged == ["TEST-MIN-001"] and not result.inserted and not result.replaced
    assert {k: v for k, v in after.items() if k != "loads"} == {k: v for k, v in before.items() if k != "loads"}
    assert len(after["loads"]) == len(before["loads"]) + 1


def test_changed_review_replaces_the_old_and_the_change_is_recorded(tmp_path: Path, db_path: Path, minimal_doc: dict) -> None:
    first = write_doc(tmp_path / "v1", minimal_doc)
    load([first], db_path)
    doc = copy.deepcopy(minimal_doc)
    doc["episodes"].append(dict(doc["episodes"][0], episode_id="E3", title="Follow-up"))
    doc["children"] = doc["children"][:1]
    second = write_doc(tmp_path / "v2", doc)
    result = load([second], db_path)
    assert result.replaced == ["TEST-MIN-001"]
    assert _count(db_path, "SELECT count(*) FROM reviews") == 1
    assert _count(db_path, "SELECT count(*) FROM episodes") == 3
    assert _count(db_path, "SELECT count(*) FROM children") == 1
    assert _count(db_path, "SELECT count(*) FROM review_changes WHERE review_id = 'TEST-MIN-001' AND new_source = ?", [str(second)]) == 1


def test_same_review_id_twice_in_one_batch_rejects_the_second(tmp_path: Path, db_path: Path, minimal_doc: dict) -> None:
    a = write_doc(tmp_path, minimal_doc, "a.json")
    other = copy.deepcopy(minimal_doc)
    other["title"] = "Child M, second copy"
    b = write_doc(tmp_path, other, "b.json")
    result = load([tmp_path], db_path)
    assert result.inserted == ["TEST-MIN-001"]
    assert [(p.source, p.pointer) for p in result.problems] == [(str(b), "/review_id")]
    assert str(a) in result.problems[0].message


def test_interrupted_load_leaves_the_database_as_it_was(tmp_path: Path, db_path: Path, minimal_doc: dict) -> None:
    load([VALID], db_path)
    before = _state(db_path)
    doc = copy.deepcopy(minimal_doc)
    doc["review_id"] = "TEST-NEW-002"
    changed = copy.deepcopy(minimal_doc)
    changed["title"] = "Child M (revised)"
    paths = [write_doc(tmp_path / "n", doc), write_doc(tmp_path / "c", changed)]

    def boom(con: duckdb.DuckDBPyConnection) -> None:
        raise RuntimeError("simulated crash just before commit")

    with pytest.raises(RuntimeError):
        load(paths, db_path, _before_commit=boom)
    assert _state(db_path) == before


def test_killed_process_mid_load_leaves_the_database_as_it_was(tmp_path: Path, db_path: Path, minimal_doc: dict) -> None:
    """A real interruption: the process dies (no Python cleanup) with the transaction open."""
    load([VALID], db_path)
    before = _state(db_path)
    doc = copy.deepcopy(minimal_doc)
    doc["review_id"] = "TEST-NEW-003"
    path = write_doc(tmp_path / "n", doc)
    script = (
        "import os, sys\n"
        "from lt_workbench.model.load import load\n"
        f"load([{str(path)!r}], {str(db_path)!r}, _before_commit=lambda con: os._exit(9))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == 9
    assert _state(db_path) == before


def test_collect_paths_takes_files_folders_and_globs(tmp_path: Path, minimal_doc: dict) -> None:
    a = write_doc(tmp_path / "x" / "deep", minimal_doc, "a.json")
    b = write_doc(tmp_path / "y", minimal_doc, "b.json")
    (tmp_path / "y" / "notes.txt").write_text("not a review")
    assert collect_paths([tmp_path / "x"]) == [a]
    assert collect_paths([str(tmp_path / "*" / "*.json")]) == [b]
    assert collect_paths([str(tmp_path / "**" / "*.json")]) == sorted([a, b], key=str)
    assert collect_paths([b, b]) == [b]
    with pytest.raises(LoadError, match="no such file or folder"):
        collect_paths([tmp_path / "missing"])
    with pytest.raises(LoadError, match="matches no files"):
        collect_paths([str(tmp_path / "*.nothing")])


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lt_workbench", *args], capture_output=True, text=True, timeout=300)


def test_cli_exit_codes(tmp_path: Path, db_path: Path) -> None:
    ok = _cli("load", str(VALID), "--db", str(db_path))
    assert ok.returncode == 0, ok.stderr
    assert "1 new" in ok.stdout
    some_bad = _cli("load", str(VALID), str(INVALID / "unknown_code.json"), "--db", str(db_path))
    assert some_bad.returncode == 1
    assert "unknown_code.json: at /patterns/1/code" in some_bad.stderr
    assert "1 unchanged" in some_bad.stdout
    usage = _cli("load", str(tmp_path / "nope"), "--db", str(db_path))
    assert usage.returncode == 2 and "no such file or folder" in usage.stderr
    assert _cli("load", "--no-such-option").returncode == 2
    assert _cli("validate", str(INVALID)).returncode == 1
    assert _cli("validate", str(VALID)).returncode == 0


def _derived_state(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    from lt_workbench.model.db import derived_tables

    return {name: sorted(map(repr, con.execute(f"SELECT * FROM {name}").fetchall())) for name, _ in derived_tables()}


def test_incremental_derived_tables_equal_a_full_rebuild(tmp_path: Path, db_path: Path) -> None:
    """The loader appends derived rows per batch; they must equal rebuilding everything from the base tables."""
    from lt_workbench.model.db import refresh_derived

    corpus = sorted((Path(__file__).parent.parent / "data" / "tabulate" / "corpus").glob("*.json"))
    load(corpus[:25], db_path)
    load(corpus[20:], db_path)  # overlaps: unchanged ones are skipped
    changed = json.loads(corpus[3].read_text(encoding="utf-8"))
    changed["title"] += " (revised)"
    changed["episodes"][0]["factors"] = [{"code": "LS.ORG.06", "influence": "hindering", "note": "Thresholds."}]
    result = load([write_doc(tmp_path / "changed", changed)], db_path)
    assert not result.rejected, [str(p) for p in result.problems]
    assert result.replaced == [changed["review_id"]]
    con = duckdb.connect(str(db_path))
    try:
        incremental = _derived_state(con)
        refresh_derived(con)
        rebuilt = _derived_state(con)
    finally:
        con.close()
    assert incremental == rebuilt
    assert all(rows for rows in rebuilt.values())


def _all_rows(db: Path, rename: tuple[str, str] = ("", "")) -> dict[str, list]:
    """Every table a load writes (base and derived), without the columns that name the load itself."""
    from lt_workbench.model.db import derived_tables

    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for t in (*REVIEW_TABLES, *(name for name, _ in derived_tables()), "load_errors"):
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [t]).fetchall()
                if c not in ("load_id", "loaded_at")]
            out[t] = sorted(repr(r).replace(*rename) for r in con.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall())
        return out
    finally:
        con.close()


def test_worker_processes_load_exactly_what_one_process_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parallel path (worker processes, rows handed back as Arrow files in shared memory, documents
    sorted chunk by chunk) against the serial one, on a batch with rejections, a review id repeated
    across chunks, and a replacement of a review already loaded."""
    import lt_workbench.model.load as load_module

    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).parent.parent / "data" / "tabulate" / "corpus", corpus / "a")
    shutil.copytree(INVALID, corpus / "invalid")
    first = sorted((corpus / "a").glob("*.json"))[0]
    (corpus / "z_repeat").mkdir()
    shutil.copy(first, corpus / "z_repeat" / "same_id_again.json")  # same id, later in path order: rejected
    changed = json.loads(sorted((corpus / "a").glob("*.json"))[5].read_text(encoding="utf-8"))
    changed["title"] += " (revised)"

    results = {}
    for mode, workers in (("serial", 1), ("parallel", 2)):
        monkeypatch.setattr(load_module, "_PARALLEL_FROM", 0 if workers > 1 else 10**9)
        db = tmp_path / f"{mode}.duckdb"
        load([corpus / "a"], db, progress=False, workers=workers)
        results[mode] = load([corpus, write_doc(tmp_path / f"changed-{mode}", changed)], db, progress=False, workers=workers)
        for parent in {load_module._spill_parent() or "", tempfile.gettempdir()} - {""}:
            assert list(Path(parent).glob("lt-workbench-load-*")) == []  # the workers' Arrow files are gone
    serial, parallel = results["serial"], results["parallel"]
    assert parallel.replaced == serial.replaced == [changed["review_id"]]
    assert parallel.unchanged == serial.unchanged and len(serial.unchanged) > 10

    def problems(result, mode):  # the changed file's folder is named after the mode
        return [(p.source, p.pointer, p.message.replace(f"changed-{mode}", "changed")) for p in result.problems]

    assert problems(parallel, "parallel") == problems(serial, "serial")
    assert any("also used by" in p.message for p in serial.problems)
    assert _all_rows(tmp_path / "parallel.duckdb", ("changed-parallel", "changed")) == \
        _all_rows(tmp_path / "serial.duckdb", ("changed-serial", "changed"))


def test_narrative_text_is_stored_with_zstd(db_path: Path) -> None:
    """The DDL's per-column compression is what keeps a large load's commit short (see tables.sql)."""
    load([Path(__file__).parent.parent / "data" / "tabulate" / "corpus"], db_path, progress=False)
    con = duckdb.connect(str(db_path))
    try:
        con.execute("CHECKPOINT")
        used = dict(con.execute(
            "SELECT column_name, string_agg(DISTINCT compression, ',') FROM pragma_storage_info('episodes') "
            "WHERE segment_type = 'VARCHAR' GROUP BY column_name").fetchall())
    finally:
        con.close()
    assert used["description"] == "ZSTD"
    assert "ZSTD" not in used["practice"]  # codes keep DuckDB's own choice (dictionary, constant, ...)


def test_folders_are_listed_as_rglob_would_in_any_case(tmp_path: Path) -> None:
    for rel in ("a.json", "sub/b.json", "sub/deeper/c.json", ".hidden/d.json", "sub/notes.txt", "sub/e.JSON"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    (tmp_path / "folder.json").mkdir()  # a folder named like a file is not a file
    expected = [q for q in tmp_path.rglob("*") if q.is_file() and q.suffix.lower() == ".json"]
    assert collect_paths([tmp_path]) == sorted(expected, key=str)
    assert tmp_path / "sub/e.JSON" in expected


def test_a_whole_number_written_as_2_0_loads_as_an_integer(tmp_path: Path, db_path: Path, minimal_doc: dict) -> None:
    doc = copy.deepcopy(minimal_doc)
    doc["patterns"][1]["priority"] = 2.0  # JSON Schema's "integer" admits it
    result = load([write_doc(tmp_path / "docs", doc)], db_path, progress=False)
    assert not result.rejected
    assert _count(db_path, "SELECT priority FROM pattern_findings WHERE finding_no = 2") == 2


def test_workers_fall_back_to_the_temp_folder_when_shared_memory_is_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container's /dev/shm is often 64 MB: the rows then go through the temporary folder."""
    from types import SimpleNamespace

    import lt_workbench.model.load as load_module

    corpus = sorted((Path(__file__).parent.parent / "data" / "tabulate" / "corpus").glob("*.json"))
    monkeypatch.setattr(load_module.os, "statvfs", lambda _: SimpleNamespace(f_bavail=1, f_frsize=4096))
    assert load_module._spill_parent(corpus) is None
    used = []
    real = load_module.tempfile.TemporaryDirectory
    monkeypatch.setattr(load_module.tempfile, "TemporaryDirectory", lambda **kw: used.append(kw["dir"]) or real(**kw))
    monkeypatch.setattr(load_module, "_PARALLEL_FROM", 0)
    result = load(corpus, tmp_path / "db.duckdb", progress=False, workers=2)
    assert used == [None] and len(result.inserted) == len(corpus)


def test_a_terminal_is_told_what_follows_the_progress_bar(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = Path(__file__).parent.parent / "data" / "tabulate" / "corpus"
    n = len(list(corpus.glob("*.json")))
    load([corpus], db_path, progress=True)
    assert f"writing {n} reviews to {db_path} in one transaction" in capsys.readouterr().err
    load([corpus], db_path.with_name("quiet.duckdb"), progress=False)
    assert capsys.readouterr().err == ""


def test_a_worker_that_cannot_write_its_rows_stops_the_load_cleanly(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No room for the workers' rows (a full disk or /dev/shm): a LoadError that says so, nothing written."""
    import lt_workbench.model.load as load_module

    corpus = sorted((Path(__file__).parent.parent / "data" / "tabulate" / "corpus").glob("*.json"))
    load(corpus[:5], db_path, progress=False)
    before = _state(db_path)

    def no_room(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(load_module.pa, "OSFile", no_room)  # the forked workers inherit the patch
    monkeypatch.setattr(load_module, "_PARALLEL_FROM", 0)
    with pytest.raises(LoadError, match="No space left on device.*database is unchanged"):
        load(corpus, db_path, progress=False, workers=2)
    assert _state(db_path) == before


def test_rows_written_in_bounded_pieces_equal_one_piece(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, minimal_doc: dict) -> None:
    """Memory is bounded by writing held rows once they pass _FLUSH_BYTES: flushing after every chunk
    (a replacement and a repeated id included) must give exactly the rows of one flush."""
    import lt_workbench.model.load as load_module

    corpus = sorted((Path(__file__).parent.parent / "data" / "tabulate" / "corpus").glob("*.json"))
    changed = json.loads(corpus[3].read_text(encoding="utf-8"))
    changed["title"] += " (revised)"
    batch = [*corpus[10:], write_doc(tmp_path / "changed", changed), write_doc(tmp_path / "again", json.loads(corpus[40].read_text()), "z.json")]
    dbs = {}
    monkeypatch.setattr(load_module, "_PARALLEL_FROM", 0)  # 16 chunks from two workers, so "pieces" writes chunk by chunk
    flushes: list[int] = []
    derive = load_module.derive_incoming
    monkeypatch.setattr(load_module, "derive_incoming", lambda con, rows: (flushes.append(1), derive(con, rows)))
    for name, limit in (("whole", load_module._FLUSH_BYTES), ("pieces", 1)):
        monkeypatch.setattr(load_module, "_FLUSH_BYTES", limit)
        dbs[name] = tmp_path / f"{name}.duckdb"
        load(corpus[:12], dbs[name], progress=False, workers=2)
        flushes.clear()
        result = load(batch, dbs[name], progress=False, workers=2)
        assert len(flushes) == 1 if name == "whole" else len(flushes) > 8
        assert result.replaced == [changed["review_id"]] and len(result.rejected) == 1
    assert _all_rows(dbs["pieces"]) == _all_rows(dbs["whole"])
    con = duckdb.connect(str(dbs["pieces"]))
    try:
        from lt_workbench.model.db import refresh_derived

        incremental = _derived_state(con)
        refresh_derived(con)
        assert _derived_state(con) == incremental
    finally:
        con.close()
