"""Batches: a TOML file of reports run into one dated folder, past failures, with a manifest.

A batch file is untrusted input (it may come from a shared folder or a scheduler's config), so its
shape and every output name are checked before anything runs or is deleted: outputs stay inside the
batch's folder (no absolute paths, no `..`, no NUL or control characters, bounded length).
"""

from __future__ import annotations

import json
import os
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lt_workbench import config
from lt_workbench.exceptions import DatabaseError, ReportError, WorkbenchError
from lt_workbench.reports.parameters import db_path, scope_where, scope_words, validate_parameters
from lt_workbench.reports.runner import ReportResult, output_problem, output_stem, run_report, snapshot_date

__all__ = ["BatchResult", "load_batch", "run_batch", "MAX_REPORTS", "MAX_BATCH_BYTES"]


@dataclass
class BatchResult:
    """A batch run: the dated folder, the manifest and one result per report."""

    folder: Path
    manifest: Path
    results: list[ReportResult] = field(default_factory=list)

    @property
    def failed(self) -> list[ReportResult]:
        """The reports that did not produce their page."""
        return [r for r in self.results if r.status != "ok"]

    @property
    def exit_code(self) -> int:
        """0 when every report succeeded, 1 when some failed (the rest were still written)."""
        return 1 if self.failed else 0


MAX_BATCH_BYTES = 1_000_000  # a batch file lists reports; anything bigger is not one
MAX_REPORTS = 1_000  # after for_each expansion


def load_batch(path: str | Path) -> dict[str, Any]:
    """Read a batch file (TOML): optional `out`, `[defaults]`, and `[[report]]` entries.

    Each entry: `name`, optional `parameters` table, optional `for_each = "region"` (or "nation") to run
    once per value found in the database, optional `output` stem. Raises ReportError on a malformed file
    (wrong shape, a key it does not know, text with NUL or control characters, an `out` folder outside
    the current folder). Output names are judged per report by `output_problem` when the batch runs.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BATCH_BYTES:
            raise ReportError(f"batch file {p} is {size:,} bytes; a batch file is a short list of reports (at most {MAX_BATCH_BYTES:,} bytes)")
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"batch file {p} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ReportError(f"batch file {p} is not valid TOML: {e}") from None
    except OSError as e:
        raise ReportError(f"batch file {p} cannot be read: {e.strerror or e}") from None
    allowed = {"out", "defaults", "report", "description"}
    extra = sorted(set(data) - allowed)
    if extra:
        raise ReportError(f"batch file {p}: unknown key(s) {', '.join(map(repr, extra))}; use out, description, [defaults] and [[report]]")
    entries = data.get("report")
    if not isinstance(entries, list) or not entries:
        raise ReportError(f"batch file {p}: list reports as [[report]] tables, each with name = \"...\"")
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "name" not in entry:
            raise ReportError(f"batch file {p}: report {i} has no name")
        if not isinstance(entry["name"], str):
            raise ReportError(f"batch file {p}: report {i}: name must be a string, e.g. name = \"cross_review_summary\"")
        unknown = sorted(set(entry) - {"name", "parameters", "for_each", "output"})
        if unknown:
            raise ReportError(f"batch file {p}: report {i} ({entry['name']!r}): unknown key(s) {', '.join(map(repr, unknown))}")
        if "for_each" in entry and entry["for_each"] not in ("region", "nation"):
            raise ReportError(f"batch file {p}: report {i}: for_each must be \"region\" or \"nation\"")
        if not isinstance(entry.get("parameters", {}), dict):
            raise ReportError(f"batch file {p}: report {i} ({entry['name']!r}): parameters must be a table, "
                              f"e.g. parameters = {{ pattern = \"P2.1\" }}")
        if not isinstance(entry.get("output", ""), str):
            raise ReportError(f"batch file {p}: report {i} ({entry['name']!r}): output must be a file name (a string)")
        if "for_each" in entry and entry["for_each"] in (entry.get("parameters") or {}):
            raise ReportError(f"batch file {p}: report {i} ({entry['name']!r}): for_each = {entry['for_each']!r} runs once per "
                              f"{entry['for_each']}; remove parameters.{entry['for_each']}")
    if not isinstance(data.get("out", ""), str):
        raise ReportError(f"batch file {p}: out must be a folder name (a string)")
    if not isinstance(data.get("defaults", {}), dict):
        raise ReportError(f"batch file {p}: [defaults] must be a table of parameters")
    _check_text(p, data)
    if "out" in data:
        out = data["out"]
        if not out.strip() or Path(out).is_absolute() or ".." in Path(out).parts or out.startswith("~"):
            raise ReportError(f"batch file {p}: out = {out!r}: a batch file may only name a folder below the current one "
                              "(no absolute path, no '..'); to write elsewhere, give --out on the command line")
    return data


def _check_text(p: Path, value: Any, where: str = "") -> None:
    """Every string in the file (keys and values) free of NUL and control characters, and of sane length."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            _check_text(p, k, where)
            if where.startswith("report[") and k == "output":
                continue  # judged per report by output_problem: a bad name fails that report, in the manifest
            _check_text(p, v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value, start=1):
            _check_text(p, v, f"{where}[{i}]")
    elif isinstance(value, str):
        bad = next((c for c in value if ord(c) < 32 and c not in "\t"), None)
        if bad is not None or "\x7f" in value:
            ch = bad if bad is not None else "\x7f"
            raise ReportError(f"batch file {p}: {where or 'a key'}: {value[:60]!r} contains a control character ({ch!r}, "
                              f"at character {value.index(ch) + 1}); write plain text")
        if len(value) > 4096:
            raise ReportError(f"batch file {p}: {where or 'a key'}: {len(value):,} characters is too long for a batch file value")


