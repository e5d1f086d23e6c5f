"""A synthetic corpus of lt-review/1 documents with documented, planted structure.

Why: analysts need something to query on day one, and the workbench needs a corpus whose
answers are known in advance, so tests can prove that plain SQL over the documented tables
recovers what was put in. Everything here is invented: areas, people and events are fictional;
texts use roles and pseudonyms only ("Mother A", "the health visitor", "Child T").

The planted effects live in `PLANTED` (one entry per effect: what was planted, the generating
rates, the SQL that recovers them against the documented tables, and how close a ~300-review
corpus should come). The generator reads its rates from `PLANTED`, so the documentation, the
tests and the generator cannot disagree.

Determinism: review i of seed s is drawn from its own `random.Random` seeded with the string
"lt-workbench-synth/1:<s>:<i>" (string seeds hash with SHA-512, independent of PYTHONHASHSEED),
so the same seed always gives the same documents, and the first k reviews of a corpus of n are
the corpus of k. No global random state is touched.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path
from typing import Any, TypeVar

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION, FORMAT
from lt_workbench.model.frames import labels

__all__ = [
    "GENERATOR",
    "AREAS",
    "PLANTED",
    "AS_OF",
    "as_of",
    "review_id",
    "generate",
    "write_corpus",
    "dumps",
]

GENERATOR = "lt-workbench-synth/1"
T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# Fictional areas: invented names (any resemblance to a real place is coincidental), spread over
# England's nine regions plus Wales, Scotland and Northern Ireland. North West has more areas and
# more reviews so that its planted trend has enough reviews per period to be seen.
# ---------------------------------------------------------------------------------------------

_REGIONS: dict[str, tuple[str, str, float, tuple[str, ...]]] = {
    # region: (abbreviation, nation, share of reviews, fictional area names)
    "north_east": ("NE", "england", 0.06, ("Farrowdene", "Kestrel Haugh", "Sleetburn")),
    "north_west": ("NW", "england", 0.20, ("Amberley Vale", "Northmoor", "Cindermoss", "Wraybridge Fold", "Lantern Bay")),
    "yorkshire_and_the_humber": ("YH", "england", 0.08, ("Quillerby", "Sorrelthwaite", "Gimmerdale")),
    "east_midlands": ("EM", "england", 0.06, ("Brindle Cross", "Oakhallow", "Marrowfield")),
    "west_midlands": ("WM", "england", 0.08, ("Copperwick", "Foxglove Heath", "Anvilbury")),
    "east_of_england": ("EE", "england", 0.07, ("Reedmarsh", "Saltfen", "Wherry St Agnes")),
    "london": ("LN", "england", 0.10, ("Bellweather", "Ropeyard", "Lamplight Hill")),
    "south_east": ("SE", "england", 0.09, ("Chalkhaven", "Downsmere", "Plover Weald")),
    "south_west": ("SW", "england", 0.07, ("Clotterham", "Tidewell", "Granite Coombe")),
    "wales": ("WA", "wales", 0.07, ("Aberwennol", "Cwm Tawelog", "Bryn Eirlys")),
    "scotland": ("SC", "scotland", 0.07, ("Glenmorrow", "Strathkelpie", "Inverbrack")),
    "northern_ireland": ("NI", "northern_ireland", 0.05, ("Ballykinnear", "Lough Sellan")),
}

AREAS: tuple[dict[str, str], ...] = tuple(
    {"code": f"SYN-{abbr}-{k:02d}", "name": name, "region": region, "nation": nation}
    for region, (abbr, nation, _w, names) in _REGIONS.items()
    for k, name in enumerate(names, start=1)
)

# ---------------------------------------------------------------------------------------------
# The planted structure. Each effect: unit counted, groups with their generating rate
# ("expected"), an absolute tolerance for a ~300-review corpus, contrasts that must hold
# (group_a minus group_b at least min_gap), and SQL over the documented tables returning
# (grp, n, k, share) rows. Rates quoted here drive the generator.
# ---------------------------------------------------------------------------------------------

AS_OF = "2025-12-31"  # "now" for recommendation status with the default end_year (generally 31 Dec of end_year)

_FAMILY_FACTOR_RATES: dict[str, float] = {
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

_AGE_BAND_RATES: dict[str, float] = {
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
        "sql": """
SELECT CASE WHEN r.region <> 'north_west' THEN 'other_regions'
            WHEN r.year <= 2013 THEN 'nw_to_2013'
            WHEN r.year >= 2020 THEN 'nw_from_2020'
            ELSE 'nw_2014_2019' END                                   AS grp,
       count(*)                                                        AS n,
       sum(CASE WHEN h.review_id IS NOT NULL THEN 1 ELSE 0 END)        AS k,
       round(avg(CASE WHEN h.review_id IS NOT NULL THEN 1.0 ELSE 0 END), 3) AS share
FROM reviews AS r
LEFT JOIN (SELECT DISTINCT review_id FROM pattern_findings
           WHERE code = 'P2.1' OR code LIKE 'P2.1.%') AS h
       ON h.review_id = r.review_id
GROUP BY grp ORDER BY grp
""".strip(),
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
        "sql": """
WITH linked AS (
    SELECT DISTINCT pe.review_id, pe.episode_id
    FROM pattern_episodes AS pe
    JOIN pattern_findings AS f ON f.review_id = pe.review_id AND f.finding_no = pe.finding_no
    WHERE f.code = 'P2.1' OR f.code LIKE 'P2.1.%'),
coded AS (
    SELECT DISTINCT review_id, episode_id FROM factor_codings
    WHERE code = 'FL.WORK' OR code LIKE 'FL.WORK.%')
SELECT CASE WHEN l.episode_id IS NOT NULL THEN 'rests_on_P2.1' ELSE 'other_episodes' END AS grp,
       count(*)                                                       AS n,
       sum(CASE WHEN c.episode_id IS NOT NULL THEN 1 ELSE 0 END)      AS k,
       round(avg(CASE WHEN c.episode_id IS NOT NULL THEN 1.0 ELSE 0 END), 3) AS share
FROM episodes AS e
LEFT JOIN linked AS l ON l.review_id = e.review_id AND l.episode_id = e.episode_id
LEFT JOIN coded  AS c ON c.review_id = e.review_id AND c.episode_id = e.episode_id
GROUP BY grp ORDER BY grp
""".strip(),
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
        "sql": """
WITH linked AS (
    SELECT DISTINCT pe.review_id, pe.episode_id
    FROM pattern_episodes AS pe
    JOIN pattern_findings AS f ON f.review_id = pe.review_id AND f.finding_no = pe.finding_no
    WHERE f.code = 'P4.2' OR f.code LIKE 'P4.2.%'),
coded AS (
    SELECT DISTINCT review_id, episode_id FROM factor_codings
    WHERE code = 'FL.IA' OR code LIKE 'FL.IA.%')
SELECT CASE WHEN l.episode_id IS NOT NULL THEN 'rests_on_P4.2' ELSE 'other_episodes' END AS grp,
       count(*)                                                       AS n,
       sum(CASE WHEN c.episode_id IS NOT NULL THEN 1 ELSE 0 END)      AS k,
       round(avg(CASE WHEN c.episode_id IS NOT NULL THEN 1.0 ELSE 0 END), 3) AS share
FROM episodes AS e
LEFT JOIN linked AS l ON l.review_id = e.review_id AND l.episode_id = e.episode_id
LEFT JOIN coded  AS c ON c.review_id = e.review_id AND c.episode_id = e.episode_id
GROUP BY grp ORDER BY grp
""".strip(),
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
        "sql": """
SELECT CASE WHEN code = 'P3' OR code LIKE 'P3.%' THEN 'P3' ELSE 'other_categories' END AS grp,
       count(*)                                                         AS n,
       sum(CASE WHEN direction = 'constructive' THEN 1 ELSE 0 END)      AS k,
       round(avg(CASE WHEN direction = 'constructive' THEN 1.0 ELSE 0 END), 3) AS share
FROM pattern_findings
GROUP BY grp ORDER BY grp
""".strip(),
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
        "sql": """
