"""Report notebooks run headlessly: parameters, papermill, HTML, disclosure in the output, batches, reproducibility.

Every notebook is executed once per disclosure mode against the sample database (module-scoped, two
at a time), and the tests read those files. Public output is checked the way an output checker
would: no free text or area name from the loaded reviews anywhere in the page, no count below the
threshold in any table cell or figure trace, no script fetched from the network.
"""

from __future__ import annotations

import concurrent.futures as cf
import html
import json
import multiprocessing
import os
import re
import sys
from pathlib import Path
from typing import Any

import duckdb
import nbformat
import pytest
from bs4 import BeautifulSoup

from lt_workbench import __version__, reports
from lt_workbench.reports import batch, plan
from lt_workbench.config import REPO_ROOT
from lt_workbench.exceptions import ParameterError, ReportError

pytestmark = pytest.mark.timeout(900)

FAILING = Path(__file__).parent.parent / "data" / "reports" / "failing.ipynb"
THRESHOLD = 6  # DfE: counts 1-5 are hidden


# --------------------------------------------------------------------------------------------
# Fixtures: one sample database, one executed set of notebooks


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lt_workbench.model.load import load

    db = tmp_path_factory.mktemp("reports-db") / "sample.duckdb"
    result = load([str(REPO_ROOT / "data" / "sample"), str(REPO_ROOT / "data" / "examples")], db)
    assert result.exit_code == 0, result.summary()
    return db


@pytest.fixture(scope="module")
def an_area(sample_db: Path) -> str:
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        return con.execute("SELECT min(area_code) FROM reviews WHERE region = 'north_west'").fetchall()[0][0]
    finally:
        con.close()


