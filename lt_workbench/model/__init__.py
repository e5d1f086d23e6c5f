"""Files → tables: coding frames, validation, the database and the transactional loader."""

__all__: list[str] = []
