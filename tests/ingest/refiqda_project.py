"""A REFI-QDA project written as plain XML by the tests (not by lt-workbench's writer), and the counts it implies.

A project is described as data (users, codes, cases with variables, sources, selections with
codings per user); `qdpx_bytes` renders it as a `.qdpx` the way a QDA tool would, and `expected`
computes from the same description what the import must produce, independently of the importer.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Sel", "Src", "CaseSpec", "ProjectSpec", "issue_guid", "qdpx_bytes", "expected", "sample_project"]


def issue_guid(key: str) -> str:
    """The GUID issue 10 gives an exported code: uuid5(NAMESPACE_URL, 'lt-workbench:<version>:<frame>:<code>')."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lt-workbench:scie-2008:{key}"))


def _g(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, "test." + ".".join(map(str, parts))))


@dataclass
class Sel:
    """A selection by the phrase it covers (first occurrence), its memo, and the codes each user applied."""

    phrase: str
    codes: dict[str, list[str]]  # user -> code names (keys of ProjectSpec.codes)
    memo: str | None = None


@dataclass
class Src:
    name: str
    text: str
    selections: list[Sel]
    inline: bool = True


@dataclass
class CaseSpec:
    name: str
    variables: dict[str, str]
    sources: list[Src]


@dataclass
class ProjectSpec:
    users: list[str]
    codes: dict[str, str]  # code name as shown in the tool -> GUID
    cases: list[CaseSpec]
    use_cases: bool = True
    namespace: bool = True
    entry: str = "project.qde"
    sources_dir: str = "sources"
    extra_entries: dict[str, bytes] = field(default_factory=dict)


def span(src: Src, sel: Sel) -> tuple[int, int]:
    start = src.text.index(sel.phrase)
    return start, start + len(sel.phrase)


