"""Report commands: one notebook (`report`) or a batch file of them (`batch`), run headlessly to HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from lt_workbench import config
from lt_workbench.cli.main import DbOption, app, err

__all__ = ["report_command", "batch_command", "BATCH_LAYOUT", "describe_parameter"]

BATCH_LAYOUT = """\
description = "Weekly public reports"   # optional
out = "reports"                         # optional parent folder (--out overrides)

[defaults]                              # parameters applied to every report below
disclosure = "public"
profile = "dfe"

[[report]]                              # one entry per report (repeat the block)
name = "cross_review_summary"           # a report name (lt-workbench report --list)
parameters = { year_from = 2015 }       # optional: the report's parameters (as -p NAME=VALUE)
for_each = "region"                     # optional: one report per region that has reviews
output = "summary_2015_on"              # optional: file name stem inside the dated folder"""


def _placeholder(param: Any) -> str:
    """What to write after `-p NAME=` for a report parameter, in command-line terms (not Python types)."""
    kind, name = getattr(param, "kind", "str"), str(getattr(param, "name", ""))
    if kind == "choice":
        return "|".join(getattr(param, "choices", ()) or ("VALUE",))
    if kind == "int":
        return "YEAR" if name.startswith("year") else "N"
    return {"list": "A,B,...", "date": "YYYY-MM-DD"}.get(kind, "VALUE")


def describe_parameter(param: Any) -> str:
    """One line of `report --list`: `-p region=VALUE  region code, e.g. north_west (default: not set)`."""
    default = getattr(param, "default", None)
    shown = "not set" if default is None else ",".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)
    text = str(getattr(param, "help", "")).replace("None = ", "if not set: ").replace("; None ", "; if not set, ")
    return f"-p {param.name}={_placeholder(param)}  {text} (default: {shown})"


def _list_reports() -> None:
    from lt_workbench import reports

    for spec in reports.REPORTS.values():
        typer.echo(f"{spec.name}: {spec.description}")
        for p in spec.params:
            if p.name == "db":  # on the command line: --db FILE
                continue
            typer.echo(f"    {describe_parameter(p)}")
    typer.echo("Every report also takes --db FILE and --out DIR.")


@app.command("report")
def report_command(
    name: Annotated[Optional[str], typer.Argument(metavar="NAME", help="cross_review_summary, area_profile, pattern_deep_dive or recommendations_tracker.")] = None,
    param: Annotated[Optional[list[str]], typer.Option("-p", "--param", metavar="NAME=VALUE", help="Report parameter (repeatable): -p region=north_west -p year_from=2015.")] = None,
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Parent folder; files go into OUT/<date of the last data load>/.")] = config.REPORTS_DIR,
    db: DbOption = None,
    list_reports: Annotated[bool, typer.Option("--list", help="List the reports and their parameters, then exit.")] = False,
) -> None:
    """Run one report notebook with papermill; write the executed notebook and an HTML page (inputs hidden, works offline)."""
    from lt_workbench.exceptions import ParameterError, ReportError
    from lt_workbench import reports

    if list_reports:
        _list_reports()
        raise typer.Exit(0)
    if name is None:
        err("lt-workbench report: no report named; these are the reports and their parameters:")
        _list_reports()
        err("run one with: lt-workbench report NAME [-p NAME=VALUE ...], e.g. lt-workbench report cross_review_summary")
        raise typer.Exit(2)
    params = reports.parse_cli_parameters(param or [])
    if db is not None:
        params["db"] = str(db)
    values = reports.validate_parameters(name, params)
    folder = out / reports.snapshot_date(values["db"])
    try:
        result = reports.run_report(name, values, folder, validated=True)
    except ReportError as e:
        if isinstance(e, ParameterError):
            raise
        err(f"lt-workbench: report failed: {e}")
        kept = getattr(getattr(e, "result", None), "notebook", None)
        if kept:
            err(f"the executed notebook, with the error, is at {kept}")
        raise typer.Exit(1) from None
    typer.echo(f"notebook: {result.notebook}")
    typer.echo(f"html: {result.html}")


@app.command("batch", help=(
    "Run every report of a batch file into a dated folder, past failures; write manifest.json; exit 1 if any failed.\n\n"
    "The batch file is TOML (see reports/regions.toml):\n\n" + BATCH_LAYOUT.replace("[", "\\[")
))
def batch_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Batch file (TOML), laid out as shown above.")],
    out: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", help="Parent folder (default: the file's `out`, else reports/).")] = None,
    db: DbOption = None,
) -> None:
    from lt_workbench import reports

    result = reports.run_batch(file, out=out, db=db)
    for r in result.results:
        # The file actually written (a batch entry may name its own output), not a recomputed default.
        line = f"{r.status:6} {r.name} {r.html.stem if r.html is not None else ''}".rstrip()
        typer.echo(line)
        if r.error:
            err(f"       {r.error}")
    typer.echo(f"{len(result.results) - len(result.failed)} of {len(result.results)} reports written to {result.folder}")
    typer.echo(f"manifest: {result.manifest}")
    raise typer.Exit(result.exit_code)
