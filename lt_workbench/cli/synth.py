"""`lt-workbench synth`: write a clearly synthetic, valid corpus with documented planted structure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lt_workbench.cli.main import app

__all__ = ["synth"]


@app.command()
def synth(
    reviews: Annotated[int, typer.Option("--reviews", metavar="N", min=1, help="How many synthetic reviews to write.")] = 300,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Random seed: the same seed gives the same files.")] = 2008,
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Folder to write <review_id>.json files into.")] = Path("data/synthetic"),
) -> None:
    """Write a clearly synthetic, valid corpus with documented planted structure."""
    from lt_workbench.synth.builder import write_corpus

    paths = write_corpus(reviews, seed, out)
    typer.echo(f"wrote {len(paths)} synthetic reviews to {out}")
