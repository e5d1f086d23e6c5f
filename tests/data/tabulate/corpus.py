"""A tiny, seeded generator of valid lt-review/1 documents for the tabulation tests.

Independent of lt_workbench.synth.builder on purpose: the tests need corpora with every awkward case in
few reviews (several children, family factors not recorded, a code found twice, proposed
sub-patterns, codings at every depth, overdue recommendations, unpublished reviews).
Codes are read from the frame CSVs with the csv module, not through lt_workbench.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

FRAMES = Path(__file__).resolve().parents[3] / "lt_workbench" / "frames" / "scie-2008"


def frame(name: str) -> list[dict[str, str]]:
    with (FRAMES / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def codes(name: str) -> list[str]:
    return [r["code"] for r in frame(name)]


REGIONS = {r["code"]: r["parent"] for r in frame("region")}
PATTERNS = codes("patterns")
FACTORS = codes("factors")
PRACTICE_POINTS = [c for c in codes("practice_points") if c.startswith("D") and not c.startswith("DA")]
AREAS = [(f"TST-{i:02d}", f"Testarea {i}", region) for i, region in enumerate(
    ["north_west", "north_west", "london", "london", "south_west", "wales", "yorkshire_and_the_humber", "north_west"])]


def make_doc(rng: random.Random, i: int, *, years: tuple[int, int] = (2012, 2023)) -> dict[str, Any]:
    code, name, region = rng.choice(AREAS)
    year = rng.randint(*years)
    completed = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
    commissioned = completed - dt.timedelta(days=rng.randint(60, 500)) if rng.random() < 0.8 else None
    published = completed + dt.timedelta(days=rng.randint(0, 300)) if rng.random() < 0.6 else None
    review_type = "serious_case_review" if year < 2019 else "child_safeguarding_practice_review"
    if REGIONS[region] == "wales":
        review_type = "child_practice_review"
    n_children = rng.choice([1, 1, 1, 2, 3])
    children = [
        {
            "age_band": rng.choice(codes("age_band")),
            "sex": rng.choice(codes("sex")),
            "harm_types": rng.sample(codes("harm_type"), rng.randint(0, 2)),
            "outcome": rng.choice(codes("outcome")),
        }
        for _ in range(n_children)
    ]
    episodes = []
    for k in range(rng.randint(1, 4)):
        start = completed - dt.timedelta(days=rng.randint(100, 900))
        episodes.append({
            "episode_id": f"E{k + 1}",
            "title": f"Episode {k + 1} of review {i}",
            "start": start.isoformat(),
            "end": None,
            "description": f"Synthetic description {i}.{k + 1}",
            "significance": "Synthetic significance.",
            "practice": rng.choice(codes("practice")),
            "judgement": f"Synthetic judgement {i}.{k + 1}",
            "agencies": rng.sample(codes("agency"), rng.randint(0, 2)),
            "factors": [
                {"code": rng.choice(FACTORS), "influence": rng.choice(["supporting", "hindering"]), "note": f"note {i}.{k + 1}.{j + 1}"}
                for j in range(rng.randint(0, 4))
            ],
        })
    patterns = []
    for j in range(rng.randint(0, 4)):
        c = rng.choice(PATTERNS)
        patterns.append({
            "code": c,
            "direction": rng.choice(["constructive", "unsafe", "unsafe"]),
            "priority": j + 1,
            "finding": f"Finding {i}.{j + 1}",
            "episodes": rng.sample([e["episode_id"] for e in episodes], rng.randint(1, len(episodes))),
            **({"proposed_label": rng.choice(["Waiting lists", "waiting lists ", "Shared drives"])} if rng.random() < 0.15 else {}),
        })
    if patterns and rng.random() < 0.3:  # the same code found twice
        dup = dict(patterns[0])
        dup["finding"] = f"Second finding {i}"
        dup["direction"] = rng.choice(["constructive", "unsafe"])
        patterns.append(dup)
    found = sorted({p["code"] for p in patterns})
    recs = []
    for j in range(rng.randint(0, 3)):
        recs.append({
            "rec_id": f"R{j + 1}",
            "text": f"Recommendation {i}.{j + 1}",
            "kind": rng.choice(codes("recommendation_kind")),
            "level": rng.choice(codes("recommendation_level")),
            "patterns": rng.sample(found, rng.randint(0, min(2, len(found)))),
            "agency": rng.choice(codes("agency")),
            "lead_role": "Head of service",
            "due": (completed + dt.timedelta(days=rng.randint(30, 800))).isoformat() if rng.random() < 0.8 else None,
            "status": rng.choice(codes("recommendation_status")),
        })
    doc: dict[str, Any] = {
        "format": "lt-review/1",
        "taxonomy_version": "scie-2008",
        "review_id": f"TAB-{i:04d}",
        "title": f"Child {i} (synthetic)",
        "review_type": review_type,
        "method": "systems_learning_together",
        "area": {"code": code, "name": name, "region": region, "nation": REGIONS[region]},
        "dates": {
            "commissioned": commissioned.isoformat() if commissioned else None,
            "completed": completed.isoformat(),
            "published": published.isoformat() if published else None,
        },
        "trigger": {"reason": rng.choice(codes("trigger_reason")), "question": "Synthetic question?"},
        "children": children,
        "family_factors": None if rng.random() < 0.25 else rng.sample(codes("family_factor"), rng.randint(0, 3)),
        "intervention_level": rng.choice(codes("intervention_level")),
        "agencies": rng.sample(codes("agency"), rng.randint(0, 3)),
        "episodes": episodes,
        "patterns": patterns,
        "recommendations": recs,
    }
    if rng.random() < 0.7:
        doc["practice_points"] = rng.sample(PRACTICE_POINTS, rng.randint(0, 3))
    return doc


def make_corpus(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [make_doc(rng, i) for i in range(n)]


def write_corpus(docs: list[dict[str, Any]], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in docs:
        p = folder / f"{d['review_id']}.json"
        p.write_text(json.dumps(d, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(p)
    return paths


if __name__ == "__main__":  # regenerate the committed fixture corpus
    here = Path(__file__).resolve().parent / "corpus"
    write_corpus(make_corpus(60, 3), here)
    print(f"wrote 60 reviews to {here}")
