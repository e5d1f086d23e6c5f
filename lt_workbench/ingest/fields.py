"""What every importer shares: a review's fields as flat dotted names -> an `lt-review/1` document.

A review coded in a tool other than JSON (REFI-QDA Case variables, an Excel row, a Word table)
arrives as flat name/value pairs: `review_id`, `area.region`, `dates.completed`,
`children.1.age_band`, ... (see `FIELDS`). `build_review` turns them into the header of an
`lt-review/1` document (everything but episodes, patterns and recommendations, which each importer
builds from its own structure) and reports every bad value at once as `ImportProblem`s, each
located by a string the caller formats for its own input (`Case 'Child T', variable 'area.region'`,
`Reviews!C7`, `Case 'X', chars 120–340`).

Conventions (documented in schemas/README.md):
- a vocabulary value may be its code, its label in any case ("North West" = `north_west`), or
  'code label' as the workbook's drop-downs show it ("P2.1 Resource–demand mismatch"); a miss
  says which values are allowed and suggests the closest; a label that two codes of the frame share
  (factors: "Personality") is refused with both codes named: write the code;
- dates are `YYYY-MM-DD` or `DD/MM/YYYY` (or `1 March 2019`); a date or datetime object is taken as is;
- lists are separated by `;`; a label that itself contains `;` (practice point DA1 "Children and young
  people; parents and carers; ...") is read whole, and any item may be put in double quotes
  (`"a; b"; c`) to keep its `;`;
- `family_factors` empty (or absent) means *not recorded*; the single value `none` means recorded
  and none present;
- an empty value is the same as an absent one.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION, FORMAT
from lt_workbench.model.frames import taxonomy_frame
from lt_workbench.model.validate import validate_document

__all__ = [
    "ImportProblem",
    "FieldError",
    "FieldSpec",
    "FIELDS",
    "CHILD_FIELDS",
    "field_spec",
    "AmbiguousLabel",
    "labels",
    "resolve_code",
    "resolve_codes",
    "parse_date",
    "find_first_date",
    "split_list",
    "build_review",
    "field_of_pointer",
    "check_review",
]


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One thing wrong in an imported file: the file, a place the caller formatted, and what is wrong.

    `where` is free text in the caller's terms: `Case 'Child T', variable 'area.region'`,
    `Case 'Child T', source 'report.txt', chars 120–340`, `Patterns!C7`. `review` names the review
    the problem stops from being written, when there is one (None: the whole file, or a note only).
    """

    source: str
    where: str
    message: str
    review: str | None = None

    def __str__(self) -> str:
        return f"{self.source}: {self.where}: {self.message}" if self.where else f"{self.source}: {self.message}"


class FieldError(ValueError):
    """A single value could not be read; the message says why and how to fix it (no location: the caller adds it)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One flat field: its dotted name, how its value is read, the vocabulary it draws on, and whether it is required."""

    name: str
    kind: str  # text | code | date | codes | family_factors
    frame: str | None = None
    required: bool = False


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("review_id", "text", required=True),
    FieldSpec("title", "text", required=True),
    FieldSpec("review_type", "code", "review_type", required=True),
    FieldSpec("method", "code", "method", required=True),
    FieldSpec("area.code", "text", required=True),
    FieldSpec("area.name", "text", required=True),
    FieldSpec("area.region", "code", "region", required=True),
    FieldSpec("area.nation", "code", "nation", required=True),
    FieldSpec("dates.commissioned", "date"),
    FieldSpec("dates.completed", "date", required=True),
    FieldSpec("dates.published", "date"),
    FieldSpec("trigger.reason", "code", "trigger_reason", required=True),
    FieldSpec("trigger.question", "text"),
    FieldSpec("intervention_level", "code", "intervention_level"),
    FieldSpec("quality_grade", "code", "quality_grade"),
    FieldSpec("family_factors", "family_factors", "family_factor"),
    FieldSpec("agencies", "codes", "agency"),
    FieldSpec("practice_points", "codes", "practice_points"),
)
"""The review-level fields, in document order. Children follow as `children.N.<CHILD_FIELDS>`, N = 1, 2, ..."""

