"""lt-workbench: collate findings across many Learning together case reviews.

Files → validate → load (one transaction) → DuckDB tables → SQL views → tabulation API →
widgets / notebooks → reports. Import the modules you need; this package keeps imports light.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
