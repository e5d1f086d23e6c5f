"""Checks for developers: module and class sizes (`python -m lt_workbench.devtools.layout`)."""

__all__: list[str] = []
