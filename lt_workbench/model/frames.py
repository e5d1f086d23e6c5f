"""The coding frames as versioned data: read the CSV files under frames/VERSION/ into one table.

Each CSV (one per frame) has columns code, parent, label, description. Depth is derived from
the parent chain, so it can never disagree with it. Region rows name their nation as parent.
The region and nation frames carry one more column, `gss_code`: the ONS Government Statistical
Service code (E12000001…E12000009 for England's regions, E92000001, W92000004, S92000003,
N92000002 for the nations), used by the official-statistics release files.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import pandas as pd

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION, FRAMES_DIR
from lt_workbench.exceptions import TaxonomyError

__all__ = ["available_versions", "taxonomy_frame", "codes", "labels", "gss_codes", "HIERARCHICAL_FRAMES", "CROSS_FRAME_PARENTS"]

# Frames whose parent column points within the same frame.
HIERARCHICAL_FRAMES = ("patterns", "factors", "practice_points")
# Frames whose parent column points into another frame.
CROSS_FRAME_PARENTS = {"region": "nation"}

_COLUMNS = ["code", "parent", "label", "description"]
# Optional columns a frame file may add after the four above.
_OPTIONAL_COLUMNS = ("gss_code",)


def available_versions(frames_dir: Path = FRAMES_DIR) -> list[str]:
    """Taxonomy versions shipped: one folder each."""
    return list(_versions(frames_dir))


@lru_cache(maxsize=8)
def _versions(frames_dir: Path) -> tuple[str, ...]:
    # Cached: the validator asks once per document, and the shipped folders do not change while running.
    return tuple(sorted(p.name for p in frames_dir.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))))


def _read_frame(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        names = list(reader.fieldnames or [])
        if names[:4] != _COLUMNS or any(n not in _OPTIONAL_COLUMNS for n in names[4:]):
            raise TaxonomyError(
                f"{path}: header must be {','.join(_COLUMNS)} (optionally followed by {', '.join(_OPTIONAL_COLUMNS)}), "
                f"found {reader.fieldnames}"
            )
        rows = []
        for line_no, row in enumerate(reader, start=2):
            if not row["code"] or not row["label"]:
                raise TaxonomyError(f"{path}, row {line_no}: code and label are required")
            rows.append(row)
        return rows


@lru_cache(maxsize=8)
def taxonomy_frame(version: str = DEFAULT_TAXONOMY_VERSION, frames_dir: Path = FRAMES_DIR) -> pd.DataFrame:
    """All frames of one version as the rows of the `taxonomy` table (frame, version, code, parent, depth, label, description, sort_key)."""
    folder = frames_dir / version
    if not folder.is_dir():
        raise TaxonomyError(
            f"unknown taxonomy version {version!r}: known versions are {', '.join(available_versions(frames_dir))}"
        )
    out = []
    for path in sorted(folder.glob("*.csv")):
        frame = path.stem
        rows = _read_frame(path)
        by_code = {r["code"]: r for r in rows}
        if len(by_code) != len(rows):
            raise TaxonomyError(f"{path}: duplicate codes")
        for sort_key, r in enumerate(rows):
            parent = r["parent"] or None
            depth = 1
            if parent is not None and frame not in CROSS_FRAME_PARENTS:
                seen = {r["code"]}
                p = parent
                while p:
                    if p not in by_code:
                        raise TaxonomyError(f"{path}: {r['code']} has parent {p!r}, which is not in the frame")
                    if p in seen:
                        raise TaxonomyError(f"{path}: parent cycle at {p}")
                    seen.add(p)
                    depth += 1
                    p = by_code[p]["parent"]
            out.append(
                {
                    "frame": frame,
                    "version": version,
                    "code": r["code"],
                    "parent": parent,
                    "depth": depth,
                    "label": r["label"],
                    "description": r["description"] or None,
                    "sort_key": sort_key,
                }
            )
    if not out:
        raise TaxonomyError(f"{folder}: no frame files")
    return pd.DataFrame(out)


@lru_cache(maxsize=64)
def codes(frame: str, version: str = DEFAULT_TAXONOMY_VERSION) -> frozenset[str]:
    """The codes of one frame, for fast membership checks."""
    t = taxonomy_frame(version)
    found = t[t["frame"] == frame]
    if found.empty:
        raise TaxonomyError(f"frame {frame!r} not in taxonomy {version}: known frames are {', '.join(sorted(t['frame'].unique()))}")
    return frozenset(found["code"])


@lru_cache(maxsize=64)
def labels(frame: str, version: str = DEFAULT_TAXONOMY_VERSION) -> dict[str, str]:
    """code -> label for one frame, to show words rather than codes."""
    t = taxonomy_frame(version)
    found = t[t["frame"] == frame]
    return dict(zip(found["code"], found["label"], strict=True))


@lru_cache(maxsize=16)
def gss_codes(frame: str, version: str = DEFAULT_TAXONOMY_VERSION, frames_dir: Path = FRAMES_DIR) -> dict[str, str]:
    """code -> ONS GSS code for a frame that carries them (region, nation); empty for any other frame."""
    path = frames_dir / version / f"{frame}.csv"
    if not path.is_file():
        raise TaxonomyError(f"frame {frame!r} not in taxonomy {version} ({path} not found)")
    return {r["code"]: r["gss_code"] for r in _read_frame(path) if r.get("gss_code")}
