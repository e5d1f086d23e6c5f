"""The `lt-workbench` command: the one typer `app`, the options every command shares, and `main()`.

Commands live in one module per group (`cli/database.py`, `cli/tabulation.py`, `cli/questions.py`,
`cli/recommendations.py`, `cli/values.py`, `cli/reports.py`, `cli/synth.py`, ...). Each registers on
`app` with `@app.command(...)`; a new group is one import line at the bottom of this file.

Exit codes: 0 success; 1 some input rejected (the rest done); 2 usage or fatal error (nothing changed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperArgument, TyperGroup

from lt_workbench import __version__, config
from lt_workbench.cli.output import cli_message, format_help
from lt_workbench.exceptions import WorkbenchError

__all__ = [
    "app",
    "main",
    "err",
    "DbOption",
    "WhereOption",
    "DisclosureOption",
    "ProfileOption",
    "ThresholdOption",
    "FormatOption",
    "OutOption",
    "LevelOption",
    "YearBasisOption",
]


def err(message: str) -> None:
    """Write one message to standard error (headers, warnings, errors: never mixed into a table on stdout)."""
    typer.echo(message, err=True)


def _plain_param(param: Any) -> None:
    """Help shows NAME, [NAME] or PATHS... and the option's metavar, never typer's internal type names."""
    if isinstance(param, TyperArgument):
        name = param.metavar or (param.name or "").upper()
        multi = "..." if param.nargs != 1 and not name.endswith("...") else ""
        usage = f"{name}{multi}" if param.required else f"[{name}{multi}]"
        param._usage_display_name = lambda: usage  # type: ignore[method-assign]
        param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
        return
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        shown: str | None = None
    else:
        shown = param.metavar or (param.name or "value").upper()
    param.display_type_rich = lambda ctx: shown


def _plain_help(command: Any) -> None:
    for param in command.params:
        _plain_param(param)
    make_help = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = make_help(ctx)
        if option is not None:
            _plain_param(option)
        return option

    command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


class _Group(TyperGroup):
    """The top-level group: plain help texts, and deliberate errors become a message and exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_help(self)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        # Ctrl-C while the command line is parsed (long lists of paths take a moment): nothing has begun. typer would
        # turn it into a silent exit 130; say so, as for an interrupt anywhere else.
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            err("lt-workbench: interrupted")
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except WorkbenchError as e:
            err(f"lt-workbench: error: {cli_message(str(e))}")
            ctx.exit(2)
        except KeyboardInterrupt:  # database writers say what the database holds themselves (LoadInterrupted)
            err("lt-workbench: interrupted")
            ctx.exit(130)
        except Exception as e:  # a database error met while reading (a damaged file): the cause, not a traceback
            if not type(e).__module__.startswith(("duckdb", "_duckdb")):
                raise
            from lt_workbench.model.files import explain

            argv = sys.argv[1:]
            given = [a.split("=", 1)[1] for a in argv if a.startswith("--db=")]
            given += [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--db"]
            err(f"lt-workbench: error: {explain(Path(given[-1]) if given else config.DEFAULT_DB, e, 'cannot read')}")
            ctx.exit(2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lt-workbench {__version__}")
        raise typer.Exit(0)


app = typer.Typer(
    name="lt-workbench",
    cls=_Group,
    help="Collate findings across Learning together case reviews: validate, load, tabulate, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Collate findings across Learning together case reviews: validate, load, tabulate, report."""


# --- options shared by the commands ------------------------------------------------------------

DbOption = Annotated[
    Optional[Path],
    typer.Option("--db", metavar="FILE", help=f"DuckDB file (default {config.DEFAULT_DB}, or $LT_WORKBENCH_DB).",
                 show_default=False),
]
WhereOption = Annotated[
    Optional[list[str]],
    typer.Option("--where", metavar="DIM=VALUE",
                 help="Filter (repeatable): region=london, year=2015..2019, age-band=under_1,1_to_4. "
                      "See `lt-workbench values` for the accepted values."),
]
DisclosureOption = Annotated[
    str, typer.Option("--disclosure", metavar="MODE",
                      help="public (small counts suppressed, safe to share; the default) or restricted (full numbers).")
]
ProfileOption = Annotated[str, typer.Option("--profile", metavar="NAME", help="Disclosure profile: dfe, nhs or ons.")]
ThresholdOption = Annotated[
    Optional[int], typer.Option("--threshold", metavar="N", help="Smallest count that may be shown (overrides the profile).")
]
FormatOption = Annotated[Optional[str], typer.Option("--format", metavar="FORMAT", help=format_help())]
OutOption = Annotated[
    Optional[Path], typer.Option("--out", metavar="FILE", help="Write to this file instead of standard output.")
]
LevelOption = Annotated[Optional[int], typer.Option("--level", metavar="N", help="Depth in a hierarchical frame (1, 2, 3); default all.")]
YearBasisOption = Annotated[
    str, typer.Option("--year-basis", metavar="BASIS", help="Year of: completed, commissioned or published.")
]


def main() -> None:
    """Entry point: deliberate errors are a message and exit code 2, never a traceback (see _Group.invoke)."""
    try:
        app()
    except WorkbenchError as e:  # raised outside a command (e.g. while building the group)
        err(f"lt-workbench: error: {e}")
        sys.exit(2)
    except KeyboardInterrupt:  # while the command group was being built: nothing has begun
        err("lt-workbench: interrupted")
        sys.exit(130)


# --- command groups: one import line each ----------------------------------------------------------
from lt_workbench.cli import database  # noqa: E402,F401
from lt_workbench.cli import tabulation  # noqa: E402,F401
from lt_workbench.cli import questions  # noqa: E402,F401
from lt_workbench.cli import recommendations  # noqa: E402,F401
from lt_workbench.cli import values  # noqa: E402,F401
from lt_workbench.cli import reports  # noqa: E402,F401
from lt_workbench.cli import synth  # noqa: E402,F401
from lt_workbench.cli import qda  # noqa: E402,F401
from lt_workbench.cli import office  # noqa: E402,F401
from lt_workbench.cli import release  # noqa: E402,F401  (last: wraps every public command so it joins its release)
