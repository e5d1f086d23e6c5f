"""Text templates of the synthetic corpus, read from `phrasebank.json` (data, not code).

Invented wording with roles and pseudonyms only ({mother}, {child}, the health visitor). Order matters:
draws pick by position, so the same seed gives the same documents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["PHRASEBANK"]

PHRASEBANK: dict[str, Any] = json.loads((Path(__file__).resolve().parent / "phrasebank.json").read_text(encoding="utf-8"))
