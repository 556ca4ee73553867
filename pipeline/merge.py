"""Detected changes merged into the editors' entries: which entry covers which change.

Pure: entries and changes in, a MergeResult out. An entry first keeps the change ids it names;
a named id that is no longer detected (the paragraph was edited again, so its id moved on) is
looked for again through the anchor the tool stored when the entry last saw it:

- a change with an old text (modified, deleted, moved, a heading, a row, a link removed or
  changed, a sweep) is found again by that old text, exactly: it comes from the base release,
  which does not move however often the paragraph is edited;
- an insertion has only its new text, which does move: it is found again by close text, but
  never as a change the tool already knew as another one (the anchor lists such near twins);
- a chapter-level change (added, retitled, ...) by its chapter alone.

Place (section, location) breaks ties; a tie it cannot break is left unmatched rather than
guessed. An entry is never moved to a different change, and an entry that finds none of its
changes is kept and marked orphaned, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Any

from pipeline.errors import NotesError
from pipeline.models import Change, Entry

ANCHOR_TEXT_LIMIT = 300  # characters of text kept in an anchor: enough to re-find a paragraph

# Kinds of which a chapter has at most one: their chapter alone says which change it is.
SINGLE_PER_CHAPTER = ("chapter.added", "chapter.removed", "chapter.retitled", "chapter.moved",
                      "chapter.renumbered")
# A paragraph edited hard enough may come back as deleted (+ inserted), or moved: still the
# same paragraph, if its old text says so.
_FAMILIES = {
    "paragraph.inserted": "paragraph", "paragraph.deleted": "paragraph",
    "paragraph.modified": "paragraph", "paragraph.moved": "paragraph",
    "table.row.inserted": "table.row", "table.row.deleted": "table.row",
    "table.row.modified": "table.row",
    "link.added": "link", "link.removed": "link", "link.changed": "link",
}
# Their anchor text is the new text; every other kind's is the old text. A match across
# kinds compares old text with old text only: a near copy inserted elsewhere is another change.
_INSERTIONS = frozenset({"paragraph.inserted", "table.row.inserted", "link.added"})
SAME_KIND_SIMILARITY = 0.6
SAME_PLACE_SIMILARITY = 0.4  # enough when section and location both agree
_TIE = 1e-9


@dataclass(frozen=True)
class Anchor:
    """What the tool remembers of a covered change, to re-find it after the text moves on.

    `text` is the change's old text when it has one (the base side does not move when the
    paragraph is edited again), else its new text."""

    change: str
    kind: str
    chapter: str | None
    location: str = ""
    section: str = ""
    text: str = ""
    # Insertions only: ids of other changes so alike that they could be taken for this one.
    others: tuple[str, ...] = ()
    # A chapter's renumbering cascade ("paragraphs 4.1-9.3 renumbered 5.1-10.3"): one per
    # chapter, its text a range that moves with every section added, so matched by chapter.
    renumbering: bool = False

    @staticmethod
    def of(change: Change) -> Anchor:
        text = change.old if change.old is not None else (change.new or "")
        return Anchor(change=change.id, kind=change.kind, chapter=chapter_of(change),
                      location=change.location, section=change.section,
                      text=_clip(" ".join(text.split())),
                      renumbering=bool(dict(change.detail).get("renumbering")))

    @staticmethod
    def from_plain(pairs: Any) -> Anchor | None:
        """An anchor as notes.parse_notes gives it (a tuple of key/value pairs)."""
        try:
            data = dict(pairs)
        except (TypeError, ValueError):
            return None
        if not data.get("change") or not data.get("kind"):
            return None
        chapter = data.get("chapter")
        others = data.get("others") or ()
        return Anchor(change=str(data["change"]), kind=str(data["kind"]),
                      chapter=None if chapter in (None, "") else str(chapter),
                      location=str(data.get("location") or ""),
                      section=str(data.get("section") or ""), text=str(data.get("text") or ""),
                      others=tuple(str(o) for o in others)
                      if isinstance(others, list | tuple) else (),
                      renumbering=data.get("renumbering") is True)

    def to_dict(self) -> dict[str, Any]:
        """As written into the notes (empty fields left out)."""
        out: dict[str, Any] = {"change": self.change, "kind": self.kind}
        for key in ("chapter", "location", "section", "text"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.others:
            out["others"] = list(self.others)
        if self.renumbering:
            out["renumbering"] = True
        return out


def _clip(text: str) -> str:
    if len(text) <= ANCHOR_TEXT_LIMIT:
        return text
    cut = text[:ANCHOR_TEXT_LIMIT].rsplit(" ", 1)[0]
    return cut + " ..."


def chapter_of(change: Change) -> str | None:
    """The one chapter a change belongs to; None for a manual-wide one (spanning chapters)."""
    if change.chapter is None or len(set(change.chapters) | {change.chapter}) > 1:
        return None
    return change.chapter


def anchors_of(entry: Entry) -> dict[str, Anchor]:
    out = {}
    for _tag, pairs in entry.anchors:
        anchor = Anchor.from_plain(pairs)
        if anchor is not None:
            out[anchor.change] = anchor
    return out


@dataclass(frozen=True)
class Issue:
    """Bad input found while merging; file and line name the entry."""

    message: str
    file: str
    line: int | None

    def error(self) -> NotesError:
        return NotesError(self.message, self.file, self.line)


@dataclass(frozen=True)
class MergedEntry:
    """An entry after the merge: the ids it now names and the anchors to store with them."""

    entry: Entry
    changes: tuple[str, ...]  # every id it covers: live ones, and vanished ones kept for later
    live: tuple[str, ...]  # those detected now
    anchors: tuple[Anchor, ...]
    orphaned: bool
    followed: tuple[tuple[str, str], ...] = ()  # (old id, new id) re-found through anchors

    @property
    def id(self) -> str:
        return self.entry.id

    def differs(self) -> bool:
        """Whether the tool's keys in the file need writing (the file decides the details)."""
        return (self.changes != self.entry.changes or self.orphaned != self.entry.orphaned
                or list(self.anchors) != [Anchor.from_plain(p) for _tag, p in
                                          self.entry.anchors])

    def fields(self) -> dict[str, Any]:
        """The tool's keys, as notes.update_entry takes them (orphaned only once it is)."""
        out: dict[str, Any] = {"changes": list(self.changes),
                               "anchors": [a.to_dict() for a in self.anchors]}
        if self.orphaned or self.entry.orphaned:
            out["orphaned"] = self.orphaned
        return out


