"""The coding frames as a REFI-QDA codebook (`.qdc`) or starter project (`.qdpx`) for NVivo, ATLAS.ti, MAXQDA.

Codes carry stable GUIDs, so the same frames exported twice, or by another copy of the workbench,
give the same file byte for byte, and a project coded with the codebook maps back by GUID:

- frame codes: `uuid5(NAMESPACE_URL, "lt-workbench:<taxonomy version>:<frame>:<code>")`, frame one of
  `patterns`, `factors`, `practice-points`; the frame's own top code uses code `*`;
- coding aids: `uuid5(NAMESPACE_URL, "lt-workbench:<taxonomy version>:aid:<name in lower case>")`,
  their top code "Coding aids (<version>)" uses name `*`;
- case variables (starter project): `"lt-workbench:<taxonomy version>:variable:<field name>"`.

Files are written with no time stamps or user ids; the zip entry has a fixed date.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import IngestError
from lt_workbench.ingest.fields import CHILD_FIELDS, FIELDS, FieldSpec
from lt_workbench.model.frames import taxonomy_frame

__all__ = [
    "CODEBOOK_NS",
    "PROJECT_NS",
    "EXPORT_FRAMES",
    "AIDS",
    "CodeNode",
    "frame_guid",
    "aid_guid",
    "variable_guid",
    "codebook_tree",
    "known_guids",
    "template_variables",
    "codebook_xml",
    "project_template_xml",
    "write_codebook",
    "write_project_template",
]

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"

# Export name -> (taxonomy frame, top-level code name).
EXPORT_FRAMES: dict[str, tuple[str, str]] = {
    "patterns": ("patterns", "Patterns"),
    "factors": ("factors", "Contributory factors"),
    "practice-points": ("practice_points", "Practice points"),
}

# Coding aids: name -> (what it marks, the value it stands for). Structural first, then qualifiers.
AIDS: dict[str, tuple[str, str | None]] = {
    "Key practice episode": ("episode", None),
    "Good practice": ("practice", "good"),
    "Problematic practice": ("practice", "problematic"),
    "Mixed practice": ("practice", "mixed"),
    "Supporting": ("influence", "supporting"),
    "Hindering": ("influence", "hindering"),
    "Constructive": ("direction", "constructive"),
    "Unsafe": ("direction", "unsafe"),
}
_AID_TEXT = {
    "episode": "Select the text of one key practice episode. Apply the practice code (good, problematic, mixed) to the same selection; "
    "the first date in the selection is its start; the selection's description (memo) is its title.",
    "practice": "Applied to a Key practice episode selection: how practice in the episode is judged.",
    "influence": "Applied to a contributory factor selection: whether the factor supported or hindered practice.",
    "direction": "Applied to a pattern selection: whether the pattern supports good practice or makes problematic practice more likely.",
}
# Practice-point areas (DA1-DA3) group the points; only the points themselves are coded.
def _codable(frame: str, code: str) -> bool:
    return not (frame == "practice_points" and code.startswith("DA"))


def _guid(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def frame_guid(frame: str, code: str, version: str = DEFAULT_TAXONOMY_VERSION) -> str:
    """The stable GUID of a frame code (`frame` an export name: patterns, factors, practice-points; `*` = the frame's top code)."""
    return _guid(f"lt-workbench:{version}:{frame}:{code}")


def aid_guid(name: str, version: str = DEFAULT_TAXONOMY_VERSION) -> str:
    """The stable GUID of a coding aid (`Supporting`, `Key practice episode`; `*` = the aids' top code)."""
    return _guid(f"lt-workbench:{version}:aid:{name.lower()}")


def variable_guid(name: str, version: str = DEFAULT_TAXONOMY_VERSION) -> str:
    """The stable GUID of a case variable of the starter project (`area.region`, `children.1.sex`)."""
    return _guid(f"lt-workbench:{version}:variable:{name}")


@dataclass
class CodeNode:
    """One code of the exported codebook: GUID, name shown to coders, description, whether it can be applied, children.

    `frame`/`code` say what it stands for: a taxonomy frame and code, or frame `aid` and the aid's name.
    """

    guid: str
    name: str
    description: str | None
    codable: bool
    frame: str
    code: str
    children: list[CodeNode] = field(default_factory=list)


def _check_frames(frames: list[str] | None) -> list[str]:
    chosen = list(EXPORT_FRAMES) if not frames else frames
    unknown = [f for f in chosen if f not in EXPORT_FRAMES]
    if unknown:
        raise IngestError(f"unknown frame(s) {', '.join(unknown)}: choose from {', '.join(EXPORT_FRAMES)}")
    return [f for f in EXPORT_FRAMES if f in chosen]  # always in the same order


def codebook_tree(frames: list[str] | None = None, version: str = DEFAULT_TAXONOMY_VERSION) -> list[CodeNode]:
    """The top codes of the codebook: one per chosen frame (its hierarchy below), then the coding aids."""
    t = taxonomy_frame(version)
    out = []
    for export in _check_frames(frames):
        frame, title = EXPORT_FRAMES[export]
        rows = t[t["frame"] == frame].sort_values("sort_key")
        top = CodeNode(frame_guid(export, "*", version), f"{title} ({version})", None, False, frame, "*")
        nodes: dict[str, CodeNode] = {}
        for code, parent, label, desc in zip(rows["code"], rows["parent"], rows["label"], rows["description"], strict=True):
            node = CodeNode(frame_guid(export, code, version), f"{code} {label}", desc if isinstance(desc, str) and desc else None,
                            _codable(frame, code), frame, code)
            nodes[code] = node
            (nodes[parent].children if isinstance(parent, str) and parent in nodes else top.children).append(node)
        out.append(top)
    aids = CodeNode(aid_guid("*", version), f"Coding aids ({version})", None, False, "aid", "*")
    for name, (kind, _value) in AIDS.items():
        aids.children.append(CodeNode(aid_guid(name, version), name, _AID_TEXT[kind], True, "aid", name))
    out.append(aids)
    return out


@lru_cache(maxsize=8)
def known_guids(version: str = DEFAULT_TAXONOMY_VERSION) -> dict[str, tuple[str, str]]:
    """GUID (lower case, no braces) -> (taxonomy frame or `aid`, code or aid name), for every code of a full export."""
    out: dict[str, tuple[str, str]] = {}
    stack = list(codebook_tree(None, version))
    while stack:
        node = stack.pop()
        out[node.guid] = (node.frame, node.code)
        stack.extend(node.children)
    return out


def _code_element(parent: ET.Element, node: CodeNode) -> None:
    el = ET.SubElement(parent, "Code", {"guid": node.guid, "name": node.name, "isCodable": "true" if node.codable else "false"})
    if node.description:
        ET.SubElement(el, "Description").text = node.description
    for child in node.children:
        _code_element(el, child)


def _serialise(root: ET.Element, ns: str) -> bytes:
    # Tags are written unqualified under a default namespace declared on the root (ElementTree's
    # default_namespace option refuses unqualified attribute names, which REFI-QDA uses throughout).
    root.set("xmlns", ns)
    ET.indent(root, space="  ")
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"


def codebook_xml(frames: list[str] | None = None, version: str = DEFAULT_TAXONOMY_VERSION) -> bytes:
    """A REFI-QDA codebook (Codebook.xsd) of the chosen frames and the coding aids, as UTF-8 bytes."""
    root = ET.Element("CodeBook", {"origin": f"lt-workbench ({version})"})
    codes = ET.SubElement(root, "Codes")
    for node in codebook_tree(frames, version):
        _code_element(codes, node)
    return _serialise(root, CODEBOOK_NS)


def template_variables(children: int = 2) -> list[tuple[str, FieldSpec]]:
    """The case variables of a starter project: every review field, then `children.N.*` for N = 1..children."""
    out = [(f.name, f) for f in FIELDS]
    for n in range(1, children + 1):
        out.extend((f"children.{n}.{f.name}", f) for f in CHILD_FIELDS)
    return out


def _variable_text(spec: FieldSpec, version: str) -> str:
    need = "Required. " if spec.required else "Optional. "
    if spec.kind == "date":
        return need + "A date: YYYY-MM-DD or DD/MM/YYYY."
    if spec.kind == "text":
        return need + "Free text (pseudonymised: roles, never names)."
    assert spec.frame is not None
    t = taxonomy_frame(version)
    codes = ", ".join(t[t["frame"] == spec.frame]["code"])
    many = "; separated by ';'" if spec.kind in ("codes", "family_factors") else ""
    extra = " Empty = not recorded; 'none' = recorded and none present." if spec.kind == "family_factors" else ""
    return f"{need}Code or label, any case{many}: {codes}.{extra}"


def project_template_xml(frames: list[str] | None = None, version: str = DEFAULT_TAXONOMY_VERSION) -> bytes:
    """A starter REFI-QDA project (Project.xsd): the codebook and the case variables, no users, cases or sources."""
    ns = PROJECT_NS
    root = ET.Element("Project", {"name": f"lt-workbench starter project ({version})", "origin": f"lt-workbench ({version})"})
    codes = ET.SubElement(ET.SubElement(root, "CodeBook"), "Codes")
    for node in codebook_tree(frames, version):
        _code_element(codes, node)
    variables = ET.SubElement(root, "Variables")
    for name, spec in template_variables():
        kind = "Date" if spec.kind == "date" else "Text"
        var = ET.SubElement(variables, "Variable", {"guid": variable_guid(name, version), "name": name, "typeOfVariable": kind})
        ET.SubElement(var, "Description").text = _variable_text(spec, version)
    ET.SubElement(root, "Description").text = (
        "Starter project from lt-workbench: add each review as a Case with its report as a text source, fill the Case "
        "variables, code with the frames and the coding aids, then export the project (.qdpx) and run lt-workbench import qdpx."
    )
    return _serialise(root, ns)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_codebook(out: Path, frames: list[str] | None = None, version: str = DEFAULT_TAXONOMY_VERSION) -> Path:
    """Write the `.qdc` codebook file; returns its path."""
    _write_atomically(Path(out), codebook_xml(frames, version))
    return Path(out)


def write_project_template(out: Path, frames: list[str] | None = None, version: str = DEFAULT_TAXONOMY_VERSION) -> Path:
    """Write the starter `.qdpx` project (a zip holding `project.qde`) with a fixed entry date, so it is byte-stable."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    info = zipfile.ZipInfo("project.qde", date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    with zipfile.ZipFile(tmp, "w") as z:
        z.writestr(info, project_template_xml(frames, version))
    tmp.replace(out)
    return out
