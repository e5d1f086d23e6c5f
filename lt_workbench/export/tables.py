"""Result tables out to Excel and Parquet, with their About facts; any format written atomically with a sidecar.

`write_table(table, path, fmt)` is the one writer behind every `--out`: CSV, JSON and Markdown go
through `present.tables.render` (so their bytes are the terminal's), Excel and Parquet are written
here. Every file gets `FILE.meta.json` beside it; nothing is left half-written (each file is written
to a temporary name in the same folder and renamed into place).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from lt_workbench.exceptions import ExportError, WorkbenchError
from lt_workbench.export.about import about_facts, about_rows, dumps, sidecar_path

__all__ = ["write_table", "FORMATS", "EXTENSIONS", "ExportError", "check_extension", "pivot_table", "with_labels",
           "atomic_write", "write_file", "write_sidecar", "current_db", "current_command"]

# format -> extensions an --out file may have for it.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "json": (".json",),
    "markdown": (".md", ".markdown"),
    "xlsx": (".xlsx",),
    "parquet": (".parquet",),
}
FORMATS = tuple(EXTENSIONS)

# Columns shown with one decimal place (percent scale), as in the CSV rendering.
_PERCENT_LIKE = ("percent", "ci_low", "ci_high", "percent_group", "percent_rest", "percent_recent", "percent_before",
                 "p0", "lower_95", "upper_95", "lower_998", "upper_998")
# Dimension column -> the frame whose labels it holds.
_LABEL_FRAMES = {
    "region": "region", "nation": "nation", "age_band": "age_band", "sex": "sex", "outcome": "outcome",
    "harm_type": "harm_type", "review_type": "review_type", "trigger": "trigger_reason", "trigger_reason": "trigger_reason",
    "intervention_level": "intervention_level", "practice": "practice", "direction": "direction", "influence": "influence",
    "method": "method", "quality_grade": "quality_grade", "kind": "recommendation_kind", "status": "recommendation_status",
    "agency": "agency", "family_factor": "family_factor", "pattern": "patterns", "factor": "factors",
    "code_a": None, "code_b": None, "pattern_code": "patterns", "factor_code": "factors",
}


def check_extension(path: str | os.PathLike[str], fmt: str) -> None:
    """Refuse an output file whose extension disagrees with the format (never CSV bytes in a file named .xlsx)."""
    if fmt not in EXTENSIONS:
        raise ExportError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS[fmt]:
        want = " or ".join(EXTENSIONS[fmt])
        guess = next((f for f, exts in EXTENSIONS.items() if suffix in exts), None)
        hint = f" (for {guess} pass --format {guess})" if guess else ""
        raise ExportError(f"{path}: --format {fmt} writes {want} files, but the file is named {suffix or 'without an extension'}{hint}")


def atomic_write(files: dict[Path, Callable[[Path], None]]) -> None:
    """Write several files all-or-nothing: each writer fills a temporary file in the target folder; renames come last."""
    temps: list[tuple[Path, Path]] = []
    try:
        for target, writer in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
            temps.append((Path(name), target))
            writer(Path(name))
        mask = os.umask(0)
        os.umask(mask)
        for done, target in temps:
            os.chmod(done, 0o666 & ~mask)  # mkstemp makes 0600; a written table gets the usual permissions
            os.replace(done, target)
    finally:
        for left, _ in temps:
            if left.exists():
                left.unlink()


def _label_frame(column: str, version: str) -> dict[str, str] | None:
    from lt_workbench.model.frames import labels

    frame = _LABEL_FRAMES.get(column, column)
    if not frame:
        return None
    try:
        found = labels(frame, version)
    except WorkbenchError:
        return None
    return found or None


def with_labels(table: pd.DataFrame) -> pd.DataFrame:
    """A copy with a `<column>_label` column after each dimension column that holds codes of a frame (region -> North West)."""
    version = str(table.attrs.get("taxonomy_version") or "scie-2008")
    out = table.copy()
    for col in list(table.columns):
        if col in ("code", "label") or str(col).endswith("_label") or f"{col}_label" in table.columns:
            continue
        s = table[col]
        if s.dtype != object and not isinstance(s.dtype, pd.StringDtype):
            continue
        names = _label_frame(str(col), version)
        if not names:
            continue
        values = {v for v in s.dropna().unique() if isinstance(v, str)}
        if not values or not (values & names.keys()):
            continue
        out.insert(list(out.columns).index(col) + 1, f"{col}_label", s.map(lambda v, n=names: n.get(v, v) if isinstance(v, str) else v))
    out.attrs = dict(table.attrs)
    return out


def _display(table: pd.DataFrame) -> pd.DataFrame:
    from lt_workbench.present.tables import _display as display  # the CSV's rounding, so the numbers agree

    return display(table)


def pivot_table(table: pd.DataFrame, dim: str) -> pd.DataFrame:
    """The wide layout of a board paper: codes down, the values of `dim` across (count and percent for each)."""
    col = dim.replace("-", "_")
    if col not in table.columns:
        dims = [c for c in table.columns if c not in ("code", "label", "count", "denominator", "percent", "ci_low", "ci_high",
                                                     "suppressed")]
        raise ExportError(f"--pivot {dim}: the table has no column {col!r}; pivot on one of: {', '.join(map(str, dims)) or 'none'}")
    measures = [m for m in ("count", "percent") if m in table.columns]
    if not measures:
        raise ExportError(f"--pivot {dim}: the table has no count or percent column to spread across")
    labelled = with_labels(table)
    across = f"{col}_label" if f"{col}_label" in labelled.columns else col
    index = [c for c in labelled.columns if c in ("code", "label")]
    keep = [c for c in labelled.columns if c not in (*index, col, across, "denominator", "ci_low", "ci_high", "suppressed",
                                                     *measures) and not str(c).endswith("_label")]
    index += [c for c in keep if labelled[c].nunique(dropna=False) > 1 and c not in ("n", "rank")]
    if not index:
        raise ExportError(f"--pivot {dim}: the table has no code or label column to put down the side")
    order = list(dict.fromkeys(labelled[across].astype(str)))
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in labelled.to_dict("records"):
        key = tuple(rec[c] for c in index)
        row = rows.setdefault(key, dict(zip(index, key, strict=True)))
        head = str(rec[across])
        for m in measures:
            row[head if m == "count" else f"{head} %"] = rec[m]
    columns = index + [h if m == "count" else f"{h} %" for h in order for m in measures]
    wide = pd.DataFrame(list(rows.values())).reindex(columns=columns)
    wide.attrs = dict(table.attrs)
    return wide


def _write_xlsx(table: pd.DataFrame, facts: dict[str, Any], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    shown = _display(table)
    wb = Workbook()
    ws = wb.active
    ws.title = "Table"
    headers = [str(c) for c in shown.columns]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    percent_cols = {i for i, c in enumerate(headers, start=1) if c in _PERCENT_LIKE or c.endswith(" %")}
    widths = [len(h) for h in headers]
    for row in shown.itertuples(index=False):
        values: list[Any] = []
        for i, v in enumerate(row):
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
                values.append(None)
                continue
            if hasattr(v, "item") and not isinstance(v, str):
                v = v.item()
            if isinstance(v, bool):
                v = "true" if v else "false"
            values.append(v)
            widths[i] = max(widths[i], min(60, len(str(v))))
        ws.append(values)
    for idx in percent_cols:
        for (cell,) in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
            if isinstance(cell.value, (int, float)):
                cell.number_format = "0.0"
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(8, w + 2)
    ws.freeze_panes = "A2"
    if shown.shape[1]:
        ws.auto_filter.ref = ws.dimensions

    about = wb.create_sheet("About")
    about.append(["fact", "value"])
    for cell in about[1]:
        cell.font = Font(bold=True)
    for name, value in about_rows(facts):
        about.append([name, value])
    about.column_dimensions["A"].width = 34
    about.column_dimensions["B"].width = 100
    for (cell,) in about.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    about.freeze_panes = "A2"
    wb.save(path)


def _parquet_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Mixed columns (numbers with GSS symbols such as `c`) become a numeric column and a `<column>_symbol` column."""
    out = pd.DataFrame(index=table.index)
    for col in table.columns:
        s = table[col]
        if s.dtype == object:
            is_num = s.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
            is_str = s.map(lambda v: isinstance(v, str))
            if is_num.any() and is_str.any():
                nums = pd.to_numeric(s.where(is_num), errors="coerce")
                whole = nums.dropna()
                out[col] = nums.astype("Int64") if len(whole) and (whole == whole.round()).all() else nums
                out[f"{col}_symbol"] = s.where(is_str).astype("string")
                continue
            if is_num.all() and len(s):
                out[col] = pd.to_numeric(s)
                continue
            out[col] = s.map(lambda v: v if v is None or isinstance(v, str) or (isinstance(v, float) and v != v) else str(v)).astype("string")
            continue
        out[col] = s
    return out


