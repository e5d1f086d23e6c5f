"""ingest.fields: flat dotted fields -> an lt-review/1 header; values by code or label; dates; lists; located problems."""

from __future__ import annotations

import datetime as dt

import pytest

from lt_workbench.ingest.fields import (
    AmbiguousLabel,
    FieldError,
    build_review,
    check_review,
    field_of_pointer,
    find_first_date,
    parse_date,
    resolve_code,
    resolve_codes,
    split_list,
)

GOOD = {
    "review_id": "SYN-QDA-001",
    "title": "Child Q (synthetic)",
    "review_type": "Child safeguarding practice review",
    "method": "SYSTEMS (learning together)",
    "area.code": "SYN-NW-01",
    "area.name": "Testshire",
    "area.region": "North West",
    "area.nation": "england",
    "dates.commissioned": "10/01/2020",
    "dates.completed": "2020-11-30",
    "dates.published": "",
    "trigger.reason": "serious harm",
    "trigger.question": "How did agencies work together?",
    "family_factors": "Domestic abuse; poverty",
    "agencies": "childrens_social_care;Health visiting",
    "children.1.age_band": "Under 1",
    "children.1.sex": "female",
    "children.1.harm_types": "physical abuse",
    "children.1.outcome": "Seriously harmed",
    "children.2.age_band": "1 to 4",
    "children.2.sex": "Male",
    "children.2.outcome": "no_serious_harm",
}


def _locate(name: str) -> str:
    return f"Case 'Q', variable {name!r}"


def test_labels_and_codes_in_any_case_build_a_valid_document() -> None:
    doc, problems, unknown = build_review(GOOD | {"colour": "blue"}, "p.qdpx", _locate)
    assert problems == [] and unknown == ["colour"]
    assert doc["area"] == {"code": "SYN-NW-01", "name": "Testshire", "region": "north_west", "nation": "england"}
    assert doc["method"] == "systems_learning_together"
    assert doc["dates"] == {"commissioned": "2020-01-10", "completed": "2020-11-30", "published": None}
    assert doc["family_factors"] == ["domestic_abuse", "poverty"]
    assert doc["agencies"] == ["childrens_social_care", "health_visiting"]
    assert doc["children"] == [
        {"age_band": "under_1", "sex": "female", "harm_types": ["physical_abuse"], "outcome": "seriously_harmed"},
        {"age_band": "1_to_4", "sex": "male", "harm_types": [], "outcome": "no_serious_harm"},
    ]
    doc["episodes"] = [{"episode_id": "E1", "title": "t", "start": "2019-03-01", "practice": "good"}]
    assert check_review(doc, "p.qdpx", _locate) == []


def test_family_factors_empty_is_not_recorded_and_none_is_recorded_none() -> None:
    assert build_review(GOOD | {"family_factors": ""}, "f", _locate)[0]["family_factors"] is None
    assert build_review({k: v for k, v in GOOD.items() if k != "family_factors"}, "f", _locate)[0]["family_factors"] is None
    assert build_review(GOOD | {"family_factors": "None"}, "f", _locate)[0]["family_factors"] == []


def test_every_bad_value_is_located_with_a_suggestion() -> None:
    bad = dict(GOOD, **{"area.region": "Nort West", "dates.completed": "31/02/2020", "children.2.sex": ""})
    del bad["title"]
    _, problems, _ = build_review(bad, "p.qdpx", _locate)
    by_where = {p.where: p.message for p in problems}
    assert set(by_where) == {_locate("area.region"), _locate("dates.completed"), _locate("title"), _locate("children.2.sex")}
    assert "did you mean 'north_west'" in by_where[_locate("area.region")]
    assert "not a real date" in by_where[_locate("dates.completed")]
    assert all(p.review == "SYN-QDA-001" and p.source == "p.qdpx" for p in problems)
    assert str(problems[0]).startswith("p.qdpx: Case 'Q', variable ")


def test_children_numbered_without_gaps() -> None:
    fields = {k: v for k, v in GOOD.items() if not k.startswith("children.2")}
    fields |= {"children.3.age_band": "under_1", "children.3.sex": "male", "children.3.outcome": "died"}
    _, problems, _ = build_review(fields, "f", _locate)
    assert [p.where for p in problems] == [_locate("children.3.age_band")]
    _, problems, _ = build_review({k: v for k, v in GOOD.items() if not k.startswith("children")}, "f", _locate)
    assert [p.where for p in problems] == [_locate("children.1.age_band")]


