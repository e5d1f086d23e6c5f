"""Module and class sizes against the house limits: `python -m lt_workbench.devtools.layout`.

Lists every module of the package with its line count and its largest class, and exits 1 naming
each module over MODULE_LIMIT lines or class over CLASS_LIMIT lines, so a file that has grown past
one job is split before it lands.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MODULE_LIMIT", "CLASS_LIMIT", "Size", "sizes", "violations", "main"]

MODULE_LIMIT = 500
CLASS_LIMIT = 300
PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Size:
    """One module: its path inside the package, its lines, and its largest class (name, lines)."""

    path: str
    lines: int
    largest_class: tuple[str, int] | None


def sizes(package: Path = PACKAGE) -> list[Size]:
    """Every .py file below `package`, largest first."""
    out = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        classes = [
            (node.name, (node.end_lineno or node.lineno) - node.lineno + 1)
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.ClassDef)
        ]
        largest = max(classes, key=lambda c: c[1]) if classes else None
        out.append(Size(str(path.relative_to(package.parent)), len(text.splitlines()), largest))
    return sorted(out, key=lambda s: (-s.lines, s.path))


def violations(found: list[Size]) -> list[str]:
    """A sentence per module or class over its limit."""
    bad = []
    for s in found:
        if s.lines > MODULE_LIMIT:
            bad.append(f"{s.path}: {s.lines} lines (limit {MODULE_LIMIT}): split it by job")
        if s.largest_class and s.largest_class[1] > CLASS_LIMIT:
            name, n = s.largest_class
            bad.append(f"{s.path}: class {name} has {n} lines (limit {CLASS_LIMIT}): split it by job")
    return bad


def main() -> int:
    found = sizes()
    for s in found:
        cls = f"  (largest class {s.largest_class[0]}: {s.largest_class[1]})" if s.largest_class else ""
        print(f"{s.lines:6d}  {s.path}{cls}")
    bad = violations(found)
    for line in bad:
        print(f"error: {line}", file=sys.stderr)
    print(f"{len(found)} modules; {len(bad)} over the limits", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
