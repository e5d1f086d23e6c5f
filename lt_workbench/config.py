"""Where things live. Paths only: no behaviour, no settings beyond locations."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PACKAGE_DIR",
    "REPO_ROOT",
    "FRAMES_DIR",
    "SQL_DIR",
    "SCHEMA_PATH",
    "NOTEBOOKS_DIR",
    "REPORTS_DIR",
    "DEFAULT_DB",
    "SAMPLE_DIR",
    "DEFAULT_TAXONOMY_VERSION",
    "FORMAT",
]

PACKAGE_DIR = Path(__file__).resolve().parent
# In a source checkout (editable install) the package sits in the repository root.
REPO_ROOT = PACKAGE_DIR.parent

FRAMES_DIR = PACKAGE_DIR / "frames"
SQL_DIR = PACKAGE_DIR / "sql"

# A wheel carries the schema inside the package; a checkout has it at the top level.
_packaged_schema = PACKAGE_DIR / "_schemas" / "review.schema.json"
SCHEMA_PATH = _packaged_schema if _packaged_schema.exists() else REPO_ROOT / "schemas" / "review.schema.json"

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
REPORTS_DIR = REPO_ROOT / "reports"
SAMPLE_DIR = REPO_ROOT / "data" / "sample"

# LT_WORKBENCH_DB lets scheduled jobs point every command at one database; --db overrides it.
DEFAULT_DB = Path(os.environ.get("LT_WORKBENCH_DB", REPO_ROOT / "data" / "workbench.duckdb"))

DEFAULT_TAXONOMY_VERSION = "scie-2008"
FORMAT = "lt-review/1"
