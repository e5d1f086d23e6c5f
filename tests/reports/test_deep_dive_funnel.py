"""The deep dive's funnel section when the overall share is hidden in public output (found by the full suite:
three reports into one release made p0 'c', and the notebook crashed converting it to float)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from lt_workbench.reports.sections import pattern_deep_dive as dd


class _Ctx:
    params: dict[str, Any] = {"region": None}

    def __init__(self, p0: object) -> None:
        self.p0 = p0

    def funnel(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        return pd.DataFrame({"region": ["london", "wales"], "count": [12, "c"], "denominator": [40, 9], "percent": [30.0, "c"],
                             "ci_low": [18.0, "c"], "ci_high": [45.0, "c"], "position": ["within", "c"], "p0": [self.p0] * 2})

    def labels(self, frame: str) -> dict[str, str]:
        return {"london": "London", "wales": "Wales"}

    def label(self, frame: str, code: str) -> str:
        return code

    def symbols(self, unit: str) -> str:
        return ""


def _shown(monkeypatch: Any, p0: object) -> tuple[list[Any], list[str]]:
    from lt_workbench.present import figures as f

    figs: list[Any] = []
    texts: list[str] = []
    monkeypatch.setattr(f, "show", lambda fig, *a, **k: figs.append(fig))
    monkeypatch.setattr(f, "show_text", lambda s, *a, **k: texts.append(s))
    monkeypatch.setattr(f, "show_table", lambda *a, **k: None)
    monkeypatch.setattr(dd, "_places_where", lambda ctx: {})
    dd.show_pattern_places(_Ctx(p0), "P2.1", 2)  # type: ignore[arg-type]
    return figs, texts


def test_hidden_overall_share_says_so_instead_of_crashing(monkeypatch: Any) -> None:
    figs, texts = _shown(monkeypatch, "c")
    assert figs == []
    assert any("hidden (c)" in t for t in texts)


def test_shown_overall_share_draws_the_funnel(monkeypatch: Any) -> None:
    figs, texts = _shown(monkeypatch, 0.3)
    assert len(figs) == 1 and not any("No funnel" in t for t in texts)