SELECT CASE WHEN r.year <= 2013 THEN 'to_2013' ELSE 'from_2014' END   AS grp,
       count(*)                                                        AS n,
       sum(CASE WHEN h.review_id IS NOT NULL THEN 1 ELSE 0 END)        AS k,
       round(avg(CASE WHEN h.review_id IS NOT NULL THEN 1.0 ELSE 0 END), 3) AS share
FROM reviews AS r
LEFT JOIN (SELECT DISTINCT review_id FROM pattern_findings WHERE code = 'P1.3.1') AS h
       ON h.review_id = r.review_id
GROUP BY grp ORDER BY grp
""".strip(),
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
        "sql": f"""
SELECT kind                                                                          AS grp,
       count(*)                                                                      AS n,
       sum(CASE WHEN status IN ('proposed', 'accepted', 'in_progress') THEN 1 ELSE 0 END) AS k,
       round(avg(CASE WHEN status IN ('proposed', 'accepted', 'in_progress') THEN 1.0 ELSE 0 END), 3) AS share
FROM recommendations
WHERE due < DATE '{AS_OF}'
GROUP BY grp ORDER BY grp
""".strip(),
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
        "sql": """
SELECT f.direction                                                    AS grp,
       count(*)                                                        AS n,
       sum(CASE WHEN a.code IS NULL THEN 1 ELSE 0 END)                 AS k,
       round(avg(CASE WHEN a.code IS NULL THEN 1.0 ELSE 0 END), 3)     AS share
FROM pattern_findings AS f
LEFT JOIN (SELECT DISTINCT review_id, code FROM recommendation_patterns) AS a
       ON a.review_id = f.review_id AND a.code = f.code
GROUP BY grp ORDER BY grp
""".strip(),
    },
    "family_factor_profile": {
        "title": "Family factors at seed 003 prevalences",
        "planted": (
            "Among reviews that record family factors, each factor is present independently at a fixed "
            "rate: domestic abuse 50%, teenage parent 28%, frequent moves 25%, poverty 23% (seed 003), "
            "and plausible rates for the others."
        ),
        "unit": "reviews recording family factors",
        "params": dict(_FAMILY_FACTOR_RATES),
        "expected": dict(sorted(_FAMILY_FACTOR_RATES.items())),
        "tolerance": 0.08,
        "contrasts": [("domestic_abuse", "poverty", 0.1)],
        "sql": """
SELECT ff.code                                                        AS grp,
       count(*)                                                        AS n,
       sum(CASE WHEN rf.code IS NOT NULL THEN 1 ELSE 0 END)            AS k,
       round(avg(CASE WHEN rf.code IS NOT NULL THEN 1.0 ELSE 0 END), 3) AS share
FROM reviews AS r
JOIN taxonomy AS ff ON ff.frame = 'family_factor' AND ff.version = r.taxonomy_version
LEFT JOIN review_family_factors AS rf ON rf.review_id = r.review_id AND rf.code = ff.code
WHERE r.family_factors_recorded
GROUP BY grp ORDER BY grp
""".strip(),
    },
    "family_factors_not_recorded": {
        "title": "About one review in ten does not record family factors",
        "planted": "family_factors is null (not recorded) in 10% of reviews; such reviews leave the denominator above.",
        "unit": "reviews",
        "params": {"not_recorded": 0.10},
        "expected": {"all_reviews": 0.10},
        "tolerance": 0.06,
        "contrasts": [],
        "sql": """
SELECT 'all_reviews'                                                  AS grp,
       count(*)                                                        AS n,
       sum(CASE WHEN NOT family_factors_recorded THEN 1 ELSE 0 END)    AS k,
       round(avg(CASE WHEN NOT family_factors_recorded THEN 1.0 ELSE 0 END), 3) AS share
FROM reviews
""".strip(),
    },
    "young_children": {
        "title": "Children skew young",
        "planted": (
            "Each child's age band is drawn independently: under 1 34%, 1 to 4 24%, 5 to 9 12%, "
            "10 to 15 20%, 16 and over 10% (national analyses report babies as the largest group)."
        ),
        "unit": "children",
        "params": dict(_AGE_BAND_RATES),
        "expected": dict(sorted(_AGE_BAND_RATES.items())),
        "tolerance": 0.06,
        "contrasts": [("under_1", "5_to_9", 0.1)],
        "sql": """
SELECT age_band                                                       AS grp,
       (SELECT count(*) FROM children)                                 AS n,
       count(*)                                                        AS k,
       round(count(*) * 1.0 / (SELECT count(*) FROM children), 3)      AS share