CHILD_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("age_band", "code", "age_band", required=True),
    FieldSpec("sex", "code", "sex", required=True),
    FieldSpec("harm_types", "codes", "harm_type"),
    FieldSpec("outcome", "code", "outcome", required=True),
)

_BY_NAME = {f.name: f for f in FIELDS}
_CHILD_BY_NAME = {f.name: f for f in CHILD_FIELDS}
_CHILD = re.compile(r"^children\.([0-9]+)\.([a-z_]+)$")


def field_spec(name: str) -> FieldSpec | None:
    """The spec of a dotted field name (`area.region`, `children.2.sex`), or None when it is not a review field."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    m = _CHILD.match(name)
    if m and int(m.group(1)) >= 1:
        return _CHILD_BY_NAME.get(m.group(2))
    return None


# --- vocabulary values ---------------------------------------------------------------------------

def _norm(text: str) -> str:
    """Case, spacing, underscores and dashes do not matter: 'North West' = 'north_west' = 'north-west'."""
    return re.sub(r"[\s_\-–—]+", " ", text.casefold()).strip()


@dataclass(frozen=True)
class _Vocab:
    lookup: dict[str, str]  # normalised code or unshared label -> code
    shared: dict[str, tuple[str, ...]]  # normalised label two or more codes share -> those codes
    pairs: tuple[tuple[str, str], ...]  # (code, label) in frame order
    code_label: dict[str, str]  # normalised 'code label', as the workbook's drop-downs show it -> code
    with_semicolon: frozenset[str]  # normalised labels and 'code label's that hold a `;`


@lru_cache(maxsize=64)
def _vocab(frame: str, version: str) -> _Vocab:
    t = taxonomy_frame(version)
    rows = t[t["frame"] == frame]
    pairs = tuple(zip(rows["code"].astype(str), rows["label"].astype(str), strict=True))
    by_label: dict[str, list[str]] = {}
    for code, label in pairs:
        by_label.setdefault(_norm(label), []).append(code)
    lookup = {k: v[0] for k, v in by_label.items() if len(v) == 1}
    for code, _ in pairs:  # a code wins over a label spelled the same
        lookup[_norm(code)] = code
    shared = {k: tuple(v) for k, v in by_label.items() if len(v) > 1 and k not in lookup}
    code_label = {_norm(f"{code} {label}"): code for code, label in pairs}
    semi = frozenset(_norm(x) for code, label in pairs if ";" in label for x in (label, f"{code} {label}"))
    return _Vocab(lookup, shared, pairs, code_label, semi)


class AmbiguousLabel(FieldError):
    """A label that two or more codes of the frame share: the value cannot be read, the code must be written."""


_CODE_THEN_LABEL = re.compile(r"^\s*(\S+)\s+(.+?)\s*$")


def labels(frame: str, version: str = DEFAULT_TAXONOMY_VERSION) -> dict[str, str]:
    """code -> label of a frame, in frame order."""
    return dict(_vocab(frame, version).pairs)


def resolve_code(frame: str, value: str, version: str = DEFAULT_TAXONOMY_VERSION) -> str:
    """A vocabulary or frame value given as its code, its label (any case) or 'code label' -> the code.

    The one place every importer (REFI-QDA, Excel, Word) reads a coded value. FieldError on a miss
    (with the closest value); AmbiguousLabel on a label two or more codes of the frame share (the codes
    named: write the code); FieldError on a 'code label' whose label is another code's.
    """
    v = _vocab(frame, version)
    if not v.pairs:
        raise FieldError(f"there is no vocabulary {frame!r} in taxonomy {version}")
    key = _norm(value)
    found = v.lookup.get(key) or v.code_label.get(key)
    if found is not None:
        return found
    if key in v.shared:
        codes = v.shared[key]
        raise AmbiguousLabel(f"{value!r} is the label of {len(codes)} codes of the {frame} frame, {', '.join(codes[:-1])} "
                             f"and {codes[-1]}, so it is ambiguous: write the code instead")
    own = dict(v.pairs)
    m = _CODE_THEN_LABEL.match(value)
    if m and m.group(1) in own:  # 'P2.1 Some other label': the code is right, the label is not its own
        raise FieldError(f"{value!r}: {m.group(1)} is {own[m.group(1)]!r}, not {m.group(2)!r}; write the code alone "
                         "or pick the entry from the drop-down")
    candidates = [*v.lookup, *v.shared]
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    hint = ""
    if close:
        if close[0] in v.shared:
            hint = f" (did you mean one of {', '.join(map(repr, v.shared[close[0]]))}?)"
        else:
            code = v.lookup[close[0]]
            hint = f" (did you mean {code!r}, {own[code]!r}?)"
    pairs = v.pairs
    allowed = ", ".join(c for c, _ in pairs) if len(pairs) <= 20 else f"{len(pairs)} codes of the {frame} frame"
    what = frame.replace("_", " ")
    raise FieldError(f"{value!r} is not {'an' if what[0] in 'aeiou' else 'a'} {what} code or label{hint}; allowed: {allowed}")


def resolve_codes(frame: str, value: Any, version: str = DEFAULT_TAXONOMY_VERSION) -> list[str]:
    """A `;`-separated list (see `split_list`) -> its codes, in order, without repeats; FieldError names every bad item."""
    out: list[str] = []
    bad: list[str] = []
    for item in split_list(value, frame, version):
        try:
            code = resolve_code(frame, item, version)
        except FieldError as e:
            bad.append(str(e))
            continue
        if code not in out:
            out.append(code)
    if bad:
        raise FieldError("; ".join(bad))
    return out


# --- dates ---------------------------------------------------------------------------------------

_MONTHS = {
    name: i
    for i, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
         ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for name in names
}
_ISO = r"(?P<iy>[0-9]{4})-(?P<im>[0-9]{2})-(?P<id>[0-9]{2})"
_DMY = r"(?P<dd>[0-9]{1,2})/(?P<dm>[0-9]{1,2})/(?P<dy>[0-9]{4})"
_TEXT = r"(?P<td>[0-9]{1,2})(?:st|nd|rd|th)?\s+(?P<tm>[A-Za-z]{3,9})\.?,?\s+(?P<ty>[0-9]{4})"
_ANY_DATE = re.compile(rf"(?<![0-9/-])(?:{_ISO}|{_DMY}|{_TEXT})(?![0-9/-])")


def _from_match(m: re.Match[str]) -> dt.date | None:
    try:
        if m.group("iy"):
            return dt.date(int(m.group("iy")), int(m.group("im")), int(m.group("id")))
        if m.group("dy"):
            return dt.date(int(m.group("dy")), int(m.group("dm")), int(m.group("dd")))
        month = _MONTHS.get(m.group("tm").casefold())
        return dt.date(int(m.group("ty")), month, int(m.group("td"))) if month else None
    except ValueError:
        return None


def parse_date(value: Any) -> str:
    """A date as `YYYY-MM-DD`, `DD/MM/YYYY`, `1 March 2019` or a date object -> ISO `YYYY-MM-DD`; FieldError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    m = _ANY_DATE.fullmatch(text)
    if m is None:
        raise FieldError(f"{text!r} is not a date: write YYYY-MM-DD, DD/MM/YYYY or '1 March 2019'")
    d = _from_match(m)
    if d is None:
        raise FieldError(f"{text!r} is not a real date")
    return d.isoformat()


