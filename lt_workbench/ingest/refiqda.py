"""A coded REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, QualCoder, Taguette) -> one `lt-review/1` document per review.

Conventions (schemas/README.md, "Reviews from a REFI-QDA project"):
- a review is a Case (no Cases: each text source is one review); its fields are the Case's variables
  named as the format's flat fields (`ingest.fields`);
- codes are matched by GUID (the exported codebook's), else by the code at the start of the name;
- a selection coded `Key practice episode` is an episode (E1, E2, ... in source order): its text the
  description, its memo the title (else the first words), the first date in it the start, the
  practice code on the same selection its practice;
- a factor selection belongs to every episode it overlaps; `Supporting`/`Hindering` on it is the influence;
- a pattern selection is a finding: `Constructive`/`Unsafe` its direction, the episodes it overlaps
  (else those named in its memo, `E2, E5`) the episodes it rests on;
- practice-point codes anywhere in a review are its practice points;
- each coder's codings make one document: the primary coder's is the review, any other coder's a
  *second coding* (`coding.role = "second"`, written under `second/`), kept apart from every count.
Nothing is guessed: a review with any problem is reported (file, Case, source, character range) and
not written; the others are.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import orjson

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import IngestError
from lt_workbench.ingest.codebook import AIDS, known_guids
from lt_workbench.ingest.fields import ImportProblem, build_review, check_review, find_first_date
from lt_workbench.ingest.qdpx import MAX_EXPANDED_BYTES, Project, Selection, Source, read_project
from lt_workbench.model.frames import codes as frame_codes

__all__ = ["ImportResult", "import_projects", "project_reviews"]

_CODE_AT_START = re.compile(r"^\s*((?:P[0-9]+(?:\.[0-9]+)*)|(?:(?:FL|LS|NG)(?:\.[A-Z]+(?:\.[0-9]{2})?)?)|(?:DA?[0-9]{1,2}))(?=\s|$|[:\-–])")
_EPISODE_REF = re.compile(r"\bE[0-9]+\b")
_CODED_FRAMES = ("patterns", "factors", "practice_points")


@dataclass
class ImportResult:
    """What an import did: files written, reviews rejected with every problem, and the counts of the summary."""

    written: list[Path] = field(default_factory=list)
    second: list[Path] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    notes: list[ImportProblem] = field(default_factory=list)
    matched_by_name: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    n_projects: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0

    def summary(self) -> str:
        c = self.counts
        lines = [
            f"import qdpx: {self.n_projects} project(s); {len(self.written)} reviews written, {len(self.second)} second codings, "
            f"{len(self.rejected)} reviews rejected",
            f"  per frame (reviews written): {c['episodes']} episodes, {c['factors']} factor codings, {c['patterns']} pattern findings, "
            f"{c['practice_points']} practice points",
            f"  codings matched by code name (not GUID): {self.matched_by_name}",
        ]
        if self.unmapped:
            shown = ", ".join(f"{name!r} ({n})" for name, n in sorted(self.unmapped.items()))
            lines.append(f"  codings unmapped (code not in the codebook): {sum(self.unmapped.values())}: {shown}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# codes


class _Codes:
    """The project's codes -> what they mean here: ('frame', frame, code), ('aid', kind, value), ('group',), or None."""

    def __init__(self, project: Project, version: str) -> None:
        self.project = project
        self.known = known_guids(version)
        self.frame_sets = {f: codes_ for f in _CODED_FRAMES if (codes_ := frame_codes(f, version))}
        self.aids = {name.casefold(): spec for name, spec in AIDS.items()}
        self.cache: dict[str, tuple[tuple[str, ...] | None, bool]] = {}

    def name(self, guid: str) -> str:
        code = self.project.codes.get(guid)
        return code.name if code is not None and code.name else f"(code {guid} not in the project's codebook)"

    def resolve(self, guid: str) -> tuple[tuple[str, ...] | None, bool]:
        """(meaning or None, matched by name)."""
        if guid not in self.cache:
            self.cache[guid] = self._resolve(guid)
        return self.cache[guid]

    def _resolve(self, guid: str) -> tuple[tuple[str, ...] | None, bool]:
        if guid in self.known:
            frame, code = self.known[guid]
            return self._meaning(frame, code), False
        qc = self.project.codes.get(guid)
        if qc is None:
            return None, False
        name = qc.name
        aid = self.aids.get(" ".join(name.split()).casefold())
        if aid is not None:
            return ("aid", aid[0], aid[1] or ""), True
        m = _CODE_AT_START.match(name)
        if m:
            for frame, allowed in self.frame_sets.items():
                if m.group(1) in allowed:
                    return ("frame", frame, m.group(1)), True
        return None, False

    @staticmethod
    def _meaning(frame: str, code: str) -> tuple[str, ...]:
        if code == "*":
            return ("group",)
        if frame == "aid":
            kind, value = AIDS[code]
            return ("aid", kind, value or "")
        return ("frame", frame, code)