def _runs(area: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(report, mode) -> parameters: every notebook in both modes."""
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    for mode in ("public", "restricted"):
        runs[("cross_review_summary", mode)] = {"disclosure": mode}
        runs[("area_profile", mode)] = {"disclosure": mode, **({"region": "north_west"} if mode == "public" else {"area": area})}
        runs[("pattern_deep_dive", mode)] = {"disclosure": mode, "pattern": "P2.1"}
        runs[("recommendations_tracker", mode)] = {"disclosure": mode}
    return runs


def _run_one(name: str, params: dict[str, Any], out: str, db: str) -> reports.ReportResult:
    # Each run publishes into a release of its own, so its public numbers do not depend on which run went first.
    os.environ["LT_WORKBENCH_LEDGER"] = str(Path(out).parent / f"{name}-{Path(out).name}.releases.sqlite")
    return reports.run_report(name, params, out, db=db)


@pytest.fixture(scope="module")
def executed(sample_db: Path, an_area: str, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], reports.ReportResult]:
    """All eight runs, two at a time (2 cores), each in its own process so kernels do not share an event loop."""
    out = tmp_path_factory.mktemp("executed")
    runs = _runs(an_area)
    ctx = multiprocessing.get_context("spawn")
    # Strict plans: a standard report that publishes a table outside its plan (reports.plan) fails its run.
    saved = os.environ.get(plan.STRICT_ENV)
    os.environ[plan.STRICT_ENV] = "strict"
    try:
        with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
            futures = {key: pool.submit(_run_one, key[0], params, str(out / key[1]), str(sample_db)) for key, params in runs.items()}
            return {key: f.result() for key, f in futures.items()}
    finally:
        if saved is None:
            os.environ.pop(plan.STRICT_ENV, None)
        else:
            os.environ[plan.STRICT_ENV] = saved


def _public(executed: dict) -> list[tuple[str, reports.ReportResult]]:
    return [(name, r) for (name, mode), r in executed.items() if mode == "public"]


def _strip_bundle(page: str) -> str:
    """The page without the embedded plotly.js library (4.8 MB of code that is not report content)."""
    return re.sub(r"<script type=\"text/javascript\">/\*\*\s*\* plotly\.js v.*?</script>", "<script>PLOTLY_BUNDLE</script>", page,
                  count=1, flags=re.S)


def _figures(page: str) -> list[dict[str, Any]]:
    """Every Plotly.newPlot(id, data, layout, config) call in the page, parsed: [{'id', 'data', 'layout'}]."""
    dec = json.JSONDecoder()
    out = []
    for m in re.finditer(r"Plotly\.newPlot\(\s*", page):
        pos = m.end()
        parts = []
        for _ in range(3):
            value, end = dec.raw_decode(page, pos)
            parts.append(value)
            pos = end
            while page[pos] in " \n\t,":
                pos += 1
        out.append({"id": parts[0], "data": parts[1], "layout": parts[2]})
    return out


def _counts_in_figures(figures: list[dict[str, Any]]) -> list[Any]:
    """The values traces declare as counts (meta.counts: 'x', 'y', 'customdata[i]')."""
    values: list[Any] = []
    for fig in figures:
        for trace in fig["data"]:
            meta = trace.get("meta") or {}
            for field in meta.get("counts", []):
                if field in ("x", "y"):
                    values.extend(v for v in trace.get(field) or [])
                    continue
                idx = int(re.fullmatch(r"customdata\[(\d+)\]", field).group(1))
                for point in trace.get("customdata") or []:
                    cells = point if point and isinstance(point[0], list) else [point]  # heat maps: rows of cells
                    values.extend(cell[idx] for cell in cells if cell is not None and len(cell) > idx)
    return values


def _table_counts(page: str) -> list[str]:
    soup = BeautifulSoup(_strip_bundle(page), "html.parser")
    return [td.get_text(strip=True) for td in soup.select("table.lt-table td.lt-count")]


def _small(value: Any, threshold: int = THRESHOLD) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        text = value.replace(",", "").strip()
        if not re.fullmatch(r"\d+", text):
            return False
        value = int(text)
    return 0 < float(value) < threshold


# --------------------------------------------------------------------------------------------
# Execution and the HTML page


def test_every_notebook_runs_in_both_modes(executed: dict) -> None:
    assert len(executed) == 8
    for (name, mode), result in executed.items():
        assert result.status == "ok", (name, mode, result.error)
        assert result.notebook.exists() and result.html.exists()
        nb = nbformat.read(str(result.notebook), as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, (name, mode)
        assert nb.metadata["papermill"]["parameters"]["disclosure"] == mode


def test_html_has_figures_offline_and_inputs_hidden(executed: dict) -> None:
    for (name, mode), result in executed.items():
        page = result.html.read_text(encoding="utf-8")
        soup = BeautifulSoup(page, "html.parser")
        scripts = soup.find_all("script")
        assert not [s for s in scripts if s.get("src")], f"{name}: a script is loaded from elsewhere"
        assert not soup.find_all("link", href=re.compile(r"^(https?:)?//")), f"{name}: a stylesheet is loaded from elsewhere"
        bundles = [s for s in scripts if "plotly.js v" in (s.string or "")[:200]]
        assert len(bundles) == 1, f"{name}: plotly.js must be embedded exactly once"
        rest = _strip_bundle(page)
        # The bundle's own default for map files names the CDN; nothing else may.
        assert "cdn.plot.ly" not in rest and "cdnjs" not in rest and "unpkg.com" not in rest and "require.js" not in rest
        figures = _figures(page)
        assert len(figures) >= 3, f"{name} {mode}: expected figures in the HTML"
        assert [f["id"] for f in figures] == [f"lt-figure-{i:02d}" for i in range(1, len(figures) + 1)]
        for f in figures:
            assert soup.find("div", id=f["id"]) is not None
            assert f["data"], f"{name}: figure {f['id']} has no data"
        # Inputs hidden: no code cell source in the page.
        assert "ctx = setup(" not in page, name
        assert not soup.select(".jp-CodeCell .jp-InputArea") and not soup.select(".jp-InputPrompt"), name


def test_first_screen_states_scope_snapshot_versions_and_mode(executed: dict, sample_db: Path) -> None:
    from lt_workbench.model.snapshot import snapshot

    snap = snapshot(sample_db)
    for (name, mode), result in executed.items():
        soup = BeautifulSoup(_strip_bundle(result.html.read_text(encoding="utf-8")), "html.parser")
        header = soup.select_one(".lt-header")
        assert header is not None, name
        text = header.get_text(" ", strip=True)
        for needed in ("Scope", "Data snapshot", f"{snap['reviews']} reviews", snap["last_load"], snap["content_hash"], "scie-2008",
                       f"lt-workbench {__version__}", mode.upper()):
            assert needed in text, (name, mode, needed)
        # The header comes before any section heading: the first screen.
        first_h2 = soup.find("h2", string=re.compile(r"^\s*1\."))
        assert first_h2 is None or header.sourceline < first_h2.sourceline
        if mode == "restricted":
            assert soup.select_one(".lt-banner") is not None
        else:
            assert "RESTRICTED" not in soup.get_text()


def _free_text(db: Path) -> tuple[set[str], set[str]]:
    """(texts reviewers wrote, area names and codes) from the loaded database."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        queries = [
            "SELECT title FROM reviews", "SELECT trigger_question FROM reviews",
            "SELECT title FROM episodes", "SELECT description FROM episodes", "SELECT significance FROM episodes",
            "SELECT judgement FROM episodes", "SELECT finding FROM pattern_findings", "SELECT proposed_label FROM pattern_findings",
            "SELECT note FROM factor_codings", "SELECT text FROM recommendations", "SELECT lead_role FROM recommendations",
        ]
        texts = {t for q in queries for (t,) in con.execute(q).fetchall() if isinstance(t, str) and len(t.strip()) >= 12}
        areas = {a for (a,) in con.execute("SELECT area_name FROM reviews UNION SELECT area_code FROM reviews").fetchall()}
    finally:
        con.close()
    return texts, areas


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _reader_text(page: str) -> str:
    """Everything a reader can see: the page's text with entities decoded, and every string in the
    figures (titles, labels, hover texts), whitespace collapsed."""
    soup = BeautifulSoup(_strip_bundle(page), "html.parser")
    parts = [soup.get_text(" ")] + [html.unescape(s) for f in _figures(page) for s in _strings(f["data"]) + _strings(f["layout"])]
    return _squash("\n".join(parts))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_public_html_has_no_free_text_or_area_names(executed: dict, sample_db: Path) -> None:
    texts, areas = _free_text(sample_db)
    assert len(texts) > 1000 and len(areas) > 30
    for name, result in _public(executed):
        raw = result.html.read_text(encoding="utf-8")
        seen = _reader_text(raw) + "\n" + _squash(_strip_bundle(raw))
        for t in texts:
            probe = _squash(t.strip())[:60]
            assert probe not in seen, f"{name}: free text from a review in public output: {probe!r}"
        for a in areas:
            assert not re.search(rf"(?<![\w-]){re.escape(a)}(?![\w-])", seen), f"{name}: area {a!r} named in public output"
        nb = nbformat.read(str(result.notebook), as_version=4)
        outputs = _squash(json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False))
        for t in texts:
            assert _squash(t.strip())[:60] not in outputs, f"{name}: free text in the public notebook"


