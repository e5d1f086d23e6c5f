"""The reports and their parameters, read from the notebooks' `parameters` cells.

A report is a notebook in `config.NOTEBOOKS_DIR` whose cell tagged `parameters` declares what it
takes. The registry reads that cell with papermill's own inspection (the same parser papermill uses
to inject values), so a notebook and `lt-workbench report --list` cannot disagree: names, defaults
and help texts come from the cell, the kind from its annotation (`patterns: list = None`,
`as_of: "date" = None`) or, for the parameters every report shares, from COMMON_PARAMETERS. The
notebooks are read on first use, not at import, so the package stays quick to import.
"""

from __future__ import annotations

import ast
import difflib
import threading
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lt_workbench import config
from lt_workbench.exceptions import ParameterError, ReportError

__all__ = [
    "Param",
    "ReportSpec",
    "REPORTS",
    "COMMON_PARAMETERS",
    "PROFILE_NAMES",
    "DESCRIPTIONS",
    "report_names",
    "get_spec",
    "read_spec",
]

PROFILE_NAMES = {"dfe": "Department for Education (DfE)", "nhs": "NHS Digital", "ons": "ONS 10-5"}
KINDS = ("str", "int", "list", "choice", "date")


@dataclass(frozen=True)
class Param:
    """One report parameter: its type, default and meaning (shown by `lt-workbench report --list`).

    kind: str, int, list (of strings), choice (one of `choices`), date (YYYY-MM-DD).
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for `report --list`: name, kind, default and help."""
        kind = f"one of {', '.join(self.choices)}" if self.kind == "choice" else self.kind
        return f"{self.name} ({kind}, default {self.default!r}): {self.help}"


@dataclass(frozen=True)
class ReportSpec:
    """A report: its notebook, title, and the parameters its `parameters` cell declares."""

    name: str
    notebook: Path
    title: str
    description: str
    params: tuple[Param, ...]

    def param(self, name: str) -> Param:
        """The parameter called `name` (StopIteration if the report has none)."""
        return next(p for p in self.params if p.name == name)

    @property
    def defaults(self) -> dict[str, Any]:
        """Every parameter's default, by name."""
        return {p.name: p.default for p in self.params}


# The parameters every report shares: the scope, the disclosure settings and the database. Each
# report notebook declares them first, in this order and with these defaults (checked on reading).
COMMON_PARAMETERS: tuple[Param, ...] = (
    Param("db", "str", None, "DuckDB file; None = data/workbench.duckdb or $LT_WORKBENCH_DB"),
    Param("nation", "str", None, "nation code, e.g. england"),
    Param("region", "str", None, "region code, e.g. north_west"),
    Param("area", "str", None, "area code (restricted reports only: area names never appear in public output)"),
    Param("year_from", "int", None, "first year of completion to include"),
    Param("year_to", "int", None, "last year of completion to include"),
    Param("review_types", "list", None, "review types to include, e.g. serious_case_review,child_safeguarding_practice_review"),
    Param("disclosure", "choice", "public", "public (small numbers hidden, safe to share) or restricted (everything, not for publication)",
          ("public", "restricted")),
    Param("profile", "choice", "dfe", "disclosure profile: dfe, nhs or ons", tuple(PROFILE_NAMES)),
    Param("min_cell", "int", None, "smallest count that may be shown; None = the profile's threshold (6 for DfE)"),
)
_COMMON = {p.name: p for p in COMMON_PARAMETERS}

# What `report --list` says about each report (the notebook's own introduction is longer).
DESCRIPTIONS = {
    "cross_review_summary": "The corpus, the child and family profile, recurring and changing patterns, what works well, "
                            "contributory factors, co-occurrence, recommendations and proposed sub-patterns.",
    "area_profile": "One region (or, restricted, one area) against the rest of its nation: patterns and factors compared, "
                    "funnel plots rather than league tables.",
    "pattern_deep_dive": "One pattern: how often, where, over time, with which patterns and factors; evidence excerpts in "
                         "restricted mode.",
    "recommendations_tracker": "Open, overdue and completed recommendations by agency, kind and level; patterns no "
                               "recommendation addresses.",
}


def _kind(name: str, annotation: str, default: Any) -> str:
    if name in _COMMON:
        return _COMMON[name].kind
    text = annotation.strip().strip("'\"").lower()
    if text.startswith("list"):
        return "list"
    if text in ("int", "str", "date"):
        return text
    if text not in ("", "none"):
        raise ReportError(f"parameter {name}: annotation {annotation!r} is not one of {', '.join(KINDS)}")
    if isinstance(default, bool) or default is None:
        return "str"
    return "int" if isinstance(default, int) else "str"


def read_spec(name: str, notebook: Path, description: str = "") -> ReportSpec:
    """A ReportSpec from a notebook: title from its first heading, parameters from its `parameters` cell.

    Raises ReportError when the notebook is missing, has no tagged parameters cell, a default is not a
    Python literal, or the shared parameters are not declared first with their shared defaults.
    """
    import nbformat
    import papermill

    if not notebook.exists():
        raise ReportError(f"report {name!r}: notebook {notebook} does not exist")
    nb = nbformat.read(str(notebook), as_version=4)  # type: ignore[no-untyped-call]
    title = name.replace("_", " ").capitalize()
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            title = cell.source.lstrip()[2:].splitlines()[0].strip()
            break
    params: list[Param] = []
    for pname, declared in papermill.inspect_notebook(str(notebook)).items():
        try:
            default = ast.literal_eval(declared["default"])
        except (ValueError, SyntaxError):
            raise ReportError(f"{notebook.name}: parameter {pname} = {declared['default']}: defaults must be plain values") from None
        kind = _kind(pname, str(declared.get("inferred_type_name") or ""), default)
        choices = _COMMON[pname].choices if pname in _COMMON else ()
        params.append(Param(pname, kind, default, declared.get("help") or "", choices))
    head = [(p.name, p.default) for p in params[: len(COMMON_PARAMETERS)]]
    if head != [(p.name, p.default) for p in COMMON_PARAMETERS]:
        raise ReportError(f"{notebook.name}: its parameters cell must start with the shared parameters "
                          f"{', '.join(p.name for p in COMMON_PARAMETERS)} (with their shared defaults)")
    return ReportSpec(name, notebook, title, description, tuple(params))


class _Registry(MutableMapping[str, ReportSpec]):
    """name -> ReportSpec for the report notebooks, read on first use (tests may add their own)."""

    def __init__(self) -> None:
        self._specs: dict[str, ReportSpec] | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> dict[str, ReportSpec]:
        with self._lock:
            if self._specs is None:
                self._specs = {n: read_spec(n, config.NOTEBOOKS_DIR / f"{n}.ipynb", d) for n, d in DESCRIPTIONS.items()}
            return self._specs

    def __getitem__(self, key: str) -> ReportSpec:
        return self._loaded()[key]

    def __setitem__(self, key: str, value: ReportSpec) -> None:
        self._loaded()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def __contains__(self, key: object) -> bool:
        return key in self._loaded()

    def __repr__(self) -> str:
        return f"REPORTS({', '.join(self)})"


REPORTS: MutableMapping[str, ReportSpec] = _Registry()


def report_names() -> list[str]:
    """The registered report names."""
    return list(REPORTS)


def get_spec(name: str) -> ReportSpec:
    """The report called `name`, or a ParameterError naming the reports (with a close match)."""
    if name not in REPORTS:
        close = difflib.get_close_matches(str(name), list(REPORTS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParameterError(f"unknown report {name!r}{hint}: reports are {', '.join(REPORTS)}")
    return REPORTS[name]
