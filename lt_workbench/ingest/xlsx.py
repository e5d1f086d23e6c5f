"""Excel coding workbooks: the template a reviewer fills in, and its import to `lt-review/1` documents.

`write_template(path)` writes the workbook (sheets Review, Children, Episodes, Factors, Patterns,
Recommendations; drop-downs of labels on every coded column; date cells; Codes and README sheets).
`import_workbooks(paths, out)` reads filled workbooks and writes one document per review into `out`;
every problem is located as `FILE: Sheet!Cell`, and the rows of other reviews are still written.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import orjson

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import IngestError
from lt_workbench.ingest.fields import (
    FieldError,
    ImportProblem,
    build_review,
    check_review,
    parse_date,
    resolve_code,
    resolve_codes,
    split_list,
)
from lt_workbench.ingest.template import write_template
from lt_workbench.ingest.workbook import (
    SHEETS,
    Column,
    Sheet,
    cell_ref,
    excel_date,
    read_sheets,
)

__all__ = ["write_template", "import_workbooks", "read_reviews", "ImportResult", "write_documents", "ReviewRows", "review_header",
           "Reader", "group_rows"]



# --- the import ------------------------------------------------------------------------------------

@dataclass
class ReviewRows:
    """The rows of one review gathered from every sheet of one workbook."""

    review_id: str
    review: tuple[int, list[Any]] | None = None
    rows: dict[str, list[tuple[int, list[Any]]]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class ImportResult:
    """What an import did: documents written (paths), problems (each located), notes (ignored columns etc.)."""

    written: list[Path] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejected_reviews: list[str] = field(default_factory=list)
    rejected_files: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 all written; 1 something rejected (the rest written)."""
        return 1 if self.problems or self.rejected_files else 0

    def summary(self) -> str:
        """One line: reviews written and rejected, files that could not be read."""
        parts = [f"{len(self.written)} reviews written", f"{len(self.rejected_reviews)} rejected"]
        if self.rejected_files:
            parts.append(f"{len(self.rejected_files)} file{'s' if len(self.rejected_files) > 1 else ''} unreadable")
        return ", ".join(parts)


def _cell(row: list[Any], j: int | None) -> Any:
    if j is None or j >= len(row):
        return None
    v = row[j]
    return None if isinstance(v, str) and not v.strip() else v


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    return str(v).strip()


class Reader:
    """Reads the cells of one workbook into document values, collecting located problems."""

    def __init__(self, source: str, version: str) -> None:
        self.source = source
        self.version = version
        self.problems: list[ImportProblem] = []

    def problem(self, where: str, message: str, review: str | None) -> None:
        self.problems.append(ImportProblem(self.source, where, message, review))

    def value(self, sheet: Sheet, col: Column, i: int, row: list[Any], review: str | None) -> Any:
        """The cell of `col` in `row` as the document wants it (code, list of codes, ISO date, int, text), or None."""
        j = sheet.columns.get(col.name)
        raw = _cell(row, j)
        if raw is None:
            return [] if col.kind in ("codes", "ids") else None
        where = f"{sheet.name}!{cell_ref(i, j or 0)}"
        try:
            if col.kind == "date":
                return parse_date(excel_date(raw))
            if col.kind == "int":
                text = _text(raw) or ""
                try:
                    number = float(text)
                except ValueError:
                    raise FieldError(f"{text!r} is not a whole number") from None
                if not number.is_integer():
                    raise FieldError(f"{text!r} is not a whole number")
                return int(number)
            if col.kind == "code":
                assert col.frame is not None
                return resolve_code(col.frame, _text(raw) or "", self.version)
            if col.kind == "codes":
                assert col.frame is not None
                return resolve_codes(col.frame, _text(raw) or "", self.version)
            if col.kind == "ids":
                return [_text(x) for x in split_list(_text(raw))]
            return _text(raw)
        except FieldError as e:
            self.problem(where, f"{col.name}: {e}", review)
            return None


def group_rows(sheets: dict[str, Sheet], reader: Reader) -> dict[str, ReviewRows]:
    """Rows of every sheet grouped by review_id; rows naming no review, or an unknown one, are reported."""
    reviews: dict[str, ReviewRows] = {}
    review_sheet = sheets["Review"]
    rid_col = review_sheet.columns.get("review_id")
    for i, row in review_sheet.rows:
        rid = _text(_cell(row, rid_col))
        if rid is None:
            reader.problem(f"{review_sheet.name}!{cell_ref(i, rid_col or 0)}", "review_id is empty: every review row needs one", None)
            continue
        if rid in reviews:
            first = reviews[rid].review
            reader.problem(f"{review_sheet.name}!{cell_ref(i, rid_col or 0)}",
                           f"review {rid!r} appears twice on the Review sheet (first on row {first[0] + 1 if first else '?'})", rid)
            continue
        reviews[rid] = ReviewRows(rid, (i, row))
    for name, sheet in sheets.items():
        if name == "Review":
            continue
        j = sheet.columns.get("review_id")
        for i, row in sheet.rows:
            rid = _text(_cell(row, j))
            where = f"{sheet.name}!{cell_ref(i, j or 0)}"
            if rid is None:
                reader.problem(where, "review_id is empty: name the review this row belongs to", None)
            elif rid not in reviews:
                reader.problem(where, f"review {rid!r} is not on the Review sheet", rid)
            else:
                reviews[rid].rows[name].append((i, row))
    return reviews