# ---------------------------------------------------------------------------------------------
# one review


@dataclass
class _Coded:
    """One selection as one coder coded it: where it is, its text, and what the codes mean."""

    sel: Selection
    source: Source
    order: tuple[int, int, int]
    text: str
    where: str
    frames: dict[str, list[str]]
    aids: dict[str, list[str]]

    def overlaps(self, other: _Coded) -> bool:
        return self.source.guid == other.source.guid and self.sel.start < other.sel.end and other.sel.start < self.sel.end


def _title(text: str, description: str | None) -> str:
    if description and description.strip():
        return description.strip()
    words = text.split()
    title = " ".join(words[:8])
    return title + (" …" if len(words) > 8 else "") if title else "(untitled episode)"


def _one(values: list[str], what: str, where: str, bad: list[tuple[str, str]]) -> str | None:
    distinct = list(dict.fromkeys(values))
    if not distinct:
        return None
    if len(distinct) > 1:
        bad.append((where, f"{what} coded twice with different values ({', '.join(distinct)}): keep one"))
        return None
    return distinct[0]


def _coder_document(header: dict[str, Any], coded: list[_Coded]) -> tuple[dict[str, Any], list[tuple[str, str]], dict[str, str]]:
    """One coder's selections -> the review document (header + episodes, patterns, practice points), problems, pointer -> place."""
    bad: list[tuple[str, str]] = []
    places: dict[str, str] = {}
    coded = sorted(coded, key=lambda c: c.order)
    episodes: list[tuple[_Coded, dict[str, Any]]] = []
    for c in coded:
        if "episode" not in c.aids:
            continue
        n = len(episodes) + 1
        places[f"/episodes/{n - 1}"] = c.where
        found = find_first_date(c.text)
        if found is None:
            bad.append((c.where, "episode without a date: the selected text must contain its start date (2019-03-01, 01/03/2019 or 1 March 2019)"))
        practice = _one(c.aids.get("practice", []), "practice", c.where, bad)
        if practice is None and not c.aids.get("practice"):
            bad.append((c.where, "episode without a practice code: apply Good, Problematic or Mixed practice to the same selection"))
        ep: dict[str, Any] = {"episode_id": f"E{n}", "title": _title(c.text, c.sel.description), "start": found[0] if found else None,
              "end": None, "description": c.text, "practice": practice, "factors": []}
        episodes.append((c, ep))
    for c in coded:
        for kind, needs in (("practice", "episode"), ("influence", "factors"), ("direction", "patterns")):
            if c.aids.get(kind) and needs not in c.aids and needs not in c.frames:
                label = {"practice": "a practice code", "influence": "Supporting/Hindering", "direction": "Constructive/Unsafe"}[kind]
                target = {"episode": "Key practice episode", "factors": "a contributory factor code", "patterns": "a pattern code"}[needs]
                bad.append((c.where, f"{label} applied without {target} on the same selection"))
        for code in c.frames.get("factors", []):
            influence = _one(c.aids.get("influence", []), "influence", c.where, bad)
            if influence is None and not c.aids.get("influence"):
                bad.append((c.where, f"factor {code} without an influence: apply Supporting or Hindering to the same selection"))
            homes = [ep for e, ep in episodes if e.overlaps(c)]
            if not homes:
                bad.append((c.where, f"factor {code} overlaps no Key practice episode selection: a factor belongs to the episodes it overlaps"))
            for ep in homes:
                ep["factors"].append({"code": code, "influence": influence, "note": c.text})
    patterns: list[dict[str, Any]] = []
    for c in coded:
        for code in c.frames.get("patterns", []):
            direction = _one(c.aids.get("direction", []), "direction", c.where, bad)
            if direction is None and not c.aids.get("direction"):
                bad.append((c.where, f"pattern {code} without a direction: apply Constructive or Unsafe to the same selection"))
            rests = [ep["episode_id"] for e, ep in episodes if e.overlaps(c)]
            if not rests and c.sel.description:
                rests = list(dict.fromkeys(_EPISODE_REF.findall(c.sel.description)))
            if not rests:
                bad.append((c.where, f"pattern {code} rests on no episode: overlap a Key practice episode selection, or name the episodes in the selection's memo (E2, E5)"))
            places[f"/patterns/{len(patterns)}"] = c.where
            patterns.append({"code": code, "direction": direction, "priority": None, "finding": c.text, "episodes": rests})
    doc = dict(header)
    doc["episodes"] = [ep for _, ep in episodes]
    if patterns:
        doc["patterns"] = patterns
    points = [code for c in coded for code in c.frames.get("practice_points", [])]
    if points:
        doc["practice_points"] = list(dict.fromkeys([*(doc.get("practice_points") or []), *points]))
    return doc, bad, places


