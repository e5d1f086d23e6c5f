"""Tables → numbers: the tabulation API, statistics and disclosure control."""

__all__: list[str] = []
