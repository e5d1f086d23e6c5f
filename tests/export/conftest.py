"""A small loaded database shared by the export tests (the tabulation corpus: 60 synthetic reviews)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lt_workbench.model.load import load

CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "tabulate" / "corpus"


@pytest.fixture(scope="package")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "export.duckdb"
    result = load([CORPUS_DIR], db=path, progress=False, workers=1)
    assert result.exit_code == 0 and len(result.inserted) == 60
    return path