def test_restricted_html_does_show_what_public_hides(executed: dict, sample_db: Path, an_area: str) -> None:
    """The checks above would find free text and small counts if they were there."""
    texts, areas = _free_text(sample_db)
    deep = executed[("pattern_deep_dive", "restricted")].html.read_text(encoding="utf-8")
    assert 'class="lt-excerpt"' in deep
    seen = _reader_text(deep)
    assert sum(_squash(t.strip())[:60] in seen for t in texts) >= 10
    profile = executed[("area_profile", "restricted")].html.read_text(encoding="utf-8")
    con = duckdb.connect(str(sample_db), read_only=True)
    name = con.execute("SELECT any_value(area_name) FROM reviews WHERE area_code = ?", [an_area]).fetchall()[0][0]
    con.close()
    assert name in profile
    tracker = executed[("recommendations_tracker", "restricted")].html.read_text(encoding="utf-8")
    small = [v for (n, m), r in executed.items() if m == "restricted" for v in _table_counts(r.html.read_text(encoding="utf-8"))
             + [str(x) for x in _counts_in_figures(_figures(r.html.read_text(encoding="utf-8")))] if _small(v)]
    assert small, "restricted output should contain small counts (the parser would find them)"
    assert "overdue" in tracker.lower()


def test_public_html_has_no_count_below_the_threshold(executed: dict) -> None:
    for name, result in _public(executed):
        page = result.html.read_text(encoding="utf-8")
        cells = _table_counts(page)
        assert cells, f"{name}: no count cells found"
        assert not [v for v in cells if _small(v)], f"{name}: table shows a count below {THRESHOLD}"
        values = _counts_in_figures(_figures(page))
        assert values, f"{name}: no figure declares its counts"
        assert not [v for v in values if _small(v)], f"{name}: a figure draws a count below {THRESHOLD}"
        assert "c" in cells or "c" in values, f"{name}: the sample should need some suppression"


