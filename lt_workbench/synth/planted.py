"""The planted structure of the synthetic corpus: what was planted, the generating rates, and the
oracle SQL (one file per effect under `oracles/`) that recovers each effect from the documented tables.

The generator reads its rates from `PLANTED`, so the documentation, the tests and the generator cannot
disagree. Each effect: unit counted, groups with their generating rate ("expected"), an absolute
tolerance for a ~300-review corpus, contrasts that must hold (group_a minus group_b at least min_gap),
and SQL returning (grp, n, k, share) rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

__all__ = ["AS_OF", "PLANTED", "FAMILY_FACTOR_RATES", "AGE_BAND_RATES", "as_of", "oracle_sql", "p21_rate", "p131_rate"]

ORACLES = Path(__file__).resolve().parent / "oracles"


def oracle_sql(name: str) -> str:
    """The oracle query of planted effect `name`, without its comment header."""
    text = (ORACLES / f"{name}.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--")).strip()
    return body.replace("{as_of}", AS_OF)


AS_OF = "2025-12-31"  # "now" for recommendation status with the default end_year (generally 31 Dec of end_year)

FAMILY_FACTOR_RATES: dict[str, float] = {
    # Seed 003 (Derbyshire, national recurring themes): domestic abuse 50%, teenage parent 28%,
    # frequent moves 25%, poverty 23%; the rest are plausible figures for the other listed themes.
    "domestic_abuse": 0.50,
    "parental_mental_health": 0.35,
    "parental_substance_misuse": 0.30,
    "teenage_parent": 0.28,
    "frequent_moves": 0.25,
    "poverty": 0.23,
    "history_of_neglect": 0.20,
    "non_engagement": 0.30,
    "parental_learning_disability": 0.08,
    "parental_criminality": 0.18,
    "large_family": 0.12,
    "previous_child_removed": 0.10,
    "parent_care_leaver": 0.10,
}

AGE_BAND_RATES: dict[str, float] = {
    # Skewed young, as national analyses of serious case reviews report.
    "under_1": 0.34,
    "1_to_4": 0.24,
    "5_to_9": 0.12,
    "10_to_15": 0.20,
    "16_plus": 0.10,
}

PLANTED: dict[str, dict[str, Any]] = {
    "resource_demand_rise_north_west": {
        "title": "P2.1 Resource–demand mismatch rises in the North West",
        "planted": (
            "Share of reviews with at least one finding coded P2.1 or a sub-pattern (P2.1.1–P2.1.3). "
            "North West: 15% of reviews completed up to 2013, rising linearly to 60% from 2020 "
            "(mean 37.5% over 2014–2019). Every other region: a flat 20% in every year."
        ),
        "unit": "reviews",
        "params": {"pattern": "P2.1", "region": "north_west", "before_year": 2013, "before": 0.15,
                   "after_year": 2020, "after": 0.60, "elsewhere": 0.20},
        "expected": {"nw_2014_2019": 0.375, "nw_from_2020": 0.60, "nw_to_2013": 0.15, "other_regions": 0.20},
        "tolerance": 0.20,
        "contrasts": [("nw_from_2020", "nw_to_2013", 0.25), ("nw_from_2020", "other_regions", 0.20)],
        
    },
    "workload_with_resource_mismatch": {
        "title": "FL.WORK conditions of work co-occur with P2.1",
        "planted": (
            "Episodes that a P2.1/P2.1.x finding rests on carry a conditions-of-work factor (FL.WORK or "
            "FL.WORK.xx, e.g. FL.WORK.03 Workload) 90% of the time; every other episode only 6%."
        ),
        "unit": "episodes",
        "params": {"pattern": "P2.1", "factor_type": "FL.WORK", "linked": 0.90, "other": 0.06},
        "expected": {"other_episodes": 0.06, "rests_on_P2.1": 0.90},
        "tolerance": 0.08,
        "contrasts": [("rests_on_P2.1", "other_episodes", 0.5)],
        
    },
    "interagency_with_role_clarity": {
        "title": "FL.IA inter-agency factors co-occur with P4.2 Clarity of roles and responsibilities",
        "planted": (
            "Episodes that a P4.2/P4.2.x finding rests on carry an inter-agency factor (FL.IA or FL.IA.xx) "
            "85% of the time; every other episode 15%. About a quarter of reviews have a P4.2 finding."
        ),
        "unit": "episodes",
        "params": {"pattern": "P4.2", "factor_type": "FL.IA", "linked": 0.85, "other": 0.15, "review_rate": 0.25},
        "expected": {"other_episodes": 0.15, "rests_on_P4.2": 0.85},
        "tolerance": 0.08,
        "contrasts": [("rests_on_P4.2", "other_episodes", 0.4)],
        
    },
    "constructive_in_crisis_response": {
        "title": "Constructive patterns concentrate in crisis response (P3)",
        "planted": (
            "Seed 001: agencies tend to work relatively well together in crises. 80% of findings coded "
            "P3 or a pattern under it (P3.1–P3.5) are constructive; 12% of findings in every other category (P1, P2, P4, P5, P6). "
            "P3 findings rest mostly on crisis-response episodes (police call-outs, strategy discussions, "
            "child protection medicals)."
        ),
        "unit": "pattern findings",
        "params": {"P3": 0.80, "other": 0.12},
        "expected": {"P3": 0.80, "other_categories": 0.12},
        "tolerance": 0.08,
        "contrasts": [("P3", "other_categories", 0.5)],
        
    },
    "apir_revision_after_2014": {
        "title": "P1.3.1 Revision becomes an interruption: a step up from 2014",
        "planted": (
            "Share of reviews with a finding coded P1.3.1 (the seed 001 pilot pattern): 5% of reviews "
            "completed up to 2013, 30% from 2014 (a fictional change of case-management framework in "
            "this synthetic world), in every region. Its episodes usually carry NG.POL.04 (tools) and "
            "often FL.STAFF.03 (human reasoning)."
        ),
        "unit": "reviews",
        "params": {"pattern": "P1.3.1", "change_year": 2014, "before": 0.05, "after": 0.30},
        "expected": {"from_2014": 0.30, "to_2013": 0.05},
        "tolerance": 0.10,
        "contrasts": [("from_2014", "to_2013", 0.15)],
        
    },
    "overdue_by_recommendation_kind": {
        "title": "Research-and-development recommendations are most often overdue",
        "planted": (
            f"Among recommendations due before {AS_OF} (31 December of the last year generated), the share "
            "still open (proposed, accepted or in progress: overdue) is 11% for clear-cut, 41% for "
            "competing-priorities and 61% for research-and-development recommendations (completed 85%, 55%, "
            "35%; not accepted 4% each)."
        ),
        "unit": "recommendations due before the as-of date",
        "params": {"as_of": AS_OF, "completed": {"clear_cut": 0.85, "competing_priorities": 0.55, "research_and_development": 0.35},
                   "not_accepted": 0.04},
        "expected": {"clear_cut": 0.11, "competing_priorities": 0.41, "research_and_development": 0.61},
        "tolerance": 0.10,
        "contrasts": [("research_and_development", "clear_cut", 0.3)],
        
    },
    "constructive_findings_unaddressed": {
        "title": "Constructive findings are usually left without a recommendation",
        "planted": (
            "A recommendation addresses a pattern code found in its review with probability 0.80 when the "
            "finding is unsafe and 0.35 when it is constructive, so about 20% of unsafe and 65% of "
            "constructive findings are left unaddressed (no recommendation of the review lists the code)."
        ),
        "unit": "pattern findings",
        "params": {"addressed": {"unsafe": 0.80, "constructive": 0.35}},
        "expected": {"constructive": 0.65, "unsafe": 0.20},
        "tolerance": 0.10,
        "contrasts": [("constructive", "unsafe", 0.25)],
        
    },
    "family_factor_profile": {
        "title": "Family factors at seed 003 prevalences",
        "planted": (
            "Among reviews that record family factors, each factor is present independently at a fixed "
            "rate: domestic abuse 50%, teenage parent 28%, frequent moves 25%, poverty 23% (seed 003), "
            "and plausible rates for the others."
        ),
        "unit": "reviews recording family factors",
        "params": dict(FAMILY_FACTOR_RATES),
        "expected": dict(sorted(FAMILY_FACTOR_RATES.items())),
        "tolerance": 0.08,
        "contrasts": [("domestic_abuse", "poverty", 0.1)],
        
    },
    "family_factors_not_recorded": {
        "title": "About one review in ten does not record family factors",
        "planted": "family_factors is null (not recorded) in 10% of reviews; such reviews leave the denominator above.",
        "unit": "reviews",
        "params": {"not_recorded": 0.10},
        "expected": {"all_reviews": 0.10},
        "tolerance": 0.06,
        "contrasts": [],
        
    },
    "young_children": {
        "title": "Children skew young",
        "planted": (
            "Each child's age band is drawn independently: under 1 34%, 1 to 4 24%, 5 to 9 12%, "
            "10 to 15 20%, 16 and over 10% (national analyses report babies as the largest group)."
        ),
        "unit": "children",
        "params": dict(AGE_BAND_RATES),
        "expected": dict(sorted(AGE_BAND_RATES.items())),
        "tolerance": 0.06,
        "contrasts": [("under_1", "5_to_9", 0.1)],
        
    },
}

for _name, _effect in PLANTED.items():
    _effect["sql"] = oracle_sql(_name)


def as_of(end_year: int) -> dt.date:
    """The 'now' against which recommendation status is drawn: 31 December of the last year generated."""
    return dt.date(end_year, 12, 31)


def p21_rate(region: str, year: int) -> float:
    """Generating rate of P2.1 for a review of `region` completed in `year` (see the effect's `planted` text)."""
    p = PLANTED["resource_demand_rise_north_west"]["params"]
    before, after, elsewhere = float(p["before"]), float(p["after"]), float(p["elsewhere"])
    if region != p["region"]:
        return elsewhere
    if year <= p["before_year"]:
        return before
    if year >= p["after_year"]:
        return after
    frac = float(year - p["before_year"]) / float(p["after_year"] - p["before_year"])
    return before + frac * (after - before)


def p131_rate(year: int) -> float:
    """Generating rate of P1.3.1 for a review completed in `year`: a step at the change year."""
    p = PLANTED["apir_revision_after_2014"]["params"]
    rate: float = p["after"] if year >= p["change_year"] else p["before"]
    return rate
