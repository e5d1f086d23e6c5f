"""import qdpx: a project written as plain XML by the test imports to the documents and loaded counts the project implies."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, Iterator

import duckdb
import orjson
import pytest

from lt_workbench.ingest.refiqda import import_projects
from lt_workbench.model.load import load
from lt_workbench.model.validate import validate_document

from tests.ingest.refiqda_project import CaseSpec, ProjectSpec, Sel, Src, expected, qdpx_bytes, sample_project, variables

PRIMARY = {"Child A": "Ann", "Child B": "Ann", "Child C": "Ben"}  # B: a tie, broken by name; C: Ben has more codings


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    path = tmp_path / "team.qdpx"
    path.write_bytes(qdpx_bytes(sample_project()))
    return path


def test_imports_documents_that_validate_with_the_projects_content(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = import_projects([project], out)
    assert result.problems == [], [str(p) for p in result.problems]
    assert sorted(p.name for p in result.written) == ["SYN-QDA-A.json", "SYN-QDA-B.json", "SYN-QDA-C.json"]
    assert sorted(p.name for p in result.second) == ["SYN-QDA-B.Ben.json", "SYN-QDA-C.Ann.json"]
    a = orjson.loads((out / "SYN-QDA-A.json").read_bytes())
    assert validate_document(a) == []
    assert a["coding"] == {"coder": "Ann", "role": "primary"}
    assert a["area"]["region"] == "north_west" and a["dates"]["completed"] == "2020-11-30"
    assert [c["age_band"] for c in a["children"]] == ["under_1", "1_to_4"]
    e1, e2 = a["episodes"]
    assert (e1["episode_id"], e1["title"], e1["start"], e1["practice"]) == ("E1", "Referral", "2019-03-01", "mixed")
    assert (e2["episode_id"], e2["start"], e2["practice"]) == ("E2", "2019-04-02", "problematic")
    assert e2["title"].startswith("Later on 02/04/2019 the assessment")
    assert [(f["code"], f["influence"]) for f in e1["factors"]] == [("FL.IA", "supporting"), ("FL.WORK.03", "hindering")]  # source order
    assert [(f["code"], f["influence"]) for f in e2["factors"]] == [("FL.IA", "supporting"), ("NG.POL.04", "hindering")]
    assert e1["factors"][1]["note"] == "referred concerns. Workload was high"
    pats = {p["code"]: p for p in a["patterns"]}
    assert pats["P1.3.1"]["episodes"] == ["E2"] and pats["P1.3.1"]["direction"] == "unsafe"
    assert pats["P2.1.2"]["episodes"] == ["E1", "E2"]  # from the memo: it overlaps no episode
    assert a["practice_points"] == ["D04"]
    b = orjson.loads((out / "SYN-QDA-B.json").read_bytes())
    assert b["family_factors"] == []
    second = orjson.loads((out / "second" / "SYN-QDA-B.Ben.json").read_bytes())
    assert second["coding"] == {"coder": "Ben", "role": "second"} and validate_document(second) == []
    assert [e["practice"] for e in second["episodes"]] == ["mixed", "problematic"]
    # GUID and name matching both counted: FL.WORK.03, Hindering (x4 by Ann in A and B...), P2.1.2 were re-keyed
    assert result.matched_by_name == sum(
        1 for case in sample_project().cases for src in case.sources for sel in src.selections
        for names in sel.codes.values() for n in names if n in ("Hindering", "FL.WORK.03 Workload (renamed in the tool)", "P2.1.2 Gaps in service provision")
    )
    assert "3 reviews written, 2 second codings, 0 reviews rejected" in result.summary()


def test_loaded_counts_equal_those_computed_from_the_project(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    import_projects([project], out)
    db = tmp_path / "w.duckdb"
    res = load([out], db)
    assert res.rejected == [], [str(p) for c in res.rejected for p in c.problems]
    want = expected(sample_project(), PRIMARY)
    con = duckdb.connect(str(db), read_only=True)
    got = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
           for t in ("reviews", "episodes", "factor_codings", "pattern_findings", "pattern_episodes", "practice_points")}
    got["second"] = con.execute("SELECT count(*) FROM second_codings").fetchone()[0]  # type: ignore[index]
    con.close()
    assert got == want


def test_primary_coder_option(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = import_projects([project], out, primary_coder="Ben")
    assert sorted(p.name for p in result.second) == ["SYN-QDA-B.Ann.json", "SYN-QDA-C.Ann.json"]
    assert orjson.loads((out / "SYN-QDA-A.json").read_bytes())["coding"]["coder"] == "Ann"  # Ben did not code A


def test_tolerates_tool_variations(tmp_path: Path) -> None:
    """No namespace, Project.qde, sources under Sources/, no Cases: each text source with its own variables is a review."""
    spec = sample_project()
    spec.namespace, spec.entry, spec.use_cases = False, "Project.qde", False
    spec.cases = [spec.cases[0], spec.cases[1]]
    path = tmp_path / "nocases.qdpx"
    path.write_bytes(qdpx_bytes(spec))
    result = import_projects([path], tmp_path / "out")
    assert result.problems == [], [str(p) for p in result.problems]
    assert sorted(p.name for p in result.written) == ["SYN-QDA-A.json", "SYN-QDA-B.json"]


def _bad_project() -> ProjectSpec:
    spec = sample_project()
    good = spec.cases[0]
    no_date = CaseSpec("No date", variables("SYN-BAD-1"), [Src("n.txt", "The visit happened. Nobody recorded it.", [
        Sel("The visit happened.", {"Ann": ["Key practice episode", "Good practice"]})])])
    no_influence = CaseSpec("No influence", variables("SYN-BAD-2"), [Src("i.txt", "On 2019-01-05 the nurse visited. Staff were tired.", [
        Sel("On 2019-01-05 the nurse visited. Staff were tired.", {"Ann": ["Key practice episode", "Good practice"]}),
        Sel("Staff were tired.", {"Ann": ["FL.IA.04 Information sharing"]})])])
    spec.codes["My own code"] = "0b0e0f0a-1111-4222-8333-444455556666"
    foreign = CaseSpec("Foreign code", variables("SYN-BAD-3"), [Src("f.txt", "On 2019-01-05 the nurse visited.", [
        Sel("On 2019-01-05 the nurse visited.", {"Ann": ["Key practice episode", "Good practice", "My own code"]})])])
    no_field = CaseSpec("No completion date", {k: v for k, v in variables("SYN-BAD-4").items() if k != "dates.completed"},
                        [Src("d.txt", "On 2019-01-05 the nurse visited.", [
                            Sel("On 2019-01-05 the nurse visited.", {"Ann": ["Key practice episode", "Good practice"]})])])
    spec.cases = [good, no_date, no_influence, foreign, no_field]
    return spec


def test_each_bad_review_is_rejected_by_file_case_and_place_the_others_written(tmp_path: Path) -> None:
    path = tmp_path / "bad.qdpx"
    path.write_bytes(qdpx_bytes(_bad_project()))
    result = import_projects([path], tmp_path / "out")
    assert [p.name for p in result.written] == ["SYN-QDA-A.json"]
    assert sorted(result.rejected) == ["SYN-BAD-1", "SYN-BAD-2", "SYN-BAD-3", "SYN-BAD-4"]
    text = [str(p) for p in result.problems]
    assert all(t.startswith(str(path)) for t in text)

    def one(case: str) -> str:
        found = [t for t in text if f"Case {case!r}" in t]
        assert len(found) == 1, found
        return found[0]

    assert "source 'n.txt', chars 0–19" in one("No date") and "without a date" in one("No date")
    assert "source 'i.txt', chars 33–50" in one("No influence") and "without an influence" in one("No influence")
    assert "chars 0–32" in one("Foreign code") and "'My own code' is not in the codebook" in one("Foreign code")
    assert "variable 'dates.completed'" in one("No completion date") and "missing" in one("No completion date")
    assert result.unmapped == {"My own code": 1}
    assert result.exit_code == 1
    assert not (tmp_path / "out" / "SYN-BAD-1.json").exists()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Project name="x">&lol2;</Project>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Project name="x"><Description>&xxe;</Description></Project>"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip at all", "not a readable .qdpx"),
        (_zip({"project.qde": b"<Project name='x'/>", "../evil.txt": b"x"}), "outside the archive root"),
        (_zip({"project.qde": b"<Project name='x'/>", "/etc/evil": b"x"}), "outside the archive root"),
        (_zip({"project.qde": b"<Project name='x'/>", "big.bin": b"\0" * 200_000}), "beyond the limit"),
        (_zip({"project.qde": BOMB}), "refused XML construct"),
        (_zip({"project.qde": EXTERNAL}), "refused XML construct"),
        (_zip({"project.qde": b"<Project name='x'><Cases>"}), "malformed XML"),
        (_zip({"notes.txt": b"hello"}), "no project.qde"),
        (_zip({"project.qde": b"<CodeBook/>"}), "not a REFI-QDA Project"),
        (_zip({"project.qde": b"<Project name='empty'/>"}), "maps to nothing"),
    ],
)
def test_unsafe_or_unreadable_projects_are_refused_and_the_others_imported(tmp_path: Path, data: bytes, message: str) -> None:
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(data)
    good = tmp_path / "good.qdpx"
    good.write_bytes(qdpx_bytes(sample_project()))
    result = import_projects([bad, good], tmp_path / "out", limit=100_000)
    assert len(result.written) == 3
    problems = [str(p) for p in result.problems if p.source == str(bad)]
    assert len(problems) == 1 and message in problems[0], problems
    assert result.exit_code == 1


def test_cli_import_load_and_agreement(project: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lt_workbench.cli import app

    runner = CliRunner()
    db = tmp_path / "cli.duckdb"
    ok = runner.invoke(app, ["import", "qdpx", str(project), "--out", str(tmp_path / "out"), "--load", "--db", str(db)])
    assert ok.exit_code == 0, ok.output
    assert "3 reviews written, 2 second codings, 0 reviews rejected" in ok.output and "2 second codings (kept apart" in ok.output
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(qdpx_bytes(_bad_project()))
    res = runner.invoke(app, ["import", "qdpx", str(bad), "--out", str(tmp_path / "out2")])
    assert res.exit_code == 1 and "1 reviews written" in res.output
    agree = runner.invoke(app, ["agreement", "factors", "--db", str(db)])
    assert agree.exit_code == 0 and "FL.IA.04" in agree.output
    usage = runner.invoke(app, ["agreement", "practice-points", "--unit", "episode", "--db", str(db)])
    assert usage.exit_code == 2


def test_coded_source_outside_every_case_is_reported(tmp_path: Path) -> None:
    spec = sample_project()
    xml = qdpx_bytes(spec)
    with zipfile.ZipFile(io.BytesIO(xml)) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    qde = entries["project.qde"].decode()
    # drop Child C's SourceRef: its source is still in the project, coded, but in no Case
    c_start = qde.index('name="Child C"')
    ref_start = qde.index("<SourceRef", c_start)
    qde = qde[:ref_start] + qde[qde.index("/>", ref_start) + 2:]
    entries["project.qde"] = qde.encode()
    path = tmp_path / "orphan.qdpx"
    path.write_bytes(_zip(entries))
    result = import_projects([path], tmp_path / "out")
    assert any("source 'report C.txt'" in str(p) and "belongs to no Case: its 10 codings were not imported" in str(p) for p in result.problems)
    assert "SYN-QDA-C" in result.rejected  # its Case now has nothing coded
    assert sorted(p.name for p in result.written) == ["SYN-QDA-A.json", "SYN-QDA-B.json"]


PDF_PROJECT = """<?xml version="1.0" encoding="utf-8"?>
<qda:Project xmlns:qda="urn:QDA-XML:project:1.0" name="pdf">
 <qda:Users><qda:User guid="{{11111111-1111-4111-8111-111111111111}}" name="Cat"/></qda:Users>
 <qda:CodeBook><qda:Codes>
  <qda:Code guid="{kpe}" name="Key practice episode" isCodable="true"/>
  <qda:Code guid="{good}" name="Good practice" isCodable="true"/>
 </qda:Codes></qda:CodeBook>
 <qda:Sources>
  <qda:PDFSource guid="22222222-2222-4222-8222-222222222222" name="report.pdf" path="internal://r.pdf">
   <qda:Representation guid="33333333-3333-4333-8333-333333333333" plainTextPath="internal://r.txt">
    <qda:PlainTextSelection guid="44444444-4444-4444-8444-444444444444" startPosition="0" endPosition="32">
     <qda:Coding guid="55555555-5555-4555-8555-555555555555" creatingUser="11111111-1111-4111-8111-111111111111"><qda:CodeRef targetGUID="{kpe}"/></qda:Coding>
     <qda:Coding guid="66666666-6666-4666-8666-666666666666" creatingUser="11111111-1111-4111-8111-111111111111"><qda:CodeRef targetGUID="{good}"/></qda:Coding>
    </qda:PlainTextSelection>
   </qda:Representation>
   {values}
  </qda:PDFSource>
  <qda:PictureSource guid="77777777-7777-4777-8777-777777777777" name="genogram.png" path="internal://g.png"/>
 </qda:Sources>
