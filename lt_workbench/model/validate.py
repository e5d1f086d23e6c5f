"""Check lt-review/1 documents: bytes -> JSON -> schema -> what a schema cannot check.

Validation is lazy in pandera's sense: every problem in a document is collected into one
report, each with the file, a JSON pointer to the place and a plain-English reason (with a
close match when a code looks mistyped). The schema runs in a compiled validator
(jsonschema-rs); the cross-field rules (codes in the taxonomy, references that resolve,
unique ids, real and ordered dates) run in plain Python afterwards.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import jsonschema_rs
import orjson
import re

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION, FORMAT, SCHEMA_PATH
from lt_workbench.model.frames import available_versions, codes, taxonomy_frame

__all__ = [
    "Problem",
    "Checked",
    "parse_bytes",
    "validate_document",
    "check_file",
    "check_bytes",
    "schema",
    "duplicate_keys",
    "MAX_DOCUMENT_MB",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one document: where (file + JSON pointer) and what."""

    source: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: at {self.pointer or '/'} (JSON pointer): {self.message}"


@dataclass(slots=True)
class Checked:
    """A file read and checked: its review id and hash, every problem found, and the document.

    `doc` may be dropped (None) once the rows are built, so large batches are not held twice.
    """

    source: str
    sha256: str
    doc: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)
    review_id: str | None = None
    # The coder's name when the document is a second coding (coding.role = second): loaded apart, see model/second.py.
    second_coder: str | None = None

    def __post_init__(self) -> None:
        if self.review_id is None and isinstance(self.doc, dict) and isinstance(self.doc.get("review_id"), str):
            self.review_id = self.doc["review_id"]
        if self.second_coder is None and isinstance(self.doc, dict) and isinstance(self.doc.get("coding"), dict):
            coding = self.doc["coding"]
            if coding.get("role") == "second" and isinstance(coding.get("coder"), str):
                self.second_coder = coding["coder"]

    @property
    def ok(self) -> bool:
        return not self.problems


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The lt-review/1 JSON Schema (Draft 2020-12) as shipped in schemas/."""
    loaded: dict[str, Any] = orjson.loads(SCHEMA_PATH.read_bytes())
    return loaded


@lru_cache(maxsize=1)
def _validator() -> Any:
    return jsonschema_rs.Draft202012Validator(schema())


def _pointer(parts: Iterable[Any]) -> str:
    out = []
    for p in parts:
        out.append("/" + str(p).replace("~", "~0").replace("/", "~1"))
    return "".join(out)


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def parse_bytes(raw: bytes, source: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Bytes -> a JSON object, or the reason it is not one (empty, whitespace only, not UTF-8, malformed,
    nested too deep, keys repeated in one object, not an object)."""
    if not raw:
        return None, [Problem(source, "", "the file is empty (0 bytes): expected one lt-review/1 JSON object")]
    if raw.isspace():
        return None, [Problem(source, "", f"the file holds only whitespace ({len(raw):,} bytes): expected one lt-review/1 JSON object")]
    try:
        doc = orjson.loads(raw)  # orjson also refuses bytes that are not UTF-8
    except orjson.JSONDecodeError as e:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as u:
            line = raw.count(b"\n", 0, u.start) + 1
            return None, [
                Problem(source, "", f"not valid UTF-8 at byte {u.start} (line {line}): save the file as UTF-8")
            ]
        line, col = _line_col(text, min(e.pos, len(text)))
        if "depth" in e.msg or "recursion" in e.msg:
            return None, [Problem(source, "", f"the JSON is nested more than {_MAX_DEPTH:,} levels deep (at line {line}, "
                                  f"column {col}); a review is a few levels deep, so this file is not one")]
        why = "the JSON ends early (truncated file?)" if e.pos >= len(text.rstrip()) else f"malformed JSON ({e.msg})"
        return None, [Problem(source, "", f"{why} at line {line}, column {col}")]
    if not _keys_all_kept(raw, doc):
        repeated = duplicate_keys(raw)
        if repeated:
            text = raw.decode("utf-8")
            return None, [
                Problem(source, where + _pointer([key]), f"the key {key!r} appears twice in one object, at line "
                        f"{'{}, column {}'.format(*_line_col(text, first))} and line {'{}, column {}'.format(*_line_col(text, second))}; "
                        "keys must be unique (a JSON reader would silently keep only the last)")
                for where, key, first, second in repeated
            ]
    if not isinstance(doc, dict):
        kind = "an array" if isinstance(doc, list) else type(doc).__name__
        return None, [
            Problem(source, "", f"the top level is {kind}; expected one JSON object per review (one review per file)")
        ]
    return doc, []


_MAX_DEPTH = 1024  # orjson's limit
_KEYISH = re.compile(rb'"\s*:')


