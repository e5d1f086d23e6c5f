"""Read a REFI-QDA project (`.qdpx`) safely into plain Python objects, whatever tool wrote it.

A `.qdpx` is untrusted: before anything is read, every zip entry must lie inside the archive root
and the entries together must expand to at most `MAX_EXPANDED_BYTES`; each entry is read with that
cap enforced on the bytes actually inflated. Real exports differ, and none of these may crash the reader: the entry is
`project.qde` or `Project.qde` (or the one `.qde` at the root); sources sit under `sources/` or
`Sources/`; namespaces and optional elements vary (elements are matched by local name); GUIDs may
be upper case or in braces; a project may have no Cases, Users or Variables.

The XML is parsed by lxml with entity resolution, DTD loading and network access off, and a
document that declares a DTD (the only place entities can be declared) is refused outright.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from lxml import etree

from lt_workbench.exceptions import IngestError

__all__ = [
    "MAX_EXPANDED_BYTES",
    "MAX_ENTRIES",
    "Coding",
    "Selection",
    "Source",
    "Case",
    "QdaCode",
    "Project",
    "norm_guid",
    "read_project",
]

MAX_EXPANDED_BYTES = 1 << 30  # 1 GiB expanded in all: far beyond any review corpus's text, far below a zip bomb's
MAX_ENTRIES = 200_000


def norm_guid(value: str | None) -> str:
    """`{ABC-...}` / `abc-...` -> `abc-...`: tools differ in case and braces."""
    return (value or "").strip().strip("{}").lower()


@dataclass(slots=True)
class Coding:
    """One code applied (to a selection, or to a whole source): the code's GUID and the user who applied it."""

    code: str
    user: str | None


@dataclass(slots=True)
class Selection:
    """A plain-text selection of a source: character range [start, end), its memo (`Description`) and codings."""

    guid: str
    source: str
    start: int
    end: int
    description: str | None
    codings: list[Coding]
    user: str | None


@dataclass(slots=True)
class Source:
    """A text source (or a PDF's plain-text representation): its name, its plain text (None: unreadable) and selections."""

    guid: str
    name: str
    text: str | None
    selections: list[Selection]
    whole_codings: list[Coding]
    variables: dict[str, str]
    problem: str | None = None  # why the text could not be read


@dataclass(slots=True)
class Case:
    """A Case: a review. Its variables by name, the sources it holds and the selections it names."""

    guid: str
    name: str
    variables: dict[str, str]
    sources: list[str]
    selections: list[str]


@dataclass(slots=True)
class QdaCode:
    """A code of the project's codebook: GUID, name as the tool shows it, parent GUID."""

    guid: str
    name: str
    parent: str | None


@dataclass
class Project:
    """What the import needs from a project file, by GUID."""

    path: str
    users: dict[str, str] = field(default_factory=dict)
    codes: dict[str, QdaCode] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    skipped_sources: list[str] = field(default_factory=list)  # picture, audio, video: not text
    has_case_element: bool = False


_DEFAULT_NS = re.compile(rb"""\sxmlns\s*=\s*("[^"]*"|'[^']*')""")
Element = Any  # an lxml element; the reader only walks children, attributes and text


def _local(tag: object) -> str:
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rpartition("}")[2]


def _kids(el: Element, name: str) -> Iterator[Element]:
    """Children by local name (namespaces are stripped once after parsing, so lxml matches them in C)."""
    return el.iterchildren(name)  # type: ignore[no-any-return]


def _kid(el: Element, name: str) -> Element | None:
    return next(el.iterchildren(name), None)


def _strip_namespaces(root: Element) -> None:
    """Tools differ in the namespace they write (or none): match elements by local name only."""
    for el in root.iter():
        tag = el.tag
        if isinstance(tag, str) and tag[:1] == "{":
            el.tag = tag.rpartition("}")[2]


