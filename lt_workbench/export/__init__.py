"""Results out: Excel and Parquet tables with their About facts, Parquet dumps of the database, official-statistics release files."""

from lt_workbench.export.tables import EXTENSIONS, FORMATS, ExportError, check_extension, write_table

__all__ = ["write_table", "check_extension", "FORMATS", "EXTENSIONS", "ExportError"]
