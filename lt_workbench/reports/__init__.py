"""Parameterised report notebooks run headlessly with papermill (runner) and the code they call (context)."""

from lt_workbench.reports.runner import *  # noqa: F403
from lt_workbench.reports.runner import __all__ as _runner_all

__all__ = list(_runner_all)
