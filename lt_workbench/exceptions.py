"""Every error lt-workbench raises on purpose. One place, so callers can catch by kind."""

from __future__ import annotations

__all__ = [
    "WorkbenchError",
    "TaxonomyError",
    "DatabaseError",
    "DatabaseBusy",
    "DatabaseDamaged",
    "LoadError",
    "LoadInterrupted",
    "TabulationError",
    "DisclosureError",
    "ReportError",
    "ParameterError",
    "IngestError",
    "ExportError",
]


class WorkbenchError(Exception):
    """Base class: anything lt-workbench raises deliberately, with a message that says what, where and how to fix."""


class TaxonomyError(WorkbenchError):
    """A coding frame file is malformed, or a taxonomy version is unknown."""


class DatabaseError(WorkbenchError):
    """The database is missing, of the wrong shape, or cannot be opened."""


class DatabaseBusy(DatabaseError):
    """Another writer (load, rebuild, upgrade) holds the database's writer lock past the wait allowed."""


class DatabaseDamaged(DatabaseError):
    """The database file is truncated, overwritten or otherwise unreadable; it can be rebuilt from the review files."""


class LoadError(WorkbenchError):
    """A load could not run at all (as opposed to individual documents being rejected)."""


class LoadInterrupted(LoadError):
    """A load was stopped by Ctrl-C or SIGTERM before it published anything: the database is unchanged."""


class TabulationError(WorkbenchError):
    """A tabulation was asked for with an unknown frame, dimension, unit or filter."""


class DisclosureError(WorkbenchError):
    """Disclosure control could not be applied as asked (unknown profile, bad threshold)."""


class ReportError(WorkbenchError):
    """A report notebook failed to execute or to export."""


class ParameterError(ReportError):
    """A report parameter is unknown or has a bad value; raised before any notebook runs."""


class IngestError(WorkbenchError):
    """A file to import cannot be read at all (not a zip, too large, unsafe paths, no project XML): nothing was written."""


class ExportError(WorkbenchError):
    """A table or release could not be written as asked (unknown format, an --out extension that disagrees, a bad pivot)."""