def _text(el: Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return str(el.text)


class _Archive:
    """A zip checked for unsafe names and its expanded size before any entry is read."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise IngestError(f"{path}: not a readable .qdpx (zip) file: {e}") from e
        infos = self.zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise IngestError(f"{path}: {len(infos)} entries, more than the {MAX_ENTRIES} allowed; nothing was read")
        total = 0
        self.names: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = name.split("/")
            if name.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
                raise IngestError(f"{path}: entry {info.filename!r} lies outside the archive root; the file is refused, nothing was read")
            total += info.file_size
            self.names[posixpath.normpath(name).lower()] = info
        if total > limit:
            raise IngestError(
                f"{path}: expands to {total:,} bytes, beyond the limit of {limit:,}; the file is refused, nothing was read"
            )

    def read(self, info: zipfile.ZipInfo) -> bytes:
        with self.zip.open(info) as f:
            data = f.read(self.limit + 1)
        if len(data) > self.limit or len(data) > info.file_size:
            raise IngestError(f"{self.path}: entry {info.filename!r} inflates beyond its stated size; the file is refused")
        return data

    def find(self, name: str) -> zipfile.ZipInfo | None:
        return self.names.get(posixpath.normpath(name.replace("\\", "/")).lower())

    def project_entry(self) -> zipfile.ZipInfo:
        found = self.find("project.qde")
        if found is not None:
            return found
        roots = [i for n, i in self.names.items() if n.endswith(".qde") and "/" not in n]
        if len(roots) == 1:
            return roots[0]
        raise IngestError(f"{self.path}: no project.qde in the archive (is it a REFI-QDA .qdpx export?)")


def _source_text(arch: _Archive, el: Element) -> tuple[str | None, str | None]:
    """The plain text of a source: inline PlainTextContent, or the file plainTextPath names (internal:// = sources/ folder)."""
    inline = _text(_kid(el, "PlainTextContent"))
    if inline is not None:
        return inline, None
    path = el.get("plainTextPath")
    if not path:
        return None, "no plain text (PlainTextContent or plainTextPath): export the project with its text sources"
    if path.startswith("internal://"):
        rel = path[len("internal://"):]
        candidates = [f"sources/{rel}", f"Sources/{rel}", rel]
    elif path.startswith("relative://"):
        rel = path[len("relative://"):]
        candidates = [rel, f"sources/{rel}"]
    else:
        return None, f"plain text at {path!r}, outside the project file: export with sources embedded"
    for c in candidates:
        info = arch.find(c)
        if info is not None:
            raw = arch.read(info)
            try:
                return raw.decode("utf-8-sig"), None
            except UnicodeDecodeError as e:
                return None, f"{info.filename}: not UTF-8 text (byte {e.start})"
    return None, f"plain text {path!r} is not in the archive"


def _codings(el: Element) -> list[Coding]:
    out = []
    for c in _kids(el, "Coding"):
        ref = _kid(c, "CodeRef")
        if ref is not None and ref.get("targetGUID"):
            out.append(Coding(norm_guid(ref.get("targetGUID")), norm_guid(c.get("creatingUser")) or None))
    return out


def _variables(el: Element, names: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for vv in _kids(el, "VariableValue"):
        ref = _kid(vv, "VariableRef")
        name = names.get(norm_guid(ref.get("targetGUID"))) if ref is not None else None
        if name is None:
            continue
        value = None
        for kind in ("TextValue", "DateValue", "DateTimeValue", "IntegerValue", "FloatValue", "BooleanValue"):
            node = _kid(vv, kind)
            if node is not None:
                value = (node.text or "").strip()
                if kind == "DateTimeValue":
                    value = value[:10]
                break
        out[name] = value or ""
    return out


def _text_source(arch: _Archive, el: Element, var_names: dict[str, str], name: str | None = None) -> Source:
    guid = norm_guid(el.get("guid"))
    text, problem = _source_text(arch, el)
    selections = []
    for s in _kids(el, "PlainTextSelection"):
        try:
            start, end = int(s.get("startPosition", "")), int(s.get("endPosition", ""))
        except ValueError:
            start, end = -1, -1
        selections.append(
            Selection(norm_guid(s.get("guid")), guid, start, end, _text(_kid(s, "Description")), _codings(s),
                      norm_guid(s.get("creatingUser")) or None)
        )
    return Source(guid, name or el.get("name") or guid, text, selections, _codings(el), _variables(el, var_names), problem)


def _codebook(root: Element) -> dict[str, QdaCode]:
    out: dict[str, QdaCode] = {}
    book = _kid(root, "CodeBook")
    codes = _kid(book, "Codes") if book is not None else None
    stack: list[tuple[Element, str | None]] = [(c, None) for c in _kids(codes, "Code")] if codes is not None else []
    while stack:
        el, parent = stack.pop()
        guid = norm_guid(el.get("guid"))
        out[guid] = QdaCode(guid, (el.get("name") or "").strip(), parent)
        stack.extend((c, guid) for c in _kids(el, "Code"))
    return out


def read_project(path: str | Path, limit: int = MAX_EXPANDED_BYTES) -> Project:
    """Open and parse one `.qdpx`; IngestError (nothing read) when it is not a safe, readable REFI-QDA project."""
    path = Path(path)
    arch = _Archive(path, limit)
    with arch.zip:
        entry = arch.project_entry()
        raw = arch.read(entry)
        # The usual case: one default namespace on the root. Dropped before parsing, no element carries
        # one and the per-element strip below is skipped; any other namespace use is stripped after.
        raw = _DEFAULT_NS.sub(b"", raw, count=1)
        parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False, remove_comments=True)
        try:
            root = etree.fromstring(raw, parser)
        except etree.XMLSyntaxError as e:
            raise IngestError(f"{path}: {entry.filename}: malformed XML ({e})") from e
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise IngestError(f"{path}: {entry.filename}: refused XML construct (a DOCTYPE: entities and external references are not read)")
        if b"xmlns" in raw:
            _strip_namespaces(root)
        if _local(root.tag) != "Project":
            raise IngestError(f"{path}: {entry.filename}: the root element is {_local(root.tag)!r}, not a REFI-QDA Project")
        project = Project(str(path))
        users = _kid(root, "Users")
        for u in _kids(users, "User") if users is not None else ():
            guid = norm_guid(u.get("guid"))
            project.users[guid] = (u.get("name") or u.get("id") or guid).strip()
        project.codes = _codebook(root)
        variables = _kid(root, "Variables")
        var_names = {norm_guid(v.get("guid")): (v.get("name") or "").strip() for v in _kids(variables, "Variable")} if variables is not None else {}
        sources = _kid(root, "Sources")
        for el in list(sources) if sources is not None else ():
            kind = _local(el.tag)
            if kind == "TextSource":
                src = _text_source(arch, el, var_names)
                project.sources[src.guid] = src
            elif kind == "PDFSource" and _kid(el, "Representation") is not None:
                rep = _kid(el, "Representation")
                assert rep is not None
                src = _text_source(arch, rep, var_names, el.get("name"))
                src.guid = norm_guid(el.get("guid"))  # a Case refers to the PDF; its text is the representation's
                for sel in src.selections:
                    sel.source = src.guid
                src.variables |= _variables(el, var_names)
                project.sources[src.guid] = src
            else:
                project.skipped_sources.append(el.get("name") or kind)
        cases = _kid(root, "Cases")
        project.has_case_element = cases is not None
        for c in _kids(cases, "Case") if cases is not None else ():
            project.cases.append(
                Case(
                    norm_guid(c.get("guid")),
                    (c.get("name") or norm_guid(c.get("guid"))).strip(),
                    _variables(c, var_names),
                    [norm_guid(r.get("targetGUID")) for r in _kids(c, "SourceRef")],
                    [norm_guid(r.get("targetGUID")) for r in _kids(c, "SelectionRef")],
                )
            )
    return project
