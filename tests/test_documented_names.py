"""Every Python name the documentation promises can be imported, so user code and notebooks keep working.

The names are read from the Markdown itself (README.md, reports/README.md, schemas/README.md,
data/sample/README.md): every dotted `lt_workbench.…` name, every `from lt_workbench… import …` line,
and the tabulation functions the README lists after "The same functions are in Python".
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", REPO / "reports" / "README.md", REPO / "schemas" / "README.md", REPO / "data" / "sample" / "README.md"]


def _documented() -> list[str]:
    names: set[str] = set()
    for doc in DOCS:
        if not doc.exists():
            continue
        text = doc.read_text(encoding="utf-8")
        names.update(m.rstrip(".") for m in re.findall(r"\blt_workbench(?:\.[A-Za-z_][A-Za-z0-9_]*)+", text))
        for module, items in re.findall(r"from (lt_workbench[\w.]*) import ([\w, ]+)", text):
            names.update(f"{module}.{item.strip()}" for item in items.split(",") if item.strip())
        listed = re.search(r"The same functions are in Python:(.*?)they return", text, flags=re.S)
        if listed:
            names.update(f"lt_workbench.tabulate.{n}" for n in re.findall(r"`(?:lt_workbench\.tabulate\.)?([a-z_]+)(?:\(\.\.\.\))?`", listed.group(1)))
    return sorted(names)


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def test_the_documentation_names_something() -> None:
    names = _documented()
    assert "lt_workbench.tabulate.frequency" in names and "lt_workbench.widgets.Explorer" in names, names


@pytest.mark.parametrize("dotted", _documented())
def test_documented_name_imports(dotted: str) -> None:
    try:
        _resolve(dotted)
    except (ImportError, AttributeError) as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"the documentation names {dotted}, which does not import: {exc}")
