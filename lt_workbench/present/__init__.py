"""Numbers → pictures and tables: figure builders and formatting shared by reports and the explorer."""

__all__: list[str] = []
