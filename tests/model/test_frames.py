from __future__ import annotations

import pytest

from lt_workbench.model import frames
from lt_workbench.exceptions import TaxonomyError
from lt_workbench.model.validate import schema


@pytest.mark.parametrize(
    "frame, code, label",
    [
        ("patterns", "P1.3.1", "Revision becomes an interruption in the flow of practice"),
        ("patterns", "P2.1", "Resource–demand mismatch"),
        ("patterns", "P2.1.2", "Gaps in service provision"),
        ("patterns", "P2.3", "Supervision"),
        ("patterns", "P3.5", "Referral procedures and cultures of feedback"),
        ("patterns", "P6.4", "Tunnel vision"),
        ("patterns", "P4.2", "Clarity of roles and responsibilities"),
        ("patterns", "P4.2.2", "Who is responsible for thinking?"),
        ("patterns", "P4.3", "Barriers and facilitators of good team work in longer-term case work"),
        ("patterns", "P4.3.2", "Group think"),
        ("factors", "FL.WORK.03", "Workload"),
        ("factors", "FL.FAM.01", "Nature of the problem(s)"),
        ("factors", "NG.POL.04", "Tools: assessment framework and forms; ICT systems"),
        ("practice_points", "D04", "Assessment"),
    ],
)
def test_codes_fixed_by_the_issue(frame: str, code: str, label: str) -> None:
    assert frames.labels(frame)[code] == label


def test_shape_of_the_frames() -> None:
    t = frames.taxonomy_frame()
    pats = t[t.frame == "patterns"]
    assert sorted(pats[pats.depth == 1].code) == [f"P{i}" for i in range(1, 7)]
    assert set(pats[pats.parent == "P4.3"].code) == {"P4.3.1", "P4.3.2", "P4.3.3", "P4.3.4"}
    fac = t[t.frame == "factors"]
    assert sorted(fac[fac.depth == 1].code) == ["FL", "LS", "NG"]
    assert set(fac[fac.depth == 2].code) == {"FL.FAM", "FL.STAFF", "FL.ROLE", "FL.WORK", "FL.TEAM", "FL.IA", "LS.ORG", "NG.POL"}
    pp = t[t.frame == "practice_points"]
    assert list(pp[pp.depth == 2].code) == [f"D{i:02d}" for i in range(1, 15)]
    assert set(pp[pp.depth == 1].code) == {"DA1", "DA2", "DA3"}
    regions = t[t.frame == "region"]
    assert (regions.parent == "england").sum() == 9
    assert set(regions.parent) == set(frames.codes("nation"))


def test_family_factors_from_seed_003_profiles() -> None:
    assert {"domestic_abuse", "parental_mental_health", "parental_substance_misuse", "teenage_parent", "frequent_moves",
            "poverty", "history_of_neglect", "non_engagement"} <= frames.codes("family_factor")


def _schema_enum(*path: str) -> set:
    node = schema()
    for p in path:
        node = node[p]
    return {v for v in node["enum"] if v is not None}


@pytest.mark.parametrize(
    "frame, path",
    [
        ("review_type", ("properties", "review_type")),
        ("method", ("properties", "method")),
        ("trigger_reason", ("properties", "trigger", "properties", "reason")),
        ("intervention_level", ("properties", "intervention_level")),
        ("quality_grade", ("properties", "quality_grade")),
        ("age_band", ("$defs", "child", "properties", "age_band")),
        ("sex", ("$defs", "child", "properties", "sex")),
        ("outcome", ("$defs", "child", "properties", "outcome")),
        ("practice", ("$defs", "episode", "properties", "practice")),
        ("influence", ("$defs", "factor", "properties", "influence")),
        ("direction", ("$defs", "pattern", "properties", "direction")),
        ("recommendation_kind", ("$defs", "recommendation", "properties", "kind")),
        ("recommendation_level", ("$defs", "recommendation", "properties", "level")),
        ("recommendation_status", ("$defs", "recommendation", "properties", "status")),
    ],
)
def test_schema_enums_agree_with_the_frames(frame: str, path: tuple[str, ...]) -> None:
    assert _schema_enum(*path) == set(frames.codes(frame))


def test_unknown_version_is_a_clear_error() -> None:
    with pytest.raises(TaxonomyError, match="known versions are scie-2008"):
        frames.taxonomy_frame("nope-1999")


def test_format_readme_lists_every_vocabulary_code() -> None:
    from lt_workbench.config import REPO_ROOT

    text = (REPO_ROOT / "schemas" / "README.md").read_text(encoding="utf-8")
    t = frames.taxonomy_frame()
    flat = t[~t.frame.isin(frames.HIERARCHICAL_FRAMES)]
    missing = [f"{f}:{c}" for f, c in zip(flat.frame, flat.code, strict=True) if f"`{c}`" not in text]
    assert not missing
