"""Parameterised report notebooks, run headlessly: registry, parameter checks, papermill, HTML, batches.

Most people who need the findings never open Jupyter, so each notebook in `notebooks/` is run by
papermill with checked parameters and exported to a self-contained HTML page (inputs hidden,
plotly interactive and offline). The notebooks stay thin: they call
`lt_workbench.reports.context.setup()` for a `ReportContext`, which holds the scope and the
disclosure settings and passes every table through `lt_workbench.analysis.disclosure` before anything is
drawn. Same data and parameters give the same files: volatile metadata (timestamps, durations,
random cell ids, figure ids) is fixed or removed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import re
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lt_workbench import config
from lt_workbench.exceptions import DatabaseError, ParameterError, ReportError, WorkbenchError

__all__ = [
    "Param",
    "ReportSpec",
    "REPORTS",
    "COMMON_PARAMETERS",
    "ReportResult",
    "BatchResult",
    "report_names",
    "validate_parameters",
    "parse_cli_parameters",
    "output_stem",
    "run_report",
    "load_batch",
    "run_batch",
    "normalise_notebook",
    "export_html",
    "snapshot_date",
    "PROFILE_NAMES",
]

PROFILE_NAMES = {"dfe": "Department for Education (DfE)", "nhs": "NHS Digital", "ons": "ONS 10-5"}
KERNEL_NAME = "python3"  # ipykernel of the interpreter running papermill (jupyter_client's native kernel)
CELL_TIMEOUT = 900  # seconds per cell: a 10,000-review corpus must fit, a hung cell must not block a batch forever


@functools.lru_cache(maxsize=1)
def _kernel_manager_class() -> type:
    """A kernel manager talking to its kernel over Unix sockets rather than TCP on localhost.

    Why: the kernel is local and private to this run; over TCP, ipykernel 7 warns on every start that
    the traffic is unencrypted, noise that buries real errors in a scheduled job's log.
    """
    import tempfile
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    class IpcKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _private_socket_prefix(self) -> str:
            # jupyter_client would name the sockets kernel-ipc-1, -2, ... in the working folder, so two
            # reports running at once (overlapping cron jobs, parallel tests) could share sockets. A prefix
            # of its own per kernel; jupyter_client removes the socket files when the kernel shuts down.
            return str(Path(tempfile.gettempdir()) / f"lt-workbench-kernel-{uuid.uuid4().hex[:16]}")

    return IpcKernelManager


# --------------------------------------------------------------------------------------------
# The registry


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
        return next(p for p in self.params if p.name == name)

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


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
    Param("profile", "choice", "dfe", "disclosure profile: dfe, nhs or ons", ("dfe", "nhs", "ons")),
    Param("min_cell", "int", None, "smallest count that may be shown; None = the profile's threshold (6 for DfE)"),
)

_NOTEBOOKS = config.NOTEBOOKS_DIR
REPORTS: dict[str, ReportSpec] = {
    s.name: s
    for s in (
        ReportSpec(
            "cross_review_summary", _NOTEBOOKS / "cross_review_summary.ipynb", "Cross-review summary",
            "The corpus, the child and family profile, recurring and changing patterns, what works well, contributory "
            "factors, co-occurrence, recommendations and proposed sub-patterns.",
            COMMON_PARAMETERS + (Param("top_n", "int", 12, "how many patterns the ranked sections show"),),
        ),
        ReportSpec(
            "area_profile", _NOTEBOOKS / "area_profile.ipynb", "Area profile",
            "One region (or, restricted, one area) against the rest of its nation: patterns and factors compared, "
            "funnel plots rather than league tables.",
            COMMON_PARAMETERS + (Param("patterns", "list", None, "pattern codes for the funnel plots; None = the six most recurrent"),),
        ),
        ReportSpec(
            "pattern_deep_dive", _NOTEBOOKS / "pattern_deep_dive.ipynb", "Pattern deep dive",
            "One pattern: how often, where, over time, with which patterns and factors; evidence excerpts in restricted mode.",
            COMMON_PARAMETERS + (
                Param("pattern", "str", "P2.1", "the pattern code, e.g. P2.1 or P1.3.1"),
                Param("max_excerpts", "int", 12, "restricted mode: how many findings to quote"),
            ),
        ),
        ReportSpec(
            "recommendations_tracker", _NOTEBOOKS / "recommendations_tracker.ipynb", "Recommendations tracker",
            "Open, overdue and completed recommendations by agency, kind and level; patterns no recommendation addresses.",
            COMMON_PARAMETERS + (Param("as_of", "date", None, "date overdue is judged at; None = the date of the last data load"),),
        ),
    )
}


def report_names() -> list[str]:
    """The registered report names."""
    return list(REPORTS)


def _spec(name: str) -> ReportSpec:
    if name not in REPORTS:
        close = difflib.get_close_matches(str(name), list(REPORTS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParameterError(f"unknown report {name!r}{hint}: reports are {', '.join(REPORTS)}")
    return REPORTS[name]


# --------------------------------------------------------------------------------------------
# Parameters


def parse_cli_parameters(items: Sequence[str]) -> dict[str, str]:
    """`-p key=value` items -> {key: value}; values stay strings and are typed by validate_parameters."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"-p {item!r}: write NAME=VALUE, e.g. -p region=north_west or -p year_from=2015")
        if key in out:
            raise ParameterError(f"-p {key} given twice: list several values as {key}=a,b")
        out[key] = value.strip()
    return out


