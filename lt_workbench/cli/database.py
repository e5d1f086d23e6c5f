"""Commands that check review files and build the database: validate, load, info.

Exit codes: validate and load exit 1 when some files were rejected (the rest are checked or loaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from lt_workbench.cli.main import DbOption, app, err

__all__ = ["validate", "load", "info"]

PathsArgument = Annotated[
    list[str], typer.Argument(metavar="PATHS...", help="Review files, folders (searched recursively for *.json) or globs.")
]


def _print_problems(checked: Sequence[Any]) -> None:
    for c in checked:
        for p in c.problems:
            err(f"error: {p}")


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
def info(db: DbOption = None) -> None:
    """Describe the database: reviews loaded, last load, content hash, taxonomy versions."""
    from lt_workbench.model.snapshot import snapshot

    for key, value in snapshot(db).items():
        typer.echo(f"{key}: {value}")
