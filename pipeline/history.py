"""A chapter's lineage through the published releases, and the logs built on it.

The lineage is found backwards from the chapter as it is now (or at a release), one pair of
consecutive states at a time, reading only the files that changed between them: one
`git diff-tree --stdin` gives every pair's changed files, and only those files' front matter
is read to learn their ids. A chapter that kept its id is followed by id (to a new path: moved);
one whose id is gone is followed through the engine's `chapter.renumbered`, asked about only
the chapters that vanished and appeared in that step. Nothing re-reads a whole snapshot.
"""

from __future__ import annotations

import hashlib
import html
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import PurePosixPath
from typing import Any, TypeVar

from pipeline import cache, gitio, parsecache
from pipeline.changes import detect_changes
from pipeline.chapters import decode, parse_chapter, split_front_matter
from pipeline.corrections import trail
from pipeline.errors import ChapterError
from pipeline.locate import CHAPTER_SUFFIXES
from pipeline.manual import WORKTREE, ChangeSet, Manual
from pipeline.models import Approval, Change, Chapter, Entry, Release, Snapshot
from pipeline.notes import MANUAL_WIDE, notes_dir, parse_notes
from pipeline.redline import replacements, words
from pipeline.releases import list_releases
from pipeline.sweeps import sweep_id
from pipeline.timeline import Point, published, resolve

T = TypeVar("T")
# An id that YAML reads as a plain string whatever its context; anything else (numbers, `yes`,
# quoting, comments) goes through the YAML parser, so the quick path never disagrees with it.
_PLAIN_ID = re.compile(r"^id:[ \t]*([A-Za-z][A-Za-z0-9._-]*)[ \t]*$", re.MULTILINE)
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null"}


@dataclass(frozen=True)
class State:
    """One state of the manual: a published release, or the working tree (commit None)."""

    name: str  # release id, or WORKTREE
    commit: str | None
    release: Release | None = None

    @property
    def label(self) -> str:
        return "unreleased" if self.release is None else self.name


@dataclass(frozen=True)
class Version:
    """The chapter in one state, and how it came to be there from the state before."""

    state: State
    chapter_id: str
    path: str
    blob: str
    # "first published" (in the first release), "added", "changed", "unchanged"; "removed"
    # for the state that removed it (its id, path and blob are then the last it had)
    event: str
    renamed_from: str | None = None  # the id before a renumbering
    moved_from: str | None = None  # the path before a move


@dataclass(frozen=True)
class Lineage:
    """A chapter's versions, oldest first: one per state it existed in, up to the newest."""

    chapter_id: str  # the id asked about
    versions: tuple[Version, ...]
    removed_in: State | None = None  # set when the chapter no longer exists after `versions`

    @property
    def current(self) -> Version:
        return self.versions[-1]

    def ids(self) -> list[str]:
        """Every id the chapter has had, oldest first."""
        out: list[str] = []
        for v in self.versions:
            if v.chapter_id not in out:
                out.append(v.chapter_id)
        return out

    def paths(self) -> list[str]:
        out: list[str] = []
        for v in self.versions:
            if v.path not in out:
                out.append(v.path)
        return out

    def changed(self) -> list[tuple[Version | None, Version]]:
        """(previous version, version) for each state that changed the chapter."""
        out: list[tuple[Version | None, Version]] = []
        previous: Version | None = None
        for v in self.versions:
            if v.event != "unchanged":
                out.append((previous, v))
            previous = v
        return out