def _none_like(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null", "all"))


def _coerce(p: Param, value: Any) -> Any:
    """Type one value (CLI strings or Python values) or say what is expected."""
    if _none_like(value) and p.kind != "choice":
        return None
    if p.kind == "int":
        if isinstance(value, bool):
            raise ParameterError(f"{p.name}: expected a whole number, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        raise ParameterError(f"{p.name}: expected a whole number, got {value!r}")
    if p.kind == "list":
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, (list, tuple)):
            items = [str(v).strip() for v in value if str(v).strip()]
        else:
            raise ParameterError(f"{p.name}: expected a list (a,b or [\"a\", \"b\"]), got {value!r}")
        return items or None
    if p.kind == "date":
        try:
            return (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())).isoformat()
        except ValueError:
            raise ParameterError(f"{p.name}: expected a date written YYYY-MM-DD, got {value!r}") from None
    if p.kind == "choice":
        text = str(value).strip().lower() if value is not None else ""
        if text not in p.choices:
            close = difflib.get_close_matches(text, p.choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(f"{p.name}={value!r} is not allowed{hint}: choose one of {', '.join(p.choices)}")
        return text
    if not isinstance(value, (str, Path)):
        raise ParameterError(f"{p.name}: expected text, got {value!r}")
    return str(value).strip()


def _vocabulary(frame: str, version: str) -> dict[str, str]:
    from lt_workbench.model.frames import labels

    return labels(frame, version)


def _resolve_code(name: str, value: str, vocab: Mapping[str, str], what: str) -> str:
    """A code of a vocabulary from its code or its label (any case); else a clear error with a close match."""
    if value in vocab:
        return value
    by_lower = {c.lower(): c for c in vocab} | {lab.lower(): c for c, lab in vocab.items()}
    key = value.strip().lower().replace(" ", "_")
    for candidate in (value.strip().lower(), key):
        if candidate in by_lower:
            return by_lower[candidate]
    close = difflib.get_close_matches(value, list(vocab) + list(vocab.values()), n=1)
    hint = f" (did you mean {by_lower.get(close[0].lower(), close[0])!r}?)" if close else ""
    raise ParameterError(f"{name}={value!r} is not a known {what}{hint}; known: {', '.join(vocab)}")


def _db_path(value: Any) -> Path:
    return Path(value).expanduser().resolve() if value else config.DEFAULT_DB


def validate_parameters(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check and type a report's parameters before any notebook runs; return every parameter, defaults filled.

    Raises ParameterError naming the parameter and what would be accepted: unknown names (with a close
    match), wrong types, a year range that is backwards or holds no reviews, regions, nations, review
    types and pattern codes not in the taxonomy, areas not in the database, an area in public mode, and a
    disclosure threshold the profile cannot use. Codes may be given by label ("North West").
    """
    spec = _spec(name)
    given = dict(params or {})
    known = {p.name for p in spec.params}
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(f"report {name!r} has no parameter {key!r}{hint}; its parameters are {', '.join(p.name for p in spec.params)}")
    out: dict[str, Any] = {}
    for p in spec.params:
        out[p.name] = _coerce(p, given[p.name]) if p.name in given else p.default
    version = config.DEFAULT_TAXONOMY_VERSION

    # Disclosure settings: let the disclosure module judge profile and threshold.
    if out["min_cell"] is not None:
        if out["min_cell"] < 1:
            raise ParameterError(f"min_cell must be at least 1 (the smallest count that may be shown), got {out['min_cell']}")
        from lt_workbench.analysis.disclosure import protect
        from lt_workbench.exceptions import DisclosureError

        try:
            protect(pd.DataFrame({"code": [], "label": [], "count": [], "denominator": []}), profile=out["profile"], threshold=out["min_cell"])
        except DisclosureError as e:
            raise ParameterError(f"min_cell={out['min_cell']}: {e}") from None

    # Years.
    for key in ("year_from", "year_to"):
        y = out[key]
        if y is not None and not 1900 <= y <= 2100:
            raise ParameterError(f"{key}={y} is not a plausible year of completion (1900-2100)")
    if out["year_from"] is not None and out["year_to"] is not None and out["year_from"] > out["year_to"]:
        raise ParameterError(f"year range {out['year_from']}-{out['year_to']} runs backwards: year_from must not be after year_to")

    # Vocabularies.
    if out["nation"] is not None:
        out["nation"] = _resolve_code("nation", out["nation"], _vocabulary("nation", version), "nation")
    if out["region"] is not None:
        out["region"] = _resolve_code("region", out["region"], _vocabulary("region", version), "region")
        from lt_workbench.model.frames import taxonomy_frame

        t = taxonomy_frame(version)
        parent = t.loc[(t["frame"] == "region") & (t["code"] == out["region"]), "parent"].iloc[0]
        if out["nation"] is not None and parent != out["nation"]:
            raise ParameterError(f"region {out['region']!r} is in {parent}, not in nation {out['nation']!r}")
    if out["review_types"]:
        vocab = _vocabulary("review_type", version)
        out["review_types"] = [_resolve_code("review_types", v, vocab, "review type") for v in out["review_types"]]
    if "pattern" in out:
        if out["pattern"] is None:
            raise ParameterError("pattern: name one pattern code, e.g. P2.1")
        vocab = _vocabulary("patterns", version)
        out["pattern"] = _resolve_code("pattern", out["pattern"], vocab, "pattern code")
    if out.get("patterns"):
        vocab = _vocabulary("patterns", version)
        out["patterns"] = [_resolve_code("patterns", v, vocab, "pattern code") for v in out["patterns"]]
    for key in ("top_n", "max_excerpts"):
        if key in out and (out[key] is None or not 1 <= out[key] <= 100):
            raise ParameterError(f"{key} must be a whole number from 1 to 100, got {out[key]!r}")

    if out["area"] is not None and out["disclosure"] == "public":
        raise ParameterError(
            f"area={out['area']!r}: a report about one area puts that area next to small numbers about children, and area "
            "names never appear in public output. Use disclosure=restricted (and keep the report inside the secure "
            "environment), or report on its region instead."
        )

    # The database: it must exist, and the scope must hold reviews.
    db = _db_path(out["db"])
    if not db.exists():
        raise ParameterError(f"db: {db} does not exist; load reviews first with `lt-workbench load PATH --db {db}`")
    out["db"] = str(db)
    _check_against_database(out, db)
    return out


def _check_against_database(out: dict[str, Any], db: Path) -> None:
    """Area exists and sits in the region/nation given; the scope holds at least one review."""
    from lt_workbench.model.db import connect

    try:
        con = connect(db, read_only=True)
    except DatabaseError as e:
        raise ParameterError(f"db: {e}") from None
    try:
        if out["area"] is not None:
            areas = dict(con.execute("SELECT DISTINCT area_code, area_name FROM reviews").fetchall())
            value = out["area"]
            if value not in areas:
                by_name = {n.lower(): c for c, n in areas.items()} | {c.lower(): c for c in areas}
                if value.lower() in by_name:
                    value = by_name[value.lower()]
                else:
                    close = difflib.get_close_matches(value, sorted(areas) + sorted(areas.values()), n=1)
                    hint = f" (did you mean {by_name.get(close[0].lower(), close[0])!r}?)" if close else ""
                    raise ParameterError(f"area={out['area']!r} is not an area code in {db.name}{hint}")
            out["area"] = value
            region, nation = con.execute("SELECT any_value(region), any_value(nation) FROM reviews WHERE area_code = ?", [value]).fetchall()[0]
            if out["region"] is not None and out["region"] != region:
                raise ParameterError(f"area {value!r} is in region {region!r}, not {out['region']!r}")
            if out["nation"] is not None and out["nation"] != nation:
                raise ParameterError(f"area {value!r} is in nation {nation!r}, not {out['nation']!r}")
        conds, args = _scope_sql(out, prefix="")
        n = con.execute(f"SELECT count(*) FROM reviews WHERE {conds}", args).fetchall()[0][0]
        if n == 0:
            lo, hi, total = con.execute("SELECT min(year), max(year), count(*) FROM reviews").fetchall()[0]
            held = f"{total} reviews completed {lo}-{hi}" if total else "no reviews"
            raise ParameterError(f"no reviews match this scope ({_scope_words(out)}); {db.name} holds {held}")
    finally:
        con.close()


def _scope_sql(p: Mapping[str, Any], prefix: str = "r.") -> tuple[str, list[Any]]:
    """SQL conditions on the reviews table for the scope parameters (bound values only)."""
    conds, args = ["TRUE"], []
    for key, col in (("nation", "nation"), ("region", "region"), ("area", "area_code")):
        if p.get(key) is not None:
            conds.append(f"{prefix}{col} = ?")
            args.append(p[key])
    if p.get("year_from") is not None:
        conds.append(f"{prefix}year >= ?")
        args.append(p["year_from"])
    if p.get("year_to") is not None:
        conds.append(f"{prefix}year <= ?")
        args.append(p["year_to"])
    if p.get("review_types"):
        conds.append(f"{prefix}review_type IN ({', '.join('?' for _ in p['review_types'])})")
        args.extend(p["review_types"])
    return " AND ".join(conds), args


def _scope_words(p: Mapping[str, Any], area_name: str | None = None) -> str:
    """The scope in plain words, with labels from the frames."""
    version = config.DEFAULT_TAXONOMY_VERSION
    bits = []
    if p.get("area") is not None:
        bits.append(f"area {area_name or p['area']}")
    if p.get("region") is not None:
        bits.append(_vocabulary("region", version).get(p["region"], p["region"]))
    if p.get("nation") is not None:
        bits.append(_vocabulary("nation", version).get(p["nation"], p["nation"]))
    if not bits:
        bits.append("all nations")
    y0, y1 = p.get("year_from"), p.get("year_to")
    if y0 is not None and y1 is not None:
        bits.append(f"completed {y0}–{y1}" if y0 != y1 else f"completed in {y0}")
    elif y0 is not None:
        bits.append(f"completed {y0} or later")
    elif y1 is not None:
        bits.append(f"completed up to {y1}")
    else:
        bits.append("all years")
    if p.get("review_types"):
        labels = _vocabulary("review_type", version)
        bits.append("review types: " + ", ".join(labels.get(t, t) for t in p["review_types"]))
    else:
        bits.append("all review types")
    return " · ".join(bits)


# --------------------------------------------------------------------------------------------
# Running notebooks


@dataclass
class ReportResult:
    """What one report run produced. Paths are None when the step did not happen."""

    name: str
    parameters: dict[str, Any]
    status: str  # "ok" or "failed"
    notebook: Path | None = None
    html: Path | None = None
    duration: float = 0.0
    error: str | None = None

    def as_dict(self, relative_to: Path | None = None) -> dict[str, Any]:
        def rel(p: Path | None) -> str | None:
            if p is None:
                return None
            if relative_to is not None:
                try:
                    return p.resolve().relative_to(relative_to.resolve()).as_posix()
                except ValueError:
                    pass
            return str(p)

        return {"name": self.name, "parameters": self.parameters, "status": self.status,
                "duration_seconds": round(self.duration, 1), "outputs": {"notebook": rel(self.notebook), "html": rel(self.html)},
                "error": self.error}


def output_stem(name: str, params: Mapping[str, Any]) -> str:
    """File name (without suffix) for a report: its name plus the parameters that differ from the defaults.

    Deterministic, so a scheduled batch overwrites last run's files for the same scope. The database
    path is left out: it says where the data is, not what the report is about.
    """
    spec = _spec(name)
    parts = [name]
    for p in spec.params:
        if p.name == "db" or p.name not in params or params[p.name] == p.default:
            continue
        value = params[p.name]
        text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        parts.append(f"{p.name}-{text}")
    stem = re.sub(r"[^A-Za-z0-9._,-]+", "_", "--".join(parts))
    if len(stem) > 120:
        import hashlib

        stem = stem[:100] + "--" + hashlib.sha256(stem.encode()).hexdigest()[:10]
    return stem


def normalise_notebook(nb: Any) -> Any:
    """Remove what changes between runs of the same notebook on the same data, in place; return nb.

    papermill stamps start/end times, durations and paths; nbclient stamps execution times; papermill
    gives its injected cell a random id. Cell ids become their position; papermill keeps the
    parameters and its version, which are part of what the report is.
    """
    meta = nb.metadata.get("papermill")
    if meta is not None:
        nb.metadata["papermill"] = {k: meta[k] for k in ("parameters", "default_parameters", "version") if k in meta}
    nb.metadata.pop("widgets", None)
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if "id" in cell:
            cell["id"] = f"cell-{i:03d}"
    return nb


_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{# lt-workbench reports open offline: no require.js, MathJax, Mermaid or widget scripts from CDNs. #}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block extra_css %}
<style>
body.jp-Notebook { max-width: 1240px; margin: 0 auto; padding: 16px 24px 48px 24px; }
.jp-RenderedHTMLCommon h1 { font-size: 1.9em; margin-top: 0.4em; }
.jp-RenderedHTMLCommon h2 { border-bottom: 1px solid #e4e7eb; padding-bottom: 4px; margin-top: 1.6em; }
.jp-RenderedHTMLCommon { font-size: 15px; line-height: 1.5; }
.jp-OutputArea-output { overflow-x: auto; }
.jp-Cell { padding: 2px 0; }
</style>
{% endblock extra_css %}
"""


def export_html(nb: Any, title: str) -> str:
    """The executed notebook as one self-contained HTML page: inputs and prompts hidden, no external scripts."""
    import copy

    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    shown = copy.deepcopy(nb)
    shown.metadata["title"] = title
    for cell in shown.cells:
        if cell.get("cell_type") == "code":
            # Warnings and kernel chatter are for analysts (kept in the .ipynb), not for readers.
            cell["outputs"] = [o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"lt_report.html.j2": _TEMPLATE})],
        template_file="lt_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(shown)
    return body