def test_evidence_only_in_restricted_mode(executed: dict) -> None:
    public = executed[("pattern_deep_dive", "public")].html.read_text(encoding="utf-8")
    assert 'class="lt-excerpt"' not in public
    assert "appear only in the restricted version" in public


# --------------------------------------------------------------------------------------------
# Reproducibility


def test_executed_notebooks_carry_no_volatile_metadata(executed: dict) -> None:
    for (name, mode), result in executed.items():
        nb = nbformat.read(str(result.notebook), as_version=4)
        assert set(nb.metadata["papermill"]) <= {"parameters", "default_parameters", "version"}
        for i, cell in enumerate(nb.cells):
            assert "execution" not in cell.metadata and "papermill" not in cell.metadata
            assert cell.get("id") == f"cell-{i:03d}"
        page = _strip_bundle(result.html.read_text(encoding="utf-8"))
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", page), f"{name}: a random uuid in the page"
        assert not re.search(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+", page), f"{name}: an execution timestamp in the page"


# --------------------------------------------------------------------------------------------
# Parameters


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("cross_review_summary", {"regoin": "london"}, "did you mean 'region'"),
        ("cross_review_summary", {"year_from": 2020, "year_to": 2015}, "runs backwards"),
        ("cross_review_summary", {"year_from": "twenty"}, "whole number"),
        ("cross_review_summary", {"year_from": 2040, "year_to": 2041}, "no reviews match"),
        ("cross_review_summary", {"region": "north_wset"}, "did you mean 'north_west'"),
        ("cross_review_summary", {"nation": "englnd"}, "did you mean 'england'"),
        ("cross_review_summary", {"nation": "wales", "region": "london"}, "not in nation"),
        ("cross_review_summary", {"review_types": "serious_case_reviews"}, "did you mean 'serious_case_review'"),
        ("cross_review_summary", {"area": "SYN-NW-01"}, "disclosure=restricted"),
        ("cross_review_summary", {"area": "NOWHERE-99", "disclosure": "restricted"}, "not an area code"),
        ("cross_review_summary", {"disclosure": "secret"}, "choose one of public, restricted"),
        ("cross_review_summary", {"profile": "nhs", "min_cell": 2}, "min_cell=2"),
        ("cross_review_summary", {"min_cell": 0}, "at least 1"),
        ("pattern_deep_dive", {"pattern": "P2.9"}, "not a known pattern code"),
        ("pattern_deep_dive", {"pattern": "P21"}, "did you mean"),
        ("recommendations_tracker", {"as_of": "2026-02-30"}, "YYYY-MM-DD"),
        ("cross_review_sumary", {}, "did you mean 'cross_review_summary'"),
    ],
)
def test_parameter_errors_are_clear(sample_db: Path, name: str, params: dict, message: str) -> None:
    with pytest.raises(ParameterError) as err:
        reports.validate_parameters(name, {"db": str(sample_db), **params})
    assert message in str(err.value)


