"""Random draws of the synthetic corpus: weighted choices, dates, review types, children, and the
weights of the freely drawn codes. Every draw takes the review's own `random.Random`.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, TypeVar

from lt_workbench.synth.planted import AGE_BAND_RATES, PLANTED

__all__: list[str] = []  # internal to the generator

T = TypeVar("T")

def _pick(rng: random.Random, weights: dict[T, float]) -> T:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _sample_weighted(rng: random.Random, weights: dict[T, float], k: int) -> list[T]:
    """k distinct keys, drawn one at a time in proportion to weight (without replacement)."""
    pool = dict(weights)
    out: list[T] = []
    while pool and len(out) < k:
        key = _pick(rng, pool)
        out.append(key)
        del pool[key]
    return out


def _date_in_year(rng: random.Random, year: int) -> dt.date:
    start = dt.date(year, 1, 1)
    return start + dt.timedelta(days=rng.randrange((dt.date(year, 12, 31) - start).days + 1))


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _in_family(code: str, root: str) -> bool:
    return code == root or code.startswith(root + ".")


def _review_type(rng: random.Random, nation: str, year: int) -> str:
    """Plausible for nation and year: SCR in England to 2018 then CSPR; CPR in Wales from 2013; CMR in NI."""
    r = rng.random()
    if r < 0.02:
        return "management_review"
    if r < 0.17 or nation == "scotland":
        return "multi_agency_case_review"
    if nation == "england":
        return "serious_case_review" if year <= 2018 else "child_safeguarding_practice_review"
    if nation == "wales":
        return "serious_case_review" if year < 2013 else "child_practice_review"
    return "case_management_review"


_HARMS: dict[str, dict[str, float]] = {
    "under_1": {"non_accidental_head_injury": 3, "physical_abuse": 3.5, "sudden_unexpected_death_in_infancy": 2.5, "neglect": 3},
    "1_to_4": {"physical_abuse": 4, "neglect": 4.5, "homicide": 1, "emotional_abuse": 1, "non_accidental_head_injury": 1},
    "5_to_9": {"neglect": 4.5, "physical_abuse": 3, "emotional_abuse": 2.5, "sexual_abuse": 1.5, "homicide": 0.5},
    "10_to_15": {"neglect": 3, "child_sexual_exploitation": 2, "criminal_exploitation": 1.5, "suicide": 1.5,
                 "emotional_abuse": 2.5, "sexual_abuse": 1.5},
    "16_plus": {"suicide": 2.5, "child_sexual_exploitation": 2, "criminal_exploitation": 2, "neglect": 2, "other": 1,
                "emotional_abuse": 1},
}
_FATAL_ONLY = {"sudden_unexpected_death_in_infancy", "suicide", "homicide"}


def _child(rng: random.Random, index_child: bool, statutory: bool) -> dict[str, Any]:
    age = _pick(rng, AGE_BAND_RATES)
    if index_child:
        outcome = _pick(rng, {"died": 0.45, "seriously_harmed": 0.45, "no_serious_harm": 0.10} if statutory
                        else {"died": 0.15, "seriously_harmed": 0.35, "no_serious_harm": 0.50})
    else:
        outcome = _pick(rng, {"died": 0.05, "seriously_harmed": 0.15, "no_serious_harm": 0.80})
    options = {h: w for h, w in _HARMS[age].items() if outcome == "died" or h not in _FATAL_ONLY}
    harms = [_pick(rng, options)]
    if harms[0] != "sudden_unexpected_death_in_infancy" and rng.random() < 0.35:
        rest = {h: w for h, w in options.items() if h not in harms and h != "sudden_unexpected_death_in_infancy"}
        if rest:
            harms.append(_pick(rng, rest))
    sex = _pick(rng, {"female": 0.47, "male": 0.50, "not_known": 0.03})
    return {"age_band": age, "sex": sex, "harm_types": harms, "outcome": outcome}


_LETTERS = "DEFGHJKLMNPQRSTVWXYZ"  # A, B, C are the adults' pseudonyms



_KIND_PREFERENCE: dict[str, tuple[str, ...]] = {
    "P1": ("assessment",),
    "P2": ("assessment", "longterm"),
    "P3": ("crisis",),
    "P4": ("longterm", "assessment"),
    "P5": ("longterm", "universal"),
    "P6": ("assessment", "longterm"),
}

# ---------------------------------------------------------------------------------------------
# Patterns: the pool drawn freely (weights), and the codes whose presence is planted.
# ---------------------------------------------------------------------------------------------

_FREE_PATTERNS: dict[str, float] = {
    "P1.1": 3, "P1.1.1": 2, "P1.1.2": 2, "P1.1.3": 3, "P1.2.1": 3,
    "P2.2": 2, "P2.2.1": 4, "P2.2.2": 1, "P2.3": 6,
    "P3.1": 3, "P3.2": 4, "P3.3": 2, "P3.4": 4, "P3.5": 6,
    "P4.1": 7, "P4.3.1": 5, "P4.3.2": 3, "P4.3.3": 3, "P4.3.4": 3,
    "P5.1": 6, "P5.2": 2,
    "P6.1": 8, "P6.2": 3, "P6.3": 3, "P6.4": 6,
}
_P21_CODES = {"P2.1": 0.4, "P2.1.1": 0.2, "P2.1.2": 0.3, "P2.1.3": 0.1}
_P42_CODES = {"P4.2": 0.4, "P4.2.1": 0.2, "P4.2.2": 0.2, "P4.2.3": 0.2}

_FREE_FACTORS: dict[str, float] = {
    "FL.FAM": 1, "FL.FAM.01": 3, "FL.FAM.02": 3, "FL.FAM.04": 3, "FL.FAM.05": 5, "FL.FAM.06": 2, "FL.FAM.07": 2,
    "FL.FAM.09": 1, "FL.FAM.10": 3, "FL.FAM.11": 1, "FL.FAM.13": 3, "FL.FAM.14": 1, "FL.FAM.15": 1,
    "FL.STAFF": 1, "FL.STAFF.01": 4, "FL.STAFF.02": 4, "FL.STAFF.03": 3, "FL.STAFF.04": 2, "FL.STAFF.05": 1,
    "FL.STAFF.09": 1,
    "FL.ROLE": 1, "FL.ROLE.01": 3, "FL.ROLE.02": 2, "FL.ROLE.03": 3,
    "FL.TEAM": 1, "FL.TEAM.01": 2, "FL.TEAM.02": 4, "FL.TEAM.03": 2, "FL.TEAM.04": 1, "FL.TEAM.06": 1,
    "FL.TEAM.07": 3, "FL.TEAM.08": 2, "FL.TEAM.10": 1,
    "LS.ORG": 1, "LS.ORG.01": 1, "LS.ORG.03": 2, "LS.ORG.05": 1, "LS.ORG.06": 3, "LS.ORG.07": 1, "LS.ORG.08": 2,
    "LS.ORG.11": 1, "LS.ORG.12": 2, "LS.ORG.13": 1, "LS.ORG.14": 1,
    "NG.POL": 0.5, "NG.POL.02": 1, "NG.POL.03": 2, "NG.POL.04": 2,
    "LS": 0.3, "FL": 0.3,
}
_WORK_CODES: dict[str, float] = {"FL.WORK.03": 5, "FL.WORK.02": 2, "FL.WORK.06": 2, "FL.WORK.04": 1, "FL.WORK.07": 1, "FL.WORK": 2}
_IA_CODES: dict[str, float] = {"FL.IA.04": 5, "FL.IA.03": 4, "FL.IA.08": 2, "FL.IA.05": 2, "FL.IA.01": 1, "FL.IA.06": 1, "FL.IA.09": 1,
             "FL.IA.10": 1, "FL.IA": 2}

_LEVELS: dict[str, dict[str, float]] = {
    "clear_cut": {"local": 0.85, "regional": 0.15},
    "competing_priorities": {"local": 0.60, "regional": 0.35, "national": 0.05},
    "research_and_development": {"local": 0.15, "regional": 0.30, "national": 0.55},
}
_PRACTICE_POINTS_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "P1": ("D04", "D09"), "P2": ("D10", "D13"), "P3": ("D13", "D12"),
    "P4": ("D12", "D07", "D09"), "P5": ("D01", "D02", "D03"), "P6": ("D05", "D07", "D08"),
}


def _direction(rng: random.Random, code: str) -> str:
    p = PLANTED["constructive_in_crisis_response"]["params"]
    rate = p["P3"] if _in_family(code, "P3") else p["other"]
    return "constructive" if rng.random() < rate else "unsafe"