</qda:Project>"""


def test_pdf_with_text_representation_prefixed_namespace_no_cases(tmp_path: Path) -> None:
    from xml.sax.saxutils import escape

    from tests.ingest.refiqda_project import issue_guid

    names = list(variables("SYN-PDF-1"))
    decl = "".join(f'<qda:Variable guid="{_vg(n)}" name="{n}" typeOfVariable="Text"/>' for n in names)
    values = "".join(f'<qda:VariableValue><qda:VariableRef targetGUID="{_vg(n)}"/><qda:TextValue>{escape(v)}</qda:TextValue></qda:VariableValue>'
                     for n, v in variables("SYN-PDF-1").items())
    xml = PDF_PROJECT.format(kpe=issue_guid("aid:key practice episode"), good=issue_guid("aid:good practice"), values=values)
    xml = xml.replace("</qda:CodeBook>", f"</qda:CodeBook><qda:Variables>{decl}</qda:Variables>")
    path = tmp_path / "pdf.qdpx"
    path.write_bytes(_zip({"project.qde": xml.encode(), "sources/r.txt": "On 2019-02-01 the nurse visited. More text follows.".encode(),
                           "sources/r.pdf": b"%PDF-1.4 not read"}))
    result = import_projects([path], tmp_path / "out")
    assert result.problems == [], [str(p) for p in result.problems]
    doc = orjson.loads((tmp_path / "out" / "SYN-PDF-1.json").read_bytes())
    assert doc["episodes"][0]["description"] == "On 2019-02-01 the nurse visited." and doc["episodes"][0]["practice"] == "good"
    assert doc["coding"] == {"coder": "Cat", "role": "primary"}
    assert any("genogram.png" in str(n) for n in result.notes)


def _vg(name: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_DNS, "var." + name))


def test_second_coders_episodes_take_the_ids_of_the_primary_episodes_they_overlap(tmp_path: Path) -> None:
    text = "On 2019-01-02 a visit. On 2019-02-03 a call. On 2019-03-04 a meeting."
    ep = ["Key practice episode", "Good practice"]
    case = CaseSpec("Child D", variables("SYN-QDA-D"), [Src("d.txt", text, [
        Sel("On 2019-01-02 a visit.", {"Ben": ep}),  # only Ben marks the first: it is not the primary's E1
        Sel("On 2019-02-03 a call.", {"Ann": ep, "Ben": ep}),
        Sel("On 2019-03-04 a meeting.", {"Ann": ep + ["P6.4 Tunnel vision", "Unsafe"], "Ben": ep + ["P6.4 Tunnel vision", "Unsafe"]}),
    ])])
    spec = ProjectSpec(["Ann", "Ben"], sample_project().codes, [case])
    path = tmp_path / "d.qdpx"
    path.write_bytes(qdpx_bytes(spec))
    result = import_projects([path], tmp_path / "out", primary_coder="Ann")
    assert result.problems == [], [str(p) for p in result.problems]
    second = orjson.loads((tmp_path / "out" / "second" / "SYN-QDA-D.Ben.json").read_bytes())
    assert [e["episode_id"] for e in second["episodes"]] == ["E3", "E1", "E2"]
    assert second["patterns"][0]["episodes"] == ["E2"]
    assert validate_document(second) == []


def _relabel(monkeypatch: pytest.MonkeyPatch, frame: str, labels: dict[str, str]) -> None:
    """Give codes of `frame` new labels, as a future taxonomy version might. (scie-2008's only shared label,
    'Personality', and its labels holding ';' are in frames a project reaches by GUID or code, or in practice-point
    groups no document may carry; Case variables go through the same fields.resolve_code and split_list.)"""
    from lt_workbench.ingest import fields

    real = fields.taxonomy_frame

    def frames(version: str) -> Any:
        t = real(version).copy()
        for code, label in labels.items():
            t.loc[(t["frame"] == frame) & (t["code"] == code), "label"] = label
        return t

    fields._vocab.cache_clear()
    monkeypatch.setattr(fields, "taxonomy_frame", frames)


@pytest.fixture()
def clean_vocab() -> Iterator[None]:
    from lt_workbench.ingest import fields

    yield
    fields._vocab.cache_clear()


def _one_selection_case(name: str, review_id: str, **more: str) -> CaseSpec:
    return CaseSpec(name, variables(review_id, **more), [Src(f"{review_id}.txt", "On 2019-01-05 the nurse visited.", [
        Sel("On 2019-01-05 the nurse visited.", {"Ann": ["Key practice episode", "Good practice"]})])])


def test_a_label_two_codes_share_is_refused_naming_the_file_the_value_and_both_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_vocab: None) -> None:
    _relabel(monkeypatch, "agency", {"midwifery": "Hospital and emergency department"})
    spec = sample_project()
    spec.cases = [spec.cases[0],
                  _one_selection_case("Shared", "SYN-AMB-1", agencies="Police; hospital and emergency department", **{"area.region": "Nowhere"}),
                  _one_selection_case("By code", "SYN-AMB-2", agencies="police; midwifery")]
    path = tmp_path / "amb.qdpx"
    path.write_bytes(qdpx_bytes(spec))
    result = import_projects([path], tmp_path / "out")
    assert sorted(p.name for p in result.written) == ["SYN-AMB-2.json", "SYN-QDA-A.json"]  # the rest is written
    assert result.rejected == ["SYN-AMB-1"] and result.exit_code == 1
    shared = [str(p) for p in result.problems if "Case 'Shared'" in str(p)]
    assert len(shared) == 2, shared  # every problem of the Case, not just the first
    agency = next(t for t in shared if "variable 'agencies'" in t)
    assert agency.startswith(f"{path}: ") and "'hospital and emergency department' is the label of 2 codes of the agency frame" in agency
    assert "midwifery and hospital" in agency and "write the code" in agency
    assert any("variable 'area.region'" in t and "'Nowhere'" in t for t in shared)
    written = orjson.loads((tmp_path / "out" / "SYN-AMB-2.json").read_bytes())
    assert written["agencies"] == ["police", "midwifery"]


def test_a_list_variable_reads_labels_that_hold_a_semicolon_and_quoted_items(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_vocab: None) -> None:
    _relabel(monkeypatch, "agency", {"hospital": "Hospital; emergency department", "midwifery": "Midwifery; maternity"})
    spec = sample_project()
    spec.cases = [_one_selection_case("Label with ;", "SYN-SEMI-1", agencies="Police; HOSPITAL;emergency department; midwifery; maternity"),
                  _one_selection_case("Quoted", "SYN-SEMI-2", agencies='"Hospital; emergency department"; "police"'),
                  _one_selection_case("Half a label", "SYN-SEMI-3", agencies="emergency department; police")]
    path = tmp_path / "semi.qdpx"
    path.write_bytes(qdpx_bytes(spec))
    result = import_projects([path], tmp_path / "out")
    assert sorted(p.name for p in result.written) == ["SYN-SEMI-1.json", "SYN-SEMI-2.json"], [str(p) for p in result.problems]
    assert orjson.loads((tmp_path / "out" / "SYN-SEMI-1.json").read_bytes())["agencies"] == ["police", "hospital", "midwifery"]
    assert orjson.loads((tmp_path / "out" / "SYN-SEMI-2.json").read_bytes())["agencies"] == ["hospital", "police"]
    half = [str(p) for p in result.problems if "Case 'Half a label'" in str(p)]
    assert len(half) == 1 and "variable 'agencies'" in half[0] and "'emergency department' is not a" in half[0], half