# ---------------------------------------------------------------------------------------------
# a project


@dataclass
class _Review:
    """A review read from a project: its label and place, its documents per coder, and its problems."""

    label: str
    where: str
    docs: dict[str, dict[str, Any]]  # coder -> document
    primary: str | None
    problems: list[ImportProblem]
    n_codings: Counter[str]


def _units(project: Project) -> list[tuple[str, str, dict[str, str], list[tuple[Source, list[Selection]]]]]:
    """(label, place, variables, [(source, its selections in the unit)]) per review: each Case, else each text source."""
    out = []
    if project.cases:
        by_sel = {s.guid: s for src in project.sources.values() for s in src.selections}
        for case in project.cases:
            parts: dict[str, list[Selection]] = {}
            for guid in case.sources:
                if guid in project.sources:
                    parts[guid] = list(project.sources[guid].selections)
            for guid in case.selections:
                sel = by_sel.get(guid)
                if sel is not None and sel not in parts.setdefault(sel.source, []):
                    parts[sel.source].append(sel)
            out.append((case.name, f"Case {case.name!r}", case.variables, [(project.sources[g], s) for g, s in parts.items()]))
    else:
        for src in project.sources.values():
            out.append((src.name, f"source {src.name!r}", src.variables, [(src, list(src.selections))]))
    return out


