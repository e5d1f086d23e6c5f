"""The About facts of a written table: scope, filters, unit, disclosure, data snapshot, versions, command line.

Every file lt-workbench writes with `--out` carries these facts: inside an Excel workbook as its
`About` sheet, inside a Parquet file's schema metadata, and beside any file as `FILE.meta.json`,
so a table never loses what it counts and from which data.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shlex
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["about_facts", "about_rows", "sidecar_path", "dumps", "PACKAGES"]

# Packages whose versions are recorded: the workbench itself and what computes or writes the numbers.
PACKAGES = ("lt-workbench", "duckdb", "pandas", "numpy", "scipy", "statsmodels", "openpyxl", "pyarrow")

# table.attrs keys that describe the scope of a table, in the order they are shown.
_SCOPE_KEYS = ("table", "frame", "kind", "level", "factor_level", "by", "group", "year_basis", "recent_window", "as_of",
               "code", "label", "description", "interval", "test", "method", "limits", "series_breaks", "caveat")


def _plain(value: Any) -> Any:
    """A JSON-safe copy of an attrs value (tuples to lists, everything unknown to its text)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return str(value)


def _versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = sys.version.split()[0]
    return out


def _snapshot(db: str | Path | None) -> dict[str, Any]:
    from lt_workbench.exceptions import WorkbenchError
    from lt_workbench.model.snapshot import snapshot

    try:
        return snapshot(db)
    except (WorkbenchError, OSError) as e:  # a table built without a database (e.g. by hand) still gets its facts
        return {"database": str(db) if db else "default", "error": f"no snapshot: {e}"}
    except Exception as e:  # duckdb raises its own types for a missing or locked file
        return {"database": str(db) if db else "default", "error": f"no snapshot: {type(e).__name__}: {e}"}


def about_facts(
    table: pd.DataFrame,
    *,
    db: str | Path | None = None,
    command: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The About facts of a table as one JSON-safe dict.

    table: a result of the tabulation API (its `attrs` hold unit, filters, disclosure and notes).
    db: the database the table was computed from (for reviews, last load and content hash).
    command: the command line that made it (default: this process's own argv).
    extra: more facts to record (e.g. `pivot`).
    """
    attrs = dict(table.attrs)
    scope = {k: _plain(attrs[k]) for k in _SCOPE_KEYS if k in attrs and attrs[k] not in (None, [], {}, ())}
    snap = _snapshot(db if db is not None else attrs.get("db"))
    filters = _plain(attrs.get("where") or {})
    if attrs.get("disclosure") == "public":  # public output never names an area, not even in its filters or scope
        areas = [str(a) for k, v in filters.items() if k in ("area", "area_code") for a in (v if isinstance(v, list) else [v])]
        filters = {k: ("(not shown in public output)" if k in ("area", "area_code") else v) for k, v in filters.items()}
        for key, value in list(scope.items()):
            text = str(value)
            if any(a and a in text for a in areas):
                for a in areas:
                    text = text.replace(repr(a), "(area not shown)").replace(a, "(area not shown)")
                scope[key] = text
    facts: dict[str, Any] = {
        "written_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "scope": scope,
        "filters": filters,
        "unit": attrs.get("unit_label") or attrs.get("unit") or "not stated",
        "not_recorded": _plain(attrs.get("not_recorded")),
        "disclosure": attrs.get("disclosure", "restricted"),
        "disclosure_note": attrs.get("note", ""),
        "profile": attrs.get("profile"),
        "threshold": _plain(attrs.get("threshold")),
        "rows": int(len(table)),
        "columns": [str(c) for c in table.columns],
        "snapshot": _plain(snap),
        "taxonomy_version": attrs.get("taxonomy_version") or snap.get("taxonomy_versions"),
        "versions": _versions(),
        "command": command if command is not None else " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    if extra:
        facts.update(_plain(extra))
    return facts


def about_rows(facts: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts flattened to (name, text) pairs, one per line of an About sheet."""
    rows: list[tuple[str, str]] = []

    def add(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            if not value:
                rows.append((prefix, "none"))
            for k, v in value.items():
                add(f"{prefix}: {k}" if prefix else str(k), v)
        elif isinstance(value, list):
            rows.append((prefix, ", ".join(str(v) for v in value)))
        else:
            rows.append((prefix, "" if value is None else str(value)))

    for key in ("scope", "filters", "unit", "not_recorded", "disclosure", "disclosure_note", "profile", "threshold",
                "rows", "snapshot", "taxonomy_version", "versions", "command", "written_at"):
        if key in facts:
            add(key, facts[key])
    for key, value in facts.items():
        if key not in {r[0].split(":")[0] for r in rows} and key != "columns":
            add(key, value)
    return rows


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """Where the About facts of `path` go: the same name with `.meta.json` appended (board.csv -> board.csv.meta.json)."""
    p = Path(path)
    return p.with_name(p.name + ".meta.json")


def dumps(facts: dict[str, Any]) -> str:
    """The facts as the text of a sidecar file."""
    return json.dumps(facts, ensure_ascii=False, indent=1, default=str) + "\n"
