"""The `lt-workbench` command: a thin layer over the Python API, one command per function.

Exit codes: 0 success; 1 some input rejected (the rest done); 2 usage or fatal error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from lt_workbench import config
from lt_workbench.exceptions import WorkbenchError

__all__ = ["app", "main"]

app = typer.Typer(
    name="lt-workbench",
    help="Collate findings across Learning together case reviews: validate, load, tabulate, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DbOption = Annotated[
    Optional[Path],
    typer.Option("--db", help=f"DuckDB file (default {config.DEFAULT_DB}, or $LT_WORKBENCH_DB).", show_default=False),
]
PathsArgument = Annotated[list[str], typer.Argument(help="Review files, folders (searched recursively for *.json) or globs.")]


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _print_problems(checked: list) -> None:
    for c in checked:
        for p in c.problems:
            _err(f"error: {p}")


@app.command()
def validate(paths: PathsArgument) -> None:
    """Check review documents without loading them; report every problem with file and JSON pointer."""
    from lt_workbench.model.load import check_paths, collect_paths

    checked = check_paths(collect_paths(paths))
    bad = [c for c in checked if not c.ok]
    _print_problems(bad)
    typer.echo(f"{len(checked)} files checked: {len(checked) - len(bad)} valid, {len(bad)} invalid")
    raise typer.Exit(1 if bad else 0)


@app.command()
def load(paths: PathsArgument, db: DbOption = None) -> None:
    """Validate and load reviews into DuckDB in one transaction; invalid files are reported and skipped."""
    from lt_workbench.model.load import load as run_load

    result = run_load(paths, db)
    _print_problems(result.rejected)
    typer.echo(result.summary())
    raise typer.Exit(result.exit_code)


@app.command()
def synth(
    reviews: Annotated[int, typer.Option("--reviews", min=1, help="How many synthetic reviews to write.")] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")] = 2008,
    out: Annotated[Path, typer.Option("--out", help="Folder to write <review_id>.json files into.")] = Path("data/synthetic"),
) -> None:
    """Write a clearly synthetic, valid corpus with documented planted structure."""
    from lt_workbench.synth.builder import write_corpus

    paths = write_corpus(reviews, seed, out)
    typer.echo(f"wrote {len(paths)} synthetic reviews to {out}")


@app.command()
def info(db: DbOption = None) -> None:
    """Describe the database: reviews loaded, last load, content hash, taxonomy versions."""
    from lt_workbench.model.snapshot import snapshot

    for key, value in snapshot(db).items():
        typer.echo(f"{key}: {value}")


# --- tabulation commands (one-to-one with lt_workbench.analysis.tabulate) ------------------------------

WhereOption = Annotated[
    Optional[list[str]],
    typer.Option("--where", help="Filter DIM=VALUE (repeatable): region=london, year=2015..2019, age-band=under_1,1_to_4."),
]
DisclosureOption = Annotated[
    str, typer.Option("--disclosure", help="public (suppressed, safe to share; the default for output) or restricted (full numbers).")
]
ProfileOption = Annotated[str, typer.Option("--profile", help="Disclosure profile: dfe, nhs or ons.")]
ThresholdOption = Annotated[Optional[int], typer.Option("--threshold", help="Smallest count that may be shown (overrides the profile).")]
FormatOption = Annotated[str, typer.Option("--format", help="csv, json or markdown.")]
OutOption = Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of standard output.")]


def _emit(table, fmt: str, out: Optional[Path]) -> None:
    """Write a table; the unit, disclosure note and caveats go to stderr beside CSV (JSON and Markdown carry them)."""
    from lt_workbench.present.tables import header, render

    text = render(table, fmt)  # type: ignore[arg-type]
    if fmt == "csv":
        _err(header(table))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        _err(f"wrote {len(table)} rows to {out}")


@app.command("tabulate")
def tabulate_command(
    frame: Annotated[str, typer.Argument(help="patterns, factors, practice-points, family-factors, agencies, age-band, sex, harm-types, outcome, review-type, trigger, intervention-level, recommendation-kind, ...")],
    level: Annotated[Optional[int], typer.Option("--level", help="Depth in a hierarchical frame (1, 2, 3); default all.")] = None,
    by: Annotated[Optional[list[str]], typer.Option("--by", help="Dimension to group by (repeatable): year, period, region, nation, age-band, ...")] = None,
    unit: Annotated[str, typer.Option("--unit", help="What is counted: review, child, episode, coding or area.")] = "review",
    where: WhereOption = None,
    totals: Annotated[bool, typer.Option("--totals/--no-totals", help="Add 'All' rows for additive --by dimensions.")] = False,
    year_basis: Annotated[str, typer.Option("--year-basis", help="Year of: completed, commissioned or published.")] = "completed",
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = "csv",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Count reviews (or children, episodes, codings, areas) per code of a frame, rolled up, with Wilson intervals."""
    from lt_workbench.analysis import tabulate as tab

    table = tab.frequency(
        frame, level=level, by=tuple(by or ()), unit=unit, where=tab.parse_where(where or []), totals=totals,  # type: ignore[arg-type]
        year_basis=year_basis, db=db, disclosure=disclosure, profile=profile, threshold=threshold,  # type: ignore[arg-type]
    )
    _emit(table, fmt, out)