def _write_parquet(table: pd.DataFrame, facts: dict[str, Any], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    shown = _display(table)  # the CSV's rounding, so every format of a command shows the same numbers
    for col in table.columns:
        if table[col].dtype == bool or isinstance(table[col].dtype, pd.BooleanDtype):
            shown[col] = table[col]
    frame = _parquet_frame(shown)
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(arrow.schema.metadata or {})
    meta[b"lt_workbench.about"] = json.dumps(facts, ensure_ascii=False, default=str).encode("utf-8")
    pq.write_table(arrow.replace_schema_metadata(meta), path, compression="zstd")


def write_table(
    table: pd.DataFrame,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    db: str | Path | None = None,
    command: str | None = None,
    pivot: str | None = None,
    labels: bool = True,
) -> dict[str, Any]:
    """Write a result table to `path` in `fmt` (csv, json, markdown, xlsx, parquet) with `path.meta.json` beside it.

    fmt defaults to the one the extension names; an extension that disagrees with `fmt` is refused
    (ExportError) before anything is written. pivot: a dimension to spread across (wide layout).
    labels: add `<dim>_label` columns beside coded dimensions in Excel and Parquet. Returns the About facts.
    """
    target = Path(path)
    if fmt is None:
        fmt = next((f for f, exts in EXTENSIONS.items() if target.suffix.lower() in exts), None)
        if fmt is None:
            raise ExportError(f"{target}: cannot tell the format from the extension; name the file .csv, .json, .md, .xlsx or .parquet")
    check_extension(target, fmt)
    out_table = pivot_table(table, pivot) if pivot else table
    if labels and fmt in ("xlsx", "parquet") and not pivot:
        out_table = with_labels(out_table)
    facts = about_facts(table, db=db, command=command, extra={"format": fmt, "file": target.name,
                                                               **({"pivot": pivot} if pivot else {})})
    facts["columns"] = [str(c) for c in out_table.columns]

    def main(tmp: Path) -> None:
        if fmt == "xlsx":
            _write_xlsx(out_table, facts, tmp)
        elif fmt == "parquet":
            _write_parquet(out_table, facts, tmp)
        else:
            from lt_workbench.present.tables import render

            tmp.write_text(render(out_table, fmt), encoding="utf-8")  # type: ignore[arg-type]

    def sidecar(tmp: Path) -> None:
        tmp.write_text(dumps(facts), encoding="utf-8")

    atomic_write({target: main, sidecar_path(target): sidecar})
    return facts


# --- the command line's writers (registered in cli/output.py) ---------------------------------------

def _context() -> Any:
    try:  # typer 0.29 carries its own copy of click; older typers use click itself
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover
        from click import get_current_context  # type: ignore[no-redef]
    return get_current_context(silent=True)


def current_command() -> str | None:
    """The running command line: argv when run as lt-workbench, else rebuilt from the command's parameters."""
    import shlex
    import sys

    if Path(sys.argv[0]).name.startswith("lt-workbench"):
        return " ".join(shlex.quote(a) for a in ["lt-workbench", *sys.argv[1:]])
    ctx = _context()
    if ctx is None:
        return None
    parts = [ctx.command_path]
    for key, value in ctx.params.items():
        if value in (None, False, (), []):
            continue
        for v in value if isinstance(value, (list, tuple)) else [value]:
            parts += [f"--{key.replace('_', '-')}", shlex.quote(str(v))] if value is not True else [f"--{key.replace('_', '-')}"]
    return " ".join(parts)


def current_db() -> str | Path | None:
    """The --db of the running command (or its default): the About facts' snapshot comes from it."""
    ctx = _context()
    while ctx is not None:
        if ctx.params.get("db") is not None:
            return ctx.params["db"]  # type: ignore[no-any-return]
        ctx = ctx.parent
    from lt_workbench import config

    return config.DEFAULT_DB


def _facts(table: pd.DataFrame, fmt: str, path: Path) -> dict[str, Any]:
    """The About facts of a table written by the command line, computed once per table (sheet and sidecar agree)."""
    cached = table.attrs.get("_about")
    if not isinstance(cached, dict):
        cached = about_facts(table, db=current_db(), command=current_command())
        cached["columns"] = [str(c) for c in table.columns]
        table.attrs["_about"] = cached
    cached.update({"format": fmt, "file": path.name})
    return cached


def write_file(table: pd.DataFrame, path: Path, fmt: str) -> None:
    """Write the body of an Excel or Parquet file for the command line's `emit` (which renames it into place)."""
    shown = with_labels(table)
    name = path.name  # emit writes to ".NAME.<pid>.tmp" and renames it into place
    if name.startswith(".") and name.endswith(".tmp"):
        name = name[1:].rsplit(".", 2)[0]
    facts = _facts(table, fmt, path.with_name(name))
    if fmt == "xlsx":
        _write_xlsx(shown, facts, path)
    elif fmt == "parquet":
        _write_parquet(shown, facts, path)
    else:
        raise ExportError(f"unknown file format {fmt!r}")


def write_sidecar(table: pd.DataFrame, out: Path) -> Path:
    """Write OUT.meta.json beside a file the command line wrote (atomically); the About facts of every --out."""
    suffix = out.suffix.lower()
    fmt = next((f for f, exts in EXTENSIONS.items() if suffix in exts), suffix.lstrip("."))
    facts = dict(_facts(table, fmt, out))
    facts["file"] = out.name
    target = sidecar_path(out)

    def write(tmp: Path) -> None:
        tmp.write_text(dumps(facts), encoding="utf-8")

    atomic_write({target: write})
    return target