def review_header(sheets: dict[str, Sheet], group: ReviewRows, reader: Reader) -> tuple[dict[str, Any], dict[str, str]]:
    """A review's header (everything but episodes, patterns, recommendations) from its Review and Children rows.

    Returns the document so far and the cell of each flat field (`area.region` -> `Review!G5`).
    Used by the Excel import and by the Word import's --metadata workbook.
    """
    rid = group.review_id
    rs = sheets["Review"]
    assert group.review is not None
    ri, rrow = group.review
    fields: dict[str, Any] = {}
    places: dict[str, str] = {}
    for col in SHEETS["Review"]:
        j = rs.columns.get(col.name)
        places[col.name] = f"{rs.name}!{cell_ref(ri, j if j is not None else len(rs.columns))}"
        raw = _cell(rrow, j)
        if col.kind == "date":
            raw = excel_date(raw)
        fields[col.name] = raw
    cs = sheets["Children"]
    for n, (i, row) in enumerate(group.rows.get("Children", []), start=1):
        for col in SHEETS["Children"][1:]:
            j = cs.columns.get(col.name)
            fields[f"children.{n}.{col.name}"] = _cell(row, j)
            places[f"children.{n}.{col.name}"] = f"{cs.name}!{cell_ref(i, j if j is not None else 0)}"
    if not group.rows.get("Children"):
        places["children.1.age_band"] = f"{cs.name} (no row for review {rid})"

    doc, problems, _unknown = build_review(fields, reader.source, lambda name: places.get(name, f"{rs.name}!{name}"),
                                           reader.version, rid)
    reader.problems.extend(problems)
    return doc, places


def _review_doc(sheets: dict[str, Sheet], group: ReviewRows, reader: Reader) -> tuple[dict[str, Any], dict[str, Any]]:
    """One review's document and a map from JSON pointer prefixes to cells (for the validator's problems)."""
    rid = group.review_id
    doc, places = review_header(sheets, group, reader)
    pointer_cells: dict[str, tuple[str, int, int]] = {}  # formatted only when a problem needs it

    def rows_of(sheet_name: str) -> Iterable[tuple[int, dict[str, Any], Sheet]]:
        sheet = sheets[sheet_name]
        for i, row in group.rows.get(sheet_name, []):
            yield i, {c.name: reader.value(sheet, c, i, row, rid) for c in SHEETS[sheet_name][1:]}, sheet

    def place(pointer: str, sheet: Sheet, i: int, name: str) -> None:
        j = sheet.columns.get(name)
        pointer_cells[pointer] = (sheet.name, i, j if j is not None else 0)

    episodes: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for i, v, sheet in rows_of("Episodes"):
        k = len(episodes)
        for name in ("episode_id", "title", "start", "end", "description", "significance", "practice", "judgement", "agencies"):
            place(f"/episodes/{k}/{name}", sheet, i, name)
        place(f"/episodes/{k}", sheet, i, "episode_id")
        ep = {"episode_id": v["episode_id"], "title": v["title"], "start": v["start"], "end": v["end"],
              "description": v["description"], "significance": v["significance"], "practice": v["practice"],
              "judgement": v["judgement"], "agencies": v["agencies"], "factors": []}
        episodes.append(ep)
        if v["episode_id"] is not None:
            by_id.setdefault(v["episode_id"], ep)
    if not episodes:
        reader.problem(f"{sheets['Episodes'].name} (no row for review {rid})", "a review needs at least one key practice episode", rid)
    fsheet = sheets["Factors"]
    for i, v, sheet in rows_of("Factors"):
        found = by_id.get(v["episode_id"]) if v["episode_id"] is not None else None
        if found is None:
            j = fsheet.columns.get("episode_id")
            reader.problem(f"{fsheet.name}!{cell_ref(i, j if j is not None else 0)}",
                           f"episode {v['episode_id']!r} of review {rid!r} is not on the Episodes sheet", rid)
            continue
        ep = found
        k, m = episodes.index(ep), len(ep["factors"])
        for name in ("code", "influence", "note"):
            place(f"/episodes/{k}/factors/{m}/{name}", sheet, i, name)
        ep["factors"].append({"code": v["code"], "influence": v["influence"], "note": v["note"]})
    patterns: list[dict[str, Any]] = []
    for i, v, sheet in rows_of("Patterns"):
        k = len(patterns)
        for name in ("code", "direction", "priority", "finding", "episodes", "proposed_label"):
            place(f"/patterns/{k}/{name}", sheet, i, name)
        place(f"/patterns/{k}", sheet, i, "code")
        p = {"code": v["code"], "direction": v["direction"], "priority": v["priority"], "finding": v["finding"],
             "episodes": v["episodes"]}
        if v["proposed_label"]:
            p["proposed_label"] = v["proposed_label"]
        patterns.append(p)
    recs: list[dict[str, Any]] = []
    for i, v, sheet in rows_of("Recommendations"):
        k = len(recs)
        for name in ("rec_id", "text", "kind", "level", "patterns", "agency", "lead_role", "due", "status"):
            place(f"/recommendations/{k}/{name}", sheet, i, name)
        place(f"/recommendations/{k}", sheet, i, "rec_id")
        recs.append({name: v[name] for name in ("rec_id", "text", "kind", "level", "patterns", "agency", "lead_role", "due", "status")})
    doc["episodes"] = episodes
    if patterns:
        doc["patterns"] = patterns
    if recs:
        doc["recommendations"] = recs
    return doc, {**places, **{"ptr:" + k: v for k, v in pointer_cells.items()}}


