"""Parameterised report notebooks run headlessly with papermill.

registry (the reports and their parameters, read from the notebooks), parameters (checks), runner
(one report), batch (many), context and sections (what runs inside a notebook's kernel), text
(generated words). The names below are the package's public API, as before the split.
"""

from lt_workbench.reports.batch import BatchResult, load_batch, run_batch
from lt_workbench.reports.parameters import parse_cli_parameters, validate_parameters
from lt_workbench.reports.registry import COMMON_PARAMETERS, PROFILE_NAMES, REPORTS, Param, ReportSpec, report_names
from lt_workbench.reports.runner import ReportResult, export_html, normalise_notebook, output_stem, run_report, snapshot_date

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