def test_parameters_are_typed_and_resolved(sample_db: Path) -> None:
    out = reports.validate_parameters("cross_review_summary", {
        "db": str(sample_db), "region": "North West", "year_from": "2012", "year_to": 2020,
        "review_types": "serious_case_review, child_safeguarding_practice_review", "disclosure": "PUBLIC", "min_cell": "none"})
    assert out["region"] == "north_west" and out["year_from"] == 2012 and out["min_cell"] is None
    assert out["review_types"] == ["serious_case_review", "child_safeguarding_practice_review"]
    assert out["disclosure"] == "public" and out["top_n"] == 12 and Path(out["db"]) == sample_db.resolve()


def test_missing_database_is_a_parameter_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="does not exist"):
        reports.validate_parameters("cross_review_summary", {"db": str(tmp_path / "none.duckdb")})


def test_parameters_cells_match_the_registry() -> None:
    import papermill as pm

    for spec in reports.REPORTS.values():
        declared = pm.inspect_notebook(str(spec.notebook))
        assert list(declared) == [p.name for p in spec.params], spec.name
        for p in spec.params:
            assert eval(declared[p.name]["default"]) == p.default, (spec.name, p.name)  # noqa: S307 - our own notebooks
        nb = nbformat.read(str(spec.notebook), as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, spec.name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{spec.name}: committed with outputs"
        assert nb.metadata["kernelspec"]["name"] == "python3"


def test_cli_report_rejects_bad_parameters(sample_db: Path) -> None:
    from typer.testing import CliRunner

    from lt_workbench.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["report", "cross_review_summary", "-p", "year_from=2020", "-p", "year_to=2010", "--db", str(sample_db)])
    assert res.exit_code == 2, res.output  # a ParameterError: message and exit 2, before any notebook runs
    assert "runs backwards" in res.stderr
    listing = runner.invoke(app, ["report", "--list"])
    assert listing.exit_code == 0 and "pattern_deep_dive" in listing.output and "year_from" in listing.output


# --------------------------------------------------------------------------------------------
# Batches


@pytest.fixture
def with_failing_report(monkeypatch: pytest.MonkeyPatch) -> str:
    spec = reports.ReportSpec("failing_fixture", FAILING, "Failing fixture", "fails on purpose", reports.COMMON_PARAMETERS)
    monkeypatch.setitem(reports.REPORTS, spec.name, spec)
    return spec.name


