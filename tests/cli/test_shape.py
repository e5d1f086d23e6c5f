"""The command line's shape: help texts, --version, exit codes, and the one output helper (emit)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import typer.main
from typer.testing import CliRunner

from lt_workbench import __version__
from lt_workbench.cli import app
from lt_workbench.cli.output import cli_message, describe_filters, header_text, resolve_format

runner = CliRunner()


def _commands() -> list[list[str]]:
    group = typer.main.get_command(app)
    out: list[list[str]] = [[]]

    def walk(cmd: object, path: list[str]) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            out.append([*path, name])
            walk(sub, [*path, name])

    walk(group, [])
    return out


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "lt-workbench")
def test_help_has_no_internal_type_names(path: list[str]) -> None:
    res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    text = res.output
    assert not re.search(r"<(str|int|bool|path|float|list\[[^>]*\])>", text), text
    assert not re.search(r"\{[a-z_]+\}", text), text  # typer's {paths} for a required argument
    assert "list[" not in text and "Optional[" not in text


def test_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"lt-workbench {__version__}"


def test_batch_help_shows_the_toml_layout() -> None:
    res = runner.invoke(app, ["batch", "--help"], env={"COLUMNS": "200"})
    assert "[defaults]" in res.output and "[[report]]" in res.output and "for_each" in res.output


def test_report_without_a_name_says_why_it_lists(corpus_db: Path) -> None:
    res = runner.invoke(app, ["report"])
    assert res.exit_code == 2
    assert "no report named" in res.stderr and "cross_review_summary" in res.stdout


@pytest.mark.parametrize(("fmt", "out", "ok"), [
    ("csv", "t.csv", True), (None, "t.md", True), (None, "t.json", True), ("markdown", "t.markdown", True),
    ("csv", "board.xlsx", False), ("json", "t.csv", False), (None, "t.txt", False), ("excel", None, False),
])
def test_out_extension_must_agree_with_format(corpus_db: Path, tmp_path: Path, fmt: str | None, out: str | None,
                                              ok: bool) -> None:
    args = ["tabulate", "sex", "--unit", "child", "--db", str(corpus_db)]
    args += ["--format", fmt] if fmt else []
    args += ["--out", str(tmp_path / out)] if out else []
    res = runner.invoke(app, args)
    if ok:
        assert res.exit_code == 0, res.output
        assert (tmp_path / out).exists()  # type: ignore[operator]
    else:
        assert res.exit_code == 2, res.output
        assert not any(tmp_path.iterdir()), "nothing is written on a usage error"


def test_format_inferred_from_out(corpus_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "sex.json"
    res = runner.invoke(app, ["tabulate", "sex", "--unit", "child", "--db", str(corpus_db), "--out", str(out)])
    assert res.exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["meta"]["unit"] == "child"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sex.json", "sex.json.meta.json"], "no temporary file left beside the output (only its About facts)"


def test_header_names_unit_disclosure_and_filters(corpus_db: Path) -> None:
    res = runner.invoke(app, ["tabulate", "patterns", "--level", "1", "--where", "region=north_west",
                              "--where", "review_type=serious_case_review", "--db", str(corpus_db)])
    assert res.exit_code == 0, res.output
    first = res.stderr.splitlines()[0]
    assert first.startswith("unit: reviews; disclosure: public; filters: ")
    assert "region=north_west" in first and "review-type=serious_case_review" in first
    assert "unit:" not in res.stdout, "the header goes to stderr; stdout is the table alone"


def test_header_prints_every_warning() -> None:
    table = pd.DataFrame({"code": ["a"], "count": [1]})
    table.attrs.update({"unit": "review", "unit_label": "reviews", "disclosure": "public", "where": {"area": "SYN-01"},
                        "warnings": ["first warning", "second warning"]})
    text = header_text(table)
    assert "warning: first warning" in text and "warning: second warning" in text
    assert "SYN-01" not in text, "public output never echoes an area code"


def test_describe_filters_forms() -> None:
    assert describe_filters({}) == "none"
    assert describe_filters({"year": range(2015, 2020), "age_band": ["under_1", "1_to_4"]}) == \
        "year=2015..2019, age-band=under_1,1_to_4"


def test_resolve_format_defaults_to_csv() -> None:
    assert resolve_format(None, None).name == "csv"
    assert resolve_format(None, Path("x.MD")).name == "markdown"


def test_deliberate_error_is_a_message_and_exit_2(corpus_db: Path) -> None:
    res = runner.invoke(app, ["tabulate", "patterns", "--where", "region=atlantis", "--db", str(corpus_db)])
    assert res.exit_code == 2
    assert res.stderr.startswith("lt-workbench: error: ") and "atlantis" in res.stderr
    assert "Traceback" not in res.output


@pytest.mark.parametrize(("api", "cli"), [
    ("code 'X' is in several frames (a, b): name one with frame=", "code 'X' is in several frames (a, b): name one with --frame"),
    ("run it with disclosure='restricted' (CLI: --disclosure restricted) and keep", "run it with --disclosure restricted and keep"),
    ("unknown year_basis 'x': use one of completed", "unknown --year-basis 'x': use one of completed"),
    ("'pattern' can filter (where) but not group (by); to cross it with a frame use cooccurrence()",
     "'pattern' can filter (--where) but not group (--by); to cross it with a frame use lt-workbench cooccurrence"),
    ("where review_type='x' is not a known value", "--where review-type='x' is not a known value"),
    ("refused: to count pairs with P2.1 use with_code='P2.1'", "refused: to count pairs with P2.1 use --with 'P2.1'"),
    ("region 'north_west' stays as it is", "region 'north_west' stays as it is"),
    ("to see the pairs that include P2.1 use with_code='P2.1' (CLI: --with P2.1)", "to see the pairs that include P2.1 use --with P2.1"),
])
def test_messages_name_options_not_python_arguments(api: str, cli: str) -> None:
    assert cli_message(api) == cli


def test_error_names_dimensions_as_the_command_line_spells_them(corpus_db: Path) -> None:
    res = runner.invoke(app, ["tabulate", "patterns", "--by", "review_typ", "--db", str(corpus_db)])
    assert res.exit_code == 2 and "review-type" in res.stderr and "review_type" not in res.stderr


def test_report_list_speaks_command_line() -> None:
    res = runner.invoke(app, ["report", "--list"])
    assert res.exit_code == 0
    assert "-p year_from=YEAR" in res.output and "-p disclosure=public|restricted" in res.output
    assert not re.search(r"\((str|int|list|date)[,)]|default None|None =", res.output), res.output
