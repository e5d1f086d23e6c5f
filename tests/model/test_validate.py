"""Every rule of lt-review/1, each kind of bad input, and pure jsonschema as an oracle for the schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pyarrow.types as pa_types
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lt_workbench.model.validate import check_bytes, check_file, schema, validate_document

from tests.conftest import INVALID, VALID

# file -> (JSON pointer, words the message must contain). One reason per invalid file.
EXPECTED = {
    "bad_review_id.json": ("/review_id", "does not match"),
    "bad_vocabulary.json": ("/children/0/outcome", "did you mean 'died'"),
    "dangling_episode.json": ("/patterns/0/episodes/0", "episode 'E9' does not exist"),
    "dates_out_of_order.json": ("/dates/commissioned", "after completed"),
    "duplicate_episode.json": ("/episodes/2/episode_id", "'E1' is used by an earlier episode"),
    "duplicate_rec_id.json": ("/recommendations/1/rec_id", "'R1' is used by an earlier recommendation"),
    "empty.json": ("", "empty"),
    "impossible_date.json": ("/dates/completed", "'2019-02-30' is not a real date"),
    "invalid_utf8.json": ("", "not valid UTF-8 at byte"),
    "missing_required.json": ("/dates", "required field 'dates' is missing"),
    "mistyped_factor.json": ("/episodes/0/factors/0/code", "did you mean 'FL.WORK.03'"),
    "priority_out_of_range.json": ("/patterns/0/priority", "maximum"),
    "rec_pattern_not_found.json": ("/recommendations/0/patterns/0", "not among the patterns found"),
    "region_not_in_nation.json": ("/area/nation", "is in 'england', not 'wales'"),
    "top_level_array.json": ("", "top level is an array"),
    "truncated.json": ("", "ends early"),
    "unknown_code.json": ("/patterns/1/code", "'P2.1.9' is not in taxonomy scie-2008"),
    "unknown_taxonomy_version.json": ("/taxonomy_version", "unknown taxonomy version 'scie-2099'"),
    "wrong_format.json": ("/format", "must be 'lt-review/1'"),
}


def test_every_invalid_fixture_is_listed() -> None:
    assert {p.name for p in INVALID.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_fixture_reports_one_problem_at_its_place(name: str) -> None:
    checked = check_file(INVALID / name)
    assert not checked.ok
    assert len(checked.problems) == 1, [str(p) for p in checked.problems]
    problem = checked.problems[0]
    pointer, words = EXPECTED[name]
    assert problem.source.endswith(name)
    assert problem.pointer == pointer
    assert words in problem.message
    assert name in str(problem)


@pytest.mark.parametrize("path", sorted(VALID.glob("*.json")), ids=lambda p: p.name)
def test_valid_fixtures_pass(path: Path) -> None:
    checked = check_file(path)
    assert checked.ok, [str(p) for p in checked.problems]


def _oracle_ok(doc: Any) -> bool:
    return jsonschema.Draft202012Validator(schema()).is_valid(doc)


Mutation = Callable[[dict], None]

# Each rule of the format: a mutation that must be rejected, and the pointer it is reported at.
RULES: dict[str, tuple[Mutation, str]] = {
    "format const": (lambda d: d.update(format="lt-review/0"), "/format"),
    "review_id pattern": (lambda d: d.update(review_id="-bad"), "/review_id"),
    "review_id too long": (lambda d: d.update(review_id="a" * 65), "/review_id"),
    "title required": (lambda d: d.pop("title"), "/title"),
    "review_type enum": (lambda d: d.update(review_type="scr"), "/review_type"),
    "method enum": (lambda d: d.update(method="systems"), "/method"),
    "area required fields": (lambda d: d["area"].pop("region"), "/area/region"),
    "region in taxonomy": (lambda d: d["area"].update(region="narnia"), "/area/region"),
    "nation in taxonomy": (lambda d: d["area"].update(nation="narnia"), "/area/nation"),
    "completed required": (lambda d: d["dates"].pop("completed"), "/dates/completed"),
    "date format": (lambda d: d["dates"].update(completed="30/11/2020"), "/dates/completed"),
    "published not before completed": (lambda d: d["dates"].update(published="2020-01-01"), "/dates/published"),
    "trigger reason enum": (lambda d: d["trigger"].update(reason="murder"), "/trigger/reason"),
    "children at least one": (lambda d: d.update(children=[]), "/children"),
    "age band enum": (lambda d: d["children"][0].update(age_band="0"), "/children/0/age_band"),
    "sex enum": (lambda d: d["children"][0].update(sex="f"), "/children/0/sex"),
    "harm type in taxonomy": (lambda d: d["children"][0].update(harm_types=["bruising"]), "/children/0/harm_types/0"),
    "family factor in taxonomy": (lambda d: d.update(family_factors=["debt"]), "/family_factors/0"),
    "family factor listed twice": (lambda d: d.update(family_factors=["poverty", "poverty"]), "/family_factors/1"),
    "intervention level enum": (lambda d: d.update(intervention_level="cp"), "/intervention_level"),
    "agency in taxonomy": (lambda d: d.update(agencies=["fire_brigade"]), "/agencies/0"),
    "quality grade enum": (lambda d: d.update(quality_grade="excellent"), "/quality_grade"),
    "episodes at least one": (lambda d: d.update(episodes=[]), "/episodes"),
    "episode practice enum": (lambda d: d["episodes"][0].update(practice="bad"), "/episodes/0/practice"),
    "episode end after start": (lambda d: d["episodes"][1].update(end="2019-01-01"), "/episodes/1/end"),
    "episode before completion": (lambda d: d["episodes"][1].update(start="2021-01-01", end=None), "/episodes/1/start"),
    "episode agency in taxonomy": (lambda d: d["episodes"][0].update(agencies=["nasa"]), "/episodes/0/agencies/0"),
    "factor influence enum": (lambda d: d["episodes"][0]["factors"][0].update(influence="neutral"), "/episodes/0/factors/0/influence"),
    "factor code shape": (lambda d: d["episodes"][0]["factors"][0].update(code="workload"), "/episodes/0/factors/0/code"),
    "factor code in taxonomy": (lambda d: d["episodes"][0]["factors"][0].update(code="FL.WORK.99"), "/episodes/0/factors/0/code"),
    "pattern direction enum": (lambda d: d["patterns"][0].update(direction="good"), "/patterns/0/direction"),
    "pattern priority positive": (lambda d: d["patterns"][0].update(priority=0), "/patterns/0/priority"),
    "pattern needs an episode": (lambda d: d["patterns"][0].update(episodes=[]), "/patterns/0/episodes"),
    "pattern code in taxonomy": (lambda d: d["patterns"][1].update(code="P7"), "/patterns/1/code"),
    "recommendation kind enum": (lambda d: d["recommendations"][0].update(kind="smart"), "/recommendations/0/kind"),
    "recommendation level enum": (lambda d: d["recommendations"][0].update(level="global"), "/recommendations/0/level"),
    "recommendation status enum": (lambda d: d["recommendations"][0].update(status="done"), "/recommendations/0/status"),
    "recommendation due real date": (lambda d: d["recommendations"][0].update(due="2021-02-29"), "/recommendations/0/due"),
    "practice point shape": (lambda d: d.update(practice_points=["D15"]), "/practice_points/0"),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_rejects_and_points_at_the_place(rule: str, minimal_doc: dict) -> None:
    mutate, pointer = RULES[rule]
    doc = copy.deepcopy(minimal_doc)
    mutate(doc)
    problems = validate_document(doc, "mem.json")
    assert pointer in [p.pointer for p in problems], [str(p) for p in problems]


def test_optional_parts_may_be_absent_or_null(minimal_doc: dict) -> None:
    doc = copy.deepcopy(minimal_doc)
    for key in ("taxonomy_version", "family_factors", "intervention_level", "agencies", "patterns", "recommendations", "practice_points"):
        doc.pop(key)
    doc["dates"] = {"completed": "2020-11-30"}
    doc["quality_grade"] = None
    doc["extra_field_from_elsewhere"] = {"anything": 1}
    assert validate_document(doc) == []
    doc["family_factors"] = None
    assert validate_document(doc) == []


def test_same_pattern_code_twice_is_two_findings(minimal_doc: dict) -> None:
    doc = copy.deepcopy(minimal_doc)
    doc["patterns"].append(dict(doc["patterns"][0], finding="A second, separate finding.", priority=3))
    assert validate_document(doc) == []


def test_every_problem_is_collected_not_just_the_first(minimal_doc: dict) -> None:
    doc = copy.deepcopy(minimal_doc)
    doc["review_type"] = "scr"
    doc["patterns"][0]["code"] = "P9.9"
    doc["dates"]["completed"] = "2019-02-30"
    pointers = {p.pointer for p in validate_document(doc)}
    assert {"/review_type", "/patterns/0/code", "/dates/completed"} <= pointers


def test_schema_verdicts_agree_with_pure_jsonschema_oracle(minimal_doc: dict) -> None:
    """jsonschema-rs does the work; the pure-Python validator checks it on every schema-level rule."""
    assert _oracle_ok(minimal_doc)
    for rule, (mutate, _) in RULES.items():
        doc = copy.deepcopy(minimal_doc)
        mutate(doc)
        ours = {p.pointer for p in validate_document(doc)}
        oracle_errors = {"/" + "/".join(map(str, e.absolute_path)) for e in jsonschema.Draft202012Validator(schema()).iter_errors(doc)}
        oracle_errors = {e.rstrip("/") for e in oracle_errors}
        # Whatever the oracle rejects, we reject at the same place or below it (we point into missing fields).
        for place in oracle_errors:
            assert any(p == place or p.startswith(place + "/") or (place == "" and p) for p in ours), (rule, place, ours)


def test_invalid_fixtures_schema_agrees_with_oracle() -> None:
    for path in INVALID.glob("*.json"):
        try:
            doc = json.loads(path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(doc, dict) and not _oracle_ok(doc):
            assert not check_file(path).ok


# ------------------------------------------------------------------------------------------
# Never a crash: any damage to a valid document gives problems that point into it


def _places(doc: Any, pointer: str = "") -> list[str]:
    """Every JSON pointer in a document (containers and leaves)."""
    out = [pointer]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _places(v, f"{pointer}/{str(k).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _places(v, f"{pointer}/{i}")
    return out


def _resolve(doc: Any, pointer: str) -> tuple[Any, Any, bool]:
    """(parent, key, exists) of a pointer."""
    parent, key = None, None
    node = doc
    for raw in pointer.split("/")[1:]:
        key = raw.replace("~1", "/").replace("~0", "~")
        parent = node
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            key = int(key)
            node = node[key]
        else:
            return parent, key, False
    return parent, key, True


_JUNK = [None, True, 0, -1, 3.5, "", "x", "2019-02-30", "P9.9", [], [1], {}, {"a": 1}, "E1", 10**20]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_gives_problems_never_a_crash(data: st.DataObject, minimal_doc: dict) -> None:
    doc = copy.deepcopy(minimal_doc)
    for _ in range(data.draw(st.integers(1, 4))):
        places = [p for p in _places(doc) if p]
        if not places:
            break
        parent, key, _ = _resolve(doc, data.draw(st.sampled_from(places)))
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = copy.deepcopy(data.draw(st.sampled_from(_JUNK)))
    raw = json.dumps(doc).encode()
    checked = check_bytes(raw, "fuzz.json")  # must not raise, whatever the damage
    for p in checked.problems:
        assert p.source == "fuzz.json" and p.message
        assert p.pointer == "" or p.pointer.startswith("/")
        parent_pointer = p.pointer.rsplit("/", 1)[0] if p.pointer else ""
        assert _resolve(doc, parent_pointer)[2], f"{p.pointer!r} points outside the document: {p.message}"
    event("accepted" if checked.ok else "rejected")
    if checked.ok:  # what passes must be loadable as it stands: the schema oracle agrees, and it shapes into rows
        jsonschema.Draft202012Validator(schema()).validate(doc)
        _assert_shapes_like_the_original(checked, minimal_doc)


def _assert_shapes_like_the_original(checked: Any, original: dict) -> None:
    """The loader's rows for an accepted document have the column types of a known-good document's rows."""
    from lt_workbench.model.rows import Columns

    def shaped(c: Any) -> dict:
        cols = Columns()
        cols.review(c, 0)
        return cols.to_arrow()

    reference = shaped(check_bytes(json.dumps(original).encode(), "original.json"))
    for table, data in shaped(checked).items():
        for field in data.schema:
            if table in reference and field.name in reference[table].column_names and not pa_types.is_null(field.type):
                want = reference[table].schema.field(field.name).type
                assert pa_types.is_null(want) or field.type == want, (table, field.name, field.type, want)
