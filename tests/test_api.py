"""Each module states its public names in __all__, and every listed name exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import lt_workbench

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(lt_workbench.__path__, prefix="lt_workbench.")
    if not any(part.startswith("_") for part in m.name.split("."))
)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_explicit_and_true(name: str) -> None:
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    for item in module.__all__:
        assert hasattr(module, item), f"{name}.__all__ lists {item!r}, which does not exist"
