"""Ctrl-C before a command has begun (while the group is built or the command line parsed) says so and exits 130.

typer turns a KeyboardInterrupt met while parsing into a silent exit 130; the random-kill test of the loader
found that window (a long list of paths takes a moment to parse). Nothing has begun, and the message says it.
"""

from __future__ import annotations

import importlib
import sys

import pytest

# the module, not the `main` function that lt_workbench.cli re-exports under the same name
cli_main = importlib.import_module("lt_workbench.cli.main")


def _interrupt(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["parse", "build"])
def test_ctrl_c_before_the_command_begins_is_reported(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                       where: str) -> None:
    if where == "parse":
        monkeypatch.setattr(cli_main._Group, "parse_args", _interrupt)
    else:
        monkeypatch.setattr(cli_main.typer.main, "get_command", _interrupt)
    monkeypatch.setattr(sys, "argv", ["lt-workbench", "info", "--db", "nowhere.duckdb"])
    with pytest.raises(SystemExit) as ended:
        cli_main.main()
    assert ended.value.code == 130
    assert capsys.readouterr().err.strip() == "lt-workbench: interrupted"
