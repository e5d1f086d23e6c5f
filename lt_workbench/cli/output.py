"""How every table-printing command writes its table: one `emit(table, fmt, out)`.

- A header goes to standard error: the unit, the disclosure mode, the filters (`--where`, the compared
  group, the as-of date), the disclosure note and caveats, and every warning the analysis put in
  `table.attrs["warnings"]`. Standard output carries the table only, so it can be piped.
- The table is written in a format chosen from `FORMATS` (format name -> file extensions and a writer).
  Text formats (CSV, JSON, Markdown, via `present.tables.render`) may go to standard output; file formats
  (e.g. Excel, Parquet, registered by `lt_workbench.export`) need `--out`.
- `--out` and `--format` must agree: `--out board.xlsx --format csv` is a usage error (exit 2), never a
  CSV file named .xlsx. With `--out` and no `--format` the extension chooses the format.
- A file is written to a temporary name beside it and renamed into place: never half-written.
- `AFTER_WRITE` hooks run after a file is in place (e.g. a `FILE.meta.json` sidecar).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import typer

__all__ = [
    "OutputFormat",
    "FORMATS",
    "AFTER_WRITE",
    "register_format",
    "resolve_format",
    "format_help",
    "cli_name",
    "describe_filters",
    "header_text",
    "cli_message",
    "emit",
]


@dataclass(frozen=True)
class OutputFormat:
    """One output format: its name (`--format NAME`), the file extensions it writes, and how.

    `render` turns a table into text (the format may then go to standard output); `write` writes a file
    (binary formats). A format has at least one of the two; `write` is preferred for files when both exist.
    """

    name: str
    suffixes: tuple[str, ...]
    render: Callable[[pd.DataFrame], str] | None = None
    write: Callable[[pd.DataFrame, Path], None] | None = None


def _text(fmt: str) -> Callable[[pd.DataFrame], str]:
    def render(table: pd.DataFrame) -> str:
        from lt_workbench.present.tables import render as render_table

        return render_table(table, fmt)  # type: ignore[arg-type]

    return render


FORMATS: dict[str, OutputFormat] = {}
AFTER_WRITE: list[Callable[[pd.DataFrame, Path], None]] = []


def register_format(fmt: OutputFormat) -> None:
    """Add (or replace) an output format; `--format` then accepts its name and `--out` its extensions."""
    if fmt.render is None and fmt.write is None:
        raise ValueError(f"output format {fmt.name!r} needs render or write")
    FORMATS[fmt.name] = fmt


for _f in (OutputFormat("csv", (".csv",), _text("csv")), OutputFormat("json", (".json",), _text("json")),
           OutputFormat("markdown", (".md", ".markdown"), _text("markdown"))):
    register_format(_f)


def _export(fmt: str) -> Callable[[pd.DataFrame, Path], None]:
    def write(table: pd.DataFrame, path: Path) -> None:
        from lt_workbench.export.tables import write_file

        write_file(table, path, fmt)

    return write


def _sidecar(table: pd.DataFrame, out: Path) -> None:
    from lt_workbench.export.tables import write_sidecar

    write_sidecar(table, out)


# Excel and Parquet (lt_workbench.export) are files only; every file written with --out gets FILE.meta.json beside it.
register_format(OutputFormat("xlsx", (".xlsx",), write=_export("xlsx")))
register_format(OutputFormat("parquet", (".parquet",), write=_export("parquet")))
AFTER_WRITE.append(_sidecar)


def format_help() -> str:
    """The --format help text (lists the formats registered when the CLI is built)."""
    names = ", ".join(FORMATS)
    return f"Output format: {names}. Default: from --out's extension, else csv."


def _bad(option: str, message: str) -> typer.BadParameter:
    return typer.BadParameter(message, param_hint=f"'{option}'")


def resolve_format(fmt: str | None, out: Path | None) -> OutputFormat:
    """The format to write: --format if given (checked against --out's extension), else from --out, else CSV."""
    by_suffix = {s: f for f in FORMATS.values() for s in f.suffixes}
    suffix = out.suffix.lower() if out is not None else ""
    if fmt is None:
        if out is None:
            return FORMATS["csv"]
        if suffix not in by_suffix:
            known = ", ".join(sorted(by_suffix))
            raise _bad("--out", f"{out}: cannot tell the format from {suffix or 'no extension'!r}; "
                                f"use one of {known}, or give --format")
        return by_suffix[suffix]
    spec = FORMATS.get(fmt.lower())
    if spec is None:
        raise _bad("--format", f"{fmt!r} is not a format; use {', '.join(FORMATS)}")
    if out is not None and suffix not in spec.suffixes:
        other = by_suffix.get(suffix)
        fix = f"--format {other.name}" if other else f"--out {out.with_suffix(spec.suffixes[0]).name}"
        raise _bad("--out", f"{out.name} does not end in {' or '.join(spec.suffixes)} but --format is {spec.name}: "
                            f"use {fix}")
    if out is None and spec.render is None:
        raise _bad("--format", f"{spec.name} is written to a file: add --out FILE{spec.suffixes[0]}")
    return spec


def cli_name(dim: str) -> str:
    """A dimension as the command line spells it: review_type -> review-type."""
    return str(dim).replace("_", "-")


# The analysis API's messages speak to Python callers; on the command line the same advice names options.
_PYTHON_TO_CLI: tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...] = (
    # "name='value' (CLI: --option value)": the API already says it both ways; keep the command-line way.
    (r"\b[a-z_]+=(?:'[^']*'|\"[^\"]*\"|[^\s,;()]+) \(CLI: ([^)]*)\)", r"\1"),
    (r"\bdisclosure=['\"]?(public|restricted)['\"]?", r"--disclosure \1"),
    (r"\bwith_code=", "--with "),
    (r"\bframe=(?=\W|$)", "--frame"),
    (r"\bperiods=", "--periods "),
    (r"\byear_basis\b", "--year-basis"),
    (r"\bmin_together\b", "--min-together"),
    (r"\((where|by)\)", r"(--\1)"),
    (r"^where (?=[a-z_]+=)", "--where "),
    (r"\brecent_years\b", "--recent-years"),
    (r"\b(cooccurrence|recurrence|frequency|trend_tests|trend|compare|funnel|evidence|overdue)\(\)",
     lambda m: "lt-workbench " + {"frequency": "tabulate", "trend_tests": "trend"}.get(m.group(1), m.group(1))),
)
_DIM_WORDS = re.compile(r"\b(review_type|age_band|harm_type|intervention_level|quality_grade|factor_level|family_factor|"
                        r"trigger_reason|recommendation_kind|recommendation_level|recommendation_status|practice_points)\b")


