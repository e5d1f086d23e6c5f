"""The static query shapes of the analysis API, read from lt_workbench/sql/queries/*.sql (see its README).

Each file states its grain, parameters and ordering in a header; Python binds every value.
"""

from __future__ import annotations

from functools import lru_cache

from lt_workbench.model.db import sql_file

__all__ = ["query"]


@lru_cache(maxsize=64)
def query(name: str) -> str:
    """Text of sql/queries/NAME.sql (cached: the files ship with the package and do not change at run time)."""
    return sql_file(f"queries/{name}.sql")
