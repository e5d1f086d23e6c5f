"""The synthetic corpus: deterministic, always valid, realistic in shape, and its planted structure
recoverable by plain SQL over the documented tables (cross-checked by counting the JSON in Python)."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lt_workbench.synth import builder as synth
from lt_workbench.config import REPO_ROOT
from lt_workbench.model.frames import codes
from lt_workbench.model.load import load
from lt_workbench.model.validate import schema, validate_document

SAMPLE_DIR = REPO_ROOT / "data" / "sample"
EXAMPLE = REPO_ROOT / "data" / "examples" / "apir-pilot.json"
SAMPLE_N, SAMPLE_SEED = 300, 2008

_ORACLE = jsonschema.Draft202012Validator(schema())


def _problems(doc: dict[str, Any]) -> list[str]:
    """Every complaint from both validators: the pure-Python schema oracle and the project validator."""
    out = [f"schema {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _ORACLE.iter_errors(doc)]
    out += [str(p) for p in validate_document(doc)]
    return out


# --------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_documents() -> None:
    a, b = synth.generate(25, 11), synth.generate(25, 11)
    assert a == b
    assert [synth.dumps(d) for d in a] == [synth.dumps(d) for d in b]


def test_different_seeds_give_different_documents() -> None:
    a, b = synth.generate(10, 11), synth.generate(10, 12)
    assert {d["review_id"] for d in a}.isdisjoint({d["review_id"] for d in b})
    strip = lambda d: {k: v for k, v in d.items() if k not in ("review_id", "generator")}  # noqa: E731
    assert [strip(d) for d in a] != [strip(d) for d in b]


def test_a_small_corpus_is_a_prefix_of_a_larger_one() -> None:
    assert synth.generate(5, 3) == synth.generate(12, 3)[:5]


def test_write_corpus_is_byte_identical_and_removes_only_its_own_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    first = synth.write_corpus(8, 4, out)
    snapshot = {p.name: p.read_bytes() for p in first}
    assert sorted(snapshot) == [f"{synth.review_id(4, i)}.json" for i in range(1, 9)]
    (out / "README.md").write_text("keep me", encoding="utf-8")
    (out / f"{synth.review_id(5, 1)}.json").write_text("{}", encoding="utf-8")  # another seed's file
    second = synth.write_corpus(5, 4, out)
    assert {p.name: p.read_bytes() for p in second} == {k: snapshot[k] for k in sorted(snapshot)[:5]}
    left = sorted(p.name for p in out.iterdir())
    assert left == sorted([p.name for p in second] + ["README.md", f"{synth.review_id(5, 1)}.json"])
    doc = json.loads(second[0].read_bytes().decode("utf-8"))
    assert doc["synthetic"] is True


def test_committed_sample_is_exactly_what_the_generator_writes(tmp_path: Path) -> None:
    committed = sorted(SAMPLE_DIR.glob("*.json"))
    assert len(committed) == SAMPLE_N, "regenerate with: lt-workbench synth --reviews 300 --seed 2008 --out data/sample"
    fresh = synth.write_corpus(SAMPLE_N, SAMPLE_SEED, tmp_path / "fresh")
    assert [p.name for p in committed] == [p.name for p in fresh]
    stale = [p.name for p, q in zip(committed, fresh, strict=True) if p.read_bytes() != q.read_bytes()]
    assert not stale, f"data/sample is out of date ({len(stale)} files differ): regenerate it"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        synth.generate(-1, 0)
    with pytest.raises(ValueError):
        synth.generate(1, 0, start_year=2020, end_year=2010)
    assert synth.generate(0, 0) == []


# --------------------------------------------------------------------------------------------
# Always valid (property test; the pure-Python jsonschema validator is the oracle)
# --------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=1, max_value=4),
    seed=st.integers(min_value=0, max_value=2**40),
    start_year=st.integers(min_value=2000, max_value=2030),
    span=st.integers(min_value=0, max_value=12),
)
def test_generated_documents_are_always_valid(n: int, seed: int, start_year: int, span: int) -> None:
    docs = synth.generate(n, seed, start_year=start_year, end_year=start_year + span)
    assert len(docs) == n
    for doc in docs:
        assert _problems(doc) == []
        assert start_year <= int(doc["dates"]["completed"][:4]) <= start_year + span
        assert json.loads(synth.dumps(doc)) == doc


# --------------------------------------------------------------------------------------------
# Realism of shape, over the sample-sized corpus
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return synth.generate(SAMPLE_N, SAMPLE_SEED)


def _plausible_type(nation: str, year: int, review_type: str) -> bool:
    if review_type in ("multi_agency_case_review", "management_review"):
        return True
    return {
        "england": review_type == ("serious_case_review" if year <= 2018 else "child_safeguarding_practice_review"),
        "wales": review_type == ("serious_case_review" if year < 2013 else "child_practice_review"),
        "northern_ireland": review_type == "case_management_review",
        "scotland": False,
    }[nation]


def test_corpus_shape_is_realistic(docs: list[dict[str, Any]]) -> None:
    area_codes = {a["code"] for a in synth.AREAS}
    assert 30 <= len(synth.AREAS) <= 40
    assert {a["region"] for a in synth.AREAS} == codes("region")
    assert all(re.fullmatch(r"SYN-[A-Z]{2}-\d{2}", c) for c in area_codes)
    titles = re.compile(r"^(Child [A-Z]|Siblings [A-Z] and [A-Z]|Children [A-Z], [A-Z] and [A-Z])$")
    for d in docs:
        assert d["synthetic"] is True and d["area"]["code"] in area_codes
        assert titles.match(d["title"]), d["title"]
        year = int(d["dates"]["completed"][:4])
        assert _plausible_type(d["area"]["nation"], year, d["review_type"]), (d["review_id"], d["review_type"])
        dates = d["dates"]
        assert dates["commissioned"] <= dates["completed"]
        assert dates["published"] is None or dates["published"] >= dates["completed"]
        assert 1 <= len(d["children"]) <= 3
        assert 4 <= len(d["episodes"]) <= 10
        for e in d["episodes"]:
            assert e["start"] <= dates["completed"] and (e["end"] is None or e["end"] >= e["start"])
            assert 2 <= len(e["factors"]) <= 6
            assert len({f["code"] for f in e["factors"]}) == len(e["factors"])
        assert 2 <= len(d["patterns"]) <= 7  # 2-6, plus occasionally the same code twice
        assert sorted(p["priority"] for p in d["patterns"]) == list(range(1, len(d["patterns"]) + 1))
        assert all(1 <= len(p["episodes"]) <= 3 for p in d["patterns"])
        assert 2 <= len(d["recommendations"]) <= 8
        assert 2_000 <= len(synth.dumps(d)) <= 30_000
    assert Counter(d["method"] for d in docs).most_common(1)[0][0] == "systems_learning_together"
    assert sum(d["family_factors"] is None for d in docs) > 0
    assert sum(len(d["children"]) > 1 for d in docs) > 0
    findings = [p for d in docs for p in d["patterns"]]
    assert sum("proposed_label" in p for p in findings) > 0
    assert sum(len({p["code"] for p in d["patterns"]}) < len(d["patterns"]) for d in docs) > 0
    assert sum(any("." in f["code"] and f["code"].count(".") == 1 for e in d["episodes"] for f in e["factors"]) for d in docs) > 0
    assert sum("practice_points" in d for d in docs) > 0
    as_of = synth.as_of(2025).isoformat()
    overdue = [r for d in docs for r in d["recommendations"]
               if r["due"] and r["due"] < as_of and r["status"] in ("proposed", "accepted", "in_progress")]
    assert overdue
    unaddressed = [p for d in docs for p in d["patterns"]
                   if p["code"] not in {c for r in d["recommendations"] for c in r["patterns"]}]
    assert unaddressed
    ages = Counter(c["age_band"] for d in docs for c in d["children"])
    assert ages.most_common(2)[0][0] in ("under_1", "1_to_4") and ages["under_1"] > ages["5_to_9"]
    assert len({d["area"]["region"] for d in docs}) == 12


def test_texts_use_roles_and_pseudonyms_only(docs: list[dict[str, Any]]) -> None:
    """No free-text field names anyone except by role or pseudonym (the cast is fixed and fictional)."""
    allowed_caps = re.compile(r"\b(Child [A-Z]|Mother A|Father B|Mr C)\b")
    for d in docs[:50]:
        for e in d["episodes"]:
            text = " ".join([e["description"], e["significance"], e["judgement"]])
            names = re.findall(r"\b(?:Mrs?|Ms|Miss|Dr) [A-Z][a-z]+", text)
            assert not names, names
            assert allowed_caps.search(text) or "the " in text


# --------------------------------------------------------------------------------------------
# Planted structure: SQL over the loaded tables, checked against PLANTED and against Python
# --------------------------------------------------------------------------------------------


def _share_counts(pairs: list[tuple[str, bool]]) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for grp, hit in pairs:
        n_k = out.setdefault(grp, [0, 0])
        n_k[0] += 1
        n_k[1] += int(hit)
    return {g: (n, k) for g, (n, k) in out.items()}


def _review_has(d: dict[str, Any], root: str) -> bool:
    return any(p["code"] == root or p["code"].startswith(root + ".") for p in d["patterns"])


def _py_p21_trend(docs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    def grp(d: dict[str, Any]) -> str:
        year = int(d["dates"]["completed"][:4])
        if d["area"]["region"] != "north_west":
            return "other_regions"
        return "nw_to_2013" if year <= 2013 else "nw_from_2020" if year >= 2020 else "nw_2014_2019"
    return _share_counts([(grp(d), _review_has(d, "P2.1")) for d in docs])


def _py_factor_on_linked(root: str, factor_type: str) -> Callable[[list[dict[str, Any]]], dict[str, tuple[int, int]]]:
    def count(docs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
        pairs = []
        for d in docs:
            linked = {eid for p in d["patterns"] if p["code"] == root or p["code"].startswith(root + ".") for eid in p["episodes"]}
            for e in d["episodes"]:
                coded = any(f["code"] == factor_type or f["code"].startswith(factor_type + ".") for f in e["factors"])
                pairs.append((f"rests_on_{root}" if e["episode_id"] in linked else "other_episodes", coded))
        return _share_counts(pairs)
    return count


def _py_direction(docs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    return _share_counts([
        ("P3" if p["code"] == "P3" or p["code"].startswith("P3.") else "other_categories", p["direction"] == "constructive")
        for d in docs for p in d["patterns"]
    ])


def _py_apir(docs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    return _share_counts([
        ("to_2013" if int(d["dates"]["completed"][:4]) <= 2013 else "from_2014", any(p["code"] == "P1.3.1" for p in d["patterns"]))
        for d in docs
    ])


def _py_overdue(docs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    return _share_counts([
        (r["kind"], r["status"] in ("proposed", "accepted", "in_progress"))
        for d in docs for r in d["recommendations"] if r["due"] is not None and r["due"] < synth.AS_OF
    ])


def _py_unaddressed(docs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    pairs = []
    for d in docs:
        addressed = {c for r in d["recommendations"] for c in r["patterns"]}
        pairs += [(p["direction"], p["code"] not in addressed) for p in d["patterns"]]
    return _share_counts(pairs)


def _py_family_profile(docs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    return _share_counts([
        (code, code in d["family_factors"])
        for d in docs if d["family_factors"] is not None for code in sorted(codes("family_factor"))
    ])


def _py_not_recorded(docs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    return _share_counts([("all_reviews", d.get("family_factors") is None) for d in docs])


def _py_ages(docs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    ages = Counter(c["age_band"] for d in docs for c in d["children"])
    total = sum(ages.values())
    return {a: (total, k) for a, k in ages.items()}


PYTHON_COUNTS: dict[str, Callable[[list[dict[str, Any]]], dict[str, tuple[int, int]]]] = {
    "resource_demand_rise_north_west": _py_p21_trend,
    "workload_with_resource_mismatch": _py_factor_on_linked("P2.1", "FL.WORK"),
    "interagency_with_role_clarity": _py_factor_on_linked("P4.2", "FL.IA"),
    "constructive_in_crisis_response": _py_direction,
    "apir_revision_after_2014": _py_apir,
    "overdue_by_recommendation_kind": _py_overdue,
    "constructive_findings_unaddressed": _py_unaddressed,
    "family_factor_profile": _py_family_profile,
    "family_factors_not_recorded": _py_not_recorded,
    "young_children": _py_ages,
}


def test_every_planted_effect_has_an_independent_python_count() -> None:
    assert set(PYTHON_COUNTS) == set(synth.PLANTED)
    for name, effect in synth.PLANTED.items():
        assert {"title", "planted", "unit", "params", "expected", "tolerance", "contrasts", "sql"} <= set(effect), name
        for a, b, _gap in effect["contrasts"]:
            assert a in effect["expected"] and b in effect["expected"]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, docs: list[dict[str, Any]]) -> Iterator[duckdb.DuckDBPyConnection]:
    folder = tmp_path_factory.mktemp("synth")
    paths = synth.write_corpus(SAMPLE_N, SAMPLE_SEED, folder / "corpus")
    result = load([folder / "corpus"], folder / "synth.duckdb", progress=False)
    assert len(result.inserted) == SAMPLE_N and not result.rejected, result.summary()
    assert [json.loads(p.read_bytes()) for p in paths] == docs
    con = duckdb.connect(str(folder / "synth.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("name", sorted(synth.PLANTED))
def test_planted_effect_is_recovered_by_sql(name: str, loaded: duckdb.DuckDBPyConnection, docs: list[dict[str, Any]]) -> None:
    effect = synth.PLANTED[name]
    rows = loaded.execute(effect["sql"]).fetchall()
    by_sql = {grp: (int(n), int(k)) for grp, n, k, _share in rows}
    # The SQL and an independent count over the JSON agree exactly.
    assert by_sql == PYTHON_COUNTS[name](docs)
    for grp, n, k, share in rows:
        assert share == pytest.approx(k / n, abs=0.0006)
    # Each planted rate is recovered: within the effect's tolerance or three binomial standard errors.
    observed = {g: k / n for g, (n, k) in by_sql.items()}
    for grp, rate in effect["expected"].items():
        n = by_sql[grp][0]
        slack = max(effect["tolerance"], 3 * math.sqrt(rate * (1 - rate) / n))
        assert abs(observed[grp] - rate) <= slack, (name, grp, observed[grp], rate, n)
    # And the direction of each contrast holds with a clear gap.
    for a, b, gap in effect["contrasts"]:
        assert observed[a] - observed[b] >= gap, (name, a, b, observed[a], observed[b])


def test_sample_readme_quotes_every_planted_effect() -> None:
    text = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text
    assert "lt-workbench synth --reviews 300 --seed 2008 --out data/sample" in text
    for name, effect in synth.PLANTED.items():
        assert name in text
        assert effect["sql"] in text, f"README SQL for {name} differs from PLANTED"


# --------------------------------------------------------------------------------------------
# The hand-written APIR pilot example
# --------------------------------------------------------------------------------------------


def test_apir_pilot_example_is_valid_and_loads(tmp_path: Path) -> None:
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert _problems(doc) == []
    p131 = [p for p in doc["patterns"] if p["code"] == "P1.3.1"]
    assert p131 and p131[0]["direction"] == "unsafe" and p131[0]["priority"] == 1
    factor_codes = {f["code"] for e in doc["episodes"] for f in e["factors"]}
    assert {"NG.POL.04", "FL.STAFF.03"} <= factor_codes
    assert any(r["kind"] == "research_and_development" and "P1.3.1" in r["patterns"] for r in doc["recommendations"])
    assert "illustration" in doc
    result = load([EXAMPLE], tmp_path / "ex.duckdb", progress=False)
    assert result.inserted == ["EXAMPLE-APIR-PILOT"]
    for e in doc["episodes"]:
        assert dt.date.fromisoformat(e["start"]) <= dt.date.fromisoformat(doc["dates"]["completed"])
