"""A deterministic synthetic corpus with documented planted structure."""

from lt_workbench.synth.builder import *  # noqa: F403
from lt_workbench.synth.builder import __all__ as _builder_all

__all__ = list(_builder_all)