def cli_message(text: str) -> str:
    """An analysis message as a command-line user reads it: options instead of Python arguments, and
    dimension names spelt as on the command line (review-type, age-band)."""
    for pattern, repl in _PYTHON_TO_CLI:
        text = re.sub(pattern, repl, text)
    return _DIM_WORDS.sub(lambda m: cli_name(m.group(1)), text)


def _value(v: Any) -> str:
    if isinstance(v, range):
        return f"{v.start}..{v.stop - 1}" if len(v) else "(none)"
    if isinstance(v, (list, tuple, set, frozenset)):
        items = sorted(v, key=str) if isinstance(v, (set, frozenset)) else list(v)
        return ",".join(str(x) for x in items)
    if isinstance(v, Mapping):
        lo, hi = v.get("from", v.get("min", "")), v.get("to", v.get("max", ""))
        return f"{'' if lo is None else lo}..{'' if hi is None else hi}"
    return str(v)


def describe_filters(where: Mapping[str, Any] | None, disclosure: str | None = None) -> str:
    """`region=north_west, year=2015..2025` (or `none`). Public output never echoes an area code."""
    if not where:
        return "none"
    parts = []
    for k, v in where.items():
        shown = "(not shown in public output)" if disclosure == "public" and k in ("area", "area_code") else _value(v)
        parts.append(f"{cli_name(k)}={shown}")
    return ", ".join(parts)


def header_text(table: pd.DataFrame, full: bool = True) -> str:
    """What a reader needs beside the numbers: unit, disclosure, filters, note, caveat, test, warnings.

    full=False leaves out the note, caveat and test (for formats whose caption or meta carries them).
    """
    a = table.attrs
    disclosure = str(a.get("disclosure", "restricted"))
    first = [f"unit: {a.get('unit_label') or a.get('unit') or '?'}"]
    if a.get("not_recorded"):
        first.append(f"{a['not_recorded']} not recorded (left the denominator)")
    first.append(f"disclosure: {disclosure}")
    if a.get("group"):
        first.append(f"group: {describe_filters(a['group'], disclosure)} against the rest")
    if a.get("as_of"):
        first.append(f"as of: {a['as_of']}")
    first.append(f"filters: {describe_filters(a.get('where'), disclosure)}")
    lines = ["; ".join(first)]
    for key in ("note", "caveat", "test", "ranking", "sorted_by") if full else ():
        if a.get(key):
            lines.append(str(a[key]))
    for w in a.get("warnings") or ():
        lines.append(f"warning: {cli_message(str(w))}")
    return "\n".join(lines)


def _write_file(table: pd.DataFrame, spec: OutputFormat, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        if spec.write is not None:
            spec.write(table, tmp)
        else:
            assert spec.render is not None
            tmp.write_text(spec.render(table), encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    for hook in AFTER_WRITE:
        hook(table, out)


def emit(table: pd.DataFrame, fmt: str | None, out: Path | None, *, quiet: bool = False) -> None:
    """Write `table` as `fmt` to `out` (or standard output), with its header on standard error.

    Usage errors (unknown format, --out extension that disagrees with --format) are raised before
    anything is written, as typer.BadParameter (exit 2).
    """
    spec = resolve_format(fmt, out)
    if not quiet:
        # CSV has nowhere to carry its note; JSON (meta) and Markdown (caption) do, so theirs is not repeated.
        typer.echo(header_text(table, full=spec.name == "csv"), err=True)
    if out is None:
        assert spec.render is not None
        typer.echo(spec.render(table), nl=False)
        return
    _write_file(table, spec, out)
    typer.echo(f"wrote {len(table)} rows to {out}", err=True)
