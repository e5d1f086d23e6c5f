"""The `lt-workbench` command: a thin layer over the Python API, one command per function.

Exit codes: 0 success; 1 some input rejected (the rest done); 2 usage or fatal error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import config
from .exceptions import WorkbenchError

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
    from .load import check_paths, collect_paths

    checked = check_paths(collect_paths(paths))
    bad = [c for c in checked if not c.ok]
    _print_problems(bad)
    typer.echo(f"{len(checked)} files checked: {len(checked) - len(bad)} valid, {len(bad)} invalid")
    raise typer.Exit(1 if bad else 0)


@app.command()
def load(paths: PathsArgument, db: DbOption = None) -> None:
    """Validate and load reviews into DuckDB in one transaction; invalid files are reported and skipped."""
    from .load import load as run_load

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
    from .synth import write_corpus

    paths = write_corpus(reviews, seed, out)
    typer.echo(f"wrote {len(paths)} synthetic reviews to {out}")


@app.command()
def info(db: DbOption = None) -> None:
    """Describe the database: reviews loaded, last load, content hash, taxonomy versions."""
    from .snapshot import snapshot

    for key, value in snapshot(db).items():
        typer.echo(f"{key}: {value}")


def main() -> None:
    """Entry point: turn deliberate errors into a message and exit code 2, never a traceback.

    Typer/click handle usage errors (exit 2) and command exit codes themselves.
    """
    try:
        app()
    except WorkbenchError as e:
        _err(f"lt-workbench: error: {e}")
        sys.exit(2)