def _title(spec: ReportSpec, params: Mapping[str, Any]) -> str:
    return f"{spec.title} — {_scope_words(params)}"


def run_report(
    name: str,
    params: Mapping[str, Any] | None,
    out_dir: str | Path,
    db: str | Path | None = None,
    *,
    stem: str | None = None,
    validated: bool = False,
) -> ReportResult:
    """Validate, execute the notebook with papermill, normalise it, and write NAME.ipynb and NAME.html.

    Raises ParameterError before running anything; ReportError when a cell fails (naming the notebook,
    the cell and the error; the executed notebook is kept for debugging, no HTML is written).
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    spec = _spec(name)
    given = dict(params or {})
    if db is not None:
        given["db"] = str(db)
    values = dict(given) if validated else validate_parameters(name, given)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or output_stem(name, values)
    ipynb = out / f"{stem}.ipynb"
    page = out / f"{stem}.html"
    for stale in (ipynb, page):
        stale.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        pm.execute_notebook(
            str(spec.notebook), str(ipynb), parameters=values, kernel_name=KERNEL_NAME, cwd=str(spec.notebook.parent),
            progress_bar=False, log_output=False, execution_timeout=CELL_TIMEOUT, report_mode=False,
            kernel_manager_class=_kernel_manager_class(),
        )
    except PapermillExecutionError as e:
        nb = _rewrite_normalised(ipynb)
        # Point at the cell as it is in notebooks/ (papermill inserted its parameters cell before it).
        number, source = e.cell_index + 1, ""
        if nb is not None and 0 <= e.cell_index < len(nb.cells):
            injected = [i for i, c in enumerate(nb.cells) if "injected-parameters" in c.metadata.get("tags", [])]
            number = e.cell_index + 1 - sum(1 for i in injected if i < e.cell_index)
            lines = nb.cells[e.cell_index].source.strip().splitlines()
            source = lines[0][:100] if lines else ""
        err = ReportError(
            f"report {name!r}: notebook {spec.notebook.name}, cell {number} (counting every cell from 1"
            f"{'; it starts ' + repr(source) if source else ''}) failed: {e.ename}: {e.evalue}"
        )
        err.result = ReportResult(name, values, "failed", ipynb if ipynb.exists() else None, None,  # type: ignore[attr-defined]
                                  time.monotonic() - started, str(err))
        raise err from None
    except Exception as e:  # kernel died, notebook missing, ...
        err = ReportError(f"report {name!r}: notebook {spec.notebook.name} could not be executed: {type(e).__name__}: {e}")
        err.result = ReportResult(name, values, "failed", ipynb if ipynb.exists() else None, None,  # type: ignore[attr-defined]
                                  time.monotonic() - started, str(err))
        raise err from e
    nb = _rewrite_normalised(ipynb)
    page.write_text(export_html(nb, _title(spec, values)), encoding="utf-8")
    return ReportResult(name, values, "ok", ipynb, page, time.monotonic() - started, None)


def _rewrite_normalised(path: Path) -> Any:
    import nbformat

    if not path.exists():
        return None
    nb = normalise_notebook(nbformat.read(str(path), as_version=4))
    nbformat.write(nb, str(path))
    return nb


# --------------------------------------------------------------------------------------------
# Batches


@dataclass
class BatchResult:
    """A batch run: the dated folder, the manifest and one result per report."""

    folder: Path
    manifest: Path
    results: list[ReportResult] = field(default_factory=list)

    @property
    def failed(self) -> list[ReportResult]:
        return [r for r in self.results if r.status != "ok"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def load_batch(path: str | Path) -> dict[str, Any]:
    """Read a batch file (TOML): optional `out`, `[defaults]`, and `[[report]]` entries.

    Each entry: `name`, optional `parameters` table, optional `for_each = "region"` (or "nation") to run
    once per value found in the database, optional `output` stem. Raises ReportError on a malformed file.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"batch file {p} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ReportError(f"batch file {p} is not valid TOML: {e}") from None
    allowed = {"out", "defaults", "report", "description"}
    extra = sorted(set(data) - allowed)
    if extra:
        raise ReportError(f"batch file {p}: unknown key(s) {', '.join(extra)}; use out, description, [defaults] and [[report]]")
    entries = data.get("report")
    if not isinstance(entries, list) or not entries:
        raise ReportError(f"batch file {p}: list reports as [[report]] tables, each with name = \"...\"")
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "name" not in entry:
            raise ReportError(f"batch file {p}: report {i} has no name")
        unknown = sorted(set(entry) - {"name", "parameters", "for_each", "output"})
        if unknown:
            raise ReportError(f"batch file {p}: report {i} ({entry['name']}): unknown key(s) {', '.join(unknown)}")
        if "for_each" in entry and entry["for_each"] not in ("region", "nation"):
            raise ReportError(f"batch file {p}: report {i}: for_each must be \"region\" or \"nation\"")
        if not isinstance(entry["name"], str):
            raise ReportError(f"batch file {p}: report {i}: name must be a string, e.g. name = \"cross_review_summary\"")
        if not isinstance(entry.get("parameters", {}), dict):
            raise ReportError(f"batch file {p}: report {i} ({entry['name']}): parameters must be a table, "
                              f"e.g. parameters = {{ pattern = \"P2.1\" }}")
        if not isinstance(entry.get("output", ""), str):
            raise ReportError(f"batch file {p}: report {i} ({entry['name']}): output must be a file name (a string)")
    if not isinstance(data.get("out", ""), str):
        raise ReportError(f"batch file {p}: out must be a folder name (a string)")
    if not isinstance(data.get("defaults", {}), dict):
        raise ReportError(f"batch file {p}: [defaults] must be a table of parameters")
    return data