@dataclass(frozen=True)
class MergeResult:
    changes: tuple[Change, ...]
    entries: tuple[MergedEntry, ...]
    covered_by: dict[str, str] = field(default_factory=dict)  # change id -> entry id
    issues: tuple[Issue, ...] = ()

    @property
    def uncovered(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.id not in self.covered_by)

    @property
    def orphans(self) -> tuple[MergedEntry, ...]:
        return tuple(m for m in self.entries if m.orphaned)

    def entry(self, entry_id: str) -> MergedEntry:
        for merged in self.entries:
            if merged.entry.id == entry_id:
                return merged
        raise KeyError(entry_id)

    def raise_first_issue(self) -> None:
        if self.issues:
            raise self.issues[0].error()


def merge(entries: Sequence[Entry], changes: Iterable[Change]) -> MergeResult:
    """Which entry covers which change, after a re-run of the change detection."""
    changes = tuple(changes)
    by_id = {c.id: c for c in changes}
    aliases = _chapter_aliases(changes)
    issues: list[Issue] = []
    claims: dict[str, int] = {}  # change id -> index of the entry naming it
    lost: list[tuple[int, Anchor]] = []
    for index, entry in enumerate(entries):
        anchors = anchors_of(entry)
        for cid in dict.fromkeys(entry.changes):
            if cid in by_id:
                if cid in claims and claims[cid] != index:
                    other = entries[claims[cid]]
                    issues.append(Issue(
                        f"change '{cid}' is covered by two entries: {entry.id} and {other.id} "
                        f"({_where(other)}); keep one", entry.file, entry.line))
                    continue
                claims[cid] = index
            elif cid in anchors:
                lost.append((index, anchors[cid]))
            else:
                issues.append(Issue(
                    f"entry {entry.id} names change '{cid}', which does not exist in this "
                    "release (see 'editorial changes')", entry.file, entry.line))
    found = _refind(lost, [c for c in changes if c.id not in claims], aliases)
    twins = _near_twins(changes, {i for e in entries for i in e.changes} | set(found.values()))
    covered_by: dict[str, str] = {}
    merged = []
    for index, entry in enumerate(entries):
        anchors = anchors_of(entry)
        ids: list[str] = []
        followed = []
        for cid in dict.fromkeys(entry.changes):
            if cid in by_id and claims.get(cid) != index:
                continue  # the other entry keeps it; the issue says so
            new_id = found.get((index, cid), cid)
            if new_id != cid:
                followed.append((cid, new_id))
            if new_id not in ids:
                ids.append(new_id)
        live = tuple(i for i in ids if i in by_id)
        for cid in live:
            covered_by[cid] = entry.id
        new_anchors = tuple(replace(Anchor.of(by_id[i]), others=twins.get(i, ()))
                            if i in by_id else anchors[i]
                            for i in ids if i in by_id or i in anchors)
        # Orphaned: it knew changes and none is left. Ids never known are an issue instead.
        known = any(i in by_id or i in anchors for i in ids)
        merged.append(MergedEntry(entry=entry, changes=tuple(ids), live=live,
                                  anchors=new_anchors, orphaned=known and not live,
                                  followed=tuple(followed)))
    return MergeResult(changes=changes, entries=tuple(merged), covered_by=covered_by,
                       issues=tuple(issues))


