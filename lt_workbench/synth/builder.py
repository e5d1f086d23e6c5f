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
from typing import Any

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION, FORMAT
from lt_workbench.model.frames import labels
from lt_workbench.synth.draws import (
    _FREE_FACTORS, _FREE_PATTERNS, _IA_CODES, _KIND_PREFERENCE, _LETTERS, _LEVELS, _P21_CODES, _P42_CODES,
    _PRACTICE_POINTS_BY_CATEGORY, _WORK_CODES, _child, _date_in_year, _direction, _in_family, _iso, _pick,
    _review_type, _sample_weighted,
)
from lt_workbench.synth.geography import AREAS, REGIONS
from lt_workbench.synth.phrasebank import PHRASEBANK
from lt_workbench.synth.planted import AS_OF, FAMILY_FACTOR_RATES, PLANTED, as_of, p21_rate as _p21_rate, p131_rate as _p131_rate

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

_EPISODES: list[dict[str, Any]] = PHRASEBANK["episodes"]
_FINDINGS: dict[str, list[str]] = PHRASEBANK["findings"]
_PROPOSED_LABELS: dict[str, list[str]] = PHRASEBANK["proposed_labels"]
_CASE_PHRASES: list[str] = PHRASEBANK["case_phrases"]
_WIDER_PHRASES: list[str] = PHRASEBANK["wider_phrases"]
_NOTES: dict[str, list[str]] = PHRASEBANK["notes"]
_HINDERING_TAILS: list[str] = PHRASEBANK["hindering_tails"]
_SUPPORTING_TAILS: list[str] = PHRASEBANK["supporting_tails"]
_RECS: dict[str, dict[str, list[str]]] = PHRASEBANK["recommendations"]
_LEAD_ROLES: dict[str, list[str]] = PHRASEBANK["lead_roles"]
_QUESTIONS: list[str] = PHRASEBANK["questions"]


def review_id(seed: int, i: int) -> str:
    """Id of review i (from 1) of the corpus for `seed`: 'SYN-S<seed>-<i:04d>' (seed in the id so corpora never collide)."""
    return f"SYN-S{seed}-{i:04d}"


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
        region = _pick(rng, {r: v[2] for r, v in REGIONS.items()})
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
            family_factors = [f for f, p in FAMILY_FACTOR_RATES.items() if rng.random() < p]

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
        recommendations = _recommendations(self.rng, self.as_of, findings, completed, episodes)

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
        for n, (idx, off) in enumerate(zip(chosen, offsets, strict=True), start=1):
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
            ids = [e["episode_id"] for e, kd in zip(episodes, kinds, strict=True) if kd in pref]
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


def _recommendations(rng: random.Random, now: dt.date, findings: list[dict[str, Any]], completed: dt.date,
                     episodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The review's recommendations: which findings are addressed, kind, level, lead, due date and status as of `now`."""
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
        if due is not None and due < now:
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