def find_first_date(text: str) -> tuple[str, int, int] | None:
    """The first real date written in free text: (ISO date, start, end) as character offsets, or None."""
    for m in _ANY_DATE.finditer(text):
        d = _from_match(m)
        if d is not None:
            return d.isoformat(), m.start(), m.end()
    return None


_ITEM = re.compile(r'\s*(?:"((?:[^"]|"")*)"\s*|([^;]*))(;|$)')


def _items(value: str) -> list[tuple[str, bool]]:
    """`a; "b; c" ;d` -> [('a', False), ('b; c', True), ('d', False)]: items split on `;`, each stripped,
    a double-quoted one kept whole (`""` inside is a quote); empty items dropped."""
    out: list[tuple[str, bool]] = []
    pos = 0
    while pos <= len(value):
        m = _ITEM.match(value, pos)
        if m is None or m.end() == pos and not m.group(3):
            break
        quoted = m.group(1) is not None
        text = m.group(1).replace('""', '"') if quoted else m.group(2)
        if text.strip():
            out.append((text.strip(), quoted))
        if not m.group(3):
            break
        pos = m.end()
    return out


def split_list(value: Any, frame: str | None = None, version: str = DEFAULT_TAXONOMY_VERSION) -> list[str]:
    """`a; b ;c` -> ['a', 'b', 'c']; empty items are dropped (labels may contain commas, so only `;` separates).

    A double-quoted item keeps its `;` (`"a; b"; c` -> ['a; b', 'c']). With `frame`, a run of items
    that together spell a label (or 'code label') of that frame is one item (the longest run first), so a
    label holding `;` (practice point DA1 "Children and young people; parents and carers; ...") is read whole.
    """
    if value is None:
        return []
    items = _items(str(value))
    if frame is None:
        return [text for text, _ in items]
    labels = _vocab(frame, version).with_semicolon
    out: list[str] = []
    i = 0
    while i < len(items):
        j = i + 1
        if not items[i][1] and labels:
            for end in range(len(items), i + 1, -1):
                run = items[i:end]
                if not any(quoted for _, quoted in run) and _norm("; ".join(t for t, _ in run)) in labels:
                    j = end
                    break
        out.append("; ".join(t for t, _ in items[i:j]))
        i = j
    return out


