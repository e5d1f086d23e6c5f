"""Database commands: validate, load, info, rebuild, check, upgrade.

Writers (load, rebuild, upgrade) build a new snapshot and publish it atomically, so open explorers
and running reports are never blocked; they queue behind each other for at most `--wait`.
Ctrl-C and SIGTERM stop a writer the same way: nothing is published and the message says so.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path
from collections.abc import Sequence
from typing import Annotated, Any, Optional

import typer

from lt_workbench.cli.main import DbOption, app, err
from lt_workbench.exceptions import LoadInterrupted, WorkbenchError

__all__ = ["parse_duration", "validate", "load", "info", "rebuild", "check", "upgrade"]

PathsArgument = Annotated[
    list[str], typer.Argument(metavar="PATHS...", help="Review files, folders (searched recursively for *.json in any case) or globs.")
]

WaitOption = Annotated[
    str,
    typer.Option("--wait", metavar="DURATION", help="How long to wait for another load, rebuild or upgrade to finish: 30s, 5m, 1h or 0. "
                 "Past it, exit 2 with the database unchanged."),
]
MaxDocOption = Annotated[
    Optional[float],
    typer.Option("--max-document-mb", metavar="MB", help="Largest review file read, in MB (default 64, or $LT_WORKBENCH_MAX_DOCUMENT_MB).",
                 show_default=False),
]
MemoryOption = Annotated[
    Optional[str],
    typer.Option("--memory-limit", metavar="SIZE", help="DuckDB's memory limit while writing, e.g. 2GB (default "
                 "$LT_WORKBENCH_MEMORY_LIMIT, else DuckDB's own: 80% of RAM); past it DuckDB spills to disk.", show_default=False),
]


def _print_problems(checked: Sequence[Any]) -> None:
    for c in checked:
        for p in c.problems:
            err(f"error: {p}")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_duration(text: str) -> float:
    """'90', '30s', '5m', '1h', '250ms' → seconds."""
    m = _DURATION.match(text)
    if not m:
        raise typer.BadParameter(f"{text!r} is not a duration: write e.g. 30s, 5m, 1h or 0", param_hint="--wait")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def _sigterm_like_ctrl_c() -> None:
    """A writer stopped by SIGTERM (a cron timeout, `kill`) ends as Ctrl-C does: nothing published, said so."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def _report(result: object) -> None:
    """Say what a finished load did; an interrupt now is held back, so the report of a published snapshot is never lost."""
    from lt_workbench.model.load import LoadResult
    from lt_workbench.model.publish import held_signals

    assert isinstance(result, LoadResult)
    with held_signals():
        _print_problems(result.rejected)
        typer.echo(result.summary())
    raise typer.Exit(result.exit_code)


@app.command()
def validate(paths: PathsArgument, max_document_mb: MaxDocOption = None) -> None:
    """Check review documents without loading them; report every problem with file and JSON pointer."""
    from lt_workbench.model.load import check_paths, collect_inputs

    found = collect_inputs(paths)
    checked = check_paths(found.files, max_mb=max_document_mb) + found.problems
    bad = [c for c in checked if not c.ok]
    _print_problems(bad)
    typer.echo(f"{len(checked)} files checked: {len(checked) - len(bad)} valid, {len(bad)} invalid")
    raise typer.Exit(1 if bad else 0)


@app.command()
def load(paths: PathsArgument, db: DbOption = None, wait: WaitOption = "5m", max_document_mb: MaxDocOption = None,
         memory_limit: MemoryOption = None) -> None:
    """Validate and load reviews into a new snapshot of the database, published atomically; invalid files are
    reported and skipped. Open explorers and reports keep working and see the new data at their next refresh."""
    from lt_workbench.model.load import load as run_load

    seconds = parse_duration(wait)
    _sigterm_like_ctrl_c()
    try:
        result = run_load(paths, db, wait=seconds, max_mb=max_document_mb, say=err, memory_limit=memory_limit)
    except KeyboardInterrupt:  # between the handler and the load's own: nothing had begun
        raise LoadInterrupted("the load was interrupted before it began: the database is unchanged") from None
    _report(result)


@app.command()
def info(db: DbOption = None) -> None:
    """Describe the database: reviews loaded, last load, content hash, snapshot; the file is checked whole."""
    from lt_workbench.model.snapshot import snapshot

    for key, value in snapshot(db, verify=True).items():
        typer.echo(f"{key}: {value}")


@app.command()
def rebuild(
    sources: Annotated[Optional[list[str]], typer.Option("--from", metavar="PATH", help="Review files, folders or globs to rebuild from "
                                                        "(repeatable; default: the files the published snapshot was loaded from).",
                                                        show_default=False)] = None,
    db: DbOption = None,
    wait: WaitOption = "5m",
    max_document_mb: MaxDocOption = None,
) -> None:
    """Load the review files into a fresh, empty snapshot and publish it (a damaged database is replaced, not read)."""
    from lt_workbench.config import DEFAULT_DB
    from lt_workbench.model.files import read_sources
    from lt_workbench.model.load import load as run_load

    path = db or DEFAULT_DB
    inputs = list(sources or read_sources(path))
    if not inputs:
        raise typer.BadParameter(f"no record of the files {path} was loaded from: name them with --from PATH", param_hint="--from")
    seconds = parse_duration(wait)
    _sigterm_like_ctrl_c()
    try:
        result = run_load(inputs, db, wait=seconds, fresh=True, max_mb=max_document_mb, say=err)
    except KeyboardInterrupt:
        raise LoadInterrupted("the rebuild was interrupted before it began: the database is unchanged") from None
    _report(result)


@app.command()
def check(db: DbOption = None) -> None:
    """Verify the database: file checksum, schema fingerprint, keys, derived tables equal a rebuild, content hash.
    Exit 0 when every check passes, 1 when any fails."""
    from lt_workbench.model.check import check_database

    findings = check_database(db)
    for f in findings:
        typer.echo(str(f))
    failed = [f for f in findings if not f.ok]
    typer.echo(f"{len(findings) - len(failed)} of {len(findings)} checks passed")
    raise typer.Exit(1 if failed else 0)


@app.command()
def upgrade(db: DbOption = None, wait: WaitOption = "5m") -> None:
    """Bring the database up to this version: reload the coding frames, rebuild derived tables and views (a new
    snapshot, published atomically). Read-only commands never do this themselves."""
    import duckdb

    from lt_workbench.config import DEFAULT_DB
    from lt_workbench.model.db import ensure_schema, schema_state
    from lt_workbench.model.files import explain
    from lt_workbench.model.publish import writing

    path = Path(db or DEFAULT_DB)
    if path.exists():
        try:
            con = duckdb.connect(str(path), read_only=True)
            try:
                state = schema_state(con)
            finally:
                con.close()
        except duckdb.Error as e:
            raise explain(path, e, "cannot open") from e
        if state == "current":
            typer.echo(f"{path} is up to date: nothing to do")
            return
    seconds = parse_duration(wait)
    _sigterm_like_ctrl_c()
    try:
        with writing(path, wait=seconds, say=err) as w:
            ensure_schema(w.con)
    except KeyboardInterrupt:
        raise WorkbenchError(f"the upgrade of {path} was interrupted before anything was published: the database is unchanged") from None
    assert w.published is not None
    typer.echo(f"{path} upgraded: published snapshot {w.published.snapshot_id}")
