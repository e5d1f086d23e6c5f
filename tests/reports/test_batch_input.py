"""Batch files are untrusted input: outputs stay in the batch folder, names are checked before anything
runs, nothing is deleted before a report succeeds, and wrong-typed parameters never expand to nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from lt_workbench import reports
from lt_workbench.config import REPO_ROOT
from lt_workbench.exceptions import ParameterError, ReportError
from lt_workbench.reports import batch

pytestmark = pytest.mark.timeout(900)

FAILING = Path(__file__).parent.parent / "data" / "reports" / "failing.ipynb"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lt_workbench.model.load import load

    db = tmp_path_factory.mktemp("batch-db") / "sample.duckdb"
    result = load([str(REPO_ROOT / "data" / "sample")], db)
    assert result.exit_code == 0, result.summary()
    return db


@pytest.fixture
def failing_report(monkeypatch: pytest.MonkeyPatch) -> str:
    spec = reports.ReportSpec("failing_fixture", FAILING, "Failing fixture", "fails on purpose", reports.COMMON_PARAMETERS)
    monkeypatch.setitem(reports.REPORTS, spec.name, spec)
    return spec.name


def _regions_with(db: Path, review_type: str) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = {r for (r,) in con.execute("SELECT DISTINCT region FROM reviews WHERE review_type = ?", [review_type]).fetchall()}
        order = [c for (c,) in con.execute("SELECT code FROM taxonomy WHERE frame = 'region' ORDER BY sort_key").fetchall()]
    finally:
        con.close()
    return [c for c in order if c in found]


def test_a_string_where_a_list_is_expected_still_expands(sample_db: Path) -> None:
    """review_types = "serious_case_review" (a string) used to expand for_each to zero reports, silently."""
    entry = {"name": "cross_review_summary", "for_each": "region", "parameters": {"review_types": "serious_case_review"}}
    jobs = batch._expand(entry, {"disclosure": "public"}, sample_db)
    expected = _regions_with(sample_db, "serious_case_review")
    assert expected and [p["region"] for _, p, _ in jobs] == expected


def test_a_misspelt_parameter_in_a_for_each_entry_fails_that_entry_with_its_message(sample_db: Path) -> None:
    entry = {"name": "cross_review_summary", "for_each": "region", "parameters": {"review_types": "serious_case_reveiw"}}
    with pytest.raises(ParameterError, match="did you mean 'serious_case_review'"):
        batch._expand(entry, {}, sample_db)


@pytest.mark.parametrize(("output", "words"), [
    ("../../victim", "names a path"),
    ("/tmp/victim", "names a path"),
    ("sub/dir", "names a path"),
    ("..", "names a path"),
    ("bad\u0000name", "has '\\x00' at character 4"),
    ("x" * 300, "300 characters long; at most 120"),
    ("-rf", "at character 1"),
    (".hidden", "at character 1"),
    ("", "is empty"),
])
def test_hostile_output_names_fail_with_a_located_message_and_a_manifest(
    sample_db: Path, tmp_path: Path, output: str, words: str
) -> None:
    victim = tmp_path / "victim.html"
    victim.write_text("precious", encoding="utf-8")
    path = tmp_path / "hostile.toml"
    path.write_text(f'[[report]]\nname = "recommendations_tracker"\noutput = {json.dumps(output)}\n', encoding="utf-8")
    result = batch.run_batch(path, out=tmp_path / "out", db=sample_db)
    assert result.exit_code == 1
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    (entry,) = manifest["reports"]
    assert entry["status"] == "failed" and entry["outputs"] == {"notebook": None, "html": None}
    assert f"{path}: report 1 ('recommendations_tracker'): output {output!r}" in entry["error"] and words in entry["error"]
    assert victim.read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in result.folder.iterdir()) == ["manifest.json"]


def test_two_reports_writing_the_same_file_are_refused_before_running(sample_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "twice.toml"
    path.write_text('[[report]]\nname = "cross_review_summary"\noutput = "same"\nparameters = { region = "london" }\n\n'
                    '[[report]]\nname = "recommendations_tracker"\noutput = "same"\nparameters = { region = "atlantis" }\n\n'
                    '[[report]]\nname = "cross_review_summary"\noutput = "same"\nfor_each = "nation"\n', encoding="utf-8")
    planned = []
    original = batch.run_report

    def spy(*args: object, **kwargs: object) -> None:
        planned.append((args, kwargs))
        raise ReportError("not run in this test")

    batch.run_report = spy  # type: ignore[assignment]
    try:
        result = batch.run_batch(path, out=tmp_path / "out", db=sample_db)
    finally:
        batch.run_report = original
    errors = [r.error or "" for r in result.results]
    assert len(planned) == 1  # only the first entry reaches the runner
    assert "atlantis" in errors[1]  # a bad parameter is reported as such, before any name clash
    assert "cannot be combined with for_each" in errors[2]


def test_a_nul_in_a_parameter_is_refused_before_anything_runs(sample_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "nul.toml"
    path.write_text('[[report]]\nname = "recommendations_tracker"\nparameters = { region = "lon\\u0000don" }\n', encoding="utf-8")
    with pytest.raises(ReportError) as info:
        batch.run_batch(path, out=tmp_path / "out", db=sample_db)
    assert "report[1].parameters.region" in str(info.value) and "control character" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_an_out_folder_outside_the_current_one_is_refused(tmp_path: Path) -> None:
    for out in ("/etc", "../elsewhere", "~/x"):
        path = tmp_path / "out.toml"
        path.write_text(f'out = "{out}"\n[[report]]\nname = "recommendations_tracker"\n', encoding="utf-8")
        with pytest.raises(ReportError, match="give --out on the command line"):
            batch.load_batch(path)


def test_an_oversized_batch_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * batch.MAX_BATCH_BYTES + "\n", encoding="utf-8")
    with pytest.raises(ReportError, match="a batch file is a short list"):
        batch.load_batch(path)


def test_a_failing_report_deletes_nothing(sample_db: Path, tmp_path: Path, failing_report: str) -> None:
    """Last run's report stays until this run's has succeeded; the failed run is kept apart for debugging."""
    path = tmp_path / "keep.toml"
    path.write_text(f'[[report]]\nname = "{failing_report}"\noutput = "weekly"\n', encoding="utf-8")
    folder = tmp_path / "out" / reports.snapshot_date(sample_db)
    folder.mkdir(parents=True)
    (folder / "weekly.html").write_text("last week's report", encoding="utf-8")
    (folder / "weekly.ipynb").write_text("{}", encoding="utf-8")
    result = batch.run_batch(path, out=tmp_path / "out", db=sample_db)
    assert result.exit_code == 1
    assert (folder / "weekly.html").read_text(encoding="utf-8") == "last week's report"
    assert (folder / "weekly.ipynb").read_text(encoding="utf-8") == "{}"
    (entry,) = json.loads(result.manifest.read_text(encoding="utf-8"))["reports"]
    assert entry["outputs"]["notebook"] == "weekly.failed.ipynb" and (folder / "weekly.failed.ipynb").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no partial files left


def test_cli_batch_prints_the_name_it_wrote(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from lt_workbench.cli import app

    def fake_run(name: str, params: dict, folder: Path, *, stem: str | None = None, **_: object) -> reports.ReportResult:
        folder.mkdir(parents=True, exist_ok=True)
        page = folder / f"{stem}.html"
        page.write_text("page", encoding="utf-8")
        return reports.ReportResult(name, dict(params), "ok", folder / f"{stem}.ipynb", page, 0.0, None)

    monkeypatch.setattr(batch, "run_report", fake_run)
    path = tmp_path / "named.toml"
    path.write_text('[[report]]\nname = "recommendations_tracker"\noutput = "tracker_for_the_board"\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["batch", str(path), "--db", str(sample_db), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "ok     recommendations_tracker tracker_for_the_board" in res.output


def test_run_report_refuses_a_path_as_its_name(sample_db: Path, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="names a path"):
        reports.run_report("recommendations_tracker", {}, tmp_path, db=sample_db, stem="../escape")
