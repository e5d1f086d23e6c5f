"""Codebook export: stable GUIDs as issue 10 states them, byte-identical twice, valid against the official REFI-QDA XSDs."""

from __future__ import annotations

import uuid
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from lt_workbench.ingest.codebook import write_codebook, write_project_template
from lt_workbench.model.frames import taxonomy_frame

XSD = Path(__file__).resolve().parents[1] / "data" / "refiqda"
NS = {"c": "urn:QDA-XML:codebook:1.0", "p": "urn:QDA-XML:project:1.0"}


def _guid(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def test_codebook_twice_is_byte_identical_and_valid(tmp_path: Path) -> None:
    a = write_codebook(tmp_path / "a.qdc")
    b = write_codebook(tmp_path / "b.qdc")
    assert a.read_bytes() == b.read_bytes()
    xmlschema.XMLSchema(XSD / "Codebook.xsd").validate(str(a))


def test_template_twice_is_byte_identical_and_valid(tmp_path: Path) -> None:
    a = write_project_template(tmp_path / "a.qdpx")
    b = write_project_template(tmp_path / "b.qdpx")
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        assert z.namelist() == ["project.qde"]
        qde = z.read("project.qde")
    schema = xmlschema.XMLSchema(XSD / "Project.xsd")
    schema.validate(qde.decode("utf-8"))
    root = ET.fromstring(qde)
    names = [v.get("name") for v in root.iterfind("p:Variables/p:Variable", NS)]
    assert {"review_id", "area.region", "dates.completed", "family_factors", "children.1.age_band", "children.2.harm_types"} <= set(names)
    assert len(root.findall(".//p:CodeBook//p:Code", NS)) == len(ET.fromstring(write_codebook(a.with_suffix(".qdc")).read_bytes()).findall(".//c:Code", NS))


def test_guids_names_and_descriptions_as_the_issue_says(tmp_path: Path) -> None:
    root = ET.fromstring(write_codebook(tmp_path / "c.qdc").read_bytes())
    by_name = {c.get("name"): c for c in root.iter(f"{{{NS['c']}}}Code")}
    tops = [c.get("name") for c in root.find("c:Codes", NS)]  # type: ignore[union-attr]
    assert tops == ["Patterns (scie-2008)", "Contributory factors (scie-2008)", "Practice points (scie-2008)", "Coding aids (scie-2008)"]
    assert by_name["Patterns (scie-2008)"].get("guid") == _guid("lt-workbench:scie-2008:patterns:*")
    p21 = by_name["P2.1 Resource–demand mismatch"]
    assert p21.get("guid") == _guid("lt-workbench:scie-2008:patterns:P2.1")
    assert [c.get("name") for c in p21.iterfind("c:Code", NS)][:1] == ["P2.1.1 Difficulties accessing expert assessments"]
    assert by_name["FL.WORK.03 Workload"].get("guid") == _guid("lt-workbench:scie-2008:factors:FL.WORK.03")
    assert by_name["D04 Assessment"].get("guid") == _guid("lt-workbench:scie-2008:practice-points:D04")
    assert by_name["Key practice episode"].get("guid") == _guid("lt-workbench:scie-2008:aid:key practice episode")
    assert by_name["Supporting"].get("guid") == _guid("lt-workbench:scie-2008:aid:supporting")
    fam01 = by_name["FL.FAM.01 Nature of the problem(s)"].findtext("c:Description", namespaces=NS)
    assert fam01 and "strength of knowledge base/level of professional consensus on diagnostic categories" in fam01
    # every frame code is there once, with its GUID
    t = taxonomy_frame()
    for frame, export in (("patterns", "patterns"), ("factors", "factors"), ("practice_points", "practice-points")):
        for code, label in zip(t[t.frame == frame].code, t[t.frame == frame].label, strict=True):
            assert by_name[f"{code} {label}"].get("guid") == _guid(f"lt-workbench:scie-2008:{export}:{code}")
    guids = [c.get("guid") for c in root.iter(f"{{{NS['c']}}}Code")]
    assert len(guids) == len(set(guids))


def test_frames_subset(tmp_path: Path) -> None:
    root = ET.fromstring(write_codebook(tmp_path / "c.qdc", frames=["factors"]).read_bytes())
    assert [c.get("name") for c in root.find("c:Codes", NS)] == ["Contributory factors (scie-2008)", "Coding aids (scie-2008)"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "words"),
    [("FL.STAFF.04", "what were they doing"), ("FL.STAFF.05", "optimal standards"), ("FL.ROLE.02", "family home"),
     ("FL.TEAM.10", "diagnostic categories"), ("NG.POL.04", "associated forms"), ("D01", "always!"), ("D03", "potential"),
     ("D14", "equality of opportunity and access"), ("P4.3", "facilitators")],
)
def test_full_seed_wording_in_descriptions(code: str, words: str) -> None:
    t = taxonomy_frame()
    assert words in t[t.code == code].description.iloc[0]
