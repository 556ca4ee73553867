"""`editorial check`: everything that must hold before a release can be approved.

Unlike the other commands, which stop at the first bad input, the checks collect every
problem they can find, each naming a file and line, so one run (in CI, on every pull request)
shows all there is to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from pipeline.chapters import parse_chapter
from pipeline.errors import EditorialError
from pipeline.manual import ChangeSet, Manual, release_changes
from pipeline.merge import MergeResult, merge
from pipeline.models import Chapter, Entry, Release, Snapshot
from pipeline.notes import notes_dir, notes_items

SCHEMES = ("http", "https", "mailto", "tel", "ftp")
_WHERE = re.compile(r"^(?P<file>[^:\s]+?)(?::(?P<line>\d+))?: (?P<what>.+)$", re.DOTALL)
_HOST = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?$|^localhost(:\d+)?$")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if not self.file:
            return self.message
        return f"{self.file}:{self.line}: {self.message}" if self.line else \
            f"{self.file}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "message": self.message}

    @staticmethod
    def of(error: EditorialError) -> Problem:
        return Problem(error.file or "", error.line, error.message)


@dataclass(frozen=True)
class CheckReport:
    release: Release
    problems: tuple[Problem, ...]
    changes: int  # detected (0 when they could not be detected)
    entries: int


def run_checks(manual: Manual, release: Release) -> list[Problem]:
    return list(check_release(manual, release).problems)


def check_release(manual: Manual, release: Release) -> CheckReport:
    problems: list[Problem] = []
    chapters_ok = _check_chapter_files(manual, problems)
    change_set: ChangeSet | None = None
    if chapters_ok:
        try:
            change_set = release_changes(manual, release)
        except EditorialError as exc:
            problems.append(Problem.of(exc))
    items = _read_notes(manual, release, problems)
    entries = [e for e, _item in items]
    problems += _duplicate_ids(entries)
    if change_set is not None:
        result = merge(entries, change_set.changes)
        problems += [Problem(i.file, i.line, i.message) for i in result.issues]
        problems += _coverage(manual, change_set, result)
        problems += _links(manual, change_set.new)
    problems += _entry_problems(items)
    if not problems:  # rendering broken notes would only repeat what is said above
        problems += _templates(manual, release)
    return CheckReport(release, tuple(problems),
                       len(change_set.changes) if change_set is not None else 0, len(entries))


def _check_chapter_files(manual: Manual, problems: list[Problem]) -> bool:
    """The manual read as every command reads it (parsed chapters are cached); only when that
    fails is each chapter file read on its own, so that every bad one is named, not the
    first."""
    try:
        manual.snapshot(None)
        return True
    except EditorialError as first:
        found: list[Problem] = []
        root = manual.config.procedures_dir
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            parts = path.relative_to(root).parts
            if not path.is_file() or any(p.startswith(".") for p in parts) or \
                    not path.name.lower().endswith((".md", ".markdown")):
                continue
            try:
                parse_chapter(path.relative_to(manual.root).as_posix(), path.read_bytes())
            except EditorialError as exc:
                found.append(Problem.of(exc))
        problems.extend(found or [Problem.of(first)])  # duplicates: only the manual says
        return False


def _read_notes(manual: Manual, release: Release,
                problems: list[Problem]) -> list[tuple[Entry, Mapping[str, Any]]]:
    """Every readable entry with the mapping it came from; each unreadable file a problem."""
    folder = notes_dir(manual.config, release.id)
    out = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            out += notes_items(path.relative_to(manual.root).as_posix(), path.read_bytes())
        except EditorialError as exc:
            problems.append(Problem.of(exc))
    return out


def _duplicate_ids(entries: list[Entry]) -> list[Problem]:
    seen: dict[str, Entry] = {}
    out = []
    for entry in entries:
        first = seen.setdefault(entry.id, entry)
        if first is not entry:
            out.append(Problem(entry.file, entry.line, f"duplicate entry id '{entry.id}' "
                               f"(also at {first.file}:{first.line})"))
    return out


def _coverage(manual: Manual, change_set: ChangeSet, result: MergeResult) -> list[Problem]:
    out = []
    paths = _chapter_paths(change_set)
    for change in result.uncovered:
        gone = change.kind.endswith((".deleted", ".removed"))
        path = change.new_path or paths.get(change.chapter or "")
        if gone:
            path = change.old_path or paths.get(change.chapter or "") or path
        out.append(Problem(path or manual.config.procedures, change.line,
                           f"change {change.id} ({change.kind}, {change.location}) has no "
                           "entry (see 'editorial annotate')"))
    for merged in result.orphans:
        e = merged.entry
        out.append(Problem(e.file, e.line, f"entry {e.id} is orphaned: none of its changes "
                           "exist any more (point it at a change, or delete it)"))
    return out


def _chapter_paths(change_set: ChangeSet) -> dict[str, str]:
    out: dict[str, str] = {}
    for snap in (change_set.old, change_set.new):
        if snap is not None:
            out.update({c.id: c.path for c in snap.chapters})
    return out


def _entry_problems(items: list[tuple[Entry, Mapping[str, Any]]]) -> list[Problem]:
    out = []
    for entry, item in items:
        where = (entry.file, entry.line)
        if not entry.summary:
            out.append(Problem(*where, f"entry {entry.id} has no summary"))
        if not str(item.get("significance") or "").strip():
            out.append(Problem(*where, f"entry {entry.id} has no significance (major or "
                               "minor)"))
        elif entry.significance == "major" and not entry.why:
            out.append(Problem(*where, f"entry {entry.id} is major but has no why "
                               "(\"Why is this important?\" is what the bulletin prints)"))
        if not entry.changes:
            out.append(Problem(*where, f"entry {entry.id} covers no changes"))
    return out


def _links(manual: Manual, snapshot: Snapshot) -> list[Problem]:
    out = []
    for chapter in snapshot.chapters:
        for block in chapter.blocks:
            for link in block.links:
                message = link_problem(manual.root, chapter, link.url)
                if message:
                    out.append(Problem(chapter.path, block.line,
                                       f"link '{link.text or link.url}': {message}"))
    return out


def link_problem(root: Path, chapter: Chapter, url: str) -> str | None:
    """What is wrong with a link address, or None."""
    if not url.strip():
        return "no address"
    if any(ch.isspace() for ch in url):
        return f"the address '{url}' contains spaces"
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"the address '{url}' is not well-formed"
    scheme = parts.scheme.lower()
    if scheme:
        if scheme not in SCHEMES:
            return f"unknown kind of address '{scheme}:' (use {', '.join(SCHEMES)})"
        if scheme in ("http", "https", "ftp") and not _HOST.match(parts.netloc.split("@")[-1]):
            return f"the address '{url}' has no valid host"
        if scheme == "mailto" and "@" not in parts.path:
            return f"the address '{url}' has no e-mail address"
        return None
    if url.lower().startswith(("http/", "http:", "https/", "www.", "http//", "https//")):
        return f"the address '{url}' looks like a web address missing 'https://'"
    if parts.path.lower().endswith((".md", ".markdown")):
        target = PurePosixPath(chapter.path).parent / parts.path
        resolved = (root / target).resolve()
        if not resolved.is_file() or not resolved.is_relative_to(root.resolve()):
            return f"links to '{parts.path}', which does not exist"
    return None


def _templates(manual: Manual, release: Release) -> list[Problem]:
    """The publishing stage says whether its templates render this release."""
    try:
        from pipeline.render import check_templates
    except ImportError:  # a build without the publishing stage
        return []
    out = []
    for message in check_templates(manual, release):
        match = _WHERE.match(str(message))
        out.append(Problem(match["file"], int(match["line"]) if match["line"] else None,
                           match["what"]) if match else Problem("", None, str(message)))
    return out
