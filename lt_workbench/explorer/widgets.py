"""The explorer's public names under their first module path (`lt_workbench.explorer.widgets`).

Kept so notebooks written against it keep working; the code lives in the modules of
`lt_workbench.explorer` (see its docstring), and the documented name is `lt_workbench.widgets`.
"""

from lt_workbench.explorer import *  # noqa: F403
from lt_workbench.explorer import __all__ as _all

__all__ = list(_all)
