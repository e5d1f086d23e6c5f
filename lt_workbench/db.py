"""The documented database entry point (`lt_workbench.db.connect()`).

A stable public name: the database code lives in `lt_workbench.model.db`; this module re-exports it.
"""

from lt_workbench.model.db import *  # noqa: F403
from lt_workbench.model.db import __all__ as _all

__all__ = list(_all)
