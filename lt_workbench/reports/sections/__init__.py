"""One module per report: the sections its notebook shows, as functions of the ReportContext."""

__all__: list[str] = []