def _keys_all_kept(raw: bytes, doc: Any) -> bool:
    r"""True when the parser provably kept every key of `raw` (it keeps only the last of a repeated key); else
    duplicate_keys() must look. Exact: bytes that are the parsed document's own serialisation (2-space or compact, as
    our importers and synth write) repeat no key; otherwise each key written is a quote, optional whitespace and a
    colon, so at least as many `"\s*:` as keys written are in the text: that many keys parsed means none dropped."""
    option = orjson.OPT_INDENT_2 if raw[:3] == b'{\n ' else 0 if raw[:2] == b'{"' else None
    if option is not None:
        try:
            dumped = orjson.dumps(doc, option=option)
        except orjson.JSONEncodeError:  # nested deeper than orjson writes (it reads deeper): count instead
            dumped = b""
        if dumped and raw.startswith(dumped) and (len(raw) == len(dumped) or raw[len(dumped):].isspace()):
            return True
    return len(_KEYISH.findall(raw)) == _count_keys(doc)


def _count_keys(doc: Any) -> int:
    """Keys of every object in a parsed JSON value (without recursion: documents may nest 1,024 deep)."""
    n, stack = 0, [doc]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            n, node = n + len(node), node.values()
        elif type(node) is not list:
            continue
        for v in node:
            if type(v) is dict or type(v) is list:
                stack.append(v)
    return n
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\],:]')


def duplicate_keys(raw: bytes) -> list[tuple[str, str, int, int]]:
    """Keys given twice in one JSON object: (pointer of the object, key, offset of the first, offset of the second).

    A token walk over the text (strings and punctuation only), run when a cheap count says a key
    may have been dropped by the parser; it tracks the path to each object to name the place."""
    stack: list[list[Any]] = []  # ["o", seen keys, expecting a key, current key] or ["a", index]
    out: list[tuple[str, str, int, int]] = []
    for m in _TOKEN.finditer(raw):
        t = m.group()
        if t == b"{":
            stack.append(["o", {}, True, None])
        elif t == b"[":
            stack.append(["a", 0])
        elif t in (b"}", b"]"):
            if stack:
                stack.pop()
        elif not stack:
            continue
        elif t == b",":
            top = stack[-1]
            if top[0] == "a":
                top[1] += 1
            else:
                top[2] = True
        elif t == b":":
            stack[-1][2] = False
        elif stack[-1][0] == "o" and stack[-1][2]:
            top = stack[-1]
            key = orjson.loads(t)
            if key in top[1]:
                where = _pointer(str(e[3]) if e[0] == "o" else e[1] for e in stack[:-1])
                out.append((where, key, top[1][key], m.start()))
            else:
                top[1][key] = m.start()
            top[3] = key
    return out


def _suggest(value: Any, choices: Iterable[str]) -> str:
    if not isinstance(value, str):
        return ""
    match = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


_REQUIRED = re.compile(r'^"([^"]+)" is a required property$')


def _schema_problems(doc: dict[str, Any], source: str) -> list[Problem]:
    validator = _validator()
    if validator.is_valid(doc):  # the usual case, and a fifth cheaper than collecting no errors
        return []
    problems = []
    try:
        errors = list(validator.iter_errors(doc))
    except ValueError as e:  # jsonschema-rs stops at about 255 levels, orjson reads up to 1,024
        if "recursion" not in str(e).lower():
            raise
        return [Problem(source, "", "the JSON is nested too deep to validate (over 250 levels): not a review")]
    for err in errors:
        path = list(err.instance_path)
        message = err.message
        missing = _REQUIRED.match(message)
        if missing:
            path.append(missing.group(1))
            message = f"required field {missing.group(1)!r} is missing"
        if list(err.schema_path)[-1:] == ["const"]:
            message = f"must be {_show(_const_at(err.schema_path))}, not {_show(err.instance)}"
        enum = _enum_at(err.schema_path)
        if enum is not None:
            message = f"{_show(err.instance)} is not one of {', '.join(map(str, enum))}{_suggest(err.instance, [e for e in enum if e])}"
        problems.append(Problem(source, _pointer(path), message))
    return problems


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else orjson.dumps(value).decode()


def _const_at(schema_path: Iterable[Any]) -> Any:
    return _schema_node(list(schema_path))


def _enum_at(schema_path: Iterable[Any]) -> list[Any] | None:
    """The enum a schema error refers to, to suggest the closest allowed value."""
    parts = list(schema_path)
    if not parts or parts[-1] != "enum":
        return None
    node = _schema_node(parts)
    return node if isinstance(node, list) else None


def _schema_node(parts: list[Any]) -> Any:
    """Walk a schema path (following local $refs) to the keyword's value, or None."""
    root = schema()
    node: Any = root
    node_ref = ""  # the $ref of the node last stepped into (a path can start at a $ref)
    try:
        for p in parts:
            if p == "$ref":
                node = root
                for q in node_ref.split("/")[1:]:
                    node = node[q]
                continue
            node = node[p]
            node_ref = node.get("$ref", "") if isinstance(node, dict) else ""
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return node


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