def project_reviews(project: Project, primary_coder: str | None = None, version: str = DEFAULT_TAXONOMY_VERSION,
                    result: ImportResult | None = None) -> list[_Review]:
    """Every review of one parsed project, each with one document per coder and its problems."""
    result = result if result is not None else ImportResult()
    codes = _Codes(project, version)
    reviews = []
    for unit_name, where, variables, parts in _units(project):
        problems: list[ImportProblem] = []
        label = str(variables.get("review_id") or "").strip() or unit_name

        def bad(place: str, message: str, _label: str = label, _problems: list[ImportProblem] = problems) -> None:
            _problems.append(ImportProblem(project.path, place, message, _label))

        def locate(name: str, _where: str = where) -> str:
            return f"{_where}, variable {name!r}"

        header, header_problems, unknown = build_review(variables, project.path, locate, version, review=label)
        problems.extend(header_problems)
        if unknown:
            result.notes.append(ImportProblem(project.path, where, f"variables not read (not review fields): {', '.join(sorted(unknown))}", label))
        per_coder: dict[str, list[_Coded]] = {}
        n_codings: Counter[str] = Counter()
        for s_no, (src, selections) in enumerate(parts):
            src_where = f"{where}, source {src.name!r}"
            if src.whole_codings:
                bad(src_where, "codes applied to the whole source, not to a selection: code the text itself")
            if src.text is None:
                if selections:
                    bad(src_where, src.problem or "the source has no plain text")
                continue
            for sel in selections:
                place = f"{src_where}, chars {sel.start}–{sel.end}"
                if not (0 <= sel.start < sel.end <= len(src.text)):
                    bad(place, f"the selection lies outside the source's text ({len(src.text)} characters)")
                    continue
                by_user: dict[str, _Coded] = {}
                for coding in sel.codings:
                    user_guid = coding.user or sel.user
                    coder = project.users.get(user_guid or "", user_guid or "unknown coder")
                    meaning, by_name = codes.resolve(coding.code)
                    if meaning is None:
                        code_name = codes.name(coding.code)
                        result.unmapped[code_name] += 1
                        bad(place, f"code {code_name!r} is not in the codebook (not an lt-workbench GUID, and its name does not start with a code)")
                        continue
                    if meaning[0] == "group":
                        bad(place, f"{codes.name(coding.code)!r} is a frame heading, not a code: apply a code below it")
                        continue
                    result.matched_by_name += by_name
                    n_codings[coder] += 1
                    c = by_user.get(coder)
                    if c is None:
                        c = by_user[coder] = _Coded(sel, src, (s_no, sel.start, sel.end), src.text[sel.start:sel.end], place, {}, {})
                    if meaning[0] == "frame":
                        c.frames.setdefault(meaning[1], []).append(meaning[2])
                    else:
                        c.aids.setdefault(meaning[1], []).append(meaning[2])
                for coder, c in by_user.items():
                    per_coder.setdefault(coder, []).append(c)
        if not per_coder:
            bad(where, "nothing is coded: no selection carries a code of the frames")
        primary = None
        if per_coder:
            ranked = sorted(per_coder, key=lambda u: (-n_codings[u], u))
            primary = primary_coder if primary_coder in per_coder else ranked[0]
        docs = {}
        for coder, coded in per_coder.items():
            doc, doc_bad, places = _coder_document(header, coded)
            role = "primary" if coder == primary else "second"
            doc["coding"] = {"coder": coder, "role": role}
            who = "" if role == "primary" else f" (second coder {coder!r})"
            for place, message in doc_bad:
                bad(place, message + who)
            if role == "second" and primary is not None:
                _align_episodes(doc, coded, per_coder[primary])
            if not doc["episodes"]:
                bad(where, f"no selection is coded 'Key practice episode'{who}: a review needs at least one episode")
            elif not doc_bad and not header_problems:
                def locate_pointer(ptr: str, _places: dict[str, str] = places, _where: str = where) -> str:
                    return _place(ptr, _places, _where)

                for p in check_review(doc, project.path, locate, locate_pointer):
                    bad(p.where, p.message + who)
            docs[coder] = doc
        reviews.append(_Review(label, where, docs, primary, problems, n_codings))
    return reviews


def _episodes_of(coded: list[_Coded]) -> list[_Coded]:
    return [c for c in sorted(coded, key=lambda c: c.order) if "episode" in c.aids]


