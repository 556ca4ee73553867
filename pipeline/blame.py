"""`blame`: each block of a chapter with the release that last changed it and why.

Walks the chapter's lineage newest to oldest, comparing only the versions that differ (one
parse per distinct blob). Blocks are matched on their rendered text, in order first
(SequenceMatcher) and then anywhere: a paragraph moved without a word changed keeps the release
that wrote its words (as `git blame -M` does). The title is blamed too, as the first row.
Text already in the oldest release is "first published".

`show`: a chapter's file as it stood at a release, found through the same lineage, so a
chapter can be asked for by its id now or by its id then.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from pipeline.blockdiff import group
from pipeline.chapters import decode, split_front_matter
from pipeline.errors import ChapterError
from pipeline.history import Lineage, Reader, Revision, Version, lineage, revision
from pipeline.locations import block_locations
from pipeline.manual import Manual
from pipeline.models import Block, Change, Chapter, Entry

FIRST_PUBLISHED = "first published"
_NEW_SIDE = ("deleted", "removed")  # kinds whose place is in the old text: never a current row


@dataclass(frozen=True)
class Row:
    """One block of the chapter (or its title), and where its text comes from."""

    kind: str  # "title" or a Block kind
    text: str
    line: int
    location: str
    version: Version  # the version whose state last changed it
    change: Change | None  # the detected change that made it, when one was found
    entries: tuple[Entry, ...]

    @property
    def first_published(self) -> bool:
        return self.version.event == FIRST_PUBLISHED

    @property
    def why(self) -> str:
        if self.first_published:
            return FIRST_PUBLISHED
        for entry in self.entries:
            if entry.why:
                return entry.why
        return ""


@dataclass(frozen=True)
class Blame:
    lineage: Lineage
    chapter: Chapter
    rows: tuple[Row, ...]


def _keys(chapter: Chapter) -> list[tuple[str, str]]:
    return [("title", chapter.title)] + [(group(b), b.text) for b in chapter.blocks]


def _version_keys(reader: Reader, v: Version) -> list[tuple[str, str]]:
    """What blame compares of a version (its title and its blocks' rendered text), kept in
    the cache by blob so that old versions are not parsed again."""
    return [(a, b) for a, b, _line in _version_rows(reader, v)]


def _version_rows(reader: Reader, v: Version) -> list[tuple[str, str, int]]:
    def compute() -> list[tuple[str, str, int]]:
        chapter = reader.version(v)
        return [("title", chapter.title, 0)] + [(group(b), b.text, b.line)
                                                for b in chapter.blocks]
    return [(a, b, c) for a, b, c in reader.plain(("blame-rows", v.path, v.blob), compute)]


def match(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> dict[int, int]:
    """New index -> old index for every block whose text is unchanged."""
    out: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            out[block.b + k] = block.a + k
    left: dict[tuple[str, str], list[int]] = {}
    taken = set(out.values())
    for i, key in enumerate(old):
        if i not in taken:
            left.setdefault(key, []).append(i)
    for j, key in enumerate(new):
        if j not in out and left.get(key):
            out[j] = left[key].pop(0)
    return out


def blame(manual: Manual, chapter_id: str, at: str | None = None) -> Blame:
    lin, reader = lineage(manual, chapter_id, at)
    if lin.removed_in is not None:
        raise ChapterError(f"chapter '{chapter_id}' was removed in {lin.removed_in.label} "
                           f"(see 'editorial blame {chapter_id} --at "
                           f"{lin.versions[-1].state.label}')")
    versions = list(lin.versions)
    top = reader.version(versions[-1])
    keys = _keys(top)
    # pending: current row -> its index in the version being looked at
    pending = {j: j for j in range(len(keys))}
    # current row -> (index into `versions` that last changed it, its index there)
    origin: dict[int, tuple[int, int]] = {}
    for k in range(len(versions) - 1, 0, -1):
        if not pending:
            break
        if versions[k].blob == versions[k - 1].blob:
            continue
        older = match(_version_keys(reader, versions[k - 1]),
                      _version_keys(reader, versions[k]))
        for row, index in list(pending.items()):
            if index in older:
                pending[row] = older[index]
            else:
                origin[row] = (k, index)
                del pending[row]
    for row, index in pending.items():
        origin[row] = (0, index)
    revisions: dict[int, Revision] = {}
    for k in sorted({k for k, _index in origin.values()}):
        revisions[k] = revision(manual, reader, versions[k - 1] if k else None, versions[k])
    locations = ["title", *block_locations(top.blocks)]
    head = reader.bytes_of(versions[-1].blob)[:4096].decode("utf-8", errors="replace")
    title_line = next((n for n, text in enumerate(head.split("\n"), start=1)
                       if text.startswith("title:")), 1)
    blocks: list[Block | None] = [None, *top.blocks]
    rows = []
    for j, (_group, text) in enumerate(keys):
        k, index = origin[j]
        rev = revisions[k]
        block = blocks[j]
        # Changes name lines of the file as it was then: find the block's line in that version.
        then = _version_rows(reader, versions[k])[index][2] if block is not None else 0
        change = _change_for(rev, block, then)
        entries = rev.entries_for(change.id) if change is not None else ()
        if not entries and change is None and len(rev.entries) == 1:
            entries = rev.entries
        rows.append(Row(kind="title" if block is None else block.kind, text=text,
                        line=title_line if block is None else block.line,
                        location=locations[j],
                        version=rev.version, change=change, entries=entries))
    reader.cache.flush()
    return Blame(lineage=lin, chapter=top, rows=tuple(rows))


def _change_for(rev: Revision, block: Block | None, line: int) -> Change | None:
    """The detected change that wrote this block (at `line` in that revision's file) or the
    title."""
    if block is None:
        for kind in ("chapter.retitled", "chapter.added"):
            for change in rev.changes:
                if change.kind == kind:
                    return change
        return None
    best: Change | None = None
    for change in rev.changes:
        if change.kind.endswith(_NEW_SIDE):
            continue
        lines = {change.line, *(p.line for p in change.places
                                if p.chapter == rev.version.chapter_id)}
        if line in lines:
            if change.new == block.text or change.kind == "term.swept":
                return change
            best = best or change
    if best is None:
        for change in rev.changes:
            if change.kind == "chapter.added":
                return change
    return best


# --- show ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    version: Version
    text: str  # the file as it stood: front matter and body
    chapter: Chapter


def show(manual: Manual, chapter_id: str, at: str) -> Shown:
    """The chapter as it stood at a release (or the last release on or before a date)."""
    lin, reader = lineage(manual, chapter_id, at)
    version = lin.current
    raw = reader.bytes_of(version.blob)
    reader.cache.flush()
    return Shown(version=version, text=raw.decode("utf-8", errors="replace"),
                 chapter=reader.version(version))


# --- JSON shapes ----------------------------------------------------------------------------


def blame_json(result: Blame) -> dict[str, object]:
    rows = []
    for row in result.rows:
        state = row.version.state
        rows.append({
            "kind": row.kind, "location": row.location, "line": row.line, "text": row.text,
            "release": state.name if state.release else None,
            "date": state.release.date if state.release else None,
            "first_published": row.first_published,
            "change": row.change.id if row.change else None,
            "entries": [e.id for e in row.entries], "why": row.why})
    chapter = result.chapter
    return {"chapter": chapter.id, "title": chapter.title, "path": chapter.path,
            "ids": result.lineage.ids(), "paths": result.lineage.paths(), "rows": rows}


def show_json(shown: Shown) -> dict[str, object]:
    v = shown.version
    release = v.state.release
    meta, body, _line = split_front_matter(v.path, decode(v.path, shown.text.encode("utf-8")))
    return {"chapter": v.chapter_id, "release": v.state.name,
            "date": release.date if release else None, "commit": v.state.commit,
            "path": v.path, "blob": v.blob,
            "front_matter": json.loads(json.dumps(meta, default=str)), "body": body}