@pytest.mark.parametrize(
    ("text", "iso"),
    [("2019-03-01", "2019-03-01"), ("01/03/2019", "2019-03-01"), ("1/3/2019", "2019-03-01"), ("1 March 2019", "2019-03-01"),
     ("1st Mar 2019", "2019-03-01"), (dt.date(2019, 3, 1), "2019-03-01"), (dt.datetime(2019, 3, 1, 9), "2019-03-01")],
)
def test_dates(text: object, iso: str) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize("text", ["2019-13-01", "March 2019", "01-03-2019", "yesterday", "30 Febuary 2019"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(FieldError):
        parse_date(text)


def test_first_date_in_text_skips_impossible_dates() -> None:
    text = "Ref 12/2019 then on 31/02/2019 and on 3 April 2019, later 2019-05-01."
    iso, start, end = find_first_date(text)  # type: ignore[misc]
    assert iso == "2019-04-03" and text[start:end] == "3 April 2019"
    assert find_first_date("no date here, 2019 only") is None


def test_lists_split_on_semicolons_only() -> None:
    assert split_list(" a; b ;;c ") == ["a", "b", "c"]
    assert resolve_code("family_factor", "Non-engagement, hostility or disguised compliance") == "non_engagement"
    with pytest.raises(FieldError, match="did you mean 'poverty'"):
        resolve_code("family_factor", "povrty")


def test_pointers_map_back_to_fields() -> None:
    assert field_of_pointer("/area/region") == "area.region"
    assert field_of_pointer("/children/1/harm_types/0") == "children.2.harm_types"
    assert field_of_pointer("/agencies/3") == "agencies"
    assert field_of_pointer("/episodes/0/start") is None


def test_a_label_two_factors_share_is_refused_with_both_codes() -> None:
    with pytest.raises(FieldError, match=r"'personality' is the label of 2 codes of the factors frame, FL\.FAM\.12 and FL\.STAFF\.07"):
        resolve_code("factors", "personality")
    assert resolve_code("factors", "FL.STAFF.07") == "FL.STAFF.07"
    with pytest.raises(FieldError, match=r"did you mean one of 'FL\.FAM\.12', 'FL\.STAFF\.07'"):
        resolve_code("factors", "Personalty")


def test_split_list_quotes_and_labels_holding_a_semicolon() -> None:
    assert split_list(' a; "b; c" ;d;; ') == ["a", "b; c", "d"]
    assert split_list('"say ""hi"""; y') == ['say "hi"', "y"]
    da1 = "Children and young people; parents and carers; families, communities and networks"
    assert split_list(f"{da1}; DA2", "practice_points") == [da1, "DA2"]
    assert split_list(f"{da1}; DA2") == [*da1.split("; "), "DA2"]  # without the frame, `;` always separates
    assert split_list("Children and young people; DA2", "practice_points") == ["Children and young people", "DA2"]
    assert [resolve_code("practice_points", x) for x in split_list(f"{da1.lower()};DA2", "practice_points")] == ["DA1", "DA2"]


def test_code_label_as_the_workbook_shows_it_is_read_by_the_one_resolver() -> None:
    """Every importer reads values through fields.resolve_code/resolve_codes: 'code label' (the drop-downs' form),
    also when the label holds `;`, and a 'code label' whose label is another code's is refused."""
    assert resolve_code("patterns", "P2.1 Resource–demand mismatch") == "P2.1"
    with pytest.raises(FieldError, match=r"P2\.1 is 'Resource–demand mismatch', not 'Tunnel vision'"):
        resolve_code("patterns", "P2.1 Tunnel vision")
    p32 = "P3.2 Understanding the nature of the task; overlooking the wider needs of the children in child protection response"
    assert split_list(f"{p32}; P2.1 Resource–demand mismatch", "patterns") == [p32, "P2.1 Resource–demand mismatch"]
    assert resolve_codes("patterns", f"{p32};P2.1; P3.2") == ["P3.2", "P2.1"]
    with pytest.raises(AmbiguousLabel, match="write the code instead"):
        resolve_code("factors", "Personality")
    with pytest.raises(FieldError, match="'Personality' is the label of 2 codes"):
        resolve_codes("factors", "FL.WORK.03; Personality")
