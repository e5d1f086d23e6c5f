"""Run one report notebook headlessly: papermill, a normalised notebook, and a self-contained HTML page.

Most people who need the findings never open Jupyter, so each notebook in `notebooks/` is run by
papermill with checked parameters (lt_workbench.reports.parameters) and exported to a self-contained
HTML page (inputs hidden, plotly interactive and offline, a print stylesheet for A4). The notebooks
stay thin: they call `lt_workbench.reports.context.setup()` for a `ReportContext`, which holds the
scope and the disclosure settings and passes every table through the analysis API's disclosure
control before anything is drawn. Same data and parameters give the same files: volatile metadata
(timestamps, durations, random cell ids, figure ids) is fixed or removed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lt_workbench.exceptions import ParameterError, ReportError
from lt_workbench.reports.parameters import parse_cli_parameters, scope_words, validate_parameters
from lt_workbench.reports.registry import COMMON_PARAMETERS, PROFILE_NAMES, REPORTS, ReportSpec, get_spec

__all__ = [
    "ReportResult",
    "output_stem",
    "run_report",
    "normalise_notebook",
    "export_html",
    "snapshot_date",
    "output_problem",
    "MAX_STEM",
    "KERNEL_NAME",
    "CELL_TIMEOUT",
]
# Older callers (the CLI) reach these through this module; they live in registry and parameters.
_REEXPORTED = (COMMON_PARAMETERS, PROFILE_NAMES, REPORTS, ParameterError, ReportError, parse_cli_parameters, validate_parameters)

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
    spec = get_spec(name)
    parts = [name]
    for p in spec.params:
        if p.name == "db" or p.name not in params or params[p.name] == p.default:
            continue
        value = params[p.name]
        text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        parts.append(f"{p.name}-{text}")
    stem = re.sub(r"[^A-Za-z0-9._,-]+", "_", "--".join(parts))
    if len(stem) > MAX_STEM:
        stem = stem[:100] + "--" + hashlib.sha256(stem.encode()).hexdigest()[:10]
    return stem


MAX_STEM = 120  # characters of an output name (file names stay well under 255 bytes with their suffix)
_STEM_OK = re.compile(r"\w[\w.,-]*")


def output_problem(stem: str) -> str | None:
    """Why `stem` cannot name a report's files inside its folder, or None when it can.

    A name is one plain file name: letters, digits, '_', '-', '.', ','; starting with a letter, digit
    or '_'; no folder separators (so no absolute path and no '..'); at most MAX_STEM characters.
    """
    if not stem.strip():
        return "is empty"
    if len(stem) > MAX_STEM:
        return f"is {len(stem)} characters long; at most {MAX_STEM}"
    if "/" in stem or "\\" in stem or ".." in stem:
        return "names a path, not a file name: outputs stay inside the output folder (no '/', no '..', no absolute path)"
    if not _STEM_OK.fullmatch(stem):
        bad = next((c for c in stem if not (c.isalnum() or c in "_.,-")), stem[0])
        return (f"has {bad!r} at character {stem.index(bad) + 1}: use letters, digits, '_', '-', '.' and ',' only, "
                "starting with a letter, digit or '_'")
    return None


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
.lt-findings { border: 1px solid #cbd2d9; border-left: 6px solid #0072B2; border-radius: 6px; padding: 8px 18px; margin: 8px 0 16px 0; max-width: 1100px; }
.lt-findings h2 { margin-top: 0.3em; border-bottom: none; }
.lt-findings li { margin: 4px 0; }
/* Printed or saved as PDF on A4: figures, tables and boxes kept whole on a page, charts redrawn to the page width. */
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body.jp-Notebook { max-width: none; padding: 0; }
  .jp-RenderedHTMLCommon { font-size: 10pt; }
  .jp-OutputArea-output { overflow: visible !important; }
  .js-plotly-plot, .plotly-graph-div, table.lt-table, .lt-header, .lt-findings, .lt-banner, .lt-excerpt, .lt-note,
  .jp-OutputArea-child { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3, table.lt-table caption { break-after: avoid; page-break-after: avoid; }
  table.lt-table { font-size: 8.5pt; }
  table.lt-table td:first-child { min-width: 0; }
  .modebar-container { display: none !important; }
  a.lt-ref { color: inherit; text-decoration: none; }
}
</style>
<script>
// Before printing, draw every chart at the printable width of A4 (186 mm at 96 dpi); afterwards, at the window's.
(function () {
  function fit(width) {
    if (!window.Plotly) { return; }
    document.querySelectorAll(".js-plotly-plot").forEach(function (div) {
      try { window.Plotly.relayout(div, width ? {width: width, autosize: false} : {width: null, autosize: true}); } catch (e) {}
    });
  }
  window.addEventListener("beforeprint", function () { fit(700); });
  window.addEventListener("afterprint", function () { fit(null); });
})();
</script>
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
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
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
    return f"{spec.title} — {scope_words(params)}"


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

    spec = get_spec(name)
    given = dict(params or {})
    if db is not None:
        given["db"] = str(db)
    values = dict(given) if validated else validate_parameters(name, given)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or output_stem(name, values)
    problem = output_problem(stem)
    if problem is not None:
        raise ParameterError(f"report {name!r}: output name {stem!r} {problem}")
    ipynb, page = out / f"{stem}.ipynb", out / f"{stem}.html"
    # Executed into hidden files first: last run's report is replaced only once this one succeeded.
    work, work_page, failed = out / f".{stem}.partial.ipynb", out / f".{stem}.partial.html", out / f"{stem}.failed.ipynb"
    started = time.monotonic()
    try:
        pm.execute_notebook(
            str(spec.notebook), str(work), parameters=values, kernel_name=KERNEL_NAME, cwd=str(spec.notebook.parent),
            progress_bar=False, log_output=False, execution_timeout=CELL_TIMEOUT, report_mode=False,
            kernel_manager_class=_kernel_manager_class(),
        )
    except PapermillExecutionError as e:
        nb = _rewrite_normalised(work, failed)
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
        err.result = ReportResult(name, values, "failed", failed if failed.exists() else None, None,  # type: ignore[attr-defined]
                                  time.monotonic() - started, str(err))
        raise err from None
    except Exception as e:  # kernel died, notebook missing, ...
        _rewrite_normalised(work, failed)
        err = ReportError(f"report {name!r}: notebook {spec.notebook.name} could not be executed: {type(e).__name__}: {e}")
        err.result = ReportResult(name, values, "failed", failed if failed.exists() else None, None,  # type: ignore[attr-defined]
                                  time.monotonic() - started, str(err))
        raise err from e
    nb = _rewrite_normalised(work, work)
    work_page.write_text(export_html(nb, _title(spec, values)), encoding="utf-8")
    os.replace(work, ipynb)
    os.replace(work_page, page)
    failed.unlink(missing_ok=True)
    return ReportResult(name, values, "ok", ipynb, page, time.monotonic() - started, None)


def _rewrite_normalised(path: Path, target: Path) -> Any:
    """Read the executed notebook at `path`, normalise it and write it to `target` (removing `path`)."""
    import nbformat

    if not path.exists():
        return None
    nb = normalise_notebook(nbformat.read(str(path), as_version=4))  # type: ignore[no-untyped-call]
    nbformat.write(nb, str(target))  # type: ignore[no-untyped-call]
    if target != path:
        path.unlink(missing_ok=True)
    return nb



def snapshot_date(db: str | Path | None) -> str:
    """Date of the last data load (YYYY-MM-DD): names a report's folder, so the same data gives the same folder."""
    from lt_workbench.model.snapshot import snapshot

    last = snapshot(db)["last_load"]
    return last[:10] if last and last != "never" else dt.date.today().isoformat()
