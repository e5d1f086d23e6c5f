"""Fixtures shared by the analysis tests: the small tabulation corpus, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from lt_workbench.model.load import load

CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "tabulate" / "corpus"


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding tests/data/tabulate/corpus, loaded once; tests open it read-only and never write it."""
    db = tmp_path_factory.mktemp("corpus") / "corpus.duckdb"
    assert load([CORPUS_DIR], db=db, progress=False, workers=1).exit_code == 0
    return db