class Reader:
    """What one command reads: release records once, chapter files by blob id (parsed once),
    and the persistent cache (pipeline/cache.py) for everything keyed by git ids."""

    def __init__(self, manual: Manual) -> None:
        self.manual = manual
        self.cache = cache.Cache(gitio.git_dir(manual.repo) / "editorial" / "cache.sqlite")
        self.parsed = parsecache.folder(gitio.git_dir(manual.repo))
        self.data: dict[str, bytes] = {}
        self.ids: dict[str, str | None] = {}
        self.chapters: dict[tuple[str, str], Chapter] = {}
        self.memo: dict[str, Any] = {}
        self._records: list[Release] | None = None
        self._points: list[Point] | None = None

    def records(self) -> list[Release]:
        """Every release record, read once per command."""
        if self._records is None:
            self._records = list_releases(self.manual.config)
        return self._records

    def points(self) -> list[Point]:
        if self._points is None:
            self._points = published(self.manual, self.records())
        return self._points

    def bytes_of(self, blob: str) -> bytes:
        raw = self.data.get(blob)
        if raw is None:
            raw = gitio.blob_bytes(self.manual.repo, blob)
            self.data[blob] = raw
        return raw

    def id_of(self, path: str, blob: str) -> str | None:
        """The chapter id in a file's front matter (None when it has none)."""
        if blob not in self.ids:
            key = self.cache.key("id", blob)
            hit = self.cache.get(key)
            if hit is None:
                hit = {"id": front_matter_id(path, self.bytes_of(blob))}
                self.cache.put(key, hit)
            self.ids[blob] = hit["id"]
        return self.ids[blob]

    def chapter(self, path: str, blob: str) -> Chapter:
        """A parsed chapter, through the engine's parse cache (pipeline/parsecache.py)."""
        if (path, blob) not in self.chapters:
            chapter = parsecache.load(self.parsed, path, blob)
            if chapter is None:
                chapter = parse_chapter(path, self.bytes_of(blob), blob)
                parsecache.store(self.parsed, chapter)
            self.chapters[path, blob] = chapter
        return self.chapters[path, blob]

    def plain(self, parts: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        """A JSON value from the cache (or this command's memory), else computed and kept."""
        key = self.cache.key(*parts)
        if key in self.memo:
            return self.memo[key]
        hit = self.cache.get(key)
        if hit is None:
            hit = compute()
            self.cache.put(key, hit)
        self.memo[key] = hit
        return hit

    def version(self, v: Version) -> Chapter:
        return self.chapter(v.path, v.blob)

    def cached(self, parts: tuple[str, ...], compute: Callable[[], T]) -> T:
        """A model value (dataclasses, tuples) from the cache, else computed and kept."""
        key = self.cache.key(*parts)
        hit = self.cache.get(key)
        if hit is not None:
            return cache.decode(hit)  # type: ignore[no-any-return]
        value = compute()
        self.cache.put(key, cache.encode(value))
        return value

    def diffs(self, pairs: list[tuple[str, str]]) -> list[tuple[gitio.FileChange, ...]]:
        """Chapter files changed between each commit pair; git is asked only about pairs
        not in the cache (commits never change, so neither does their difference)."""
        prefix = self.manual.config.procedures
        keys = [self.cache.key("step", old, new, prefix) for old, new in pairs]
        found = [self.cache.get(k) for k in keys]
        missing = [i for i, hit in enumerate(found) if hit is None]
        fresh = gitio.diff_commits(self.manual.repo, [pairs[i] for i in missing], prefix)
        for i, group in zip(missing, fresh, strict=True):
            found[i] = [[c.path, c.old_blob, c.new_blob] for c in group if _is_chapter(c.path)]
            self.cache.put(keys[i], found[i])
        return [tuple(gitio.FileChange(p, o, n) for p, o, n in hit or ()) for hit in found]

    def files(self, commit: str) -> dict[str, str]:
        """Path -> blob of the chapter files at a commit."""
        prefix = self.manual.config.procedures
        key = self.cache.key("files", commit, prefix)
        hit = self.cache.get(key)
        if hit is None:
            hit = {p: b for p, b in gitio.list_files(self.manual.repo, commit, prefix).items()
                   if _is_chapter(p)}
            self.cache.put(key, hit)
        return dict(hit)

    def notes(self, where: str, raw: bytes) -> tuple[Entry, ...]:
        digest = hashlib.sha1(raw).hexdigest()
        return self.cached(("notes", where, digest), lambda: parse_notes(where, raw))

    def release_notes(self, release_id: str) -> tuple[Entry, ...]:
        """Every entry of a release, as the working tree holds them (as `load_entries`)."""
        folder = notes_dir(self.manual.config, release_id)
        paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        return tuple(e for p in paths
                     for e in self.notes(p.relative_to(self.manual.root).as_posix(),
                                         p.read_bytes()))


def front_matter_id(path: str, data: bytes) -> str | None:
    head = data[:4096]
    if head.startswith(b"---"):
        end = head.find(b"\n---", 3)
        if end > 0:
            found = _PLAIN_ID.findall(head[:end].decode("utf-8", errors="replace"))
            if len(found) == 1 and found[0].lower() not in _YAML_WORDS:
                return str(found[0])
    try:
        meta, _body, _line = split_front_matter(path, decode(path, data))
    except ChapterError:
        return None
    value = meta.get("id")
    return None if value is None else str(value).strip()


def _is_chapter(path: str) -> bool:
    return path.lower().endswith(CHAPTER_SUFFIXES)


def worktree_files(manual: Manual, reader: Reader) -> dict[str, str]:
    """Path -> blob id of the chapter files in the working tree (their bytes kept in `reader`)."""
    root = manual.config.procedures_dir
    out: dict[str, str] = {}
    if not root.is_dir():
        return out
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and _is_chapter(path.name) and not any(
                p.startswith(".") for p in rel.parts):
            raw = path.read_bytes()
            blob = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
            reader.data[blob] = raw
            out[path.relative_to(manual.root).as_posix()] = blob
    return out


@dataclass(frozen=True)
class Timeline:
    """The states a history is read over, oldest first, and the files changed between each
    consecutive pair."""

    states: tuple[State, ...]
    top_files: dict[str, str]  # path -> blob in the newest state
    steps: tuple[tuple[gitio.FileChange, ...], ...]  # steps[i]: states[i] -> states[i + 1]


def open_release_state(records: list[Release]) -> State:
    """The working tree, named after the open release when there is one."""
    drafts = [r for r in records if r.status != "published"]
    if drafts:
        return State(name=drafts[-1].id, commit=None, release=None)
    return State(name=WORKTREE, commit=None)


def timeline(manual: Manual, reader: Reader, at: str | None = None) -> Timeline:
    """The published releases (up to `at`, a release or date), then the working tree when
    `at` is None."""
    points = reader.points()
    if at is not None:
        top = resolve(manual, at, points)
        points = points[: points.index(top) + 1]
    states = [State(name=p.id, commit=p.commit, release=p.release) for p in points]
    steps = reader.diffs([(a.commit, b.commit) for a, b in pairwise(points)])
    files = reader.files(points[-1].commit) if points else {}
    if at is None:
        if points:
            step = _worktree_step(manual, reader, points[-1].commit, files)
            steps.append(step)
            for change in step:
                if change.new_blob is None:
                    files.pop(change.path)
                else:
                    files[change.path] = change.new_blob
        else:
            files = worktree_files(manual, reader)
        states.append(open_release_state(reader.records()))
    return Timeline(states=tuple(states), top_files=files, steps=tuple(steps))


def _worktree_step(manual: Manual, reader: Reader, commit: str, files: dict[str, str]
                   ) -> tuple[gitio.FileChange, ...]:
    """Chapter files changed from `commit` to the working tree; only files git reports as
    changed are read (and hashed, so an edit undone by hand counts as no change)."""
    out = []
    for change in gitio.diff_worktree(manual.repo, commit, manual.config.procedures):
        rel = PurePosixPath(change.path).relative_to(manual.config.procedures)
        if not _is_chapter(change.path) or any(p.startswith(".") for p in rel.parts):
            continue
        new = change.new_blob
        if new == "":
            raw = (manual.root / change.path).read_bytes()
            new = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
            reader.data[new] = raw
        if new != files.get(change.path):
            out.append(gitio.FileChange(change.path, files.get(change.path), new))
    return tuple(out)


def _find(reader: Reader, files: dict[str, str], chapter_id: str) -> tuple[str, str] | None:
    """(path, blob) of the chapter with this id. Files named like the id are read first: ids
    are unique, so the first match is the only one and most lookups read one file."""
    needle = chapter_id.lower()
    ordered = sorted(files, key=lambda p: needle not in p.rsplit("/", 1)[-1].lower())
    for path in ordered:
        if reader.id_of(path, files[path]) == chapter_id:
            return path, files[path]
    return None


def _files_at(tl: Timeline, index: int) -> dict[str, str]:
    """Path -> blob of chapter files in state `index`, rebuilt backwards from the top."""
    files = dict(tl.top_files)
    for step in reversed(tl.steps[index:]):
        for change in step:
            if change.old_blob is None:
                files.pop(change.path, None)
            else:
                files[change.path] = change.old_blob
    return files


Loc = tuple[str, str, str]  # (chapter id, path, blob)


def trace(manual: Manual, reader: Reader, chapter_id: str, tl: Timeline) -> Lineage:
    """The lineage of the chapter that has `chapter_id` in the newest state. An id that is
    gone there is looked for in older states and followed forward: through renumberings to
    its id now, or to the state that removed it."""
    top = len(tl.states) - 1
    found = _find(reader, tl.top_files, chapter_id)
    removed_in: State | None = None
    if found is None:
        start = top
        while found is None and start > 0:  # a rarely taken, slower path
            start -= 1
            found = _find(reader, _files_at(tl, start), chapter_id)
        if found is None:
            raise ChapterError(f"unknown chapter '{chapter_id}' (not in the manual now nor in "
                               "any published release)")
        current: Loc = (chapter_id, *found)
        for index in range(start, top):
            following = _step_forward(reader, tl.steps[index], current)
            if following is None:
                removed_in, top = tl.states[index + 1], index
                break
            current = following
    else:
        current = (chapter_id, *found)
    versions: list[Version] = []
    for index in range(top, -1, -1):
        state = tl.states[index]
        cid, path, blob = current
        if index == 0:
            # What the oldest release holds is as old as the manual's record goes.
            first = state.release is not None
            versions.append(Version(state, cid, path, blob,
                                    "first published" if first else "added"))
            break
        previous = _step_back(reader, tl.steps[index - 1], current)
        if previous is None:
            versions.append(Version(state, cid, path, blob, "added"))
            break
        pid, ppath, _pblob = previous
        event = "unchanged" if previous == current else "changed"
        versions.append(Version(state, cid, path, blob, event,
                                renamed_from=pid if pid != cid else None,
                                moved_from=ppath if ppath != path else None))
        current = previous
    return Lineage(chapter_id=chapter_id, versions=tuple(reversed(versions)),
                   removed_in=removed_in)


def _renumberings(reader: Reader, changes: list[gitio.FileChange]
                  ) -> list[tuple[gitio.FileChange, gitio.FileChange, str, str]]:
    """(file before, file after, old id, new id) of each chapter the engine finds renumbered
    in one step; only the chapters whose ids vanished or appeared are shown to it."""
    old_ids = {reader.id_of(c.path, c.old_blob): c for c in changes if c.old_blob}
    new_ids = {reader.id_of(c.path, c.new_blob): c for c in changes if c.new_blob}
    gone = {i: c for i, c in old_ids.items() if i is not None and i not in new_ids}
    came = {i: c for i, c in new_ids.items() if i is not None and i not in old_ids}
    if not gone or not came:
        return []

    def ask_engine() -> list[list[str]]:
        old = Snapshot(ref=None, commit=None, chapters=tuple(
            reader.chapter(c.path, c.old_blob) for c in gone.values() if c.old_blob))
        new = Snapshot(ref=None, commit=None, chapters=tuple(
            reader.chapter(c.path, c.new_blob) for c in came.values() if c.new_blob))
        return [[c.old_chapter or "", c.new_chapter or c.chapter or ""]
                for c in detect_changes(old, new) if c.kind == "chapter.renumbered"]

    sides = sorted(f"{c.path}\0{c.old_blob}\0{c.new_blob}" for c in [*gone.values(),
                                                                    *came.values()])
    digest = hashlib.sha1("\n".join(sides).encode()).hexdigest()
    return [(gone[a], came[b], a, b) for a, b in reader.plain(("renumbered", digest), ask_engine)
            if a in gone and b in came]


def _step_back(reader: Reader, step: Iterable[gitio.FileChange], current: Loc) -> Loc | None:
    """Where the chapter was one state earlier, or None when it was added in this step."""
    return _step(reader, list(step), current, back=True)


def _step_forward(reader: Reader, step: Iterable[gitio.FileChange], current: Loc
                  ) -> Loc | None:
    """Where the chapter is one state later, or None when it was removed in this step."""
    return _step(reader, list(step), current, back=False)


def _step(reader: Reader, changes: list[gitio.FileChange], current: Loc, back: bool
          ) -> Loc | None:
    cid, path, blob = current

    def sides(c: gitio.FileChange) -> tuple[str | None, str | None]:
        return (c.new_blob, c.old_blob) if back else (c.old_blob, c.new_blob)

    if not any(c.path == path and sides(c)[0] == blob for c in changes):
        return current
    for c in changes:
        there = sides(c)[1]
        if there and reader.id_of(c.path, there) == cid:
            return cid, c.path, there
    for before, after, old_id, new_id in _renumberings(reader, changes):
        if back and new_id == cid and before.old_blob:
            return old_id, before.path, before.old_blob
        if not back and old_id == cid and after.new_blob:
            return new_id, after.path, after.new_blob
    return None


def lineage(manual: Manual, chapter_id: str, at: str | None = None,
            reader: Reader | None = None) -> tuple[Lineage, Reader]:
    """The chapter's lineage up to now, or up to the release `at` (a release or a date).

    With `at`, the id is first taken as it was then; failing that, as it is now, and the
    chapter is followed back to that release (so `show CP1 --at 2021-10` finds the chapter
    that was CP01 in 2021)."""
    reader = reader or Reader(manual)
    tl = timeline(manual, reader, at)
    if at is None:
        return trace(manual, reader, chapter_id, tl), reader
    try:
        lin = trace(manual, reader, chapter_id, tl)
        if lin.removed_in is None:
            return lin, reader
    except ChapterError:
        pass
    top = tl.states[-1]
    full = trace(manual, reader, chapter_id, timeline(manual, reader, None))
    kept = tuple(v for v in full.versions if v.state in tl.states)
    if not kept or kept[-1].state != top:
        raise ChapterError(f"chapter '{chapter_id}' did not exist in release {top.name}")
    return Lineage(chapter_id=chapter_id, versions=kept), reader


# --- entries ------------------------------------------------------------------------------


def release_entries(reader: Reader, release_id: str, chapter_ids: Iterable[str],
                    manual_wide: bool = True) -> tuple[Entry, ...]:
    """Entries of a release for these chapter ids, and its manual-wide entries, as they stand
    now in the working tree (corrections included). Only the files needed are read."""
    folder = notes_dir(reader.manual.config, release_id)
    out: list[Entry] = []
    stems = [*dict.fromkeys(chapter_ids), *([MANUAL_WIDE] if manual_wide else [])]
    for stem in stems:
        path = folder / f"{stem}.yaml"
        if path.is_file():
            out.extend(reader.notes(path.relative_to(reader.manual.root).as_posix(),
                                    path.read_bytes()))
    return tuple(out)


def approvals_json(approvals: Iterable[Approval]) -> list[dict[str, str]]:
    return [{"by": a.by, "role": a.role, "at": a.at} for a in approvals]



# --- what changed in a chapter, and the entries that explain it ---------------------------


@dataclass(frozen=True)
class Revision:
    """A state that changed a chapter: the detected changes and the entries explaining them."""

    previous: Version | None
    version: Version
    changes: tuple[Change, ...]
    entries: tuple[Entry, ...]  # the chapter's own entries, then manual-wide ones that apply
    covering: tuple[tuple[str, tuple[Entry, ...]], ...]  # change id -> entries covering it

    @property
    def state(self) -> State:
        return self.version.state

    def entries_for(self, change_id: str) -> tuple[Entry, ...]:
        return dict(self.covering).get(change_id, ())


def _sweep_candidates(change: Change) -> set[str]:
    """Ids a term sweep containing this edit can have: the engine names a sweep after its two
    phrases, widened by one word where every place shares it (see pipeline/sweeps.py)."""
    out: set[str] = set()
    for old, new, before, after in replacements(change.redline):
        out.add(sweep_id(old, new))
        ahead, behind = words(after)[:1], words(before)[-1:]
        if ahead:
            out.add(sweep_id(f"{old} {ahead[0]}", f"{new} {ahead[0]}"))
        if behind:
            out.add(sweep_id(f"{behind[0]} {old}", f"{behind[0]} {new}"))
    return out


def _names_chapter(entry: Entry, ids: set[str]) -> bool:
    """A manual-wide entry whose anchors say it touched one of these chapter ids."""
    def walk(value: object) -> bool:
        if isinstance(value, str):
            return value in ids
        if isinstance(value, tuple):
            if len(value) == 2 and value[0] in ("chapter", "chapters", "places"):
                return walk(value[1])
            return any(walk(v) for v in value if isinstance(v, tuple))
        return False
    return any(walk(anchor) for anchor in entry.anchors)


def _chapter_changes(reader: Reader, previous: Version | None, version: Version
                     ) -> tuple[Change, ...]:
    """The engine's changes to one chapter in one step, from that chapter's two versions only
    (change ids depend on nothing else)."""
    if version.event == "first published":
        return ()
    this = (reader.version(version),)
    if version.event == "removed":
        return tuple(detect_changes(Snapshot(None, None, this), Snapshot(None, None, ())))
    old = (reader.version(previous),) if previous is not None else ()
    return tuple(detect_changes(Snapshot(None, None, old), Snapshot(None, None, this)))


def revision(manual: Manual, reader: Reader, previous: Version | None,
             version: Version) -> Revision:
    state = version.state
    ids = [version.chapter_id, *([version.renamed_from] if version.renamed_from else [])]
    entries = release_entries(reader, state.name, ids) if state.name != WORKTREE else ()
    before = (previous.path, previous.blob) if previous else ("", "")
    changes = reader.cached(("changes", version.event, *before, version.path, version.blob),
                            lambda: _chapter_changes(reader, previous, version))
    own = tuple(e for e in entries if e.chapter is not None)
    wide = [e for e in entries if e.chapter is None]
    covering = []
    used: set[str] = set()
    for change in changes:
        wanted = {change.id} | (_sweep_candidates(change) if change.redline else set())
        found = tuple(e for e in entries if wanted & set(e.changes))
        if not found and len(own) == 1:
            found = own  # one entry for the chapter in this release: it is the explanation
        covering.append((change.id, found))
        used.update(e.id for e in found)
    names = set(ids)
    chosen = own + tuple(e for e in wide if e.id in used or _names_chapter(e, names))
    return Revision(previous=previous, version=version, changes=changes, entries=chosen,
                    covering=tuple(covering))


def revisions(manual: Manual, reader: Reader, lin: Lineage) -> list[Revision]:
    """Every state that changed the chapter (or holds entries for it), oldest first."""
    out = []
    previous: Version | None = None
    for v in lin.versions:
        if v.event != "unchanged":
            out.append(revision(manual, reader, previous, v))
        elif v.state.name != WORKTREE and release_entries(reader, v.state.name,
                                                          [v.chapter_id], manual_wide=False):
            # entries kept for a chapter whose text is back as it was
            out.append(revision(manual, reader, previous, v))
        previous = v
    return out


# --- logs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseSummary:
    release: Release
    major: int
    minor: int
    corrections: int


def release_log(manual: Manual) -> list[ReleaseSummary]:
    """Every release, newest first, with its entry counts."""
    out = []
    reader = Reader(manual)
    for release in reversed(reader.records()):
        entries = reader.release_notes(release.id)
        out.append(ReleaseSummary(
            release=release,
            major=sum(e.significance == "major" for e in entries),
            minor=sum(e.significance == "minor" for e in entries),
            corrections=sum(len(e.corrections) for e in entries)))
    reader.cache.flush()
    return out


@dataclass(frozen=True)
class ChapterLog:
    lineage: Lineage
    revisions: tuple[Revision, ...]  # newest first
    title: str

    def spans(self) -> list[tuple[str, str, str, str]]:
        """(id, path, first state, last state) for each stretch of one id and path."""
        out: list[list[str]] = []
        for v in self.lineage.versions:
            label = "now" if v.state.commit is None else v.state.label
            if out and out[-1][0] == v.chapter_id and out[-1][1] == v.path:
                out[-1][3] = label
            else:
                out.append([v.chapter_id, v.path, label, label])
        return [(a, b, c, d) for a, b, c, d in out]


def chapter_log(manual: Manual, chapter_id: str) -> ChapterLog:
    lin, reader = lineage(manual, chapter_id)
    revs = revisions(manual, reader, lin)
    if lin.removed_in is not None:
        last = lin.current
        gone = Version(lin.removed_in, last.chapter_id, last.path, last.blob, "removed")
        revs.append(revision(manual, reader, last, gone))
    reader.cache.flush()
    title = reader.version(lin.current).title
    return ChapterLog(lineage=lin, revisions=tuple(reversed(revs)), title=title)


# --- JSON shapes ----------------------------------------------------------------------------


def entry_json(entry: Entry) -> dict[str, object]:
    return {"id": entry.id, "chapter": entry.chapter, "significance": entry.significance,
            "summary": entry.summary, "why": entry.why, "changes": list(entry.changes),
            "orphaned": entry.orphaned, "file": entry.file,
            "corrections": [c.to_json() for c in trail(entry)]}


def release_json(release: Release | None) -> dict[str, object]:
    if release is None:
        return {"id": None, "status": "unreleased"}
    return {"id": release.id, "title": release.title, "date": release.date,
            "status": release.status, "source_commit": release.source_commit,
            "approvals": approvals_json(release.approvals)}


def release_log_json(log: list[ReleaseSummary]) -> list[dict[str, object]]:
    return [{**release_json(s.release), "base": s.release.base, "major": s.major,
             "minor": s.minor, "corrections": s.corrections} for s in log]


def chapter_log_json(log: ChapterLog) -> dict[str, object]:
    releases = []
    for rev in log.revisions:
        state = rev.state
        extra = {} if state.release or state.name == WORKTREE else {"open_release": state.name}
        releases.append({
            "release": state.name if state.release else None,
            **({k: v for k, v in release_json(state.release).items() if k != "id"}), **extra,
            "chapter": rev.version.chapter_id, "path": rev.version.path,
            "event": rev.version.event,
            "changes": [c.to_json() for c in rev.changes],
            "entries": [entry_json(e) for e in rev.entries]})
    return {"chapter": log.lineage.chapter_id, "title": log.title,
            "ids": log.lineage.ids(), "paths": log.lineage.paths(),
            "lineage": [{"id": i, "path": p, "from": a, "to": b} for i, p, a, b in log.spans()],
            "removed_in": log.lineage.removed_in.label if log.lineage.removed_in else None,
            "releases": releases}


# --- the entries that explain a diff between two releases -----------------------------------


@dataclass(frozen=True)
class Explanation:
    """The entries about one chapter (None: manual-wide) made in the releases in between."""

    chapter: str | None  # the chapter's id in the later release (or the last id it had)
    title: str
    entries: tuple[tuple[str, Entry], ...]  # (release id, entry), oldest release first


@dataclass(frozen=True)
class Between:
    releases: tuple[str, ...]  # after the earlier release, up to and including the later one
    groups: tuple[Explanation, ...]


def explain_between(manual: Manual, change_set: ChangeSet,
                    chapter: str | None = None) -> Between | None:
    """For a diff between two published releases: every entry of the releases after the earlier
    one up to the later one, grouped by chapter under the chapter's id in the later release
    (entries made under an id the chapter had before a renumbering are followed to it).
    None when either side is not a published release."""
    reader = Reader(manual)
    points = reader.points()
    index = {p.id: i for i, p in enumerate(points)}
    if change_set.from_ref not in index or change_set.to_ref not in index:
        return None
    lo, hi = sorted((index[change_set.from_ref], index[change_set.to_ref]))
    span = points[lo: hi + 1]
    steps = reader.diffs([(a.commit, b.commit) for a, b in pairwise(span)])
    renames: list[dict[str, str]] = [
        {old_id: new_id for _b, _a, old_id, new_id in _renumberings(reader, list(step))}
        for step in steps]
    order: dict[str, int] = {}
    titles: dict[str, str] = {}
    for snap in (change_set.old, change_set.new):
        for i, ch in enumerate(snap.chapters if snap else ()):
            order.setdefault(ch.id, i)
            titles[ch.id] = ch.title
    groups: dict[str | None, list[tuple[str, Entry]]] = {}
    known: dict[str | None, set[str]] = {}
    for k, point in enumerate(span[1:], start=1):
        for entry in reader.release_notes(point.id):
            cid = entry.chapter
            seen = {cid} if cid else set()
            for later in renames[k:]:
                if cid in later:
                    cid = later[cid]
                    seen.add(cid)
            groups.setdefault(cid, []).append((point.id, entry))
            known.setdefault(cid, set()).update(seen)
    if chapter is not None:
        # Manual-wide entries stay when they cover a change still shown, or name the chapter.
        shown = {c.id for c in change_set.changes}
        wide = [(r, e) for r, e in groups.get(None, [])
                if shown & set(e.changes) or _names_chapter(e, {chapter})]
        groups[None] = wide
        known[None] = {chapter} if wide else set()
    keys = [k for k in groups if groups[k] and (chapter is None or chapter in known[k])]
    keys.sort(key=lambda k: (k is None, order.get(k or "", len(order)), k or ""))
    reader.cache.flush()
    return Between(releases=tuple(p.id for p in span[1:]), groups=tuple(
        Explanation(chapter=k, title=titles.get(k or "", "") if k else "Across the manual",
                    entries=tuple(groups[k])) for k in keys))


def between_json(between: Between) -> dict[str, object]:
    return {"releases": list(between.releases), "entries": [
        {"chapter": g.chapter, "title": g.title,
         "entries": [{"release": r, **entry_json(e)} for r, e in g.entries]}
        for g in between.groups]}


def _wrap(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, 100, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False)


def _releases(between: Between) -> str:
    names = ", ".join(between.releases)
    return f"the releases {names}" if len(between.releases) > 1 else f"release {names}"


def between_text(between: Between) -> str:
    if not between.releases:
        return ""
    lines = ["", "", f"Entries of {_releases(between)} that explain these changes:"]
    if not between.groups:
        lines.append("(none)")
    for group in between.groups:
        lines.append("")
        lines.append(f"== {group.chapter} {group.title} ==" if group.chapter
                     else f"== {group.title} ==")
        for release_id, entry in group.entries:
            under = (f" (written for {entry.chapter})"
                     if entry.chapter and entry.chapter != group.chapter else "")
            lines += _wrap(f"{release_id} [{entry.significance}] {entry.summary}  "
                           f"({entry.id}){under}", "", "    ")
            if entry.why:
                lines += _wrap(f"Why is this important? {entry.why}", "  ", "    ")
    return "\n".join(lines)


def between_html(between: Between) -> str:
    esc = html.escape
    if not between.releases:
        return ""
    out = [f"<h2>Entries of {esc(_releases(between))} that explain these changes</h2>"]
    for group in between.groups:
        head = f"{group.chapter} {group.title}" if group.chapter else group.title
        out.append(f"<h3>{esc(head)}</h3><ul>")
        for release_id, entry in group.entries:
            out.append(f'<li id="{esc(entry.id)}"><strong>{esc(release_id)}</strong> '
                       f"[{esc(entry.significance)}] {esc(entry.summary)}"
                       + (f"<br><em>Why is this important?</em> {esc(entry.why)}"
                          if entry.why else "") + "</li>")
        out.append("</ul>")
    return "".join(out)
