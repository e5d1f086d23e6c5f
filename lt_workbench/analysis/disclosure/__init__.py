"""Statistical disclosure control for tidy count tables: every public figure goes through here.

These are counts about children who died or were seriously harmed, and published reviews make
area + year + age band + harm type identifying. `protect()` takes a tidy table (code, label,
dimension columns, count, denominator, percent, ci_low, ci_high) and returns a copy safe to
publish under a named UK profile, an audit log of what was hidden or changed and why, and the
LP audit of every hidden cell. `protect_many()` protects several tables as one problem, and a
`release` (release.py) makes every public output of one database snapshot one joint problem.

Profiles (profiles.py): ``dfe`` counts 1–5 hidden, regional/national totals rounded to 10;
``nhs`` counts 1–7 hidden, all rounded to 5; ``ons`` counts 1–9 hidden, all rounded to 5.

Rules, in order:

1. *Primary*: a count in 1..threshold-1 is suppressed. A 0 is a true zero and is always shown.
   A denominator in 1..threshold-1 is suppressed too, and with it every number computed from it.
2. *Secondary* (secondary.py): cells are linked by additive *lines* (total = sum of parts):
   the declared hierarchies of each table, the partition of a denominator by single-valued codes,
   and the same lines across every table of the release. Per connected block of lines a small
   MIP (HiGHS) hides the fewest, then smallest, further cells so that no line has a single hidden
   cell and every line through a primary cell can absorb it rising to the threshold; zeros and
   cells an earlier output showed stay shown, cells an earlier output hid stay hidden.
3. *Audit* (audit.py): every hidden cell's feasible interval given everything the release
   published (all its tables, margins, hierarchy, rounded figures as intervals) is computed by LP
   under x ≥ 0 and under x ≥ 1 (zeros are always shown, so a reader knows a hidden cell is ≥ 1).
   Required: no hidden cell pinned, no hidden count of 1..threshold-1 confined to 1..threshold-1.
   A failing cell gets one more suppression and the MIP runs again; what cannot be protected
   consistently with earlier outputs is refused, naming them. Nothing is recorded or returned
   from a refused protection.
4. *Rounding* (after all suppression decisions, which are made on true counts): counts and
   denominators half up to the profile's base; total rows (a total marker in a declared line)
   use ``total_rounding``; a cell that is a total in any table of the problem is rounded as one,
   so one cell shows one number everywhere. Rounded parts need not add up to a rounded total:
   the note says so where that happens.
5. *Percentages and intervals* from the figures as shown (1 decimal), Wilson interval recomputed
   (analysis.stats) where rounding changed the figures. Suppressed: ``c``; denominator 0: ``z``;
   missing interval: ``:``.
6. *Free text and area names never appear*: free-text columns are dropped, record identifiers and
   local authority columns refused (unless ``pseudonymised_areas=True``).

Lines (the ``lines`` argument) are hierarchies of additive dimensions, finest first, e.g.
``[["area_code", "region", "nation"], ["year"]]``: rows whose value is the total marker
(``totals``, default "All") hold the sum of the others. Declare only single-valued dimensions;
a declared line that does not add up is refused. ``partition=True``: the codes partition the
denominator (single-valued frames such as age band).

Parent codes: with a code -> parent mapping (Request.parents; analysis.publish passes the taxonomy's),
the audit also knows count(parent) ≥ count(child) for the same question one level up (inequality rows);
the MIP does not, so a pattern failing only through them is repaired by hiding more.

Known limits: parent ≤ sum of children + codings at the parent is not used; cells of different frames or filters are linked only through an identical question
(`question=`), links (`protect_many(links=)`) and latent tables (`Request(latent=True)`: the single-value
slices a range or list filter adds up from, analysis/slicing.py); the audit log, LP audit and ledger hold true values: restricted material.
"""

from __future__ import annotations

from lt_workbench.analysis.disclosure.audit import CellAudit, Interval
from lt_workbench.analysis.disclosure.profiles import (
    AREA_COLUMNS,
    AUDIT_COLUMNS,
    FREE_TEXT_COLUMNS,
    IDENTIFIER_COLUMNS,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    PROFILES,
    RESTRICTED_NOTE,
    SUPPRESSED,
    Profile,
)
from lt_workbench.analysis.disclosure.protect import ADDS_UP_NOTE, Protected, Request, protect, protect_many, write_audit
from lt_workbench.analysis.disclosure.release import (
    RESET_RISK,
    LedgerCache,
    Release,
    ledger_path,
    list_releases,
    open_release_id,
    open_release_key,
    release,
    reset_release,
    show_release,
)

__all__ = [
    "Profile",
    "PROFILES",
    "Protected",
    "Request",
    "protect",
    "protect_many",
    "write_audit",
    "Release",
    "release",
    "ledger_path",
    "list_releases",
    "show_release",
    "reset_release",
    "open_release_id",
    "open_release_key",
    "LedgerCache",
    "RESET_RISK",
    "Interval",
    "CellAudit",
    "SUPPRESSED",
    "NOT_APPLICABLE",
    "NOT_AVAILABLE",
    "RESTRICTED_NOTE",
    "ADDS_UP_NOTE",
    "FREE_TEXT_COLUMNS",
    "AREA_COLUMNS",
    "IDENTIFIER_COLUMNS",
    "AUDIT_COLUMNS",
]