# --- one review ----------------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():  # a spreadsheet's 1234 read as 1234.0
        value = int(value)
    return str(value).strip()


def _read(spec: FieldSpec, value: Any, version: str) -> Any:
    if spec.kind == "text":
        return _text(value)
    if spec.kind == "date":
        return parse_date(value)
    assert spec.frame is not None
    if spec.kind == "code":
        return resolve_code(spec.frame, _text(value), version)
    if spec.kind == "family_factors" and [_norm(x) for x in split_list(value)] == ["none"]:
        return []
    return resolve_codes(spec.frame, value, version)


def build_review(
    fields: Mapping[str, Any],
    source: str,
    locate: Callable[[str], str],
    version: str = DEFAULT_TAXONOMY_VERSION,
    review: str | None = None,
) -> tuple[dict[str, Any], list[ImportProblem], list[str]]:
    """Flat fields -> (the review's header as an lt-review/1 document, problems, names not recognised).

    `locate(name)` formats where the field `name` is (or would be) in the caller's input. The
    document has no episodes yet; the importer adds `episodes`, `patterns`, and may add `coding`.
    Every bad or missing value is reported, not just the first. Unrecognised names are returned
    so the caller can say they were ignored (nothing silently lost).
    """
    problems: list[ImportProblem] = []
    values: dict[str, Any] = {}
    unknown: list[str] = []
    label = review or (_text(fields["review_id"]) if not _blank(fields.get("review_id")) else None)

    failed: set[str] = set()

    def bad(name: str, message: str) -> None:
        failed.add(name)
        problems.append(ImportProblem(source, locate(name), message, label))

    children: dict[int, dict[str, Any]] = {}
    for raw_name, value in fields.items():
        name = raw_name.strip()
        spec = field_spec(name)
        if spec is None:
            unknown.append(raw_name)
            continue
        if _blank(value):
            continue
        try:
            read = _read(spec, value, version)
        except FieldError as e:
            bad(name, f"{name}: {e}")
            continue
        m = _CHILD.match(name)
        if m:
            children.setdefault(int(m.group(1)), {})[m.group(2)] = read
        else:
            values[name] = read

    for spec in FIELDS:
        if spec.required and spec.name not in values and spec.name not in failed:
            bad(spec.name, f"required field {spec.name!r} is missing")
    numbers = sorted(children)
    if not numbers and not any(n.startswith("children.") for n in failed):
        bad("children.1.age_band", "a review needs at least one child: give children.1.age_band, children.1.sex, children.1.outcome")
    for expected, n in enumerate(numbers, start=1):
        if n != expected:
            bad(f"children.{n}.age_band", f"children are numbered 1, 2, ... without gaps: children.{n} given but no children.{expected}")
            break
    child_list = []
    for n in numbers:
        child = children[n]
        for cspec in CHILD_FIELDS:
            name = f"children.{n}.{cspec.name}"
            if cspec.required and cspec.name not in child and name not in failed:
                bad(name, f"required field {name!r} is missing")
        child_list.append({c.name: child.get(c.name, [] if c.kind == "codes" else None) for c in CHILD_FIELDS})

    doc: dict[str, Any] = {
        "format": FORMAT,
        "taxonomy_version": version,
        "review_id": values.get("review_id"),
        "title": values.get("title"),
        "review_type": values.get("review_type"),
        "method": values.get("method"),
        "area": {k: values.get(f"area.{k}") for k in ("code", "name", "region", "nation")},
        "dates": {k: values.get(f"dates.{k}") for k in ("commissioned", "completed", "published")},
        "trigger": {"reason": values.get("trigger.reason"), "question": values.get("trigger.question")},
        "children": child_list,
        "family_factors": values.get("family_factors"),
    }
    for name in ("intervention_level", "quality_grade", "agencies", "practice_points"):
        if name in values:
            doc[name] = values[name]
    return doc, problems, unknown