class _Rules:
    """Cross-field rules for one document. Appends to `problems`; never raises."""

    def __init__(self, doc: dict[str, Any], source: str, version: str) -> None:
        self.doc = doc
        self.source = source
        self.version = version
        self.problems: list[Problem] = []

    def add(self, pointer: str, message: str) -> None:
        self.problems.append(Problem(self.source, pointer, message))

    def code(self, frame: str, value: Any, pointer: str, what: str) -> bool:
        allowed = codes(frame, self.version)
        if isinstance(value, str) and value not in allowed:
            self.add(pointer, f"{what} {value!r} is not in taxonomy {self.version}{_suggest(value, allowed)}")
            return False
        return True

    def real_date(self, value: Any, pointer: str) -> dt.date | None:
        if isinstance(value, str):
            d = _date(value)
            if d is None:
                self.add(pointer, f"{value!r} is not a real date (YYYY-MM-DD)")
            return d
        return None

    def codes_list(self, frame: str, values: Any, pointer: str, what: str) -> None:
        values = _list(values)
        # Fast path for the usual case (all known, none repeated): no pointer is formatted.
        try:
            if codes(frame, self.version).issuperset(values) and len(set(values)) == len(values):
                return
        except TypeError:  # an unhashable value (the schema's finding): take the slow path
            pass
        seen: set[str] = set()
        for i, v in enumerate(values):
            self.code(frame, v, f"{pointer}/{i}", what)
            if isinstance(v, str):
                if v in seen:
                    self.add(f"{pointer}/{i}", f"{what} {v!r} is listed twice")
                seen.add(v)

    def run(self) -> list[Problem]:
        d = self.doc
        area: dict[str, Any] = d["area"] if isinstance(d.get("area"), dict) else {}
        region_ok = self.code("region", area.get("region"), "/area/region", "region")
        nation_ok = self.code("nation", area.get("nation"), "/area/nation", "nation")
        if region_ok and nation_ok and isinstance(area.get("region"), str) and isinstance(area.get("nation"), str):
            parent = _region_nation(self.version).get(area["region"])
            if parent and parent != area["nation"]:
                self.add("/area/nation", f"region {area['region']!r} is in {parent!r}, not {area['nation']!r}")

        dates: dict[str, Any] = d["dates"] if isinstance(d.get("dates"), dict) else {}
        commissioned = self.real_date(dates.get("commissioned"), "/dates/commissioned")
        completed = self.real_date(dates.get("completed"), "/dates/completed")
        published = self.real_date(dates.get("published"), "/dates/published")
        if commissioned and completed and commissioned > completed:
            self.add("/dates/commissioned", f"commissioned {commissioned} is after completed {completed}")
        if completed and published and published < completed:
            self.add("/dates/published", f"published {published} is before completed {completed}")

        for i, child in enumerate(_list(d.get("children"))):
            if isinstance(child, dict):
                self.codes_list("harm_type", child.get("harm_types"), f"/children/{i}/harm_types", "harm type")
        self.codes_list("family_factor", d.get("family_factors"), "/family_factors", "family factor")
        self.codes_list("agency", d.get("agencies"), "/agencies", "agency")

        factor_codes = codes("factors", self.version)
        episode_ids: set[str] = set()
        for i, ep in enumerate(_list(d.get("episodes"))):
            if not isinstance(ep, dict):
                continue
            p = f"/episodes/{i}"
            eid = ep.get("episode_id")
            if isinstance(eid, str):
                if eid in episode_ids:
                    self.add(f"{p}/episode_id", f"episode_id {eid!r} is used by an earlier episode; ids must be unique in a review")
                episode_ids.add(eid)
            start = self.real_date(ep.get("start"), f"{p}/start")
            end = self.real_date(ep.get("end"), f"{p}/end")
            if start and end and end < start:
                self.add(f"{p}/end", f"end {end} is before start {start}")
            if start and completed and start > completed:
                self.add(f"{p}/start", f"episode starts {start}, after the review was completed ({completed})")
            self.codes_list("agency", ep.get("agencies"), f"{p}/agencies", "agency")
            for j, f in enumerate(_list(ep.get("factors"))):
                if isinstance(f, dict) and not (type(c := f.get("code")) is str and c in factor_codes):
                    self.code("factors", f.get("code"), f"{p}/factors/{j}/code", "contributory factor code")

        found_codes: set[str] = set()
        for i, pat in enumerate(_list(d.get("patterns"))):
            if not isinstance(pat, dict):
                continue
            p = f"/patterns/{i}"
            if self.code("patterns", pat.get("code"), f"{p}/code", "pattern code") and isinstance(pat.get("code"), str):
                found_codes.add(pat["code"])
            for j, ref in enumerate(_list(pat.get("episodes"))):
                if isinstance(ref, str) and ref not in episode_ids:
                    self.add(
                        f"{p}/episodes/{j}",
                        f"episode {ref!r} does not exist in this review{_suggest(ref, episode_ids)}",
                    )

        rec_ids: set[str] = set()
        for i, rec in enumerate(_list(d.get("recommendations"))):
            if not isinstance(rec, dict):
                continue
            p = f"/recommendations/{i}"
            rid = rec.get("rec_id")
            if isinstance(rid, str):
                if rid in rec_ids:
                    self.add(f"{p}/rec_id", f"rec_id {rid!r} is used by an earlier recommendation; ids must be unique in a review")
                rec_ids.add(rid)
            self.real_date(rec.get("due"), f"{p}/due")
            if rec.get("agency") is not None:
                self.code("agency", rec.get("agency"), f"{p}/agency", "agency")
            for j, code in enumerate(_list(rec.get("patterns"))):
                if isinstance(code, str) and self.code("patterns", code, f"{p}/patterns/{j}", "pattern code"):
                    if code not in found_codes:
                        self.add(
                            f"{p}/patterns/{j}",
                            f"pattern {code!r} is not among the patterns found in this review ({', '.join(sorted(found_codes)) or 'none'})",
                        )
        self.codes_list("practice_points", d.get("practice_points"), "/practice_points", "practice point")
        return self.problems


