"""The Excel coding workbook's layout, and reading a workbook's sheets safely and fast.

One layout serves the template (`ingest.xlsx.write_template`), the import (`ingest.xlsx.import_workbooks`)
and the Word import's `--metadata` workbook. Row 1 of each data sheet holds the format's field names,
flattened with dots as in the REFI-QDA case variables (`area.region`, `dates.completed`), so scripts and
people read the same names. A cell's codes and labels are read by `ingest.fields` (`resolve_code`,
`resolve_codes`), as for every importer. Workbooks are read with python-calamine (a Rust reader, many times faster
than openpyxl), after the file has been checked as a bounded zip archive.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import IngestError
from lt_workbench.ingest.fields import FIELDS, labels

__all__ = [
    "Column",
    "SHEETS",
    "DATA_SHEETS",
    "CODE_LABEL_FRAMES",
    "MAX_FILE_BYTES",
    "MAX_UNPACKED_BYTES",
    "MAX_ROWS",
    "Sheet",
    "cell_ref",
    "choices",
    "read_sheets",
    "excel_date",
    "check_archive",
]

MAX_FILE_BYTES = 50 * 1024 * 1024
"""A workbook file larger than this is refused before it is opened."""
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
"""A workbook whose zip entries expand beyond this in total is refused (a zip bomb)."""
MAX_ROWS = 100_000
"""Rows read per sheet at most; a sheet with more is refused."""

# Frames whose drop-downs show "code label" (labels alone can repeat, e.g. two factors called Personality).
CODE_LABEL_FRAMES = ("patterns", "factors", "practice_points")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a data sheet: its field name, how a cell is read, the frame it draws on, and what it holds."""

    name: str
    kind: str  # text | code | codes | date | int | ids | family_factors
    frame: str | None = None
    help: str = ""


def _review_columns() -> tuple[Column, ...]:
    helps = {
        "review_id": "Unique id of the review, e.g. LSCP-2021-03 (letters, digits, . _ -; 3 to 64 characters).",
        "title": "Pseudonymised title, e.g. 'Child T'. Never a real name.",
        "area.code": "Your code for the area (a local authority code or a pseudonym).",
        "area.name": "Area name (kept for analysts, never published).",
        "trigger.question": "The question the review set out to answer (free text).",
        "family_factors": "Family factors present, separated by ';'. Leave EMPTY when the review does not record them; "
                          "write 'none' when it records that none were present.",
        "agencies": "Agencies involved, separated by ';'.",
        "practice_points": "Practice points (D01-D14), separated by ';'.",
    }
    kinds = {"text": "text", "code": "code", "date": "date", "codes": "codes", "family_factors": "family_factors"}
    return tuple(Column(f.name, kinds[f.kind], f.frame, helps.get(f.name, "")) for f in FIELDS)


SHEETS: dict[str, tuple[Column, ...]] = {
    "Review": _review_columns(),
    "Children": (
        Column("review_id", "text", help="The review this child belongs to (as on the Review sheet)."),
        Column("age_band", "code", "age_band"),
        Column("sex", "code", "sex"),
        Column("outcome", "code", "outcome"),
        Column("harm_types", "codes", "harm_type", "Harm types, separated by ';'."),
    ),
    "Episodes": (
        Column("review_id", "text", help="The review (as on the Review sheet)."),
        Column("episode_id", "text", help="Id of the key practice episode within the review: E1, E2, ..."),
        Column("title", "text", help="Short title of the episode."),
        Column("start", "date", help="Date the episode started."),
        Column("end", "date", help="Date it ended (empty if a single point in time)."),
        Column("description", "text", help="Description of the key practice episode."),
        Column("significance", "text", help="Its significance with hindsight."),
        Column("practice", "code", "practice", "Reviewers' judgement of the adequacy of practice."),
        Column("judgement", "text", help="Breakdown and reviewers' judgement (free text)."),
        Column("agencies", "codes", "agency", "Agencies involved in the episode, separated by ';'."),
    ),
    "Factors": (
        Column("review_id", "text", help="The review (as on the Review sheet)."),
        Column("episode_id", "text", help="The episode the factor was coded on (as on the Episodes sheet)."),
        Column("code", "code", "factors", "Contributory factor: a level, type or factor of the framework."),
        Column("influence", "code", "influence", "Did it support or hinder practice?"),
        Column("note", "text", help="Why: the reviewers' note."),
    ),
    "Patterns": (
        Column("review_id", "text", help="The review (as on the Review sheet)."),
        Column("code", "code", "patterns", "Underlying pattern (any depth of the typology)."),
        Column("direction", "code", "direction", "Constructive or unsafe."),
        Column("priority", "int", help="1 = highest priority (a whole number up to 999)."),
        Column("finding", "text", help="The finding (free text)."),
        Column("episodes", "ids", help="Episodes the finding rests on, separated by ';' (E1; E3)."),
        Column("proposed_label", "text", help="A proposed new sub-pattern under this code (optional)."),
    ),
    "Recommendations": (
        Column("review_id", "text", help="The review (as on the Review sheet)."),
        Column("rec_id", "text", help="Id of the recommendation within the review: R1, R2, ..."),
        Column("text", "text", help="The recommendation."),
        Column("kind", "code", "recommendation_kind"),
        Column("level", "code", "recommendation_level"),
        Column("patterns", "codes", "patterns", "Patterns it addresses, separated by ';' (codes found in this review)."),
        Column("agency", "code", "agency", "Lead agency."),
        Column("lead_role", "text", help="Lead officer's role (never a name)."),
        Column("due", "date", help="Date due."),
        Column("status", "code", "recommendation_status"),
    ),
}
DATA_SHEETS = tuple(SHEETS)