_POINTER_FIELD = re.compile(r"^/(area|dates|trigger)/([a-z_]+)$|^/children/([0-9]+)/([a-z_]+)(?:/[0-9]+)?$|^/([a-z_]+)(?:/[0-9]+)?$")


def field_of_pointer(pointer: str) -> str | None:
    """The flat field a JSON pointer of the document falls in (`/children/0/sex` -> `children.1.sex`), or None (episodes etc.)."""
    m = _POINTER_FIELD.match(pointer)
    if not m:
        return None
    if m.group(1):
        name = f"{m.group(1)}.{m.group(2)}"
    elif m.group(3) is not None:
        name = f"children.{int(m.group(3)) + 1}.{m.group(4)}"
    else:
        name = m.group(5)
    return name if field_spec(name) is not None else None


def check_review(
    doc: Mapping[str, Any],
    source: str,
    locate: Callable[[str], str],
    locate_pointer: Callable[[str], str] | None = None,
) -> list[ImportProblem]:
    """Validate a built document as `load` will, each problem placed in the caller's terms.

    A pointer inside a flat field goes to `locate(field)`; any other (episodes, patterns) goes to
    `locate_pointer(pointer)` when given, else to the pointer itself.
    """
    review = doc.get("review_id") if isinstance(doc.get("review_id"), str) else None
    out = []
    for p in validate_document(dict(doc), source):
        name = field_of_pointer(p.pointer)
        if name is not None:
            where = locate(name)
        elif locate_pointer is not None:
            where = locate_pointer(p.pointer)
        else:
            where = f"at {p.pointer or '/'}"
        out.append(ImportProblem(source, where, p.message, review))
    return out
