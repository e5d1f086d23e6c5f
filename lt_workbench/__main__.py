"""`python -m lt_workbench` runs the CLI."""

from .cli import main

main()