@app.command("recurrence")
def recurrence_command(
    frame: Annotated[str, typer.Argument(help="patterns (default) or factors.")] = "patterns",
    level: Annotated[Optional[int], typer.Option("--level", help="Depth (1, 2, 3); default all.")] = None,
    recent_years: Annotated[int, typer.Option("--recent-years", help="Length of the recent window, in years.")] = 5,
    as_of_year: Annotated[Optional[int], typer.Option("--as-of-year", help="Last year of the recent window (default: latest in scope).")] = None,
    where: WhereOption = None,
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = "csv",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Per pattern: reviews, areas, regions, first/last year, recent share against before (Fisher, BH)."""
    from lt_workbench.analysis import tabulate as tab

    table = tab.recurrence(
        frame, level=level, recent_years=recent_years, as_of_year=as_of_year, where=tab.parse_where(where or []), db=db,
        disclosure=disclosure, profile=profile, threshold=threshold,  # type: ignore[arg-type]
    )
    _emit(table, fmt, out)


@app.command("cooccurrence")
def cooccurrence_command(
    kind: Annotated[str, typer.Argument(help="patterns (pattern x pattern) or factor-pattern (factor x pattern within episodes).")] = "patterns",
    level: Annotated[int, typer.Option("--level", help="Pattern depth (1, 2, 3).")] = 2,
    factor_level: Annotated[int, typer.Option("--factor-level", help="Factor depth: 1 levels, 2 types, 3 factors.")] = 2,
    unit: Annotated[Optional[str], typer.Option("--unit", help="review or episode (default: review for patterns, episode for factor-pattern).")] = None,
    min_together: Annotated[int, typer.Option("--min-together", help="Only pairs seen together at least this often.")] = 1,
    where: WhereOption = None,
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = "csv",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Which codes occur together: counts, Jaccard, lift, odds ratio with Fisher p and BH q."""
    from lt_workbench.analysis import tabulate as tab

    table = tab.cooccurrence(
        kind, level=level, factor_level=factor_level, unit=unit, min_together=min_together,  # type: ignore[arg-type]
        where=tab.parse_where(where or []), db=db, disclosure=disclosure, profile=profile, threshold=threshold,  # type: ignore[arg-type]
    )
    _emit(table, fmt, out)


@app.command("evidence")
def evidence_command(
    code: Annotated[str, typer.Argument(help="A code, e.g. P2.1 or FL.WORK.03: what reviewers wrote behind it.")],
    frame: Annotated[Optional[str], typer.Option("--frame", help="Frame of the code when it is ambiguous.")] = None,
    where: WhereOption = None,
    disclosure: Annotated[str, typer.Option("--disclosure", help="Must be restricted: evidence is free text.")] = "public",
    fmt: FormatOption = "csv",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """The findings, episodes and factor notes behind a cell (restricted only: pass --disclosure restricted)."""
    from lt_workbench.analysis import tabulate as tab

    table = tab.evidence(code, frame=frame, where=tab.parse_where(where or []), db=db, disclosure=disclosure)  # type: ignore[arg-type]
    _emit(table, fmt, out)


# --- report commands (lt_workbench.reports): notebooks run headlessly to HTML ------------------


@app.command("report")
def report_command(
    name: Annotated[Optional[str], typer.Argument(help="cross_review_summary, area_profile, pattern_deep_dive or recommendations_tracker.")] = None,
    param: Annotated[Optional[list[str]], typer.Option("-p", "--param", help="Report parameter NAME=VALUE (repeatable): -p region=north_west -p year_from=2015.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Parent folder; files go into OUT/<date of the last data load>/.")] = config.REPORTS_DIR,
    db: DbOption = None,
    list_reports: Annotated[bool, typer.Option("--list", help="List the reports and their parameters, then exit.")] = False,
) -> None:
    """Run one report notebook with papermill; write the executed notebook and an HTML page (inputs hidden, works offline)."""
    from lt_workbench.reports import runner as reports

    if list_reports or name is None:
        for spec in reports.REPORTS.values():
            typer.echo(f"{spec.name}: {spec.description}")
            for p in spec.params:
                typer.echo(f"    {p.describe()}")
        raise typer.Exit(0 if list_reports else 2)
    params = reports.parse_cli_parameters(param or [])
    if db is not None:
        params["db"] = str(db)
    values = reports.validate_parameters(name, params)
    folder = out / reports.snapshot_date(values["db"])
    try:
        result = reports.run_report(name, values, folder, validated=True)
    except reports.ReportError as e:
        if isinstance(e, reports.ParameterError):
            raise
        _err(f"lt-workbench: report failed: {e}")
        kept = getattr(getattr(e, "result", None), "notebook", None)
        if kept:
            _err(f"the executed notebook, with the error, is at {kept}")
        raise typer.Exit(1) from None
    typer.echo(f"notebook: {result.notebook}")
    typer.echo(f"html: {result.html}")


@app.command("batch")
def batch_command(
    file: Annotated[Path, typer.Argument(help="Batch file (TOML): [defaults] and [[report]] entries; see reports/regions.toml.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Parent folder (default: the file's `out`, else reports/).")] = None,
    db: DbOption = None,
) -> None:
    """Run every report of a batch file into a dated folder, past failures; write manifest.json; exit 1 if any failed."""
    from lt_workbench.reports import runner as reports

    result = reports.run_batch(file, out=out, db=db)
    for r in result.results:
        line = f"{r.status:6} {r.name} {reports.output_stem(r.name, r.parameters) if r.status == 'ok' else ''}".rstrip()
        typer.echo(line)
        if r.error:
            _err(f"       {r.error}")
    typer.echo(f"{len(result.results) - len(result.failed)} of {len(result.results)} reports written to {result.folder}")
    typer.echo(f"manifest: {result.manifest}")
    raise typer.Exit(result.exit_code)


def main() -> None:
    """Entry point: turn deliberate errors into a message and exit code 2, never a traceback.

    Typer/click handle usage errors (exit 2) and command exit codes themselves.
    """
    try:
        app()
    except WorkbenchError as e:
        _err(f"lt-workbench: error: {e}")
        sys.exit(2)


# Command groups in their own modules register themselves on `app` when imported.
from lt_workbench.cli import qda  # noqa: E402,F401
