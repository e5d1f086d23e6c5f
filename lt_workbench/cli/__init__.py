"""The `lt-workbench` command line: one module per command group; rendering lives here."""

from lt_workbench.cli.main import app, main

__all__ = ["app", "main"]
