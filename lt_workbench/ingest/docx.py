"""Word reports: the table of key practice episodes (SCIE 2008, Appendix 4) -> `lt-review/1` documents.

The table is found by its three headings (*description of key practice episode and significance with
hindsight* | *breakdown and reviewers' judgement of adequacy of practice* | *contributory factors*),
matched on key words so wording may vary; a title row above the headings is allowed. Each later row is
one episode: column 1 its description (paragraphs from one starting "Significance" on are its
significance; its start date is the first date written), column 2 the reviewers' judgement (a line
"Practice: good|problematic|mixed", or exactly one of those words, sets the practice), column 3 the
contributory factors, one per line or bullet: a factor code (`FL.WORK.03`) or a factors-frame label,
`(supporting)` or `(hindering)`, and after a colon an optional note. A code or label is read as every
importer reads one (`ingest.fields.resolve_code`: a label two factors share is refused); close matches
are suggested, never accepted. Review fields a report does not hold come from a `--metadata` workbook (Review and Children
sheets as the template), matched on review_id (default: the file name without extension).
Problems are located as `REPORT.docx: table 2, row 5, column 3, line 2`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Sequence

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import IngestError
from lt_workbench.ingest.fields import AmbiguousLabel, FieldError, ImportProblem, _norm, check_review, find_first_date, labels, resolve_code
from lt_workbench.ingest.workbook import check_archive, read_sheets
from lt_workbench.ingest.xlsx import ImportResult, Reader, group_rows, review_header, write_documents

__all__ = ["import_reports", "find_episode_table", "read_report", "HEADINGS"]

HEADINGS = (
    ("description", "episode", "significance", "hindsight"),
    ("breakdown", "judgement", "judgment", "adequacy"),
    ("contributory", "factors", "why"),
)
"""Key words of the three column headings; a column matches when its heading holds any of them."""

_BULLET = re.compile(r"^\s*(?:[•·▪‣◦●○\-–—*]|\(?[0-9]{1,2}[.)]|\(?[a-z][.)])\s*")
_INFLUENCE = re.compile(r"\((supporting|hindering)\)", re.IGNORECASE)
_CODE = re.compile(r"^((?:FL|LS|NG)(?:\.[A-Z]{2,5})?(?:\.[0-9]{2})?)\b")
_PRACTICE_LINE = re.compile(r"^\s*(?:practice|judgement|judgment|adequacy)\s*[:\-–]\s*(good|problematic|mixed)\b", re.IGNORECASE)
_SIGNIFICANCE = re.compile(r"^\s*significance\b[^:]*:?\s*", re.IGNORECASE)


def _cell_lines(cell: Any) -> list[str]:
    """The text lines of a table cell: one per paragraph, and per line break inside a paragraph."""
    out: list[str] = []
    for p in cell.paragraphs:
        out += p.text.split("\n")
    return out


def _row_texts(row: Any) -> list[str]:
    """The cells of a row as text; a cell merged across columns is repeated by python-docx, so repeats collapse."""
    seen: list[Any] = []
    texts: list[str] = []
    for cell in row.cells:
        if any(cell._tc is s for s in seen):
            continue
        seen.append(cell._tc)
        texts.append(cell.text)
    return texts


def find_episode_table(document: Any) -> tuple[int, Any, int] | None:
    """(1-based table number, table, 0-based heading row) of the first table headed as Appendix 4, or None."""
    for t, table in enumerate(document.tables, start=1):
        for h, row in enumerate(table.rows[:3]):
            texts = [x.casefold() for x in _row_texts(row)]
            if len(texts) < 3:
                continue
            if all(any(k in texts[j] for k in HEADINGS[j]) for j in range(3)):
                return t, table, h
    return None


class _Report:
    def __init__(self, source: str, version: str) -> None:
        self.source = source
        self.version = version
        self.reader = Reader(source, version)
        self.labels = labels("factors", version)

    def problem(self, where: str, message: str, review: str) -> None:
        self.reader.problem(where, message, review)

    def factor(self, line: str, where: str, review: str) -> dict[str, Any] | None:
        text = _BULLET.sub("", line).strip()
        found = _INFLUENCE.findall(text)
        influence = found[0].lower() if len(set(f.lower() for f in found)) == 1 else None
        text = _INFLUENCE.sub("", text).strip(" ;,.")
        if len(set(f.lower() for f in found)) > 1:
            self.problem(where, f"{line.strip()!r} says both (supporting) and (hindering): code it twice, one per line", review)
            return None
        m = _CODE.match(text)
        code: str | None = None
        note: str | None = None
        if m:
            try:
                code = resolve_code("factors", m.group(1), self.version)
            except FieldError as e:
                self.problem(where, str(e), review)
                return None
            rest = text[m.end():].strip(" :-–—")
            label = self.labels[code]
            if _norm(rest[:len(label)]) == _norm(label):  # "FL.WORK.03 Workload: note"
                rest = rest[len(label):].strip(" :-–—")
            note = rest or None
        else:  # a label, maybe followed by ": note"; read as every importer reads a value (fields.resolve_code)
            head, _, tail = text.partition(":")
            miss: FieldError | None = None
            for candidate, candidate_note in ((text, None), (head, tail.strip() or None)):
                try:
                    code, note = resolve_code("factors", candidate.strip(), self.version), candidate_note
                    break
                except AmbiguousLabel as e:
                    self.problem(where, str(e), review)
                    return None
                except FieldError as e:
                    miss = e
            if code is None:
                self.problem(where, f"{miss}; start the line with a code such as FL.WORK.03", review)
                return None
        if influence is None:
            self.problem(where, f"{line.strip()!r}: say whether the factor was (supporting) or (hindering)", review)
            return None
        return {"code": code, "influence": influence, "note": note}


def _practice(lines: list[str]) -> str | None:
    for line in lines:
        m = _PRACTICE_LINE.match(line)
        if m:
            return m.group(1).lower()
    text = " ".join(lines).casefold()
    found = {w for w in ("problematic", "mixed") if re.search(rf"\b{w}\b", text)}
    if re.search(r"\bgood practice\b", text):
        found.add("good")
    return found.pop() if len(found) == 1 else None


def _title(description: str) -> str:
    words = description.split()
    return " ".join(words[:8]) + ("…" if len(words) > 8 else "")


def read_report(path: Path, metadata: dict[str, Any] | None, version: str = DEFAULT_TAXONOMY_VERSION,
                review_id: str | None = None) -> tuple[dict[str, Any] | None, list[ImportProblem]]:
    """One report -> (its document, or None when it has a problem; the problems). IngestError when unreadable.

    metadata: the --metadata workbook as read (`read_metadata`), or None.
    """
    import docx

    check_archive(path)
    try:
        document = docx.Document(str(path))
    except Exception as e:  # python-docx raises KeyError/ValueError/PackageNotFoundError on damaged parts
        raise IngestError(f"{path}: is not a readable Word document ({type(e).__name__}: {e}); open it in Word and save it again") from None
    found = find_episode_table(document)
    if found is None:
        raise IngestError(f"{path}: no table of key practice episodes: none of its {len(document.tables)} table(s) has the three "
                          "headings of SCIE's Appendix 4 (description of key practice episode and significance | breakdown and "
                          "reviewers' judgement of adequacy | contributory factors)")
    t, table, h = found
    rid = review_id or path.stem
    rep = _Report(path.name, version)
    if metadata is None:
        rep.problem("", f"review {rid!r}: the report holds no review type, area, dates or children: give them in a --metadata "
                        "workbook (Review and Children sheets, review_id " + repr(rid) + ")", rid)
        doc: dict[str, Any] = {"review_id": rid}
        places: dict[str, str] = {}
    elif rid not in metadata["groups"]:
        rep.problem("", f"review {rid!r} has no row on the Review sheet of {metadata['name']}", rid)
        doc, places = {"review_id": rid}, {}
    else:
        rep.reader.source = metadata["name"]
        doc, places = review_header(metadata["sheets"], metadata["groups"][rid], rep.reader)
        rep.reader.source = path.name
    episodes: list[dict[str, Any]] = []
    rows_at: dict[int, int] = {}
    for r, row in enumerate(table.rows[h + 1:], start=h + 2):
        cells = []
        seen: list[Any] = []
        for cell in row.cells:
            if not any(cell._tc is s for s in seen):
                seen.append(cell._tc)
                cells.append(cell)
        if not any(c.text.strip() for c in cells):
            continue
        where = f"table {t}, row {r}"
        if len(cells) < 3:
            rep.problem(where, f"row has {len(cells)} column(s), the table three: split merged cells", rid)
            continue
        col1 = [x.strip() for x in _cell_lines(cells[0]) if x.strip()]
        sig_at = next((k for k, x in enumerate(col1) if _SIGNIFICANCE.match(x)), None)
        desc_lines = col1 if sig_at is None else col1[:sig_at]
        sig_lines = [] if sig_at is None else [_SIGNIFICANCE.sub("", col1[sig_at]), *col1[sig_at + 1:]]
        description = "\n".join(desc_lines).strip()
        start = find_first_date(cells[0].text)
        if start is None:
            rep.problem(f"{where}, column 1", "no date in the episode's description: write when it started (e.g. 1 March 2019)", rid)
        col2 = [x.strip() for x in _cell_lines(cells[1]) if x.strip()]
        practice = _practice(col2)
        if practice is None:
            rep.problem(f"{where}, column 2", "no judgement of practice: add a line 'Practice: good', 'Practice: problematic' "
                                              "or 'Practice: mixed'", rid)
        factors = []
        for n, line in enumerate(_cell_lines(cells[2]), start=1):
            if line.strip():
                f = rep.factor(line, f"{where}, column 3, line {n}", rid)
                if f is not None:
                    factors.append(f)
        k = len(episodes)
        rows_at[k] = r
        episodes.append({"episode_id": f"E{k + 1}", "title": _title(description) or f"Episode {k + 1}",
                         "start": start[0] if start else None, "end": None, "description": description,
                         "significance": "\n".join(sig_lines).strip(), "practice": practice,
                         "judgement": "\n".join(col2), "agencies": [], "factors": factors})
    if not episodes:
        rep.problem(f"table {t}", "the table has headings but no episode rows", rid)
    doc["episodes"] = episodes
    problems = rep.reader.problems
    if problems:
        return None, problems

    def locate_pointer(pointer: str) -> str:
        m = re.match(r"^/episodes/([0-9]+)", pointer)
        return f"table {t}, row {rows_at[int(m.group(1))]}" if m and int(m.group(1)) in rows_at else f"at {pointer}"

    checked = check_review(doc, path.name, lambda name: places.get(name, name), locate_pointer)
    return (None if checked else doc), checked


def read_metadata(path: Path, version: str = DEFAULT_TAXONOMY_VERSION) -> dict[str, Any]:
    """The --metadata workbook: its Review and Children sheets grouped by review_id. IngestError when unreadable."""
    sheets = read_sheets(path, wanted=("Review", "Children"), required=("Review", "Children"))
    reader = Reader(path.name, version)
    groups = group_rows(sheets, reader)
    return {"name": path.name, "sheets": sheets, "groups": groups, "problems": reader.problems}


def import_reports(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *, metadata: str | os.PathLike[str] | None = None,
                   version: str = DEFAULT_TAXONOMY_VERSION) -> ImportResult:
    """Import Word reports: one document per report into `out`; problems located by table, row, column and line.

    A --metadata workbook that cannot be read stops the run (IngestError: nothing written).
    """
    result = ImportResult()
    meta = read_metadata(Path(metadata), version) if metadata is not None else None
    if meta is not None:
        result.problems.extend(meta["problems"])
    good: list[dict[str, Any]] = []
    for raw in paths:
        path = Path(raw)
        try:
            doc, problems = read_report(path, meta, version)
        except IngestError as e:
            result.rejected_files.append(str(path))
            result.problems.append(ImportProblem(path.name, "", str(e).removeprefix(f"{path}: ")))
            continue
        result.problems.extend(problems)
        if doc is None:
            result.rejected_reviews.append(path.stem)
        elif any(d["review_id"] == doc["review_id"] for d in good):
            result.problems.append(ImportProblem(path.name, "", f"review {doc['review_id']!r} was already read from another report"))
            result.rejected_reviews.append(doc["review_id"])
        else:
            good.append(doc)
    result.documents = good
    result.written = write_documents(good, Path(out))
    return result
