"""Publication profiles, GSS symbols and the column rules every public table obeys.

Threshold: the smallest non-zero count that may be shown (1..threshold-1 are hidden). Rounding:
the base shown counts and denominators are rounded to; total rows may use their own base.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lt_workbench.exceptions import DisclosureError

__all__ = [
    "Profile",
    "PROFILES",
    "SUPPRESSED",
    "NOT_APPLICABLE",
    "NOT_AVAILABLE",
    "RESTRICTED_NOTE",
    "FREE_TEXT_COLUMNS",
    "AREA_COLUMNS",
    "IDENTIFIER_COLUMNS",
    "AUDIT_COLUMNS",
    "MEASURES",
    "resolve_profile",
    "round_half_up",
    "shown_interval",
]

# GSS symbols for statistical tables.
SUPPRESSED = "c"  # confidential
NOT_APPLICABLE = "z"
NOT_AVAILABLE = ":"

RESTRICTED_NOTE = (
    "RESTRICTED — contains unsuppressed small counts about children; not for publication. "
    "Share only with people entitled to see them."
)

MEASURES = ("count", "denominator", "percent", "ci_low", "ci_high")

# Columns that hold words written by reviewers, or names: never in public output.
FREE_TEXT_COLUMNS = frozenset(
    {
        "area_name", "title", "finding", "findings", "note", "notes", "text", "description", "summary",
        "comment", "comments", "evidence", "quote", "narrative", "proposed_label", "name",
    }
)
# Columns that name a local authority: refused in public output unless pseudonymised.
AREA_COLUMNS = frozenset({"area", "area_code", "area_id", "local_authority", "la_code"})
# Record-level identifiers: a cell per review is a count of one.
IDENTIFIER_COLUMNS = frozenset({"review_id", "child_id", "episode_id", "document_id"})

AUDIT_COLUMNS = ("column", "original", "shown", "rule", "reason")


@dataclass(frozen=True)
class Profile:
    """A named set of publication rules.

    threshold: the smallest non-zero count that may be shown (counts 1..threshold-1 are suppressed).
    rounding: base every shown count and denominator is rounded to (None: not rounded).
    total_rounding: base for counts and denominators of total rows (None: same as rounding).
    """

    name: str
    threshold: int
    rounding: int | None
    total_rounding: int | None
    description: str


PROFILES: dict[str, Profile] = {
    "dfe": Profile(
        "dfe", threshold=6, rounding=None, total_rounding=10,
        description="Department for Education: counts 1–5 shown as c, with secondary suppression; "
        "regional and national totals rounded to the nearest 10.",
    ),
    "nhs": Profile(
        "nhs", threshold=8, rounding=5, total_rounding=5,
        description="NHS Digital: counts 1–7 suppressed, with secondary suppression; "
        "all other counts rounded to the nearest 5.",
    ),
    "ons": Profile(
        "ons", threshold=10, rounding=5, total_rounding=5,
        description="ONS 10-5 rule: counts below 10 suppressed, with secondary suppression; "
        "all other counts rounded to the nearest 5.",
    ),
}


def resolve_profile(profile: str, threshold: int | None) -> tuple[Profile, int]:
    """The profile named and the threshold in force, or a DisclosureError saying what is wrong."""
    if not isinstance(profile, str) or profile.lower() not in PROFILES:
        raise DisclosureError(f"unknown disclosure profile {profile!r}: known profiles are {', '.join(PROFILES)}")
    prof = PROFILES[profile.lower()]
    if threshold is None:
        thr = prof.threshold
    else:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)):
            raise DisclosureError(f"threshold must be a whole number, got {threshold!r}")
        thr = int(threshold)
        if thr < 1:
            raise DisclosureError(f"threshold must be at least 1 (the smallest count that may be shown), got {thr}")
    for base in (prof.rounding, prof.total_rounding):
        if base is not None and 2 * thr < base:
            raise DisclosureError(
                f"threshold {thr} is too low for profile {prof.name!r}, which rounds to {base}: a shown count "
                f"below {base / 2:g} would round to 0 and read as a true zero; use a threshold of at least "
                f"{math.ceil(base / 2)}"
            )
    return prof, thr


def round_half_up(value: int, base: int | None) -> int:
    """value rounded half up to a multiple of base (unchanged without a base)."""
    if not base or base <= 1:
        return int(value)
    return int(math.floor(value / base + 0.5)) * base


def shown_interval(shown: int, base: int | None, threshold: int) -> tuple[int, int]:
    """What a reader knows of a true count from its shown figure: the whole numbers that round to it.

    0 is a true zero; any other shown count is at least the threshold (smaller ones are hidden).
    """
    if shown == 0:
        return 0, 0
    if not base or base <= 1:
        return shown, shown
    lo = math.ceil(shown - base / 2)
    hi = math.ceil(shown + base / 2) - 1
    return max(lo, threshold, 1), hi