def _expand(entry: Mapping[str, Any], defaults: Mapping[str, Any], db: Path) -> list[tuple[str, dict[str, Any], str | None]]:
    """One batch entry -> [(name, parameters, output stem)], expanding for_each over the database's values.

    The entry's parameters are checked first (ParameterError otherwise), so a value of the wrong type
    (review_types = "serious_case_review", a string) means what it says rather than expanding to nothing;
    the values of for_each are those with reviews in the checked scope, in the frame's order.
    """
    params = {**defaults, **dict(entry.get("parameters") or {})}
    key = entry.get("for_each")
    if key is None:
        return [(entry["name"], params, entry.get("output"))]
    checked = validate_parameters(entry["name"], {**params, "db": str(db)})
    from lt_workbench.analysis import tabulate

    scope = {k: checked[k] for k in ("nation", "year_from", "year_to", "review_types") if k != key}
    if key == "nation":
        scope.pop("nation", None)
    table = tabulate.frequency(key, where=scope_where(scope), db=db, disclosure="restricted")
    values = [code for code, n in zip(table["code"], table["count"], strict=True) if n > 0]
    if not values:
        raise ReportError(f"for_each = {key!r}: no {key} has reviews in this scope ({scope_words(checked)})")
    return [(entry["name"], {**params, key: v}, None) for v in values]


