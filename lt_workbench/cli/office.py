"""`lt-workbench template xlsx`, `import xlsx`, `import docx`, `export tables`, `export release`: office files in and out.

Registered on the one `app` of cli/main.py; the importers join the `import` group of cli/qda.py.
Exit codes: 0 done; 1 some input rejected (the rest written); 2 usage or fatal error (nothing written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from lt_workbench import config
from lt_workbench.cli.main import app
from lt_workbench.cli.qda import import_app

__all__ = ["template_app", "export_app", "template_xlsx", "import_xlsx", "import_docx"]

template_app = typer.Typer(help="Blank coding workbooks to fill in.", no_args_is_help=True)
export_app = typer.Typer(help="Results out: every table as Parquet, or a public release in the official-statistics CSV standard.",
                         no_args_is_help=True)
app.add_typer(template_app, name="template")
app.add_typer(export_app, name="export")

DbOpt = Annotated[
    Optional[Path],
    typer.Option("--db", help=f"DuckDB file (default {config.DEFAULT_DB}, or $LT_WORKBENCH_DB).", show_default=False),
]
OutDir = Annotated[Path, typer.Option("--out", help="Folder to write one <review_id>.json per review into.")]
LoadOpt = Annotated[bool, typer.Option("--load", help="Also load the written reviews into the database (as `load`).")]


def _err(message: str) -> None:
    typer.echo(message, err=True)


@template_app.command("xlsx")
def template_xlsx(
    out: Annotated[Path, typer.Option("--out", help="Workbook to write (.xlsx).")] = Path("coding.xlsx"),
    taxonomy: Annotated[str, typer.Option("--taxonomy", help="Taxonomy version of the drop-down lists.")] = config.DEFAULT_TAXONOMY_VERSION,
) -> None:
    """Write the Excel coding workbook: Review, Children, Episodes, Factors, Patterns, Recommendations, Codes, README."""
    from lt_workbench.ingest.xlsx import write_template

    path = write_template(out, taxonomy)
    typer.echo(f"wrote {path}: fill in one row per review on Review (and its rows on the other sheets), then "
               f"`lt-workbench import xlsx {path.name} --out reviews/`")


def _finish(result: Any, out: Path, load: bool, db: Optional[Path]) -> None:
    for note in result.notes:
        _err(f"note: {note}")
    for problem in result.problems:
        _err(f"error: {problem}")
    typer.echo(f"{result.summary()} to {out}")
    code = result.exit_code
    if load and result.written:
        from lt_workbench.model.load import load as run_load

        loaded = run_load([str(p) for p in result.written], db)
        for c in loaded.rejected:
            for p in c.problems:
                _err(f"error: {p}")
        typer.echo(loaded.summary())
        code = max(code, loaded.exit_code)
    raise typer.Exit(code)


@import_app.command("xlsx")
def import_xlsx(
    files: Annotated[list[Path], typer.Argument(help="Filled coding workbooks (.xlsx), as written by `template xlsx`.")],
    out: OutDir,
    load: LoadOpt = False,
    taxonomy: Annotated[str, typer.Option("--taxonomy", help="Taxonomy version of the codes.")] = config.DEFAULT_TAXONOMY_VERSION,
    db: DbOpt = None,
) -> None:
    """One lt-review/1 document per review of each workbook; problems as FILE: Sheet!Cell, other reviews still written."""
    from lt_workbench.ingest.xlsx import import_workbooks

    _finish(import_workbooks(files, out, taxonomy), out, load, db)


@import_app.command("docx")
def import_docx(
    files: Annotated[list[Path], typer.Argument(help="Word reports (.docx) holding the table of key practice episodes.")],
    out: OutDir,
    metadata: Annotated[Optional[Path], typer.Option("--metadata", help="Workbook with Review and Children sheets (as the template) "
                                                                       "for the fields a report does not hold; matched on review_id.")] = None,
    load: LoadOpt = False,
    taxonomy: Annotated[str, typer.Option("--taxonomy", help="Taxonomy version of the codes.")] = config.DEFAULT_TAXONOMY_VERSION,
    db: DbOpt = None,
) -> None:
    """Episodes and factor codings from the Appendix 4 table; problems as REPORT.docx: table T, row R, column C, line L."""
    from lt_workbench.ingest.docx import import_reports

    _finish(import_reports(files, out, metadata=metadata, version=taxonomy), out, load, db)


@export_app.command("tables")
def export_tables(
    out: Annotated[Path, typer.Option("--out", help="Folder to write <table>.parquet into.")],
    fmt: Annotated[str, typer.Option("--format", help="parquet (the only format: typed, compressed, read by pandas, R, DuckDB, Spark).")] = "parquet",
    db: DbOpt = None,
) -> None:
    """Every table of the database as Parquet, for use in other tools. RESTRICTED: free text, area names, true counts."""
    from lt_workbench.export.release import write_tables
    from lt_workbench.export.tables import current_command

    if fmt != "parquet":
        _err(f"lt-workbench: error: --format {fmt}: export tables writes parquet only")
        raise typer.Exit(2)
    paths = write_tables(db, out, command=current_command())
    typer.echo(f"wrote {sum(p.suffix == '.parquet' for p in paths)} tables to {out} (RESTRICTED material: see {out / 'README.txt'})")


@export_app.command("release")
def export_release(
    out: Annotated[Path, typer.Option("--out", help="Folder for the release files (NAME.csv and NAME.meta.csv per table).")],
    where: Annotated[Optional[list[str]], typer.Option("--where", metavar="DIM=VALUE", help="Filter (repeatable), e.g. year=2015..2025.")] = None,
    profile: Annotated[str, typer.Option("--profile", help="Disclosure profile: dfe, nhs or ons.")] = "dfe",
    db: DbOpt = None,
) -> None:
    """Public tables in the Explore Education Statistics tidy data standard, through the same disclosure control."""
    from lt_workbench import tabulate as tab
    from lt_workbench.export.release import write_release
    from lt_workbench.export.tables import current_command

    paths = write_release(db, out, where=tab.parse_where(where or []), profile=profile, command=current_command())
    for p in paths:
        typer.echo(f"wrote {p}")
