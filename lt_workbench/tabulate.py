"""The documented tabulation API (`lt_workbench.tabulate.frequency(...)` and friends).

A stable public name: the functions live in `lt_workbench.analysis`; this module re-exports them.
"""

from lt_workbench.analysis.tabulate import *  # noqa: F403
from lt_workbench.analysis.tabulate import __all__ as _all

__all__ = list(_all)