def test_batch_keeps_going_writes_manifest_and_repeats_exactly(
    sample_db: Path, tmp_path: Path, with_failing_report: str, executed: dict
) -> None:
    from typer.testing import CliRunner

    from lt_workbench.cli import app

    batch = tmp_path / "batch.toml"
    batch.write_text(
        '[defaults]\ndisclosure = "public"\n\n'
        f'[[report]]\nname = "{with_failing_report}"\n\n'
        '[[report]]\nname = "cross_review_summary"\nparameters = { region = "atlantis" }\n\n'
        '[[report]]\nname = "recommendations_tracker"\n',
        encoding="utf-8",
    )
    first, second = tmp_path / "one", tmp_path / "two"
    res = CliRunner().invoke(app, ["batch", str(batch), "--db", str(sample_db), "--out", str(first)])
    assert res.exit_code == 1, res.output
    folders = list(first.iterdir())
    assert len(folders) == 1 and re.fullmatch(r"\d{4}-\d\d-\d\d", folders[0].name)
    manifest = json.loads((folders[0] / "manifest.json").read_text(encoding="utf-8"))
    by_name = {r["name"]: r for r in manifest["reports"]}
    assert manifest["summary"] == {"reports": 3, "ok": 1, "failed": 2}
    failing = by_name[with_failing_report]
    assert failing["status"] == "failed"
    assert "failing.ipynb" in failing["error"] and "cell 4 " in failing["error"] and "ValueError" in failing["error"]
    assert "planted failure" in failing["error"]
    kept = nbformat.read(str(folders[0] / failing["outputs"]["notebook"]), as_version=4)
    printed = [c for c in kept.cells if c.source.startswith("import sys")][0]
    assert printed.outputs[0]["text"].strip() == sys.executable  # the kernel ran on this interpreter
    bad = by_name["cross_review_summary"]
    assert bad["status"] == "failed" and "atlantis" in bad["error"] and bad["outputs"]["html"] is None
    ok = by_name["recommendations_tracker"]
    assert ok["status"] == "ok" and ok["error"] is None and ok["duration_seconds"] >= 0
    assert (folders[0] / ok["outputs"]["html"]).exists() and (folders[0] / ok["outputs"]["notebook"]).exists()
    assert ok["parameters"]["disclosure"] == "public"

    again = reports.run_batch(batch, out=second, db=sample_db)
    assert again.exit_code == 1
    folder2 = again.folder
    assert folder2.name == folders[0].name  # dated by the data snapshot, not the clock
    for rel in (ok["outputs"]["html"], ok["outputs"]["notebook"]):
        assert (folder2 / rel).read_bytes() == (folders[0] / rel).read_bytes(), rel
    # The batch output equals a single run with the same parameters.
    assert (folder2 / ok["outputs"]["html"]).read_bytes() == executed[("recommendations_tracker", "public")].html.read_bytes()
    m2 = json.loads((folder2 / "manifest.json").read_text(encoding="utf-8"))
    for m in (manifest, m2):
        for r in m["reports"]:
            r.pop("duration_seconds")
    assert m2 == manifest


def test_batch_file_errors(tmp_path: Path, sample_db: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[report]]\nname = \"cross_review_summary\"\nparams = {}\n", encoding="utf-8")
    with pytest.raises(ReportError, match="unknown key"):
        reports.run_batch(bad, out=tmp_path, db=sample_db)
    bad.write_text("this is not toml =", encoding="utf-8")
    with pytest.raises(ReportError, match="not valid TOML"):
        reports.load_batch(bad)


@pytest.mark.parametrize(("text", "words"), [
    ('[[report]]\nname = 5\n', "name must be a string"),
    ('[[report]]\nname = "cross_review_summary"\nparameters = "region=london"\n', "parameters must be a table"),
    ('[[report]]\nname = "cross_review_summary"\noutput = 3\n', "output must be a file name"),
    ('out = 1\n[[report]]\nname = "cross_review_summary"\n', "out must be a folder name"),
    ('report = 3\n', "list reports as [[report]] tables"),
])
def test_batch_file_of_the_wrong_shape_is_refused_before_anything_runs(tmp_path: Path, text: str, words: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ReportError) as info:
        reports.load_batch(bad)
    assert words in str(info.value) and str(bad) in str(info.value)


def test_for_each_region_expands_in_frame_order(sample_db: Path) -> None:
    data = reports.load_batch(REPO_ROOT / "reports" / "regions.toml")
    entry = next(e for e in data["report"] if e.get("for_each") == "region")
    jobs = batch._expand(entry, data.get("defaults", {}), sample_db)
    regions = [p["region"] for _, p, _ in jobs]
    assert regions[:2] == ["north_east", "north_west"] and len(regions) == 12
    assert all(p["disclosure"] == "public" for _, p, _ in jobs)


# --------------------------------------------------------------------------------------------
# Key findings