def _list(value: Any) -> list[Any]:
    """The value when it is a list, else nothing to walk: a wrong type is the schema's finding, never a crash here."""
    return value if isinstance(value, list) else []


@lru_cache(maxsize=8)
def _region_nation(version: str) -> dict[str, str]:
    t = taxonomy_frame(version)
    r = t[t["frame"] == "region"]
    return dict(zip(r["code"], r["parent"], strict=True))


def validate_document(doc: Any, source: str = "<memory>", taxonomy_version: str | None = None) -> list[Problem]:
    """Every problem with one parsed document; [] means it can be loaded.

    `taxonomy_version` overrides the document's own (default scie-2008).
    """
    if not isinstance(doc, dict):
        return [Problem(source, "", "expected a JSON object")]
    problems = _schema_problems(doc, source)
    version = taxonomy_version or doc.get("taxonomy_version") or DEFAULT_TAXONOMY_VERSION
    if not isinstance(version, str) or version not in available_versions():
        problems.append(
            Problem(source, "/taxonomy_version", f"unknown taxonomy version {version!r}: known versions are {', '.join(available_versions())}")
        )
        return problems
    if doc.get("format") != FORMAT and not any(p.pointer == "/format" for p in problems):
        problems.append(Problem(source, "/format", f"format must be {FORMAT!r}"))
    problems.extend(_Rules(doc, source, version).run())
    return problems


def check_bytes(raw: bytes, source: str) -> Checked:
    """Parse and validate one file's bytes; never raises for bad content."""
    sha = hashlib.sha256(raw).hexdigest()
    doc, problems = parse_bytes(raw, source)
    if doc is None:
        return Checked(source, sha, None, problems)
    problems = validate_document(doc, source)
    return Checked(source, sha, doc, problems)


# Largest document read (LT_WORKBENCH_MAX_DOCUMENT_MB, or --max-document-mb): a real review is well under 1 MB.
MAX_DOCUMENT_MB = float(os.environ.get("LT_WORKBENCH_MAX_DOCUMENT_MB", "64"))


def check_file(path: str | Path, max_mb: float | None = None) -> Checked:
    """Read, parse and validate one file; unreadable, oversized or irregular files become problems, not crashes."""
    source = str(path)
    limit = MAX_DOCUMENT_MB if max_mb is None else max_mb
    try:
        with open(path, "rb", opener=_open_nonblocking) as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                return Checked(source, "", None, [Problem(source, "", "not a regular file (a pipe, socket or device): not read")])
            if st.st_size > limit * 1_000_000:
                return Checked(source, "", None, [Problem(
                    source, "", f"the file is {st.st_size / 1e6:,.1f} MB, above the per-document limit of {limit:g} MB; "
                    "if it really is one review, raise the limit with --max-document-mb or LT_WORKBENCH_MAX_DOCUMENT_MB")])
            raw = f.read()
    except OSError as e:
        return Checked(source, "", None, [Problem(source, "", f"cannot read the file: {e.strerror or e}")])
    return check_bytes(raw, source)


def _open_nonblocking(path: str, flags: int) -> int:
    """Open without blocking on a named pipe (its reader would wait for a writer forever)."""
    return os.open(path, flags | os.O_NONBLOCK)
