"""Input corners: each gets a located, plain message and every other file still loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lt_workbench.exceptions import LoadError
from lt_workbench.model.inputs import collect_inputs
from lt_workbench.model.load import load
from lt_workbench.model.validate import check_bytes, check_file, parse_bytes

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


def test_a_repeated_key_is_found_when_an_escaped_quote_in_the_kept_value_evens_the_count() -> None:
    # The kept value "a\\u0022: b" is written back as "a\\": b", one more quote-colon than the file holds: a count of
    # quote-colons in the file against one in the re-serialised document came out equal and let the repeat through.
    raw = b'{"format": "lt-review/1", "title": "c", "title": "a\\u0022: b"}'
    doc, problems = parse_bytes(raw, "dup.json")
    assert doc is None and [p.pointer for p in problems] == ["/title"]


def _text(value: object, indent: int | None, ascii_only: bool, repeat: int | None, seen: list[int]) -> str:
    """JSON text in the style of json.dumps(indent=..., ensure_ascii=...); the `repeat`-th object (counted as
    written, when not empty) gives its first key twice, the first time with another value. `seen`: [objects, repeats]."""
    if isinstance(value, dict):
        items = [(json.dumps(k, ensure_ascii=ascii_only), v) for k, v in value.items()]
        seen[0] += 1
        if repeat == seen[0] - 1 and items:
            items.insert(0, (items[0][0], "earlier"))
            seen[1] += 1
        parts = [f"{k}: {_text(v, indent, ascii_only, repeat, seen)}" for k, v in items]
        opener, closer = "{", "}"
    elif isinstance(value, list):
        parts = [_text(v, indent, ascii_only, repeat, seen) for v in value]
        opener, closer = "[", "]"
    else:
        return json.dumps(value, ensure_ascii=ascii_only)
    if not parts:
        return opener + closer
    if indent is None:
        return opener + ", ".join(parts) + closer
    pad = " " * indent
    return opener + "\n" + ",\n".join(pad + p.replace("\n", "\n" + pad) for p in parts) + "\n" + closer


_keys = st.text(st.sampled_from('ab"\\:é \n'), max_size=4)
_json = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(st.sampled_from('ab"\\:é \n{'), max_size=6),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(doc=st.dictionaries(_keys, _json, min_size=1, max_size=4), indent=st.sampled_from([None, 1, 2]), ascii_only=st.booleans(),
       repeat=st.integers(0, 6), inject=st.booleans(), compact=st.booleans())
def test_every_repeated_key_is_found_and_no_other_whatever_the_layout(doc: dict, indent: int | None, ascii_only: bool, repeat: int,
                                                                      inject: bool, compact: bool) -> None:
    # The layouts the loader reads fastest (orjson's and json's, 2-space indent or compact) and others, each with
    # and without one key given twice somewhere; a repeated key is always reported, a clean file never.
    seen = [0, 0]  # objects written, keys repeated
    if compact and not inject:
        raw = orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent == 2 else 0) + b"\n"
    else:
        raw = _text(doc, indent, ascii_only, repeat if inject else None, seen).encode()
    parsed, problems = parse_bytes(raw, "x.json")
    if seen[1]:
        assert parsed is None and problems and all("appears twice in one object" in p.message for p in problems)
    else:
        assert problems == [] and parsed == doc


def test_whitespace_only_deep_nesting_and_the_size_limit_are_described(tmp_path: Path) -> None:
    assert "only whitespace (6 bytes)" in parse_bytes(b"  \n\t  ", "w.json")[1][0].message
    assert "the file is empty (0 bytes)" in parse_bytes(b"", "e.json")[1][0].message
    deep = parse_bytes(b"[" * 1100 + b"]" * 1100, "deep.json")[1][0].message
    assert "nested more than 1,024 levels deep" in deep
    # Deeper than the schema validator goes (about 255 levels) but within the parser's 1,024: a problem, not a crash
    # that stopped the whole load with a traceback.
    for depth in (300, 1000):
        c = check_bytes(b'{"a": ' + b"[" * depth + b"]" * depth + b"}", "deep.json")
        assert "nested too deep to validate" in c.problems[0].message
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * 2_100_000 + b"}")
    c = check_file(big, max_mb=2)
    assert "2.1 MB, above the per-document limit of 2 MB" in c.problems[0].message and "--max-document-mb" in c.problems[0].message
    assert check_file(big, max_mb=3).problems[0].message.startswith("required field") or not check_file(big, max_mb=3).ok