def cell_ref(row: int, col: int) -> str:
    """Excel's name of a cell from 0-based row and column: (6, 2) -> 'C7'."""
    letters = ""
    n = col + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return f"{letters}{row + 1}"


def choices(frame: str, version: str = DEFAULT_TAXONOMY_VERSION) -> list[str]:
    """What a drop-down offers for a frame: labels, or 'code label' for the coding frames."""
    pairs = labels(frame, version).items()
    if frame in CODE_LABEL_FRAMES:
        return [f"{c} {label}" for c, label in pairs]
    return [label for _, label in pairs]


@dataclass
class Sheet:
    """One data sheet as read: its columns by field name (0-based index), data rows with their row index, notes."""

    name: str
    columns: dict[str, int]
    rows: list[tuple[int, list[Any]]]
    notes: list[str] = field(default_factory=list)
    header_row: int = 0


def check_archive(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise IngestError(f"{path}: cannot be read ({e.strerror or e})") from None
    if size > MAX_FILE_BYTES:
        raise IngestError(f"{path}: {size:,} bytes is larger than the {MAX_FILE_BYTES:,} a coding workbook may be")
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise IngestError(f"{path}: is password-protected (encrypted) or an old binary .xls/.doc file: "
                          "remove the password (File > Info > Protect) and save it as a .xlsx/.docx workbook")
    if not zipfile.is_zipfile(path):
        raise IngestError(f"{path}: is not an Office Open XML file (corrupt, truncated, or another format): "
                          "open it in Excel or Word and save it again")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        raise IngestError(f"{path}: is corrupt ({e}): open it in Excel or Word and save it again") from None
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_BYTES or len(infos) > 10_000:
        raise IngestError(f"{path}: expands to {total:,} bytes in {len(infos)} parts, beyond the {MAX_UNPACKED_BYTES:,} allowed")
    for i in infos:
        if i.filename.startswith(("/", "\\")) or ".." in Path(i.filename).parts:
            raise IngestError(f"{path}: holds a part outside the archive ({i.filename!r}); refused")


def _header_index(rows: list[list[Any]]) -> int | None:
    """The first of the top five rows holding the field name review_id (a title row may sit above the names)."""
    for i, row in enumerate(rows[:5]):
        if any(isinstance(v, str) and v.strip().casefold() == "review_id" for v in row):
            return i
    return None


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def read_sheets(path: Path, wanted: tuple[str, ...] = DATA_SHEETS, required: tuple[str, ...] = DATA_SHEETS) -> dict[str, Sheet]:
    """Read the data sheets of a coding workbook: header row found, blank rows dropped, values as calamine types.

    Raises IngestError (one clear message naming the file) for a file that is not a readable workbook,
    is password-protected, too large, or lacks a required sheet or its review_id column.
    """
    from python_calamine import CalamineWorkbook

    check_archive(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own error types for damaged parts
        raise IngestError(f"{path}: is not a readable Excel workbook ({type(e).__name__}: {e})") from None
    by_name = {n.strip().casefold(): n for n in wb.sheet_names}
    missing = [s for s in required if s.casefold() not in by_name]
    if missing:
        raise IngestError(f"{path}: sheet{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing "
                          f"(the workbook has {', '.join(wb.sheet_names) or 'no sheets'}); "
                          "start from `lt-workbench template xlsx` and keep its sheets")
    out: dict[str, Sheet] = {}
    for name in wanted:
        actual = by_name.get(name.casefold())
        if actual is None:
            continue
        try:
            rows = wb.get_sheet_by_name(actual).to_python(skip_empty_area=False, nrows=MAX_ROWS + 6)
        except Exception as e:
            raise IngestError(f"{path}: sheet {actual} cannot be read ({type(e).__name__}: {e})") from None
        if len(rows) > MAX_ROWS + 5:
            raise IngestError(f"{path}: sheet {actual} has more than {MAX_ROWS:,} rows")
        h = _header_index(rows)
        if h is None:
            raise IngestError(f"{path}: {actual}!A1: no header row with the field name review_id in the first five rows; "
                              "row 1 must hold the field names as in the template")
        known = {c.name for c in SHEETS[name]}
        columns: dict[str, int] = {}
        notes: list[str] = []
        header = rows[h]
        for j, v in enumerate(header):
            if _blank(v):
                continue
            key = str(v).strip()
            if key in known and key not in columns:
                columns[key] = j
            elif key in columns:
                notes.append(f"{actual}!{cell_ref(h, j)}: field {key!r} appears twice; the first column is read")
            else:
                notes.append(f"{actual}!{cell_ref(h, j)}: column {key!r} is not a field of this sheet and is ignored")
        data = [(i, list(r)) for i, r in enumerate(rows[h + 1:], start=h + 1) if not all(_blank(v) for v in r)]
        for j in range(len(header)):
            if _blank(header[j]) and any(j < len(r) and not _blank(r[j]) for _, r in data):
                notes.append(f"{actual}!{cell_ref(h, j)}: this column has values but no field name (a merged header "
                             "cell?); its values are ignored: give it the field name from the template")
        out[name] = Sheet(actual, columns, data, notes, h)
    return out


_EXCEL_EPOCH = dt.date(1899, 12, 30)


def excel_date(value: Any) -> Any:
    """An Excel date serial (a number in a cell not formatted as a date) -> a date; anything else unchanged."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    return value
