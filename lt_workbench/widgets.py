"""The documented explorer widgets (`from lt_workbench.widgets import Explorer`).

A stable public name: the widgets live in `lt_workbench.explorer`; this module re-exports them.
"""

from lt_workbench.explorer import *  # noqa: F403
from lt_workbench.explorer import __all__ as _all

__all__ = list(_all)
