"""The data model shared by every stage: frozen dataclasses, no behaviour beyond small views.

Chapter -> Block is what `snapshot` reads; Change is what `changes` detects; Entry is what
editors write in the notes; Release is a release record. JSON shapes are given by `to_json`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

# The change vocabulary users script against (DESIGN.md, "Two levels of change").
CHANGE_KINDS: tuple[str, ...] = (
    "chapter.added",
    "chapter.removed",
    "chapter.retitled",
    "chapter.moved",
    "chapter.renumbered",
    "heading.changed",
    "paragraph.inserted",
    "paragraph.deleted",
    "paragraph.modified",
    "paragraph.moved",
    "table.row.inserted",
    "table.row.deleted",
    "table.row.modified",
    "link.added",
    "link.removed",
    "link.changed",
    "metadata.changed",
    "term.swept",
)

BlockKind = Literal["heading", "paragraph", "list_item", "table_row", "code", "html"]


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Block:
    """One comparable unit of a chapter body.

    `text` is the rendered plain text with whitespace collapsed: two blocks whose `text` is
    equal read the same, whatever their Markdown. `source` is the Markdown as written.
    """

    kind: BlockKind
    text: str
    source: str
    line: int  # 1-based line in the chapter file (front matter included)
    level: int = 0  # heading level, list nesting depth
    ref: str | None = None  # a leading paragraph number such as "4.21"
    section: str = ""  # text of the nearest heading above ("" before the first)
    links: tuple[Link, ...] = ()
    cells: tuple[str, ...] = ()  # table rows: the cells' plain text
    header: bool = False  # table rows: the header row


def group(block: Block) -> str:
    """Blocks of one group can be paired with each other (see blockdiff)."""
    if block.kind == "heading":
        return "heading"
    if block.kind == "table_row":
        return "row"
    return "text"


_new = object.__new__
_set = object.__setattr__
_Model = TypeVar("_Model")


def made(cls: type[_Model], fields: dict[str, Any]) -> _Model:
    """An instance of the frozen dataclass `cls` holding `fields` (every field, by name) as
    they are. Only for values the tool made itself (parsed, compared, or read back from its
    own caches): the constructor, which sets the fields one by one, is several times slower,
    and a manual has tens of thousands of blocks and changes."""
    obj = _new(cls)
    _set(obj, "__dict__", fields)
    return obj


def with_fields(obj: _Model, **changed: Any) -> _Model:
    """`dataclasses.replace(obj, **changed)` for values the tool made itself, without the
    checks and the constructor (five times faster, as `made`)."""
    return made(type(obj), {**obj.__dict__, **changed})


def new_block(kind: BlockKind, text: str, source: str, line: int, level: int = 0,
              ref: str | None = None, section: str = "", links: tuple[Link, ...] = (),
              cells: tuple[str, ...] = (), header: bool = False) -> Block:
    """Block(...) for the parser's own values (see `made`)."""
    return made(Block, {"kind": kind, "text": text, "source": source, "line": line,
                        "level": level, "ref": ref, "section": section, "links": links,
                        "cells": cells, "header": header})


@dataclass(frozen=True)
class Chapter:
    id: str
    title: str
    part: str
    path: str  # relative to the manual root, posix, e.g. procedures/part-a/cp3.md
    body: str  # the Markdown after the front matter
    blocks: tuple[Block, ...]
    meta: tuple[tuple[str, Any], ...] = ()  # the whole front matter, in file order
    order: int | None = None
    owner: str | None = None
    blob: str = ""  # git blob id (or sha1 of the bytes for working-tree files)
    body_line: int = 1  # file line on which the body starts
    meta_lines: tuple[tuple[str, int], ...] = ()  # front-matter key -> its line in the file

    def meta_dict(self) -> dict[str, Any]:
        return dict(self.meta)


@dataclass(frozen=True)
class Snapshot:
    """The whole manual at one ref (or the working tree, ref None)."""

    ref: str | None
    commit: str | None  # resolved commit sha, None for the working tree
    chapters: tuple[Chapter, ...]

    def by_id(self) -> dict[str, Chapter]:
        return {c.id: c for c in self.chapters}

    def by_path(self) -> dict[str, Chapter]:
        return {c.path: c for c in self.chapters}

    def get(self, chapter_id: str) -> Chapter | None:
        for c in self.chapters:
            if c.id == chapter_id:
                return c
        return None

    def __iter__(self) -> Iterator[Chapter]:
        return iter(self.chapters)