FROM children
GROUP BY grp ORDER BY grp
""".strip(),
    },
}


def as_of(end_year: int) -> dt.date:
    """The 'now' against which recommendation status is drawn: 31 December of the last year generated."""
    return dt.date(end_year, 12, 31)


def review_id(seed: int, i: int) -> str:
    """Id of review i (from 1) of the corpus for `seed`: 'SYN-S<seed>-<i:04d>' (seed in the id so corpora never collide)."""
    return f"SYN-S{seed}-{i:04d}"


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Vocabulary-level draws: review type, children, family
# ---------------------------------------------------------------------------------------------


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
    age = _pick(rng, _AGE_BAND_RATES)
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


# ---------------------------------------------------------------------------------------------
# Key practice episodes: templates written with roles and pseudonyms only.
# kind: crisis (incident response, where P3 findings rest), assessment, longterm, universal.
# ---------------------------------------------------------------------------------------------

_YOUNG = frozenset({"under_1", "1_to_4"})
_SCHOOL = frozenset({"5_to_9", "10_to_15", "16_plus"})
_TEEN = frozenset({"10_to_15", "16_plus"})

_EPISODES: tuple[dict[str, Any], ...] = (
    dict(key="antenatal", kind="universal", ages=frozenset({"under_1"}), stage=0, agencies=["midwifery", "general_practice"],
         title="Antenatal booking and pregnancy care",
         description="The community midwife booked {mother} late in pregnancy. {mother} mentioned earlier contact with children's social care and said she was now well supported by {partner}. Routine enquiry about domestic abuse was made with {partner} in the room.",
         significance="With hindsight, the late booking and the partner's presence at routine enquiry were early signals that were not followed up.",
         good="The midwife followed the booking procedure and passed the history to the health visitor promptly.",
         bad="Routine enquiry was not repeated when {mother} was seen alone, and the history was not checked with other agencies."),
    dict(key="new_birth", kind="universal", ages=_YOUNG, stage=1, agencies=["health_visiting"],
         title="Health visitor new birth visit",
         description="The health visitor completed the new birth visit at home. {child} was feeding well. The flat was cramped and {mother} appeared exhausted; {father} was described by {mother} as 'around but busy'.",
         significance="The visit set the picture of a coping family that later contacts were read against.",
         good="A thorough universal contact: the health visitor saw {child} undressed and asked about support at home.",
         bad="The health visitor did not ask who else lived in or visited the home, or record her unease about {mother}'s low mood."),
    dict(key="gp_mood", kind="universal", ages=None, stage=1.5, agencies=["general_practice"],
         title="GP consultations about the mother's low mood",
         description="{mother} saw the GP three times in four months about low mood and poor sleep, and medication was started. The record noted 'children at home' but not their ages or who else lived there.",
         significance="Information relevant to the children's safety sat in an adult-focused record.",
         good="The GP asked about the children and offered a follow-up appointment with the practice nurse.",
         bad="The GP did not consider the impact of {mother}'s mental health on the children or tell the health visitor."),
    dict(key="not_brought", kind="universal", ages=frozenset({"under_1", "1_to_4", "5_to_9"}), stage=2, agencies=["hospital", "health_visiting", "general_practice"],
         title="Missed health appointments",
         description="{child} was not brought to two hospital outpatient appointments and a developmental review. Letters went to an old address; the hospital discharged {child} back to the GP after the second missed appointment.",
         significance="'Was not brought' was treated as the family's choice rather than a sign about the child's care.",
         good="The health visitor followed up the missed review with a home visit the same week.",
         bad="Each agency closed its own episode; no one put the missed appointments together."),
    dict(key="nursery", kind="universal", ages=frozenset({"1_to_4"}), stage=2, agencies=["early_years"],
         title="Nursery notices hunger and a bruise",
         description="Nursery staff noticed {child} arriving hungry and in the same clothes for several days, and recorded a bruise to the ear which {mother} said was from a fall at the park.",
         significance="The nursery held the most frequent view of {child} but its concerns carried little weight.",
         good="The nursery manager recorded the bruise with a body map and called the social care front door the same day.",
         bad="The concern was logged internally and discussed with {mother}, but not shared with the health visitor or social care."),
    dict(key="school_attendance", kind="universal", ages=_SCHOOL, stage=2, agencies=["school", "education_welfare"],
         title="Falling school attendance",
         description="{child}'s attendance fell below 80%. The school's designated safeguarding lead and the education welfare officer made two home visits; {mother} said {child} had been unwell and produced a note.",
         significance="Attendance was managed as an education issue, separate from what was known about the home.",
         good="The designated safeguarding lead linked the absences to earlier concerns and asked for a multi-agency meeting.",
         bad="The absences were authorised on the strength of the note; no one spoke to {child} alone."),
    dict(key="housing_move", kind="universal", ages=None, stage=2.5, agencies=["housing"],
         title="Eviction and move to temporary accommodation",
         description="The family were evicted for rent arrears and placed in temporary accommodation across the area. Health and school records did not follow for several weeks and the new address was not known to the GP.",
         significance="The move broke the thread of contact just as concerns were rising.",
         good="The housing officer notified children's social care and the health visitor of the move the same day.",
         bad="No agency was told of the move; the family were 'lost' to universal services for six weeks."),
    dict(key="adult_mh", kind="universal", ages=None, stage=2.5, agencies=["adult_mental_health", "general_practice"],
         title="Adult mental health assessment of the mother",
         description="{mother} was assessed by the community mental health team after a crisis presentation. The assessment focused on her own needs; the care plan recorded that she had 'childcare responsibilities' without further detail.",
         significance="The parenting role and the children's needs were outside the frame of the adult assessment.",
         good="The mental health nurse asked about the children and, with {mother}'s agreement, contacted the health visitor.",
         bad="The children were not considered in the risk assessment, and no referral or information-sharing followed."),
    dict(key="substance", kind="universal", ages=None, stage=3, agencies=["substance_misuse_service", "probation"],
         title="Partner's drug treatment and probation supervision",
         description="{partner} attended the substance misuse service as a condition of a community order. Positive tests were discussed with his probation officer but not shared with children's social care, who believed he had left the household.",
         significance="Agencies held different pictures of who was living in the home.",
         good="The probation officer checked household composition with children's social care and shared the test results.",
         bad="Neither service asked whether {partner} had contact with children."),
    dict(key="camhs", kind="assessment", ages=_TEEN, stage=2.5, agencies=["camhs", "school", "general_practice"],
         title="CAMHS referral after disclosure of self-harm",
         description="{child} told a teacher about self-harm and was referred to CAMHS by the GP. The referral was screened as not meeting the threshold and {child} was signposted to the school counselling service.",
         significance="A thresholded response to a single referral missed the accumulating picture.",
         good="The CAMHS clinician spoke to the referrer and the school before deciding, and agreed a safety plan.",
         bad="The referral was screened on paper; the outcome letter did not reach the school."),
    dict(key="missing", kind="crisis", ages=_TEEN, stage=3, agencies=["police", "childrens_social_care", "youth_justice"],
         title="Repeated missing episodes",
         description="{child} was reported missing four times in six weeks, returning each time after one or two nights. Police searched and found {child} in the company of older young adults; return home interviews were offered but not taken up.",
         significance="Each episode was handled as a separate incident rather than as a sign of exploitation.",
         good="Police and social care held a joint strategy discussion after the second episode and shared intelligence about the adults involved.",
         bad="Each episode was closed on return; the pattern was not escalated."),
    dict(key="da_callout", kind="crisis", ages=None, stage=2, agencies=["police"],
         title="Police attend a domestic incident",
         description="Police attended the home after a neighbour reported shouting. {partner} had left before they arrived. {mother} declined to make a complaint; officers saw {children} and completed a domestic abuse risk assessment graded standard, and a notification was sent to children's social care.",
         significance="The incident was the first recorded sign of domestic abuse in this household.",
         good="Officers saw and spoke with {children}, recorded what they saw, and notified children's social care within 24 hours.",
         bad="The risk grading relied on {mother}'s account; previous call-outs at her earlier address were not checked."),
    dict(key="ed_injury", kind="crisis", ages=_YOUNG, stage=3, agencies=["hospital", "ambulance"],
         title="Emergency department attendance with an injury",
         description="{child} was brought to the emergency department by ambulance with a swollen arm. The explanation given was a fall from a sofa. The paediatric registrar was consulted and the paediatric liaison health visitor was notified the next day.",
         significance="An injury to a young child with an explanation that needed testing.",
         good="The registrar followed the protocol for injuries in young children, requested a skeletal survey and referred to children's social care.",
         bad="The explanation was accepted without checking for previous attendances or for social care involvement."),
    dict(key="strategy", kind="crisis", ages=None, stage=3.2, agencies=["childrens_social_care", "police", "hospital"],
         title="Strategy discussion",
         description="Following the hospital referral, a strategy discussion was held by telephone between the social work team manager, the police child abuse investigation team and the consultant paediatrician. A joint section 47 enquiry was agreed and {children} were seen that day.",
         significance="The response to the incident was well coordinated under established procedures.",
         good="Timely, well-attended and clear about who would do what; information was shared freely.",
         bad="The discussion did not include the health visitor or the school, who held relevant history."),
    dict(key="cp_medical", kind="crisis", ages=None, stage=3.3, agencies=["hospital", "childrens_social_care"],
         title="Child protection medical",
         description="A child protection medical was completed within 24 hours. The paediatrician found injuries of different ages and said the explanation offered was not consistent with them.",
         significance="The medical established that the harm was not a single event.",
         good="The medical was prompt and the paediatrician's opinion was clearly recorded and shared.",
         bad="The medical was delayed by two days while agencies debated who should arrange it."),
    dict(key="emergency_plan", kind="crisis", ages=None, stage=3.5, agencies=["childrens_social_care", "police"],
         title="Out-of-hours safety plan",
         description="Out of hours, the emergency duty social worker and police agreed that {children} would stay with a maternal aunt under a safety plan while enquiries continued.",
         significance="Immediate safety was secured without court proceedings.",
         good="Decisive, proportionate action, agreed with the family and recorded for the day team.",
         bad="The aunt's household was not checked and the plan was not reviewed after the weekend."),
    dict(key="marac", kind="crisis", ages=None, stage=3, agencies=["police", "voluntary_sector", "housing", "childrens_social_care"],
         title="Multi-agency risk assessment conference",
         description="The case was heard at the multi-agency risk assessment conference after a further incident. Actions were agreed for an independent domestic violence adviser to contact {mother} and for housing to fit additional locks.",
         significance="The conference focused on {mother}'s safety; the children were named but not discussed.",
         good="Agencies attended with their information and agreed clear actions with named leads.",
         bad="The children's needs were not discussed and social care was not asked for its view."),
    dict(key="screening", kind="assessment", ages=None, stage=2.2, agencies=["childrens_social_care"],
         title="Referral screened at the front door",
         description="The referral was screened at the front door. The duty social worker looked at two previous contacts and decided the threshold for a statutory assessment was not met; the family were signposted to early help.",
         significance="Each contact was judged on its own rather than as part of a history.",
         good="The duty worker read the history, spoke to the referrer and recorded the reasons for the decision.",
         bad="The decision relied on the referral form alone; the referrer was not told the outcome."),
    dict(key="assessment", kind="assessment", ages=None, stage=2.4, agencies=["childrens_social_care", "health_visiting"],
         title="Statutory assessment completed",
         description="Social worker 1 completed the assessment within the timescale. It drew on a home visit, a conversation with {mother} and a check with the health visitor. {father} was not seen. The assessment concluded that needs could be met at child in need level.",
         significance="The assessment was later treated by all agencies as the definitive account of the family.",
         good="The assessment was analytical, named what was still unknown and set a date to revisit its conclusions.",
         bad="The assessment was presented and accepted as complete; gaps about the men in the household were not recorded."),
    dict(key="pre_birth", kind="assessment", ages=frozenset({"under_1"}), stage=0.5, agencies=["childrens_social_care", "midwifery"],
         title="Pre-birth assessment",
         description="A pre-birth assessment was started at thirty weeks. It relied mainly on {mother}'s account of her relationship with {partner}, which she described as over.",
         significance="The plan for the baby's birth rested on an untested account.",
         good="The social worker sought information about {partner} from police and probation before the birth.",
         bad="The assessment was not finished before the birth and the discharge plan was not agreed."),
    dict(key="specialist", kind="assessment", ages=None, stage=3, agencies=["childrens_social_care", "adult_mental_health"],
         title="Request for a specialist parenting assessment",
         description="The core group asked for a specialist parenting assessment. There was a five-month waiting list and no agreement about which agency would pay for it.",
         significance="The plan waited on an assessment that did not arrive.",
         good="The team manager escalated the delay and an interim assessment was agreed.",
         bad="The plan was left unchanged while the referral waited."),
    dict(key="icpc", kind="assessment", ages=None, stage=3.4, agencies=["childrens_social_care", "police", "health_visiting", "general_practice"],
         title="Initial child protection conference",
         description="An initial child protection conference made {children} subject to plans under the category of neglect. The GP sent a report but did not attend; the police representative had no information about {partner}.",
         significance="The plan was built on a partial picture of the adults in the household.",
         good="The conference chair insisted on a clear, measurable plan and a date for the first core group.",
         bad="Gaps in information about {partner} were noted but not turned into actions."),
    dict(key="core_group", kind="longterm", ages=None, stage=4, agencies=["childrens_social_care", "health_visiting", "school", "early_years"],
         title="Core group meetings",
         description="Core group meetings were held monthly. Actions were reviewed as 'done' or 'not done'; the written plan was not updated when {partner} returned to the household.",
         significance="Review checked whether tasks had been done, not whether the plan was working.",
         good="The core group revisited the plan when new information arrived and changed it.",
         bad="Attendance was patchy and members assumed the social worker was acting on new information."),
    dict(key="review_conference", kind="longterm", ages=None, stage=4.5, agencies=["childrens_social_care", "school", "health_visiting"],
         title="Review conference ends the plan",
         description="At the review conference the plan was ended on the basis that {mother} had attended all appointments. Reports described progress; the school voiced doubts but did not formally dissent.",
         significance="Compliance with appointments was read as change in the children's lived experience.",
         good="The conference tested the evidence of change and kept the plan in place for a further three months.",
         bad="Dissent was not recorded and the escalation procedure was not used."),
    dict(key="step_down", kind="longterm", ages=None, stage=5, agencies=["childrens_social_care", "early_years", "voluntary_sector"],
         title="Step-down to early help",
         description="The case was stepped down to early help. The lead professional role passed to the family support worker; the handover meeting was cancelled and information was sent by email.",
         significance="Responsibility moved without a shared understanding of the risks.",
         good="A joint handover visit was made and the family support worker knew what to watch for.",
         bad="The family support worker did not receive the assessment and did not know about {partner}."),
    dict(key="supervision", kind="longterm", ages=None, stage=4.2, agencies=["childrens_social_care"],
         title="Case discussed in supervision",
         description="The case was discussed in supervision twice in four months. Discussion focused on timescales and outstanding tasks; the team manager's notes recorded 'no change, continue with plan'.",
         significance="Supervision did not test the working hypothesis about the family.",
         good="Supervision was reflective: the manager asked what else might explain what workers were seeing.",
         bad="Supervision was brief and task-focused; the social worker's unease was not explored."),
    dict(key="transfer_in", kind="longterm", ages=None, stage=1.8, agencies=["childrens_social_care", "health_visiting", "general_practice"],
         title="Family move in from another area",
         description="The family moved into the area from another authority. The child protection plan transferred, but the transfer-in conference was held after ten weeks and the previous area's chronology arrived after it.",
         significance="History held elsewhere did not reach those making decisions.",
         good="The two areas held a joint meeting before the move and the chronology travelled with the case.",
         bad="The new team started afresh, relying on {mother}'s account of the past."),
    dict(key="home_visits", kind="longterm", ages=None, stage=4, agencies=["childrens_social_care", "voluntary_sector"],
         title="Weekly home visits by the family support worker",
         description="The family support worker made weekly home visits. {mother} was welcoming; {child} was rarely seen awake and the upstairs rooms were not seen.",
         significance="A warm relationship with {mother} made it harder to focus on {child}'s experience.",
         good="The worker saw {child}'s bedroom at each visit and recorded what {child} said.",
         bad="Visits were arranged in advance and always at the same time of day."),
    dict(key="father_absent", kind="longterm", ages=None, stage=4.1, agencies=["childrens_social_care", "probation"],
         title="Father not engaged in the plan",
         description="Workers' contact was almost entirely with {mother}. {father} was recorded as 'not engaging'; letters were addressed to {mother} and he was not invited to meetings.",
         significance="The men in {child}'s life were largely invisible to services.",
         good="The social worker visited {father} separately and involved him in the plan.",
         bad="No attempt was made to assess {father} or {partner}, who had contact with {child}."),
)

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

_FINDINGS: dict[str, tuple[str, str]] = {
    # code: (unsafe, constructive)
    "P1.1": ("Assessment forms shaped what was recorded: boxes were filled, but the reasoning behind conclusions was not.",
             "The assessment form prompted workers to record what they did not yet know, which kept questions open."),
    "P1.1.1": ("Completed forms gave no sign of how deep the assessment had gone or what had made it hard to complete.",
               "Forms recorded the limits of the assessment, so readers could judge its depth."),
    "P1.1.2": ("The form left little room for the rationale behind conclusions, so later readers took the conclusions at face value.",
               "Workers used the analysis section to set out their reasoning, which others could then challenge."),
    "P1.1.3": ("Records favoured factual assertions; workers' healthy unease about the household was not written down.",
               "Records captured workers' unease as well as facts, which prompted a second look."),
    "P1.2.1": ("The assessment framework's focus on need meant that risk factors in the household were never articulated.",
               "Workers used the framework to name risks as well as needs."),
    "P1.3.1": ("Assessments were presented and accepted as complete; revising them was treated as an interruption to the plan rather than part of the work.",
               "The plan was revisited as new information arrived; revision was part of the flow of work."),
    "P2.1": ("Demand on the teams outstripped capacity, and workers rationed their time by doing the minimum on cases judged stable.",
             "Managers kept enough capacity in reserve for the case to be picked up quickly when concerns rose."),
    "P2.1.1": ("An expert assessment was needed but could not be obtained in time; the plan waited on it.",
               "An expert assessment was obtained quickly through an agreed route."),
    "P2.1.2": ("The service the family needed did not exist locally, so the plan relied on what was available rather than on what was needed.",
               "A locally commissioned service filled the gap the family needed."),
    "P2.1.3": ("A dispute between agencies about funding delayed the service; practitioners tried to create safety in the meantime.",
               "Agencies agreed to fund first and settle costs later, so the service was not delayed."),
    "P2.2": ("Performance indicators drew attention to timescales rather than to the quality of work with the child.",
             "Managers made clear that quality came before timescales in this case."),
    "P2.2.1": ("Overt messages stressed thoroughness but covert messages rewarded throughput, and workers followed the covert ones.",
               "Managers' overt and covert messages agreed, so workers felt able to take the time the case needed."),
    "P2.2.2": ("Different meanings of 'assessment' and 'plan' across agencies blurred what had actually been done.",
               "Agencies used shared definitions, so everyone knew what stage the work had reached."),
    "P2.3": ("Supervision checked tasks and timescales but did not test the worker's thinking about the case.",
             "Reflective supervision challenged the worker's hypothesis and led to a change of plan."),
    "P3.1": ("Agencies ranked the incident as low priority because of its category rather than its context.",
             "Agencies agreed priorities quickly and acted together when the incident happened."),
    "P3.2": ("The response to the incident focused on the injured child and overlooked the needs of the other children.",
             "The child protection response considered the needs of all the children in the household."),
    "P3.3": ("There was no slack in the system when the crisis came, so the response was delayed.",
             "Teams had enough reserve capacity to respond to the crisis on the day."),
    "P3.4": ("Workers did not know each other across agencies and relied on formal referrals that lost detail.",
             "Workers who knew each other spoke directly and shared concerns the same day."),
    "P3.5": ("Referrers did not hear what happened to their referrals and stopped passing on similar concerns.",
             "Referral procedures were followed and referrers were told the outcome, which kept them engaged."),
    "P4.1": ("Assessment and planning were treated as one-off events rather than as an on-going process.",
             "Assessment was treated as on-going, and the plan changed as the picture changed."),
    "P4.2": ("It was not clear who was responsible for which part of the plan; each agency assumed another was acting.",
             "Roles in the plan were clear and agreed, so tasks did not fall between agencies."),
    "P4.2.1": ("Responsibility was shared so widely that in practice no one held it.",
               "Shared responsibility was made explicit, with a named lead for each action."),
    "P4.2.2": ("No agency saw itself as responsible for thinking about the whole picture.",
               "The lead professional took responsibility for pulling the whole picture together."),
    "P4.2.3": ("Agencies were unsure what they could share and shared less than others needed.",
               "Agencies shared proportionate information promptly and with a clear purpose."),
    "P4.3.1": ("Differences of professional opinion were not voiced or escalated; the dominant view went unchallenged.",
               "Professionals felt able to query each other's assessments, and the escalation procedure was used."),
    "P4.3.2": ("The group converged on a shared optimistic view and discounted information that did not fit.",
               "The group deliberately sought out information that might contradict its view."),
    "P4.3.3": ("Views from workers with lower perceived status carried less weight than their knowledge of the child deserved.",
               "Every contributor's view was weighed on its merits, whatever their role."),
    "P4.3.4": ("Agencies overestimated what others could provide and reduced their own involvement accordingly.",
               "Agencies checked what others could actually provide before relying on it."),
    "P5.1": ("Workers focused on the mother; fathers and male partners were largely invisible to services.",
             "Workers engaged the father and the mother's partner as well as the mother."),
    "P5.2": ("The family presented its problems in a gendered way that workers accepted without question.",
             "Workers looked beyond the family's account of who was responsible for what."),
    "P6.1": ("Early judgements about the family were not revisited when new information arrived.",
             "Workers revisited their judgements when new information arrived."),
    "P6.2": ("Small departures from the plan accumulated unnoticed until the plan no longer protected the child.",
             "Drift was noticed early and the plan was reset."),
    "P6.3": ("Problems were attributed to the parents' character rather than to circumstances that services could change.",
             "Workers separated the parents' circumstances from their character when judging capacity to change."),
    "P6.4": ("Workers focused on the presenting incident and did not see the wider pattern of concerns.",
             "Workers stepped back from the presenting incident to look at the history as a whole."),
}

_PROPOSED_LABELS: dict[str, tuple[str, ...]] = {
    "P2.1": ("Waiting lists for perinatal mental health", "Agency staff covering vacant posts"),
    "P2.1.2": ("No local service for fathers who use violence",),
    "P3.5": ("No feedback loop from the front door to schools",),
    "P4.2": ("Lead professional role unclear after step-down",),
    "P4.2.3": ("Adult services unsure what to share about parents",),
    "P5.1": ("Invisible fathers and male partners", "Correspondence addressed only to the mother"),
    "P6.4": ("Incident-led thinking about older children",),
    "P1.1": ("Electronic records split across systems",),
    "P2.3": ("Group supervision replacing individual supervision",),
}

_CASE_PHRASES = ("In this case, ", "Here, ", "In this review, ", "", "Across agencies, ")
_WIDER_PHRASES = (
    " Participants recognised this as common beyond this case.",
    " This is likely to recur in other cases in the area.",
    "",
    " It was seen in several episodes.",
    " Practitioners described this as familiar in their day-to-day work.",
)

# ---------------------------------------------------------------------------------------------
# Contributory factors: the freely drawn pool (weights), and notes.
# FL.WORK and FL.IA are drawn separately because their link to patterns is planted.
# ---------------------------------------------------------------------------------------------

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
_WORK_CODES = {"FL.WORK.03": 5, "FL.WORK.02": 2, "FL.WORK.06": 2, "FL.WORK.04": 1, "FL.WORK.07": 1, "FL.WORK": 2}
_IA_CODES = {"FL.IA.04": 5, "FL.IA.03": 4, "FL.IA.08": 2, "FL.IA.05": 2, "FL.IA.01": 1, "FL.IA.06": 1, "FL.IA.09": 1,
             "FL.IA.10": 1, "FL.IA": 2}

_NOTES: dict[str, tuple[str, str]] = {
    # code: (hindering, supporting)
    "FL.FAM.05": ("{mother} was warm at visits but cancelled often; workers read this as engagement.",
                  "{mother} asked for help and kept appointments."),
    "FL.FAM.04": ("Hostile presentation by {partner} made workers reluctant to visit.",
                  "{mother} presented as help-seeking, which opened the door to support."),
    "FL.FAM.02": ("The family were so well known that each new concern looked routine.",
                  "A long history meant workers knew what to look for."),
    "FL.FAM.10": ("Several adults came and went; no one was sure who lived in the home.",
                  "The family's own account of its network was detailed and checked."),
    "FL.FAM.13": ("{mother}'s own experience of care made her wary of social workers.",
                  "{mother}'s history was understood and used to shape the approach."),
    "FL.STAFF.01": ("The worker was newly qualified and had little experience of neglect cases.",
                    "The worker had specialist knowledge of domestic abuse."),
    "FL.STAFF.02": ("The worker's view that this was a 'coping family' framed what she noticed.",
                    "The worker kept an open mind about what was happening."),
    "FL.STAFF.03": ("Once a view had formed, disconfirming information was explained away.",
                    "The worker actively tested her first hypothesis."),
    "FL.STAFF.04": ("The worker was dealing with another child's crisis that week.",
                    "The worker had protected time to prepare for the visit."),
    "FL.ROLE.01": ("Contact was infrequent, so changes were hard to see.",
                   "Frequent contact meant changes were noticed quickly."),
    "FL.ROLE.02": ("Contacts took place at the clinic, not in the home.",
                   "Home visits showed the conditions the children lived in."),
    "FL.ROLE.03": ("The worker's remit was the adult, not the children.",
                   "The worker's focus stayed on the child."),
    "FL.TEAM.02": ("Supervision was task-focused and rushed.",
                   "Reflective supervision helped the worker step back."),
    "FL.TEAM.07": ("It was usual practice to close a case after two missed contacts.",
                   "Team practice was to visit unannounced when appointments were missed."),
    "FL.TEAM.08": ("The team was carrying vacancies and cases were unallocated.",
                   "The team had capacity to allocate the case at once."),
    "LS.ORG.06": ("Thresholds for assessment were applied to single referrals, not to the history.",
                  "Threshold guidance encouraged workers to look at cumulative concerns."),
    "LS.ORG.08": ("Local procedures did not say who should arrange the medical.",
                  "Local procedures were clear and well known."),
    "LS.ORG.12": ("There was no local service for the parent's need.",
                  "A local service was available at short notice."),
    "NG.POL.03": ("Timescale indicators drove the pace of the assessment.",
                  "Indicators were read alongside audits of quality."),
    "NG.POL.04": ("The assessment form and case-management system treated the assessment as finished once submitted.",
                  "The recording system prompted workers to update the assessment."),
    "FL.WORK.03": ("High caseloads left little time for this family.",
                   "A manageable caseload allowed time for direct work."),
    "FL.WORK.02": ("The team relied on agency staff and the skill mix was thin.",
                   "The team was fully staffed with experienced workers."),
    "FL.WORK.06": ("Managers were stretched and hard to reach for advice.",
                   "The manager was available and made a quick decision."),
    "FL.WORK.04": ("The incident fell over a bank holiday weekend.",
                   "The timing allowed a same-day joint visit."),
    "FL.WORK.07": ("The case-management system was slow and records were incomplete.",
                   "The shared record gave everyone the same picture."),
    "FL.WORK": ("Conditions of work made it hard to give the case the time it needed.",
                "Conditions of work allowed time for the case."),
    "FL.IA.04": ("Information was held in separate systems and not shared.",
                 "Information was shared promptly between agencies."),
    "FL.IA.03": ("Each agency assumed another was leading on this concern.",
                 "Roles across agencies were clear and agreed."),
    "FL.IA.08": ("Concerns were passed on by letter without a conversation.",
                 "Professionals phoned each other when concerns arose."),
    "FL.IA.05": ("The professionals had never met and did not know each other's roles.",
                 "The professionals knew each other from previous cases."),
    "FL.IA": ("Inter-agency working made it harder to hold one picture of the family.",
              "Inter-agency working was close and trusting."),
}

_HINDERING_TAILS = (
    "{label}: made it harder to see the risk at the time.",
    "{label}: narrowed what the worker could attend to.",
    "{label}: participants said this made the decision feel reasonable at the time.",
)
_SUPPORTING_TAILS = (
    "{label}: helped keep the child in focus.",
    "{label}: made the right action easier to take.",
    "{label}: participants said this helped them act quickly.",
)

# ---------------------------------------------------------------------------------------------
# Recommendations
# ---------------------------------------------------------------------------------------------

_RECS: dict[str, dict[str, tuple[str, ...]]] = {
    "P1": {
        "clear_cut": ("Amend the assessment template so that it records what is not yet known and when the assessment will be revisited.",
                      "Add a prompt to the case record to update the assessment whenever a new adult joins the household."),
        "competing_priorities": ("Review how assessment timescales are balanced against the depth of analysis at the front door.",),
        "research_and_development": ("Ask national bodies to test case-management frameworks in which review is built into every stage, not placed at the end.",
                                     "Commission research on how recording systems shape what practitioners think about risk."),
    },
    "P2": {
        "clear_cut": ("Agree a single route and timescale for commissioning expert assessments.",
                      "Set a protocol that services are funded first and costs are settled between agencies afterwards."),
        "competing_priorities": ("Senior managers to review caseload levels and how capacity is held in reserve for rising concern.",
                                 "Review how supervision time is protected against other demands on team managers."),
        "research_and_development": ("Work with neighbouring partnerships to understand the regional gap in specialist services.",),
    },
    "P3": {
        "clear_cut": ("Tell every referrer the outcome of their referral within five working days.",
                      "Include the health visitor and school in strategy discussions where they hold relevant history."),
        "competing_priorities": ("Consider how out-of-hours capacity can be increased at known peak times.",),
        "research_and_development": ("Share what made the crisis response work well with other partnerships.",),
    },
    "P4": {
        "clear_cut": ("Agree a consistent rule across agencies on when and why to copy someone into a letter rather than addressing it to them.",
                      "Name a lead professional at every step-down and hold a face-to-face handover.",
                      "Remind all agencies of the escalation procedure for professional disagreement."),
        "competing_priorities": ("Agencies to agree how core group attendance is prioritised against other work.",),
        "research_and_development": ("Explore with practitioners how shared responsibility for thinking about a family can be made explicit.",),
    },
    "P5": {
        "clear_cut": ("Record every adult in the household and make fathers and partners part of every assessment.",
                      "Address correspondence to both parents unless there is a reason not to."),
        "competing_priorities": ("Review how services can offer appointments that working fathers can attend.",),
        "research_and_development": ("Develop practice guidance on engaging men who are hostile to services.",),
    },
    "P6": {
        "clear_cut": ("Add a 'what would change our view?' question to supervision and core group agendas.",),
        "competing_priorities": ("Give supervision more time for critical review of judgements, and decide what else will give.",),
        "research_and_development": ("Pilot a structured method for reviewing judgements and plans in long-running cases.",),
    },
    "general": {
        "clear_cut": ("Share the learning from this review through a practitioner briefing.",
                      "Audit a sample of similar cases in six months to check the changes are in place."),
        "competing_priorities": ("The partnership to consider the findings in its business plan and decide priorities.",),
        "research_and_development": ("Submit the findings to the national panel for collation with other reviews.",),
    },
}
_LEVELS: dict[str, dict[str, float]] = {
    "clear_cut": {"local": 0.85, "regional": 0.15},
    "competing_priorities": {"local": 0.60, "regional": 0.35, "national": 0.05},
    "research_and_development": {"local": 0.15, "regional": 0.30, "national": 0.55},
}
_LEAD_ROLES: dict[str, tuple[str, ...]] = {
    "childrens_social_care": ("Head of service, children's social care", "Principal social worker"),
    "police": ("Detective chief inspector, public protection",),
    "health_visiting": ("Named nurse for safeguarding",),
    "midwifery": ("Named midwife",),
    "general_practice": ("Named GP for safeguarding",),
    "hospital": ("Named doctor, acute trust",),
    "camhs": ("Clinical lead, CAMHS",),
    "adult_mental_health": ("Safeguarding lead, mental health trust",),
    "school": ("Education safeguarding adviser",),
    "early_years": ("Early years safeguarding lead",),
    "housing": ("Housing options manager",),
    "probation": ("Probation head of service",),
    "safeguarding_partnership": ("Partnership business manager", "Independent chair"),
}

_QUESTIONS = (
    "How well did agencies work together to understand the risks to the children?",
    "Why were concerns about the household not brought together earlier?",
    "What helped and hindered professionals in seeing the child's daily experience?",
    "How did the local system respond to a family that was hard to engage?",
    "What can be learned about how assessments were kept up to date?",
    "How well did services respond to the incident, and what made that possible?",
)

_PRACTICE_POINTS_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "P1": ("D04", "D09"), "P2": ("D10", "D13"), "P3": ("D13", "D12"),
    "P4": ("D12", "D07", "D09"), "P5": ("D01", "D02", "D03"), "P6": ("D05", "D07", "D08"),
}


# ---------------------------------------------------------------------------------------------
# One review
# ---------------------------------------------------------------------------------------------


def _p21_rate(region: str, year: int) -> float:
    p = PLANTED["resource_demand_rise_north_west"]["params"]
    if region != p["region"]:
        return p["elsewhere"]
    if year <= p["before_year"]:
        return p["before"]
    if year >= p["after_year"]:
        return p["after"]
    frac = (year - p["before_year"]) / (p["after_year"] - p["before_year"])
    return p["before"] + frac * (p["after"] - p["before"])


def _p131_rate(year: int) -> float:
    p = PLANTED["apir_revision_after_2014"]["params"]
    return p["after"] if year >= p["change_year"] else p["before"]


def _direction(rng: random.Random, code: str) -> str:
    p = PLANTED["constructive_in_crisis_response"]["params"]
    rate = p["P3"] if _in_family(code, "P3") else p["other"]
    return "constructive" if rng.random() < rate else "unsafe"


class _Builder:
    """Builds one review from its own random stream; a class only to share the stream and the cast."""

    def __init__(self, rng: random.Random, seed: int, i: int, start_year: int, end_year: int) -> None:
        self.rng = rng
        self.seed = seed
        self.i = i
        self.start_year = start_year
        self.end_year = end_year
        self.as_of = as_of(end_year)
        self._labels = labels("factors", DEFAULT_TAXONOMY_VERSION)
        self._pattern_labels = labels("patterns", DEFAULT_TAXONOMY_VERSION)

    # -- top level ----------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        rng = self.rng
        region = _pick(rng, {r: v[2] for r, v in _REGIONS.items()})
        area = dict(rng.choice([a for a in AREAS if a["region"] == region]))
        year = rng.randint(self.start_year, self.end_year)
        review_type = _review_type(rng, area["nation"], year)
        method = _pick(rng, {"systems_learning_together": 0.85, "traditional": 0.10, "other": 0.05})

        completed = _date_in_year(rng, year)
        commissioned = completed - dt.timedelta(days=rng.randint(150, 540))
        incident = commissioned - dt.timedelta(days=rng.randint(14, 120))
        published = None
        if rng.random() < 0.72:
            published = completed + dt.timedelta(days=rng.randint(7, 200))
        statutory = review_type not in ("multi_agency_case_review", "management_review")

        n_children = _pick(rng, {1: 0.75, 2: 0.20, 3: 0.05})
        children = [_child(rng, k == 0, statutory) for k in range(n_children)]
        letters = rng.sample(_LETTERS, n_children)
        if n_children == 1:
            title = f"Child {letters[0]}"
        elif n_children == 2:
            title = f"Siblings {letters[0]} and {letters[1]}"
        else:
            title = f"Children {letters[0]}, {letters[1]} and {letters[2]}"
        if any(c["outcome"] == "died" for c in children):
            reason = "death"
        elif any(c["outcome"] == "seriously_harmed" for c in children):
            reason = "serious_harm"
        else:
            reason = _pick(rng, {"concern_about_practice": 0.6, "routine_practice": 0.25, "good_practice": 0.15})

        family_factors: list[str] | None = None
        if rng.random() >= PLANTED["family_factors_not_recorded"]["params"]["not_recorded"]:
            family_factors = [f for f, p in _FAMILY_FACTOR_RATES.items() if rng.random() < p]

        self.cast = {
            "child": f"Child {letters[0]}",
            "children": f"Child {letters[0]}" if n_children == 1 else "the children",
            "mother": "Mother A",
            "father": "Father B",
            "partner": "Mr C",
        }
        episodes, kinds = self._episodes(children, family_factors, incident)
        findings = self._findings(area["region"], year, episodes, kinds)
        self._factors(episodes, findings)
        recommendations = self._recommendations(findings, completed, episodes)

        agencies_used = {a for e in episodes for a in e["agencies"]} | {r["agency"] for r in recommendations if r["agency"]}
        agency_order = list(labels("agency", DEFAULT_TAXONOMY_VERSION))
        agencies = sorted(agencies_used, key=agency_order.index)

        doc: dict[str, Any] = {
            "format": FORMAT,
            "taxonomy_version": DEFAULT_TAXONOMY_VERSION,
            "review_id": review_id(self.seed, self.i),
            "title": title,
            "synthetic": True,
            "generator": {"name": GENERATOR, "seed": self.seed, "index": self.i},
            "review_type": review_type,
            "method": method,
            "area": area,
            "dates": {"commissioned": _iso(commissioned), "completed": _iso(completed), "published": _iso(published)},
            "trigger": {"reason": reason, "question": rng.choice(_QUESTIONS)},
            "children": children,
            "family_factors": family_factors,
            "intervention_level": self._intervention_level(episodes),
            "agencies": agencies,
        }
        if area["nation"] == "england" and review_type == "serious_case_review" and year <= 2012 and rng.random() < 0.8:
            doc["quality_grade"] = _pick(rng, {"good": 0.40, "adequate": 0.45, "inadequate": 0.15})
        doc["episodes"] = episodes
        doc["patterns"] = [
            {k: v for k, v in f.items() if not k.startswith("_")} for f in findings
        ]
        doc["recommendations"] = recommendations
        if rng.random() < 0.45:
            cats = sorted({f["code"][:2] for f in findings})
            pool = sorted({d for c in cats for d in _PRACTICE_POINTS_BY_CATEGORY[c]} | {"D01"})
            doc["practice_points"] = sorted(rng.sample(pool, min(len(pool), rng.randint(1, 4))))
        return doc

    def _intervention_level(self, episodes: list[dict[str, Any]]) -> str:
        """The highest level of involvement, consistent with the episodes (a conference means a plan)."""
        titles = {e["title"] for e in episodes}
        keys = {t["key"] for t in _EPISODES if t["title"] in titles}
        if keys & {"icpc", "core_group", "review_conference", "transfer_in"}:
            return "looked_after" if self.rng.random() < 0.1 else "child_protection"
        if keys & {"assessment", "pre_birth", "step_down", "home_visits", "supervision"}:
            return _pick(self.rng, {"child_in_need": 0.6, "early_help": 0.3, "not_known": 0.1})
        return _pick(self.rng, {"universal": 0.5, "early_help": 0.3, "not_known": 0.2})

    # -- episodes -------------------------------------------------------------------------------
    def _episodes(self, children: list[dict[str, Any]], family_factors: list[str] | None,
                  incident: dt.date) -> tuple[list[dict[str, Any]], list[str]]:
        rng = self.rng
        age = children[0]["age_band"]
        usable = [t for t in _EPISODES if t["ages"] is None or age in t["ages"]]
        ff = set(family_factors or [])
        weights: dict[int, float] = {}
        for idx, t in enumerate(_EPISODES):
            if t not in usable:
                continue
            w = 1.0
            if t["key"] in ("da_callout", "marac") and "domestic_abuse" in ff:
                w = 3.0
            if t["key"] == "adult_mh" and "parental_mental_health" in ff:
                w = 3.0
            if t["key"] == "substance" and "parental_substance_misuse" in ff:
                w = 3.0
            if t["key"] == "housing_move" and ("frequent_moves" in ff or "poverty" in ff):
                w = 3.0
            weights[idx] = w
        k = rng.randint(4, 10)
        chosen: list[int] = []
        # At least one crisis, one assessment and one longer-term episode, so every category has a home.
        for kind in ("crisis", "assessment", "longterm"):
            options = {i: w for i, w in weights.items() if _EPISODES[i]["kind"] == kind and i not in chosen}
            if options:
                chosen.append(_pick(rng, options))
        rest = {i: w for i, w in weights.items() if i not in chosen}
        chosen += _sample_weighted(rng, rest, k - len(chosen))
        chosen.sort(key=lambda i: (_EPISODES[i]["stage"], i))

        # The history reviewed is bounded by the index child's age (for babies it starts in pregnancy).
        span = rng.randint(120, {"under_1": 300, "1_to_4": 900}.get(age, 1100))
        offsets = sorted(rng.sample(range(span + 1), len(chosen)))
        episodes: list[dict[str, Any]] = []
        kinds: list[str] = []
        for n, (idx, off) in enumerate(zip(chosen, offsets), start=1):
            t = _EPISODES[idx]
            start = incident - dt.timedelta(days=span - off)
            end = None if rng.random() < 0.35 else min(start + dt.timedelta(days=rng.randint(0, 60)), incident + dt.timedelta(days=30))
            agencies = list(t["agencies"])
            episodes.append({
                "episode_id": f"E{n}",
                "title": t["title"],
                "start": _iso(start),
                "end": _iso(end),
                "description": t["description"].format(**self.cast),
                "significance": t["significance"].format(**self.cast),
                "practice": "mixed",  # set once the findings are known
                "judgement": "",
                "agencies": agencies,
                "factors": [],
                "_template": t,
            })
            kinds.append(t["kind"])
        return episodes, kinds

    # -- pattern findings ----------------------------------------------------------------------
    def _findings(self, region: str, year: int, episodes: list[dict[str, Any]], kinds: list[str]) -> list[dict[str, Any]]:
        rng = self.rng
        planted: list[str] = []
        if rng.random() < _p21_rate(region, year):
            planted.append(_pick(rng, _P21_CODES))
        if rng.random() < PLANTED["interagency_with_role_clarity"]["params"]["review_rate"]:
            planted.append(_pick(rng, _P42_CODES))
        if rng.random() < _p131_rate(year):
            planted.append("P1.3.1")
        m = max(rng.randint(2, 6), len(planted))
        codes = planted + _sample_weighted(rng, _FREE_PATTERNS, m - len(planted))
        rng.shuffle(codes)

        findings: list[dict[str, Any]] = []
        for code in codes:
            findings.append({"code": code, "direction": _direction(rng, code)})
        if rng.random() < 0.08:  # the same code twice: a second finding on other episodes
            twin = rng.choice(findings)
            findings.append({"code": twin["code"], "direction": twin["direction"]})

        # Unsafe findings usually rank first; priority 1 = highest.
        findings.sort(key=lambda f: (f["direction"] == "constructive", rng.random()))
        used_by_code: dict[str, set[str]] = {}
        for priority, f in enumerate(findings, start=1):
            code = f["code"]
            pref = _KIND_PREFERENCE[code[:2]]
            ids = [e["episode_id"] for e, kd in zip(episodes, kinds) if kd in pref]
            others = [e["episode_id"] for e in episodes if e["episode_id"] not in ids]
            taken = used_by_code.setdefault(code, set())
            fresh = [x for x in ids if x not in taken] or ids or others
            want = _pick(rng, {1: 0.45, 2: 0.4, 3: 0.15})
            picked = rng.sample(fresh, min(want, len(fresh)))
            if len(picked) < want and rng.random() < 0.5:
                extra = [x for x in others if x not in picked]
                picked += rng.sample(extra, min(want - len(picked), len(extra)))
            picked.sort(key=lambda x: int(x[1:]))
            taken.update(picked)
            unsafe, constructive = _FINDINGS[code]
            text = rng.choice(_CASE_PHRASES)
            body = unsafe if f["direction"] == "unsafe" else constructive
            text = (text + body[0].lower() + body[1:]) if text else body
            text += rng.choice(_WIDER_PHRASES)
            f.update({"priority": priority, "finding": text, "episodes": picked})
            labels_ = _PROPOSED_LABELS.get(code)
            if labels_ and rng.random() < 0.25:
                f["proposed_label"] = rng.choice(labels_)
        return findings

    # -- factor codings and practice judgements ------------------------------------------------
    def _factors(self, episodes: list[dict[str, Any]], findings: list[dict[str, Any]]) -> None:
        rng = self.rng
        work = PLANTED["workload_with_resource_mismatch"]["params"]
        ia = PLANTED["interagency_with_role_clarity"]["params"]
        for e in episodes:
            eid = e["episode_id"]
            linked = [f for f in findings if eid in f["episodes"]]
            dirs = {f["direction"] for f in linked}
            if dirs == {"constructive"}:
                practice = "good"
            elif dirs == {"unsafe"}:
                practice = "problematic"
            elif dirs:
                practice = "mixed"
            else:
                practice = _pick(rng, {"good": 0.3, "problematic": 0.4, "mixed": 0.3})
            t = e.pop("_template")
            good = t["good"].format(**self.cast)
            bad = t["bad"].format(**self.cast)
            e["practice"] = practice
            e["judgement"] = good if practice == "good" else bad if practice == "problematic" else f"{good.split('. ')[0].rstrip('.')}. However: {bad[0].lower()}{bad[1:]}"

            def influence_for(fs: list[dict[str, Any]]) -> str:
                if fs:
                    return "hindering" if any(f["direction"] == "unsafe" for f in fs) else "supporting"
                p_hinder = {"problematic": 0.85, "good": 0.2, "mixed": 0.5}[practice]
                return "hindering" if rng.random() < p_hinder else "supporting"

            forced: list[tuple[str, str]] = []
            p21 = [f for f in linked if _in_family(f["code"], "P2.1")]
            if rng.random() < (work["linked"] if p21 else work["other"]):
                forced.append((_pick(rng, _WORK_CODES), influence_for(p21)))
            p42 = [f for f in linked if _in_family(f["code"], "P4.2")]
            if rng.random() < (ia["linked"] if p42 else ia["other"]):
                forced.append((_pick(rng, _IA_CODES), influence_for(p42)))
            p131 = [f for f in linked if f["code"] == "P1.3.1"]
            if p131:
                if rng.random() < 0.7:
                    forced.append(("NG.POL.04", influence_for(p131)))
                if rng.random() < 0.5:
                    forced.append(("FL.STAFF.03", influence_for(p131)))
            target = max(rng.randint(2, 6), len(forced))
            have = {c for c, _ in forced}
            free = {c: w for c, w in _FREE_FACTORS.items() if c not in have}
            extra = [(c, influence_for([])) for c in _sample_weighted(rng, free, target - len(forced))]
            codings = forced + extra
            rng.shuffle(codings)
            e["factors"] = [{"code": c, "influence": inf, "note": self._note(c, inf)} for c, inf in codings]

    def _note(self, code: str, influence: str) -> str | None:
        rng = self.rng
        if rng.random() < 0.08:
            return None
        if code in _NOTES:
            text = _NOTES[code][0 if influence == "hindering" else 1]
            return text.format(**self.cast)
        label = self._labels.get(code, code)
        if influence == "hindering":
            return rng.choice(_HINDERING_TAILS).format(label=label)
        return rng.choice(_SUPPORTING_TAILS).format(label=label)

    # -- recommendations ------------------------------------------------------------------------
    def _recommendations(self, findings: list[dict[str, Any]], completed: dt.date,
                         episodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rng = self.rng
        p_addr = PLANTED["constructive_findings_unaddressed"]["params"]["addressed"]
        follow = PLANTED["overdue_by_recommendation_kind"]["params"]
        first_direction: dict[str, str] = {}
        for f in findings:
            first_direction.setdefault(f["code"], f["direction"])
        addressed = [c for c, d in first_direction.items() if rng.random() < p_addr[d]]
        groups: list[list[str]] = []
        for code in addressed:
            if groups and len(groups[-1]) == 1 and rng.random() < 0.2:
                groups[-1].append(code)
            else:
                groups.append([code])
        while len(groups) < 2 or (len(groups) < 8 and rng.random() < 0.25):
            groups.append([])
        groups = groups[:8]

        episode_agencies = sorted({a for e in episodes for a in e["agencies"]})
        recs: list[dict[str, Any]] = []
        for n, codes in enumerate(groups, start=1):
            kind = _pick(rng, {"clear_cut": 0.5, "competing_priorities": 0.3, "research_and_development": 0.2})
            level = _pick(rng, _LEVELS[kind])
            category = codes[0][:2] if codes else "general"
            text = rng.choice(_RECS[category][kind])
            if level == "local" and rng.random() < 0.8 and episode_agencies:
                agency = rng.choice(episode_agencies)
            else:
                agency = "safeguarding_partnership"
            lead_role = rng.choice(_LEAD_ROLES.get(agency, ("Service manager",)))
            due: dt.date | None = completed + dt.timedelta(days=rng.randint(90, 540))
            if rng.random() < 0.05:
                due = None
            if due is not None and due < self.as_of:
                r = rng.random()
                if r < follow["completed"][kind]:
                    status = "completed"
                elif r < follow["completed"][kind] + follow["not_accepted"]:
                    status = "not_accepted"
                else:
                    status = _pick(rng, {"proposed": 0.15, "accepted": 0.35, "in_progress": 0.50})
            else:
                status = _pick(rng, {"proposed": 0.2, "accepted": 0.35, "in_progress": 0.4, "not_accepted": 0.05})
            recs.append({
                "rec_id": f"R{n}",
                "text": text,
                "kind": kind,
                "level": level,
                "patterns": codes,
                "agency": agency,
                "lead_role": lead_role,
                "due": _iso(due),
                "status": status,
            })
        return recs


def generate(n: int, seed: int, *, start_year: int = 2008, end_year: int = 2025) -> list[dict[str, Any]]:
    """n valid lt-review/1 documents, the same for the same arguments, with the structure in PLANTED."""
    if n < 0:
        raise ValueError(f"n must be 0 or more, not {n}")
    if start_year > end_year:
        raise ValueError(f"start_year {start_year} is after end_year {end_year}")
    if not (1900 <= start_year and end_year <= 9000):
        raise ValueError("years must lie between 1900 and 9000")
    return [
        _Builder(random.Random(f"{GENERATOR}:{seed}:{i}"), seed, i, start_year, end_year).build()
        for i in range(1, n + 1)
    ]


def dumps(doc: dict[str, Any]) -> bytes:
    """The canonical bytes of one document: UTF-8, 2-space indent, keys in the format's order, final newline."""
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_corpus(n: int, seed: int, out: Path | str, *, start_year: int = 2008, end_year: int = 2025) -> list[Path]:
    """Write generate(n, seed) as <review_id>.json files in `out`; return the paths in id order.

    Files from an earlier, larger run of the same seed (SYN-S<seed>-*.json) are removed so the
    folder holds exactly this corpus; other files are left alone.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    docs = generate(n, seed, start_year=start_year, end_year=end_year)
    paths: list[Path] = []
    for doc in docs:
        path = out / f"{doc['review_id']}.json"
        data = dumps(doc)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        paths.append(path)
    keep = {p.name for p in paths}
    own = re.compile(rf"^{re.escape(review_id(seed, 0)[:-4])}\d{{4,}}\.json$")
    for stale in out.iterdir():
        if stale.is_file() and own.match(stale.name) and stale.name not in keep:
            stale.unlink()
    return paths