def _expand(entry: Mapping[str, Any], defaults: Mapping[str, Any], db: Path) -> list[tuple[str, dict[str, Any], str | None]]:
    """One batch entry -> [(name, parameters, output stem)], expanding for_each over the database's values."""
    params = {**defaults, **dict(entry.get("parameters") or {})}
    key = entry.get("for_each")
    if key is None:
        return [(entry["name"], params, entry.get("output"))]
    from lt_workbench.model.db import connect

    con = connect(db, read_only=True)
    try:
        order = dict(con.execute("SELECT code, sort_key FROM taxonomy WHERE frame = ? AND version = ?",
                                 [key, config.DEFAULT_TAXONOMY_VERSION]).fetchall())
        cond, args = _scope_sql({k: params.get(k) for k in ("nation", "year_from", "year_to", "review_types")}, prefix="")
        values = [v for (v,) in con.execute(f"SELECT DISTINCT {key} FROM reviews WHERE {cond}", args).fetchall()]
    finally:
        con.close()
    values.sort(key=lambda v: (order.get(v, 10**6), v))
    return [(entry["name"], {**params, key: v}, None) for v in values]


def snapshot_date(db: str | Path | None) -> str:
    """Date of the last data load (YYYY-MM-DD): names a batch's folder, so the same data gives the same folder."""
    from lt_workbench.model.snapshot import snapshot

    last = snapshot(db)["last_load"]
    return last[:10] if last and last != "never" else dt.date.today().isoformat()