@dataclass(frozen=True)
class Segment:
    """One run of a word-level redline."""

    op: Literal["equal", "delete", "insert"]
    text: str


def redline_markup(segments: Iterable[Segment], deleted: str = "[-{}-]",
                   inserted: str = "{{+{}+}}") -> str:
    """A redline as text, each deleted and inserted run put into its template."""
    return "".join([s.text if s.op == "equal" else
                    (deleted if s.op == "delete" else inserted).format(s.text)
                    for s in segments])


@dataclass(frozen=True)
class Place:
    """Where a manual-wide change (a term sweep) happened."""

    chapter: str
    location: str
    line: int | None = None


@dataclass(frozen=True)
class Change:
    """A detected change. `id` is stable: same texts, same id, on every run."""

    id: str
    kind: str
    chapter: str | None  # chapter id (the new one for a renumbering); None if manual-wide
    location: str  # human-readable place: "title", "paragraph 4.21", "section 'X', paragraph 3"
    old: str | None = None
    new: str | None = None
    redline: tuple[Segment, ...] = ()
    part: str | None = None
    chapters: tuple[str, ...] = ()  # every chapter a spanning change touches
    places: tuple[Place, ...] = ()
    old_chapter: str | None = None  # renumbered / moved across chapters
    new_chapter: str | None = None
    old_path: str | None = None
    new_path: str | None = None
    line: int | None = None  # line in the new file (old file for deletions)
    section: str = ""  # heading the change sits under, for grouping and re-matching
    detail: tuple[tuple[str, Any], ...] = ()  # kind-specific extras (term, url, ...)

    def redline_text(self) -> str:
        """`[-deleted-]{+inserted+}` form."""
        return redline_markup(self.redline)

    def to_json(self) -> dict[str, Any]:
        # Written out field by field: a large change set has thousands of changes.
        redline = self.redline
        d: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "chapter": self.chapter,
            "location": self.location,
            "old": self.old,
            "new": self.new,
            "redline": redline_markup(redline) if redline else None,
        }
        if self.part is not None:
            d["part"] = self.part
        if self.chapters:
            d["chapters"] = list(self.chapters)
        if self.places:
            d["places"] = [
                {"chapter": p.chapter, "location": p.location, "line": p.line}
                for p in self.places
            ]
        if self.old_chapter is not None:
            d["old_chapter"] = self.old_chapter
        if self.new_chapter is not None:
            d["new_chapter"] = self.new_chapter
        if self.old_path is not None:
            d["old_path"] = self.old_path
        if self.new_path is not None:
            d["new_path"] = self.new_path
        if self.line is not None:
            d["line"] = self.line
        if self.section:
            d["section"] = self.section
        if self.detail:
            d["detail"] = dict(self.detail)
        return d


@dataclass(frozen=True)
class Entry:
    """An editor's note covering one or more changes."""

    id: str
    summary: str
    why: str
    significance: Literal["major", "minor"]
    changes: tuple[str, ...]
    chapter: str | None = None  # None for a manual-wide entry
    audience: tuple[str, ...] = ()
    action: str = ""
    orphaned: bool = False
    # Fingerprints of the covered changes, used to re-find them after the text moves on.
    anchors: tuple[tuple[str, Any], ...] = ()
    corrections: tuple[tuple[str, Any], ...] = ()
    file: str = ""  # notes file it came from
    line: int | None = None


@dataclass(frozen=True)
class Approval:
    by: str
    at: str  # ISO 8601 UTC
    tree: str  # git tree id (of chapters + notes) that was approved
    role: str = ""


@dataclass(frozen=True)
class Release:
    id: str
    title: str
    date: str  # YYYY-MM-DD
    base: str | None  # a release id or a git ref; None for the first release
    status: Literal["draft", "approved", "published"] = "draft"
    approvals: tuple[Approval, ...] = ()
    source_commit: str | None = None  # set once published
    introduction: str = ""
    extra: tuple[tuple[str, Any], ...] = field(default=())
