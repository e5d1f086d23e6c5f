"""`lt-workbench release list|show|reset`, and every public command joining its snapshot's release.

A *release* is everything published from one database snapshot (content hash). Every CLI command
with `--db` and `--disclosure` that runs in public mode is protected jointly with what earlier
public commands on the same snapshot published (wrapped below, so a command added later joins
too); the ledger is `<database>.releases.sqlite` beside the database, or `$LT_WORKBENCH_LEDGER`.
It holds true values: restricted material, never to be published.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from lt_workbench.cli.main import DbOption, app

__all__ = ["release_app", "release_list", "release_show", "release_reset", "join_releases", "ledger_for"]

release_app = typer.Typer(help="Releases: what public outputs of each database snapshot published (restricted ledger).",
                          no_args_is_help=True)
app.add_typer(release_app, name="release")


def ledger_for(db: str | Path | None) -> Path:
    """The ledger in use: $LT_WORKBENCH_LEDGER, else `<database>.releases.sqlite` beside the database."""
    from lt_workbench.analysis.disclosure import ledger_path

    return ledger_path(db)


def _snapshot(db: str | Path | None) -> str:
    from lt_workbench.model.snapshot import snapshot

    return str(snapshot(db)["content_hash"])


@release_app.command("list")
def release_list(db: DbOption = None) -> None:
    """Every release of this database: snapshot, started, open or closed, profile, outputs, cells, hidden cells."""
    from lt_workbench.analysis.disclosure import list_releases

    path = ledger_for(db)
    if not path.exists():
        typer.echo(f"no releases yet ({path} does not exist): nothing public has been written from this database")
        return
    df = list_releases(path)
    current = _snapshot(db)
    df["current"] = (df["snapshot"] == current) & (df["status"] == "open")
    typer.echo(df.to_string(index=False))
    typer.echo(f"ledger: {path} (restricted: holds true values)", err=True)


@release_app.command("show")
def release_show(
    release_id: Annotated[Optional[int], typer.Argument(metavar="ID", help="Release id (default: the current snapshot's).")] = None,
    db: DbOption = None,
) -> None:
    """The public outputs of a release: name (command line), time, cells published and hidden."""
    from lt_workbench.analysis.disclosure import show_release

    path = ledger_for(db)
    if not path.exists():
        typer.echo(f"no releases yet ({path} does not exist)")
        return
    df = show_release(path, release_id, None if release_id is not None else _snapshot(db))
    typer.echo(f"release {df.attrs['release_id']}: {len(df)} output(s)")
    for r in df.itertuples():
        typer.echo(f"{r.output_id:>4}  {r.created}  cells {r.cells:>6}  hidden {r.hidden:>5}  {r.name}")


@release_app.command("reset")
def release_reset(
    force: Annotated[bool, typer.Option("--force", help="Close the open release of the current snapshot even though outputs "
                                        "were published from it (see the warning).")] = False,
    db: DbOption = None,
) -> None:
    """Start a new release on the current snapshot (a load starts one by itself). Needs --force if anything was published."""
    from lt_workbench.analysis.disclosure import reset_release

    path = ledger_for(db)
    snap = _snapshot(db)
    if not path.exists():
        typer.echo(f"nothing to reset: no releases yet for snapshot {snap}")
        return
    n = reset_release(path, snap, force=force)
    if n == 0 and not force:
        typer.echo(f"nothing to reset: snapshot {snap} has no open release")
        return
    typer.echo(f"closed the release of snapshot {snap} ({n} output(s)); the next public output starts a new one. "
               "Outputs of the old and new release are not protected against each other: do not publish both.")


def _command_name() -> str:
    """The command as typed, for the ledger: subcommand path and the options that were given (not --db)."""
    from typer._click.globals import get_current_context  # typer 0.29 vendors click as typer._click

    ctx: Any = get_current_context(silent=True)
    if ctx is None:
        return "lt-workbench " + " ".join(sys.argv[1:])[:300]
    words = ["lt-workbench", *ctx.command_path.split()[1:]]
    for param in ctx.command.params:
        k = param.name
        v = ctx.params.get(k)
        src = ctx.get_parameter_source(k)
        if k == "db" or v is None or v is False or v == () or v == [] or (src is not None and src.name == "DEFAULT"):
            continue
        opt = None if param.param_type_name == "argument" else param.opts[0]
        for item in (v if isinstance(v, (list, tuple)) else [v]):
            words += [str(item)] if opt is None else [opt, str(item)]
    return " ".join(words)[:300]


def _joining(cb: Callable[..., Any]) -> Callable[..., Any]:
    sig = inspect.signature(cb)
    if not {"db", "disclosure"} <= set(sig.parameters):
        return cb

    @functools.wraps(cb)
    def run(*args: Any, **kwargs: Any) -> Any:
        from lt_workbench.analysis.publish import public_release

        bound = sig.bind_partial(*args, **kwargs)
        mode = bound.arguments.get("disclosure", sig.parameters["disclosure"].default)
        if mode != "public":
            return cb(*args, **kwargs)
        db = bound.arguments.get("db")
        name = _command_name()
        with public_release(db, name=name, hold=True):  # recorded only once the command has written its output
            return cb(*args, **kwargs)

    return run


def join_releases(typer_app: typer.Typer) -> None:
    """Wrap every public-capable command (it has db and disclosure parameters) of the app and its groups."""
    for info in typer_app.registered_commands:
        if info.callback is not None and not getattr(info.callback, "_joins_release", False):
            info.callback = _joining(info.callback)
            setattr(info.callback, "_joins_release", True)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            join_releases(group.typer_instance)


# Imported last by cli/main.py: every command registered so far joins its snapshot's release.
join_releases(app)