def run_batch(path: str | Path, out: str | Path | None = None, db: str | Path | None = None) -> BatchResult:
    """Run every report of a batch file into OUT/<date of the data snapshot>/, keep going past failures,
    and write manifest.json there. The manifest lists each report's parameters, status, duration,
    output paths (relative to the folder) and error.
    """
    batch = load_batch(path)
    db_path = _db_path(db if db is not None else (batch.get("defaults") or {}).get("db"))
    if not db_path.exists():
        raise DatabaseError(f"database {db_path} does not exist: load reviews first with `lt-workbench load PATH --db {db_path}`")
    base = Path(out) if out is not None else (Path(batch["out"]) if "out" in batch else config.REPORTS_DIR)
    folder = base / snapshot_date(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    defaults = {**(batch.get("defaults") or {}), "db": str(db_path)}
    results: list[ReportResult] = []
    for entry in batch["report"]:
        try:
            jobs = _expand(entry, defaults, db_path)
        except WorkbenchError as e:
            results.append(ReportResult(entry["name"], dict(entry.get("parameters") or {}), "failed", error=str(e)))
            continue
        for name, params, stem in jobs:
            started = time.monotonic()
            try:
                results.append(run_report(name, params, folder, stem=stem))
            except ReportError as e:
                res = getattr(e, "result", None) or ReportResult(name, _jsonable(params), "failed", error=str(e))
                res.duration = time.monotonic() - started
                results.append(res)
    from lt_workbench.model.snapshot import snapshot

    snap = snapshot(db_path)
    manifest = {
        "batch": Path(path).name,
        "folder": folder.name,
        "folder_date_basis": "date of the last data load (same data, same folder)",
        "data_snapshot": {k: snap[k] for k in ("reviews", "children", "years", "last_load", "content_hash", "taxonomy_versions")},
        "summary": {"reports": len(results), "ok": sum(r.status == "ok" for r in results), "failed": sum(r.status != "ok" for r in results)},
        "reports": [r.as_dict(relative_to=folder) for r in results],
    }
    target = folder / "manifest.json"
    target.write_text(json.dumps(_jsonable(manifest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return BatchResult(folder, target, results)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
