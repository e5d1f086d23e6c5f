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

# The report notebooks too: a wheel carries them inside the package (lt_workbench/_notebooks).
_packaged_notebooks = PACKAGE_DIR / "_notebooks"
NOTEBOOKS_DIR = _packaged_notebooks if _packaged_notebooks.is_dir() else REPO_ROOT / "notebooks"
# Where reports and the default database go: the checkout's folders in a checkout; for an installed
# wheel (REPO_ROOT is then site-packages), folders of the current directory.
_WORK_ROOT = REPO_ROOT if (REPO_ROOT / "pyproject.toml").exists() else Path(".")
REPORTS_DIR = _WORK_ROOT / "reports"
SAMPLE_DIR = REPO_ROOT / "data" / "sample"

# LT_WORKBENCH_DB lets scheduled jobs point every command at one database; --db overrides it.
DEFAULT_DB = Path(os.environ.get("LT_WORKBENCH_DB", _WORK_ROOT / "data" / "workbench.duckdb"))

DEFAULT_TAXONOMY_VERSION = "scie-2008"
FORMAT = "lt-review/1"
