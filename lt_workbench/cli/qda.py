"""`lt-workbench frames export`, `import qdpx`, `agreement`: the frames out to NVivo/ATLAS.ti/MAXQDA and coded projects back.

Registered on the one `app` of cli/main.py. Other importers (Excel, Word) add their commands to
`import_app` here, so `lt-workbench import ...` stays one group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lt_workbench.cli.main import (
    DbOption, DisclosureOption, FormatOption, LevelOption, OutOption, ProfileOption, ThresholdOption, app, err,
)

__all__ = ["frames_app", "import_app", "frames_export", "import_qdpx", "agreement_command"]

frames_app = typer.Typer(help="The coding frames: export them for a QDA tool.", no_args_is_help=True)
import_app = typer.Typer(help="Reviews in from the tools they are coded in, as lt-review/1 JSON documents.", no_args_is_help=True)
app.add_typer(frames_app, name="frames")
app.add_typer(import_app, name="import")


@frames_app.command("export")
def frames_export(
    out: Annotated[Path, typer.Option("--out", help="File to write: FILE.qdc (codebook) or FILE.qdpx (starter project).")],
    fmt: Annotated[str, typer.Option("--format", help="qdc (REFI-QDA codebook) or qdpx-template (starter project with the case variables).")] = "qdc",
    frames: Annotated[Optional[str], typer.Option("--frames", help="Comma-separated: patterns,factors,practice-points (default all).")] = None,
    taxonomy: Annotated[str, typer.Option("--taxonomy", help="Taxonomy version of the frames.")] = "scie-2008",
) -> None:
    """Write the frames as a REFI-QDA codebook (.qdc) or starter project (.qdpx) with stable GUIDs."""
    from lt_workbench.ingest.codebook import write_codebook, write_project_template

    chosen = [f.strip() for f in frames.split(",") if f.strip()] if frames else None
    if fmt == "qdc":
        path = write_codebook(out, chosen, taxonomy)
    elif fmt == "qdpx-template":
        path = write_project_template(out, chosen, taxonomy)
    else:
        typer.echo(f"lt-workbench: error: --format must be qdc or qdpx-template, not {fmt!r}", err=True)
        raise typer.Exit(2)
    typer.echo(f"wrote {path} ({fmt}, taxonomy {taxonomy})")


@import_app.command("qdpx")
def import_qdpx(
    projects: Annotated[list[Path], typer.Argument(help="REFI-QDA project files (.qdpx) exported from NVivo, ATLAS.ti, MAXQDA, ...")],
    out: Annotated[Path, typer.Option("--out", help="Folder for <review_id>.json (second codings under second/).")],
    primary_coder: Annotated[Optional[str], typer.Option("--primary-coder", help="Whose coding is the review where two users coded a Case (default: most codings).")] = None,
    load: Annotated[bool, typer.Option("--load", help="Load the documents written into the database afterwards.")] = False,
    taxonomy: Annotated[str, typer.Option("--taxonomy", help="Taxonomy version of the codes.")] = "scie-2008",
    db: DbOption = None,
) -> None:
    """One lt-review/1 document per Case (review) of each project; problems by file, Case and character range, the rest written."""
    from lt_workbench.ingest.refiqda import import_projects

    result = import_projects(projects, out, primary_coder, taxonomy)
    for p in result.problems:
        err(f"error: {p}")
    for p in result.notes:
        err(f"note: {p}")
    typer.echo(result.summary())
    code = result.exit_code
    if load and (result.written or result.second):
        from lt_workbench.model.load import load as run_load

        loaded = run_load([str(p) for p in [*result.written, *result.second]], db)
        for c in loaded.rejected:
            for problem in c.problems:
                err(f"error: {problem}")
        typer.echo(loaded.summary())
        code = max(code, loaded.exit_code)
    raise typer.Exit(code)


@app.command("agreement")
def agreement_command(
    frame: Annotated[str, typer.Argument(metavar="FRAME", help="patterns, factors or practice-points.")],
    level: LevelOption = None,
    unit: Annotated[str, typer.Option("--unit", metavar="UNIT", help="review (default) or episode.")] = "review",
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Coder agreement per code on double-coded reviews: n, observed agreement, Cohen's kappa, Krippendorff's alpha.

    Public (the default): a code's row is shown as c when any count it rests on is small (1 to threshold-1).
    With --disclosure restricted, every figure is shown and the reviews and codes disagreed on are listed after the table.
    """
    from lt_workbench import tabulate as tab
    from lt_workbench.cli.output import emit

    table = tab.agreement(frame, level=level, unit=unit, db=db, disclosure=disclosure, profile=profile, threshold=threshold)
    if table.attrs.get("n_reviews", 0) == 0:
        typer.echo("no double-coded reviews in the database: load second codings (import qdpx writes them under second/)")
        raise typer.Exit(0)
    emit(table, fmt, out)
    if disclosure == "restricted":
        typer.echo("\n\nDisagreements (restricted: names reviews):")
        emit(tab.disagreements(frame, level=level, unit=unit, db=db, disclosure="restricted"), fmt, None)
