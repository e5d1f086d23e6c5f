"""Shared fixtures: fixture folders and a fresh database per test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
VALID = DATA / "valid"
INVALID = DATA / "invalid"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "test.duckdb"


@pytest.fixture
def minimal_doc() -> dict:
    return json.loads((VALID / "minimal.json").read_text(encoding="utf-8"))


def write_doc(folder: Path, doc: dict, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{doc['review_id']}.json")
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _own_release_ledger(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test publishes into a release of its own (disclosure releases, issue 12): public commands run by
    different tests on a shared database do not see each other, so outputs do not depend on test order."""
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(tmp_path_factory.mktemp("ledger") / "releases.sqlite"))
