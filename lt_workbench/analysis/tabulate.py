"""Cross-review tabulations as tidy pandas DataFrames: which patterns recur, where, and over time.

Every table states its counting unit (review by default; child, episode, coding or area) and carries
count, denominator, percent and a Wilson 95% interval. The SQL reads the derived tables built at load
time (sql/derived: review_codes, child_codes, episode_codes, coding_codes), so roll-ups through the
frames are joins, never a review counted twice. Results default to restricted (full numbers, marked
so); `disclosure="public"` passes them through lt_workbench.analysis.disclosure.protect.

This module is the one public entry point; the work is done by one module per job:
vocab (frames, dimensions, values), plan (scope → SQL), frequency (frequency, trend, trend tests),
compare (recurrence, compare, funnel), cooccurrence, records (evidence, proposed patterns),
recommendations (recommendations, overdue, unaddressed patterns) and publish (disclosure glue).
"""

from __future__ import annotations

from lt_workbench.analysis.agreement import agreement, disagreements
from lt_workbench.analysis.compare import compare, funnel, recurrence
from lt_workbench.analysis.cooccurrence import cooccurrence
from lt_workbench.analysis.frequency import frequency, trend, trend_tests
from lt_workbench.analysis.publish import apply_disclosure
from lt_workbench.analysis.recommendations import overdue, recommendations, unaddressed_patterns
from lt_workbench.analysis.records import evidence, proposed_patterns
from lt_workbench.analysis.vocab import (
    DIMENSIONS,
    FRAME_ALIASES,
    FRAMES,
    PERFORMANCE_CAVEAT,
    SERIES_BREAKS,
    UNIT_LABELS,
    UNITS,
    YEAR_BASES,
    Dim,
    FrameSpec,
    dimensions,
    frame_spec,
    parse_where,
)

__all__ = [
    "agreement", "disagreements",
    "UNITS",
    "UNIT_LABELS",
    "YEAR_BASES",
    "FRAMES",
    "FRAME_ALIASES",
    "DIMENSIONS",
    "SERIES_BREAKS",
    "PERFORMANCE_CAVEAT",
    "FrameSpec",
    "Dim",
    "frame_spec",
    "dimensions",
    "frequency",
    "recurrence",
    "trend",
    "trend_tests",
    "compare",
    "funnel",
    "cooccurrence",
    "evidence",
    "proposed_patterns",
    "recommendations",
    "overdue",
    "unaddressed_patterns",
    "apply_disclosure",
    "parse_where",
]
