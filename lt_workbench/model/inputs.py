"""Files, folders and globs given to `validate` and `load` → the review files to read, and the
entries that cannot be read (each reported, never skipped in silence).

A folder is searched recursively for `*.json` in any case (`*.JSON` too), from directory entries
(no stat per ordinary file: a national corpus is tens of thousands of files). Symbolic links to
folders are not followed (as `Path.rglob`); a `*.json` entry that is a dangling link, a link loop,
a named pipe, a socket or a device, or whose name is not valid UTF-8, becomes a problem naming it,
and every other file still loads. Nothing here opens a file.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from lt_workbench.exceptions import LoadError
from lt_workbench.model.validate import Checked, Problem

__all__ = ["Inputs", "collect_inputs", "collect_paths", "display_name"]


@dataclass
class Inputs:
    """The files to check (sorted, de-duplicated) and the entries that cannot be (as rejected files)."""

    files: list[Path] = field(default_factory=list)
    problems: list[Checked] = field(default_factory=list)


def display_name(path: str | Path) -> str:
    """A path as text that can be printed and stored: bytes that are not UTF-8 shown as \\x escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _is_review_name(name: str) -> bool:
    return name.lower().endswith(".json")


class _Collector:
    def __init__(self) -> None:
        self.files: set[str] = set()
        self.problems: dict[str, str] = {}

    def problem(self, path: str, message: str) -> None:
        self.problems.setdefault(display_name(path), message)

    def entry(self, path: str) -> None:
        """One file-like path: a regular file to read, or a problem saying what it is."""
        if not _utf8(path):
            self.problem(path, "the file name is not valid UTF-8 (shown here with \\x escapes): rename the file "
                               "with UTF-8 characters and load it again")
            return
        try:
            st = os.stat(path)
        except OSError as e:
            if e.errno == errno.ELOOP:
                self.problem(path, "a symbolic link loop (the link points, in the end, back to itself): not read")
            elif os.path.islink(path):
                self.problem(path, f"a symbolic link to {display_name(os.readlink(path))}, which does not exist "
                                   "(a dangling link): not read")
            else:
                self.problem(path, f"cannot be read: {e.strerror or e}")
            return
        if stat.S_ISREG(st.st_mode):
            self.files.add(path)
        elif stat.S_ISDIR(st.st_mode):
            self.folder(path)
        else:
            kind = "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a device"
            self.problem(path, f"{kind}, not a regular file: not read")

    def folder(self, top: str) -> int:
        """Every *.json under a folder; the number of entries found (files and problems)."""
        before = len(self.files) + len(self.problems)
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif _is_review_name(entry.name):
                            if entry.is_file(follow_symlinks=False) and _utf8(entry.path):
                                self.files.add(entry.path)
                            else:
                                self.entry(entry.path)
            except OSError as e:
                self.problem(folder, f"cannot list this folder: {e.strerror or e}")
        return len(self.files) + len(self.problems) - before


def collect_inputs(inputs: Iterable[str | Path]) -> Inputs:
    """Files, folders (recursively, *.json in any case) and globs → files and problems.

    Raises LoadError (nothing done, exit 2) for an input that matches nothing: a missing path, a
    pattern without matches, a folder without review files; a typo never silently loads nothing.
    """
    c = _Collector()
    for raw in inputs:
        text = os.fspath(raw)
        if os.path.isdir(text):
            if c.folder(text) == 0:
                raise LoadError(f"{display_name(text)}: the folder holds no .json files (searched recursively)")
        elif os.path.lexists(text):
            c.entry(text)
        elif glob.has_magic(text):
            matches = glob.glob(text, recursive=True)
            before = len(c.files) + len(c.problems)
            for m in matches:
                if os.path.isdir(m):
                    c.folder(m)
                else:
                    c.entry(m)
            if len(c.files) + len(c.problems) == before:
                raise LoadError(f"{display_name(text)}: the pattern matches no files")
        else:
            raise LoadError(f"{display_name(text)}: no such file or folder")
    problems = [
        Checked(source, "", None, [Problem(source, "", message)]) for source, message in sorted(c.problems.items())
    ]
    return Inputs(sorted((Path(f) for f in c.files), key=str), problems)


def collect_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """The readable review files of `collect_inputs` (the problems are dropped: use collect_inputs to report them)."""
    return collect_inputs(inputs).files
