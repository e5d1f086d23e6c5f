"""Reviews in from the tools they are coded in: REFI-QDA projects, Excel workbooks, Word tables -> lt-review/1 JSON documents.

`fields` holds what every importer shares (flat dotted field names, vocabulary values by code or
label, dates, lists, located problems); each importer is one module beside it.
"""

__all__: list[str] = []