def run_batch(path: str | Path, out: str | Path | None = None, db: str | Path | None = None) -> BatchResult:
    """Run every report of a batch file into OUT/<date of the data snapshot>/, keep going past failures,
    and write manifest.json there. The manifest lists each report's parameters, status, duration,
    output paths (relative to the folder) and error.

    Every report's output name is checked before any report runs; a report whose name is unusable (a
    path, '..', a NUL, too long) or repeats another's fails with a located message and is not run.
    """
    batch = load_batch(path)
    where = f"batch file {Path(path)}"
    database = db_path(db if db is not None else (batch.get("defaults") or {}).get("db"))
    if not database.exists():
        raise DatabaseError(f"database {database} does not exist: load reviews first with `lt-workbench load PATH --db {database}`")
    base = Path(out) if out is not None else (Path(batch["out"]) if "out" in batch else config.REPORTS_DIR)
    folder = base / snapshot_date(database)
    defaults = {**(batch.get("defaults") or {}), "db": str(database)}

    # Plan every report (expansions and names) before anything runs or is written.
    planned: list[tuple[str, dict[str, Any], str | None] | ReportResult] = []
    taken: dict[str, str] = {}
    for i, entry in enumerate(batch["report"], start=1):
        label = f"{where}: report {i} ({entry['name']!r})"
        stem = entry.get("output")
        problem = output_problem(stem) if stem is not None else None
        if problem is None and stem is not None and "for_each" in entry:
            problem = "cannot be combined with for_each (each report of the expansion gets its own name)"
        if problem is not None:
            planned.append(ReportResult(entry["name"], _jsonable(entry.get("parameters") or {}), "failed",
                                        error=f"{label}: output {stem!r} {problem}"))
            continue
        try:
            jobs = _expand(entry, defaults, database)
        except WorkbenchError as e:
            planned.append(ReportResult(entry["name"], _jsonable(entry.get("parameters") or {}), "failed", error=f"{label}: {e}"))
            continue
        for name, params, job_stem in jobs:
            try:
                checked = validate_parameters(name, params)
            except WorkbenchError as e:
                planned.append(ReportResult(name, _jsonable(params), "failed", error=f"{label}: {e}"))
                continue
            final = job_stem if job_stem is not None else output_stem(name, checked)
            if final in taken:
                planned.append(ReportResult(name, _jsonable(params), "failed",
                                            error=f"{label}: its files would be {final}.html, which {taken[final]} writes too; "
                                                  "give one of them another output name"))
                continue
            taken[final] = f"report {i}"
            planned.append((name, params, final))
    if len(planned) > MAX_REPORTS:
        raise ReportError(f"{where}: {len(planned)} reports after for_each; at most {MAX_REPORTS} in one batch")

    folder.mkdir(parents=True, exist_ok=True)
    refused = _protect_jointly(planned, f"batch {Path(path).name}")
    results: list[ReportResult] = []
    for job in planned:
        if isinstance(job, ReportResult):
            results.append(job)
            continue
        name, params, stem = job
        if refused is not None and validate_parameters(name, params)["disclosure"] == "public":
            results.append(ReportResult(name, _jsonable(params), "failed", error=refused))
            continue
        started = time.monotonic()
        try:
            results.append(run_report(name, params, folder, stem=stem))
        except ReportError as e:
            res = getattr(e, "result", None) or ReportResult(name, _jsonable(params), "failed", error=str(e))
            res.duration = time.monotonic() - started
            results.append(res)
    from lt_workbench.model.snapshot import snapshot

    snap = snapshot(database)
    manifest = {
        "batch": Path(path).name,
        "folder": folder.name,
        "folder_date_basis": "date of the last data load (same data, same folder)",
        "data_snapshot": {k: snap[k] for k in ("reviews", "children", "years", "last_load", "content_hash", "taxonomy_versions")},
        "summary": {"reports": len(results), "ok": sum(r.status == "ok" for r in results), "failed": sum(r.status != "ok" for r in results)},
        "reports": [r.as_dict(relative_to=folder) for r in results],
    }
    target = folder / "manifest.json"
    tmp = folder / ".manifest.json.partial"
    tmp.write_text(json.dumps(_jsonable(manifest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return BatchResult(folder, target, results)


def _protect_jointly(planned: list[tuple[str, dict[str, Any], str | None] | ReportResult], name: str) -> str | None:
    """Protect the union of the public reports' plans as ONE joint problem in the snapshot's release, before any
    report runs (each report then finds its cells decided in the ledger). Returns why it was refused, or None.

    A report whose context or plan cannot be built is left out here: it fails on its own, with its own message.
    """
    from lt_workbench.reports.context import setup
    from lt_workbench.reports.plan import publish_batch

    contexts = []
    for job in planned:
        if isinstance(job, ReportResult):
            continue
        report, params, _ = job
        try:
            ctx = setup(report, params, prepare=False)
            if ctx.public:
                contexts.append(ctx)
        except WorkbenchError:
            continue
    try:
        publish_batch(contexts, name)
    except WorkbenchError as e:
        return f"{name}: the public reports' tables could not be protected together, so none was published: {e}"
    return None


def _jsonable(value: Any) -> Any:
    """Parameters and paths as JSON values (paths as text)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
