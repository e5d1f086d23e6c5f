"""`python -m lt_workbench` runs the CLI."""

from lt_workbench.cli.main import main

main()