def _next_table(anchor: Any) -> Any:
    """The first table.lt-table after an anchor element in document order."""
    for el in anchor.find_all_next("table"):
        if "lt-table" in (el.get("class") or []):
            return el
    return None


def test_every_report_opens_with_key_findings_checked_against_its_tables(executed: dict) -> None:
    for (name, mode), result in executed.items():
        soup = BeautifulSoup(_strip_bundle(result.html.read_text(encoding="utf-8")), "html.parser")
        box = soup.select_one(".lt-findings")
        assert box is not None, (name, mode)
        header = soup.select_one(".lt-header")
        first_section = soup.find("h2", string=re.compile(r"^\s*1\."))
        assert header.sourceline <= box.sourceline and (first_section is None or box.sourceline < first_section.sourceline)
        items = box.select("li")
        assert 3 <= len(items) <= 6, (name, mode, [li.get_text(" ", strip=True) for li in items])
        for li in items:
            sentence = li.get_text(" ", strip=True)
            target = soup.find(id=li["data-table"])
            assert target is not None, (name, mode, li["data-table"])
            assert li.select_one(f'a[href="#{li["data-table"]}"]') is not None
            cells = json.loads(li["data-cells"])
            if not cells:
                continue
            table = _next_table(target)
            assert table is not None, (name, mode, li["data-table"])
            rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.select("tbody tr")]
            for row_key, value in cells:
                assert value in sentence, (name, mode, value, sentence)
                assert value not in ("c", "z", ":"), (name, mode, sentence)
                matching = [r for r in rows if r and r[0].startswith(row_key)]
                assert matching, (name, mode, row_key, li["data-table"])
                assert any(value in cell for r in matching for cell in r), (name, mode, row_key, value, matching)


def test_key_findings_match_the_analysis_api(executed: dict, sample_db: Path) -> None:
    """The summary's first finding names the most widespread patterns with the shares tabulate computes."""
    from lt_workbench.analysis import tabulate

    page = executed[("cross_review_summary", "restricted")].html.read_text(encoding="utf-8")
    first = BeautifulSoup(_strip_bundle(page), "html.parser").select_one(".lt-findings li")
    table = tabulate.frequency("patterns", level=2, db=sample_db)
    top = table.sort_values(["percent", "code"], ascending=[False, True]).head(3)
    text = first.get_text(" ", strip=True)
    for code, percent in zip(top["code"], top["percent"], strict=True):
        assert f"{code} " in text and f"{percent:.1f}%" in text, (code, percent, text)


def test_tables_whose_rounded_totals_do_not_add_up_say_so(executed: dict) -> None:
    """Public status tables: where a fully shown row does not add up to its rounded total, the note says so.

    (The tracker protects status by kind, level and agency jointly, so its 'All' row hides what the agency
    breakdown needs; the summary shows kind and level only, and its 'All' row is shown and rounded.)"""
    checked = 0
    tables = []
    for name in ("recommendations_tracker", "cross_review_summary"):
        page = executed[(name, "public")].html.read_text(encoding="utf-8")
        tables += BeautifulSoup(_strip_bundle(page), "html.parser").select("table.lt-table")
    for table in tables:
        heads = [th.get_text(strip=True) for th in table.select("thead th")]
        if heads[1:6] != ["Recommendations", "Completed", "Open, not yet due", "Overdue", "Not accepted"]:
            continue
        off = 0
        for tr in table.select("tbody tr"):
            cells = [td.get_text(strip=True).replace(",", "") for td in tr.find_all("td")][1:6]
            if all(re.fullmatch(r"\d+", c) for c in cells) and sum(map(int, cells[1:])) != int(cells[0]):
                off += 1
        note = table.find_next("p", class_="lt-note").get_text(" ", strip=True)
        assert ("do not add up to the shown total" in note) == (off > 0) or off == 0, (heads, off, note)
        checked += off
    assert checked >= 1, "the sample's rounded totals should differ from their parts somewhere"