def _align_episodes(doc: dict[str, Any], coded: list[_Coded], primary: list[_Coded]) -> None:
    """Give a second coder's episodes the ids of the primary coder's episodes they overlap most (one each,
    in source order), so that episode-level agreement compares the same episode; episodes the primary
    did not mark are numbered after the primary's. Pattern references follow."""
    mine, theirs = _episodes_of(coded), _episodes_of(primary)
    taken: set[int] = set()
    spare = len(theirs)
    ids: dict[str, str] = {}
    for ep, c in zip(doc["episodes"], mine, strict=True):
        best, best_len = None, 0
        for j, t in enumerate(theirs):
            if j in taken or not c.overlaps(t):
                continue
            length = min(c.sel.end, t.sel.end) - max(c.sel.start, t.sel.start)
            if length > best_len:
                best, best_len = j, length
        if best is None:
            spare += 1
            new = f"E{spare}"
        else:
            taken.add(best)
            new = f"E{best + 1}"
        ids[ep["episode_id"]] = new
        ep["episode_id"] = new
    for pat in doc.get("patterns") or []:
        pat["episodes"] = [ids.get(e, e) for e in pat["episodes"]]


def _place(pointer: str, places: dict[str, str], fallback: str) -> str:
    parts = pointer.split("/")
    for k in range(len(parts), 1, -1):
        hit = places.get("/".join(parts[:k]))
        if hit is not None:
            return hit
    return f"{fallback}, at {pointer}"


# ---------------------------------------------------------------------------------------------
# files


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "coder"


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write one document atomically (a temporary file renamed into place): never a half-written review."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise IngestError(f"cannot write {path}: {e.strerror or e}; the documents written before it are complete") from e


def import_projects(
    paths: Iterable[str | Path],
    out_dir: str | Path,
    primary_coder: str | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
    limit: int = MAX_EXPANDED_BYTES,
) -> ImportResult:
    """Import REFI-QDA projects: write `<review_id>.json` per valid review (and `second/<review_id>.<coder>.json`
    per second coding) into `out_dir`; return every problem. A project that cannot be read is one problem; the
    others are still imported."""
    out = Path(out_dir)
    result = ImportResult()
    seen: dict[str, str] = {}
    for raw in paths:
        path = Path(raw)
        result.n_projects += 1
        try:
            project = read_project(path, limit)
        except IngestError as e:
            result.problems.append(ImportProblem(str(path), "", str(e).removeprefix(f"{path}: ")))
            continue
        for skipped in project.skipped_sources:
            result.notes.append(ImportProblem(str(path), f"source {skipped!r}", "not a text source (picture, audio, video or a PDF without a text representation): not read"))
        reviews = project_reviews(project, primary_coder, version, result)
        if project.cases:  # nothing lost: coded text outside every Case is reported, not dropped silently
            named = {g for c in project.cases for g in c.selections}
            in_case = {g for c in project.cases for g in c.sources}
            in_case |= {sel.source for src in project.sources.values() for sel in src.selections if sel.guid in named}
            for src in project.sources.values():
                n = sum(len(sel.codings) for sel in src.selections) + len(src.whole_codings)
                if src.guid not in in_case and n:
                    result.problems.append(ImportProblem(str(path), f"source {src.name!r}",
                                                         f"belongs to no Case: its {n} codings were not imported; add the source to its review's Case"))
        if not reviews:
            result.problems.append(ImportProblem(str(path), "", "the project maps to nothing: it has no Cases and no text sources"))
        for review in reviews:
            if review.label in seen and not review.problems:
                review.problems.append(ImportProblem(str(path), review.where, f"review_id {review.label!r} is also used by {seen[review.label]}", review.label))
            if review.problems:
                result.problems.extend(review.problems)
                result.rejected.append(review.label)
                continue
            seen[review.label] = f"{path}, {review.where}"
            for coder, doc in review.docs.items():
                if coder == review.primary:
                    target = out / f"{review.label}.json"
                    _write_json(target, doc)
                    result.written.append(target)
                    result.counts["episodes"] += len(doc["episodes"])
                    result.counts["factors"] += sum(len(ep["factors"]) for ep in doc["episodes"])
                    result.counts["patterns"] += len(doc.get("patterns") or [])
                    result.counts["practice_points"] += len(doc.get("practice_points") or [])
                else:
                    target = out / "second" / f"{review.label}.{_slug(coder)}.json"
                    _write_json(target, doc)
                    result.second.append(target)
    return result