def _locate_pointer(cells: dict[str, Any]) -> Callable[[str], str]:
    def locate(pointer: str) -> str:
        p = pointer
        while p:
            if "ptr:" + p in cells:
                name, i, j = cells["ptr:" + p]
                return f"{name}!{cell_ref(i, j)}"
            p = p.rsplit("/", 1)[0]
        return f"at {pointer or '/'}"

    return locate


def read_reviews(
    path: Path, version: str = DEFAULT_TAXONOMY_VERSION, *, display: str | None = None,
) -> tuple[list[dict[str, Any]], list[ImportProblem], list[str], list[str]]:
    """One workbook -> (good documents, problems, rejected review ids, notes). IngestError when unreadable."""
    source = display or path.name
    sheets = read_sheets(path)
    reader = Reader(source, version)
    notes = [f"{source}: {n}" for s in sheets.values() for n in s.notes]
    groups = group_rows(sheets, reader)
    good: list[dict[str, Any]] = []
    for rid, group in groups.items():
        before = len(reader.problems)
        doc, cells = _review_doc(sheets, group, reader)
        if len(reader.problems) == before:
            def locate(name: str, c: dict[str, Any] = cells) -> str:
                return str(c.get(name, f"Review!{name}"))

            reader.problems.extend(check_review(doc, source, locate, _locate_pointer(cells)))
        if len(reader.problems) == before:
            good.append(doc)
    bad_ids = sorted({p.review for p in reader.problems if p.review is not None and p.review in groups})
    good = [d for d in good if d["review_id"] not in bad_ids]
    return good, reader.problems, bad_ids, notes


def write_documents(docs: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """Write each document to OUT/<review_id>.json, each file atomically (a temporary name, then a rename)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for doc in docs:
        target = out / f"{doc['review_id']}.json"
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=out)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
            os.chmod(name, 0o644)
            os.replace(name, target)
        finally:
            if os.path.exists(name):
                os.unlink(name)
        written.append(target)
    return written


_PARALLEL_FROM = 64  # workbooks: from this many, read them in worker processes (one per core, at most 4)


def _read_one(path: Path, version: str) -> Any:
    """read_reviews for a worker process: its result, or the message of the IngestError that made the file unreadable."""
    try:
        return read_reviews(path, version)
    except IngestError as e:
        return str(e).removeprefix(f"{path}: ")


def import_workbooks(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str],
                     version: str = DEFAULT_TAXONOMY_VERSION) -> ImportResult:
    """Import filled coding workbooks: one document per good review into `out`; problems located by file, sheet and cell.

    A file that cannot be read at all (missing sheet, password, corrupt) is one problem and nothing of it
    is written; a review with a problem is not written; every other review is. A review id met in an
    earlier workbook of the same run is reported, not overwritten.
    """
    result = ImportResult()
    seen: dict[str, str] = {}
    good: list[dict[str, Any]] = []
    files = [Path(p) for p in paths]
    workers = min(os.cpu_count() or 1, 4)
    if len(files) >= _PARALLEL_FROM and workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(_read_one, files, [version] * len(files), chunksize=16))
    else:
        outcomes = [_read_one(f, version) for f in files]
    for path, outcome in zip(files, outcomes, strict=True):
        if isinstance(outcome, str):
            result.rejected_files.append(str(path))
            result.problems.append(ImportProblem(path.name, "", outcome))
            continue
        docs, problems, bad, notes = outcome
        result.problems.extend(problems)
        result.notes.extend(notes)
        result.rejected_reviews.extend(bad)
        for d in docs:
            rid = d["review_id"]
            if rid in seen:
                result.problems.append(ImportProblem(path.name, "Review", f"review {rid!r} was already read from {seen[rid]}; "
                                                                          "this copy is not written", rid))
                result.rejected_reviews.append(rid)
                continue
            seen[rid] = path.name
            good.append(d)
    result.documents = good
    result.written = write_documents(good, Path(out))
    return result
