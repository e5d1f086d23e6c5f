"""`lt-workbench values DIM|FRAME`: the accepted values with their labels, so nobody learns them by mistakes.

`values` alone lists what can be asked about (dimensions for --by/--where, frames for tabulate);
`values region` the region codes and names; `values year` the years present in the database;
`values patterns --level 2` the codes of a frame at one depth.
"""

from __future__ import annotations

from typing import Annotated, Optional

import pandas as pd
import typer

from lt_workbench.cli.main import DbOption, FormatOption, LevelOption, OutOption, YearBasisOption, app
from lt_workbench.cli.output import cli_name, emit

__all__ = ["values_command", "value_table"]

_FIXED = {"series": [("SCR", "Serious case review (to 2018-19)"), ("CSPR", "Child safeguarding practice review (from 2018-19)"),
                     ("other", "Other review types")]}


# The API's own notes name Python arguments; on the command line these are options.
_CLI_ABOUT = {"year": "year of completion (or commissioned/published: --year-basis)",
              "period": "bins of years (trend --periods N)"}


def _overview() -> pd.DataFrame:
    from lt_workbench import tabulate as tab

    rows = [{"name": cli_name(d.name), "kind": "dimension", "use": "--by, --where" if d.by else "--where",
             "about": _CLI_ABOUT.get(d.name) or d.doc or f"values: lt-workbench values {cli_name(d.name)}"}
            for d in tab.DIMENSIONS.values()]
    rows += [{"name": f.cli, "kind": "frame", "use": "tabulate FRAME, trend FRAME",
              "about": "hierarchical: --level 1, 2, 3" if f.hierarchical else f"counted per {f.native}"}
             for f in tab.FRAMES.values()]
    return pd.DataFrame(rows)


def _taxonomy(frame: str, level: int | None) -> pd.DataFrame:
    from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
    from lt_workbench.model.frames import taxonomy_frame

    t = taxonomy_frame(DEFAULT_TAXONOMY_VERSION)
    t = t[t["frame"] == frame].sort_values("sort_key")
    if level is not None:
        if level not in set(t["depth"]):
            raise typer.BadParameter(f"{cli_name(frame)} has levels {', '.join(str(d) for d in sorted(set(t['depth'])))}",
                                     param_hint="'--level'")
        t = t[t["depth"] == level]
    cols = ["code", "label"] + (["level", "parent"] if t["depth"].max() > 1 else [])
    out = t.rename(columns={"depth": "level"})[cols].reset_index(drop=True)
    if "parent" in out:
        out["parent"] = out["parent"].fillna("")
    return out


def _years(db: object, year_basis: str) -> pd.DataFrame:
    from lt_workbench import tabulate as tab

    per_year = tab.frequency("nation", by=("year",), year_basis=year_basis, db=db, disclosure="restricted")  # type: ignore[arg-type]
    years = sorted({int(y) for y, d in zip(per_year["year"], per_year["denominator"], strict=True) if int(d) > 0})
    return pd.DataFrame({"code": years, "label": [f"reviews {year_basis} in {y}" for y in years]})


def value_table(name: str | None, level: int | None = None, db: object = None, year_basis: str = "completed") -> pd.DataFrame:
    """The accepted values of a dimension or frame (code, label, and level/parent for hierarchical frames)."""
    from lt_workbench import tabulate as tab

    if name is None:
        return _overview()
    key = name.replace("-", "_")
    dim = tab.DIMENSIONS.get(key)
    if dim is None:
        try:
            spec = tab.frame_spec(name)
        except Exception:
            known = ", ".join(dict.fromkeys([cli_name(d) for d in tab.DIMENSIONS] + [f.cli for f in tab.FRAMES.values()]))
            raise typer.BadParameter(f"{name!r} is neither a dimension nor a frame; ask about one of {known}",
                                     param_hint="'DIM|FRAME'") from None
        return _taxonomy(spec.name, level)
    if dim.name == "year":
        return _years(db, year_basis)
    if dim.name == "period":
        raise typer.BadParameter("periods are bins of years: `--by period` with `--periods N` (e.g. 5) in trend; "
                                 "see `lt-workbench values year` for the years", param_hint="'DIM|FRAME'")
    if dim.name == "area":
        raise typer.BadParameter("area codes are those of your own reviews and never appear in public output; "
                                 "list them with: lt-workbench tabulate region --by area --disclosure restricted",
                                 param_hint="'DIM|FRAME'")
    if dim.name in _FIXED:
        return pd.DataFrame(_FIXED[dim.name], columns=["code", "label"])
    if dim.name == "factor_level":
        return _taxonomy("factors", 1)
    assert dim.vocabulary is not None
    return _taxonomy(dim.vocabulary, level)


@app.command("values")
def values_command(
    name: Annotated[Optional[str], typer.Argument(metavar="DIM|FRAME", help="A dimension (region, review-type, year, age-band, ...) or a frame (patterns, factors, family-factors, ...); none: list them.")] = None,
    level: LevelOption = None,
    year_basis: YearBasisOption = "completed",
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """The accepted values with their labels: regions, review types, years present in the database, codes of a frame at a level."""
    table = value_table(name, level, db, year_basis)
    emit(table, fmt, out, quiet=True)