def anchors_for(covered: Sequence[Change], changes: Sequence[Change]) -> list[Anchor]:
    """The anchors to write with a new entry covering `covered`, out of all `changes`."""
    twins = _near_twins(tuple(changes), {c.id for c in covered})
    return [replace(Anchor.of(c), others=twins.get(c.id, ())) for c in covered]


def _near_twins(changes: tuple[Change, ...], wanted: set[str]) -> dict[str, tuple[str, ...]]:
    """For each wanted insertion, the other insertions of its chapter close enough in text
    to be taken for it later; remembered so that they never are."""
    by_place: dict[tuple[str | None, str], list[Change]] = {}
    for c in changes:
        if c.kind in _INSERTIONS:
            by_place.setdefault((chapter_of(c), c.kind), []).append(c)
    out = {}
    for c in changes:
        if c.id in wanted and c.kind in _INSERTIONS:
            text = Anchor.of(c).text
            near = tuple(o.id for o in by_place[(chapter_of(c), c.kind)]
                         if o.id != c.id and
                         text_similarity(text, Anchor.of(o).text) >= SAME_PLACE_SIMILARITY)
            if near:
                out[c.id] = near
    return out


def _where(entry: Entry) -> str:
    return f"{entry.file}:{entry.line}" if entry.line else entry.file


def _chapter_aliases(changes: Iterable[Change]) -> dict[str, str]:
    """Old chapter id -> new, for chapters renumbered in this release: their anchors still
    name the old id."""
    return {c.old_chapter: c.new_chapter for c in changes
            if c.kind == "chapter.renumbered" and c.old_chapter and c.new_chapter}


def _refind(lost: list[tuple[int, Anchor]], free: list[Change],
            aliases: dict[str, str]) -> dict[tuple[int, str], str]:
    """(entry index, lost id) -> the change it now is, one to one, best matches first.

    A lost anchor with two equally good candidates is left unmatched: an orphan is visible
    and fixable, a wrong guess is silent."""
    scored: list[tuple[float, int, str]] = []
    per_anchor: dict[int, list[tuple[float, str]]] = {}
    by_chapter: dict[str | None, list[Change]] = {}
    for change in free:
        by_chapter.setdefault(chapter_of(change), []).append(change)
    for number, (_index, anchor) in enumerate(lost):
        chapter = aliases.get(anchor.chapter or "", anchor.chapter)
        for change in by_chapter.get(chapter, []):
            if change.id in anchor.others:
                continue
            score = similarity_score(anchor, Anchor.of(change))
            if score is not None:
                scored.append((score, number, change.id))
                per_anchor.setdefault(number, []).append((score, change.id))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    taken: set[str] = set()
    done: set[int] = set()
    out: dict[tuple[int, str], str] = {}
    for score, number, change_id in scored:
        if number in done or change_id in taken:
            continue
        rivals = [cid for s, cid in per_anchor[number]
                  if cid != change_id and cid not in taken and abs(s - score) < _TIE]
        done.add(number)
        if rivals:
            continue
        taken.add(change_id)
        index, anchor = lost[number]
        out[(index, anchor.change)] = change_id
    return out


def similarity_score(anchor: Anchor, candidate: Anchor) -> float | None:
    """How surely `candidate` is the change `anchor` was; None when it is not."""
    same_kind = anchor.kind == candidate.kind
    family = _FAMILIES.get(anchor.kind)
    if not same_kind and (family is None or family != _FAMILIES.get(candidate.kind)
                          or anchor.kind in _INSERTIONS or candidate.kind in _INSERTIONS):
        return None
    if anchor.kind in SINGLE_PER_CHAPTER:
        return 1.0 if same_kind else None
    if anchor.renumbering or candidate.renumbering:
        return 1.0 if same_kind and anchor.renumbering and candidate.renumbering else None
    same_location = bool(anchor.location) and anchor.location == candidate.location
    same_section = anchor.section == candidate.section
    place = 0.05 * same_location + 0.05 * same_section + 0.01 * same_kind
    if anchor.kind not in _INSERTIONS:
        # Old text from the base release: the same paragraph has exactly the same.
        if anchor.text != candidate.text:
            return None
        if not anchor.text:
            return 0.9 if same_kind and same_location and same_section else None
        return 1.0 + place
    sim = text_similarity(anchor.text, candidate.text)
    if sim >= SAME_KIND_SIMILARITY or (
            sim >= SAME_PLACE_SIMILARITY and same_location and same_section):
        return sim + place
    return None


def text_similarity(a: str, b: str) -> float:
    """Share of words in common, in order (0..1)."""
    if a == b:
        return 1.0
    wa, wb = _clip(a).lower().split(), _clip(b).lower().split()
    if not wa or not wb:
        return 0.0
    matcher = SequenceMatcher(None, wa, wb, autojunk=False)
    if matcher.real_quick_ratio() < SAME_PLACE_SIMILARITY:
        return matcher.real_quick_ratio()
    if matcher.quick_ratio() < SAME_PLACE_SIMILARITY:
        return matcher.quick_ratio()
    return matcher.ratio()