def qdpx_bytes(spec: ProjectSpec) -> bytes:
    """Render the project as a zip holding the project XML and, for non-inline sources, their text files."""
    users = {u: _g("user", u) for u in spec.users}
    variables = sorted({name for case in spec.cases for name in case.variables})
    var_guid = {name: _g("var", name) for name in variables}
    files: dict[str, bytes] = {}
    out = ['<?xml version="1.0" encoding="utf-8"?>']
    ns = ' xmlns="urn:QDA-XML:project:1.0"' if spec.namespace else ""
    out.append(f'<Project{ns} name="test project" origin="a QDA tool">')
    out.append("<Users>" + "".join(f"<User guid={quoteattr(g.upper())} name={quoteattr(u)}/>" for u, g in users.items()) + "</Users>")
    out.append("<CodeBook><Codes>")
    out.extend(f"<Code guid={quoteattr(g)} name={quoteattr(name)} isCodable=\"true\"/>" for name, g in spec.codes.items())
    out.append("</Codes></CodeBook>")
    if variables:
        out.append("<Variables>" + "".join(
            f'<Variable guid="{var_guid[n]}" name={quoteattr(n)} typeOfVariable="Text"/>' for n in variables) + "</Variables>")
    case_xml, source_xml = [], []
    for ci, case in enumerate(spec.cases):
        values = "".join(
            f'<VariableValue><VariableRef targetGUID="{var_guid[n]}"/><TextValue>{escape(v)}</TextValue></VariableValue>'
            for n, v in case.variables.items()
        )
        refs = ""
        for si, src in enumerate(case.sources):
            sguid = _g("source", ci, si)
            refs += f'<SourceRef targetGUID="{sguid}"/>'
            sels = []
            for k, sel in enumerate(src.selections):
                start, end = span(src, sel)
                codings = "".join(
                    f'<Coding guid="{_g("coding", ci, si, k, u, n)}" creatingUser="{{{users[u]}}}"><CodeRef targetGUID="{spec.codes[n]}"/></Coding>'
                    for u, names in sel.codes.items() for n in names
                )
                memo = f"<Description>{escape(sel.memo)}</Description>" if sel.memo else ""
                sels.append(f'<PlainTextSelection guid="{_g("sel", ci, si, k)}" startPosition="{start}" endPosition="{end}">{memo}{codings}</PlainTextSelection>')
            own_values = values if not spec.use_cases else ""
            if src.inline:
                body = f"<PlainTextContent>{escape(src.text)}</PlainTextContent>"
                attrs = ""
            else:
                body = ""
                attrs = f' plainTextPath="internal://{sguid}.txt"'
                files[f"{spec.sources_dir}/{sguid}.txt"] = src.text.encode("utf-8")
            source_xml.append(f'<TextSource guid="{sguid}" name={quoteattr(src.name)}{attrs}>{body}{"".join(sels)}{own_values}</TextSource>')
        case_xml.append(f'<Case guid="{_g("case", ci)}" name={quoteattr(case.name)}>{values}{refs}</Case>')
    if spec.use_cases and case_xml:
        out.append("<Cases>" + "".join(case_xml) + "</Cases>")
    if source_xml:
        out.append("<Sources>" + "".join(source_xml) + "</Sources>")
    out.append("</Project>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(spec.entry, "\n".join(out).encode("utf-8"))
        for name, data in {**files, **spec.extra_entries}.items():
            z.writestr(name, data)
    return buf.getvalue()


KIND = {"Key practice episode": "episode", "Good practice": "practice", "Problematic practice": "practice",
        "Mixed practice": "practice", "Supporting": "influence", "Hindering": "influence", "Constructive": "direction", "Unsafe": "direction"}


def _kind(name: str) -> str:
    if name in KIND:
        return KIND[name]
    code = name.split()[0]
    return "pattern" if code.startswith("P") else "point" if code.startswith("D") else "factor"


def expected(spec: ProjectSpec, primary: dict[str, str]) -> dict[str, int]:
    """Counts the import and load must give, computed from the description: per case, the primary coder's selections."""
    n = {"reviews": 0, "episodes": 0, "factor_codings": 0, "pattern_findings": 0, "pattern_episodes": 0, "practice_points": 0, "second": 0}
    for case in spec.cases:
        user = primary[case.name]
        coders = {u for src in case.sources for sel in src.selections for u in sel.codes}
        n["reviews"] += 1
        n["second"] += len(coders - {user})
        points = set()
        eps = [(si, span(src, sel)) for si, src in enumerate(case.sources) for sel in src.selections
               if "Key practice episode" in sel.codes.get(user, [])]
        n["episodes"] += len(eps)
        for si, src in enumerate(case.sources):
            for sel in src.selections:
                s, e = span(src, sel)
                over = [1 for sj, (a, b) in eps if sj == si and a < e and s < b]
                for name in sel.codes.get(user, []):
                    kind = _kind(name)
                    if kind == "factor":
                        n["factor_codings"] += len(over)
                    elif kind == "pattern":
                        n["pattern_findings"] += 1
                        n["pattern_episodes"] += len(over) or len({t for t in (sel.memo or "").replace(",", " ").split() if t.startswith("E")})
                    elif kind == "point":
                        points.add(name.split()[0])
        n["practice_points"] += len(points)
    return n


def _codes() -> dict[str, str]:
    codes = {name: issue_guid(f"aid:{name.lower()}") for name in KIND}
    codes["Hindering"] = _g("rekeyed", "hindering")  # a tool re-keyed it: matched by name
    for key, name in [("patterns:P1.3.1", "P1.3.1 Revision becomes an interruption in the flow of practice"), ("patterns:P4.2", "P4.2 Clarity of roles and responsibilities"),
                      ("patterns:P6.4", "P6.4 Tunnel vision"), ("factors:FL.IA", "FL.IA Inter-agency/inter-professional team factors"),
                      ("factors:NG.POL.04", "NG.POL.04 Tools: assessment framework and forms; ICT systems"), ("factors:FL.IA.04", "FL.IA.04 Information sharing"),
                      ("practice-points:D04", "D04 Assessment")]:
        codes[name] = issue_guid(key)
    codes["FL.WORK.03 Workload (renamed in the tool)"] = _g("rekeyed", "FL.WORK.03")
    codes["P2.1.2 Gaps in service provision"] = _g("rekeyed", "P2.1.2")
    return codes


def variables(review_id: str, **more: str) -> dict[str, str]:
    base = {
        "review_id": review_id, "title": f"Child {review_id[-1]} (synthetic)", "review_type": "Child safeguarding practice review",
        "method": "systems_learning_together", "area.code": "SYN-NW-01", "area.name": "Testshire", "area.region": "North West",
        "area.nation": "England", "dates.completed": "30/11/2020", "trigger.reason": "Serious harm",
        "family_factors": "domestic abuse; Poverty", "children.1.age_band": "under 1", "children.1.sex": "Female",
        "children.1.outcome": "seriously harmed", "children.1.harm_types": "Physical abuse",
    }
    base.update(more)
    return base


def sample_project() -> ProjectSpec:
    """Three Cases: one coder; two coders (Ann primary by count); two coders with --primary-coder to choose."""
    t1 = ("On 1 March 2019 the health visitor referred concerns. Workload was high in the team. "
          "Later on 02/04/2019 the assessment was closed early. The form encouraged closure.")
    c1 = CaseSpec("Child A", variables("SYN-QDA-A", **{"children.2.age_band": "1 to 4", "children.2.sex": "male",
                                                        "children.2.outcome": "no_serious_harm"}), [Src("report A.txt", t1, [
        Sel("On 1 March 2019 the health visitor referred concerns.", {"Ann": ["Key practice episode", "Mixed practice", "D04 Assessment"]}, memo="Referral"),
        Sel("referred concerns. Workload was high", {"Ann": ["FL.WORK.03 Workload (renamed in the tool)", "Hindering"]}),
        Sel("Later on 02/04/2019 the assessment was closed early. The form encouraged closure.", {"Ann": ["Key practice episode", "Problematic practice"]}),
        Sel("The form encouraged closure.", {"Ann": ["NG.POL.04 Tools: assessment framework and forms; ICT systems", "Hindering"]}),
        Sel("health visitor referred concerns. Workload was high in the team. Later on 02/04/2019", {"Ann": ["FL.IA Inter-agency/inter-professional team factors", "Supporting"]}),
        Sel("the assessment was closed early", {"Ann": ["P1.3.1 Revision becomes an interruption in the flow of practice", "Unsafe"]}),
        Sel("Workload was high in the team.", {"Ann": ["P2.1.2 Gaps in service provision", "Unsafe"]}, memo="E1, E2"),
    ])])
    t2 = ("In May, on 2020-05-04, the GP saw the mother. The school raised concerns on 12/06/2020 about attendance. "
          "Nobody shared the information.")
    c2 = CaseSpec("Child B", variables("SYN-QDA-B", family_factors="none"), [Src("report B.txt", t2, [
        Sel("In May, on 2020-05-04, the GP saw the mother.", {"Ann": ["Key practice episode", "Good practice"], "Ben": ["Key practice episode", "Mixed practice"]}),
        Sel("The school raised concerns on 12/06/2020 about attendance.", {"Ann": ["Key practice episode", "Problematic practice"],
                                                                           "Ben": ["Key practice episode", "Problematic practice", "P6.4 Tunnel vision", "Unsafe"]}),
        Sel("about attendance. Nobody shared the information.", {"Ann": ["FL.IA.04 Information sharing", "Hindering"], "Ben": ["FL.IA.04 Information sharing", "Hindering"]}),
        Sel("Nobody shared the information.", {"Ann": ["P4.2 Clarity of roles and responsibilities", "Unsafe"]}, memo="E2"),
    ], inline=False)])
    t3 = "On 3 January 2020 the police attended. Information was not passed on."
    c3 = CaseSpec("Child C", variables("SYN-QDA-C"), [Src("report C.txt", t3, [
        Sel("On 3 January 2020 the police attended. Information was not passed on.",
            {"Ben": ["Key practice episode", "Problematic practice", "P4.2 Clarity of roles and responsibilities", "Unsafe", "FL.IA.04 Information sharing", "Hindering"],
             "Ann": ["Key practice episode", "Problematic practice", "P6.4 Tunnel vision", "Unsafe"]}),
    ])])
    return ProjectSpec(["Ann", "Ben"], _codes(), [c1, c2, c3], sources_dir="Sources")
