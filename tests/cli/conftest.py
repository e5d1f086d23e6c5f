"""The tabulation corpus (60 reviews, tests/data/tabulate/corpus) loaded once for the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from lt_workbench.model.load import load

CORPUS_DIR = Path(__file__).parent.parent / "data" / "tabulate" / "corpus"


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "corpus.duckdb"
    result = load([CORPUS_DIR], db=path, progress=False, workers=1)
    assert result.exit_code == 0 and len(result.inserted) == 60
    return path
