"""Input corners: each gets a located, plain message and every other file still loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lt_workbench.exceptions import LoadError
from lt_workbench.model.inputs import collect_inputs
from lt_workbench.model.load import load
from lt_workbench.model.validate import check_file, parse_bytes

from tests.conftest import VALID, write_doc


def _messages(result_rejected: list) -> dict[str, str]:
    return {c.source.rsplit("/", 1)[-1]: c.problems[0].message for c in result_rejected}


def test_odd_entries_in_a_folder_are_reported_and_the_rest_loads(tmp_path: Path, db_path: Path, minimal_doc: dict) -> None:
    folder = tmp_path / "in"
    write_doc(folder, minimal_doc, "good.json")
    other = dict(minimal_doc, review_id="TEST-UPPER-001")
    write_doc(folder, other, "UPPER.JSON")
    bad_name = os.fsencode(folder) + b"/caf\xe9.json"
    with open(bad_name, "wb") as f:
        f.write(b"{}")
    os.symlink("loop.json", folder / "loop.json")
    os.symlink("missing.json", folder / "dangling.json")
    os.mkfifo(folder / "pipe.json")
    os.symlink(".", folder / "dirloop")  # a link to a folder is not followed: no endless walk
    result = load([folder], db_path, progress=False)
    assert sorted(result.inserted) == sorted([minimal_doc["review_id"], "TEST-UPPER-001"])
    msgs = _messages(result.rejected)
    assert "not valid UTF-8" in msgs["caf\\xe9.json"]
    assert "symbolic link loop" in msgs["loop.json"]
    assert "dangling link" in msgs["dangling.json"] and "missing.json" in msgs["dangling.json"]
    assert "named pipe (FIFO)" in msgs["pipe.json"]
    assert result.exit_code == 1
    con = duckdb.connect(str(db_path), read_only=True)
    recorded = {r for (r,) in con.execute("SELECT source_path FROM load_errors").fetchall()}
    con.close()
    assert str(folder / "pipe.json") in recorded and any(r.endswith("caf\\xe9.json") for r in recorded)


def test_the_cli_reports_corners_for_validate_too(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.json").write_bytes((VALID / "minimal.json").read_bytes())
    os.symlink("nowhere.json", folder / "gone.json")
    done = subprocess.run([sys.executable, "-m", "lt_workbench", "validate", str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "gone.json: at / (JSON pointer): a symbolic link to nowhere.json, which does not exist" in done.stderr
    assert "2 files checked: 1 valid, 1 invalid" in done.stdout


def test_an_empty_folder_is_an_error_like_an_empty_glob(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(LoadError, match="the folder holds no .json files"):
        collect_inputs([tmp_path / "empty"])
    with pytest.raises(LoadError, match="the pattern matches no files"):
        collect_inputs([str(tmp_path / "empty" / "*.json")])
    done = subprocess.run([sys.executable, "-m", "lt_workbench", "load", str(tmp_path / "empty"), "--db", str(tmp_path / "x.duckdb")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no .json files" in done.stderr
    assert not (tmp_path / "x.duckdb").exists()


def test_duplicate_keys_are_rejected_with_both_places() -> None:
    raw = b'{\n "review_id": "A",\n "area": {"code": "X", "code": "Y"},\n "review_id": "B"\n}'
    doc, problems = parse_bytes(raw, "dup.json")
    assert doc is None
    found = {(p.pointer, p.message) for p in problems}
    assert ("/review_id", "the key 'review_id' appears twice in one object, at line 2, column 2 and line 4, column 2; "
            "keys must be unique (a JSON reader would silently keep only the last)") in found
    assert any(p.pointer == "/area/code" and "line 3, column 11 and line 3, column 24" in p.message for p in problems)


def test_strings_that_look_like_keys_are_not_duplicates() -> None:
    raw = b'{"a": "x\\": 1, \\"a\\": 2", "b": ["\\"a\\":"], "c": {"a": 1}}'
    doc, problems = parse_bytes(raw, "ok.json")
    assert problems == [] and doc is not None


def test_whitespace_only_deep_nesting_and_the_size_limit_are_described(tmp_path: Path) -> None:
    assert "only whitespace (6 bytes)" in parse_bytes(b"  \n\t  ", "w.json")[1][0].message
    assert "the file is empty (0 bytes)" in parse_bytes(b"", "e.json")[1][0].message
    deep = parse_bytes(b"[" * 1100 + b"]" * 1100, "deep.json")[1][0].message
    assert "nested more than 1,024 levels deep" in deep
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * 2_100_000 + b"}")
    c = check_file(big, max_mb=2)
    assert "2.1 MB, above the per-document limit of 2 MB" in c.problems[0].message and "--max-document-mb" in c.problems[0].message
    assert check_file(big, max_mb=3).problems[0].message.startswith("required field") or not check_file(big, max_mb=3).ok
