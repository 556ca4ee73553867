"""What a template receives: one release as its readers see it (every field: docs/templates.md).

`build_view` is pure: it takes the data of a release (config, record, change set, entries,
history) and gives frozen dataclasses with every text already rendered and cleaned. The data
comes either from the working tree (`worktree_data`) or from one git commit (`commit_data`),
so that a published release can be rendered again, byte for byte, from its tagged source.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from pipeline import gitio
from pipeline.config import CONFIG_NAME, Config, parse_config
from pipeline.errors import ConfigError, RefError
from pipeline.manual import ChangeSet, Manual, release_changes
from pipeline.models import Change, Chapter, Entry, Release, Segment
from pipeline.notes import NOTES_DIR, load_entries, read_entries
from pipeline.releases import RELEASE_FILE, list_releases, load_release, parse_release
from pipeline.renumbering import is_renumbering
from pipeline.sanitize import EMPTY, Rich, chapter_outputs, plain, rich

INTRODUCTION_FILE = "introduction.md"  # beside release.toml, when not in it

KIND_LABELS: dict[str, str] = {
    "chapter.added": "New chapter",
    "chapter.removed": "Chapter removed",
    "chapter.retitled": "Chapter retitled",
    "chapter.moved": "Chapter moved",
    "chapter.renumbered": "Chapter renumbered",
    "heading.changed": "Heading changed",
    "paragraph.inserted": "Paragraph added",
    "paragraph.deleted": "Paragraph removed",
    "paragraph.modified": "Paragraph changed",
    "paragraph.moved": "Paragraph moved",
    "table.row.inserted": "Table row added",
    "table.row.deleted": "Table row removed",
    "table.row.modified": "Table row changed",
    "link.added": "Link added",
    "link.removed": "Link removed",
    "link.changed": "Link changed",
    "metadata.changed": "Chapter details changed",
    "term.swept": "Term replaced throughout",
}
# Kinds whose `line` is a place in the new text, so the passage can be marked there.
_MARKED_KINDS = frozenset({
    "heading.changed", "paragraph.inserted", "paragraph.modified", "paragraph.moved",
    "table.row.inserted", "table.row.modified", "link.added", "link.changed",
})


# --- What templates receive -----------------------------------------------------------------

@dataclass(frozen=True)
class ManualInfo:
    name: str
    publisher: str
    contact: str
    url: str


@dataclass(frozen=True)
class ReleaseRef:
    id: str
    title: str
    date: str  # YYYY-MM-DD
    date_text: str  # "25 March 2024"
    month_year: str  # "March 2024"


@dataclass(frozen=True)
class ReleaseInfo:
    id: str
    title: str
    date: str
    date_text: str
    month_year: str
    base: str | None
    base_label: str  # "the March 2023 release", or the git ref it was compared with
    first: bool  # no base: the manual's first publication
    introduction: Rich

    @property
    def ref(self) -> ReleaseRef:
        return ReleaseRef(self.id, self.title, self.date, self.date_text, self.month_year)


@dataclass(frozen=True)
class PlaceView:
    chapter: str
    location: str


@dataclass(frozen=True)
class ChangeView:
    id: str
    kind: str
    label: str  # "Paragraph changed"
    chapter: str | None
    location: str
    section: str
    old: str | None
    new: str | None
    redline: Markup  # <del>/<ins> HTML
    redline_text: str  # [-old-]{+new+}
    chapters: tuple[str, ...]
    places: tuple[PlaceView, ...]
    entry: str | None  # id of the entry covering it; None while not yet described
    anchor: str  # "change-<id>": the id of its place in pages and the complete list
    # A manual-wide front-matter change: (chapter, its old value) where it was not `old`.
    other_old_values: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class EntryView:
    id: str
    summary: Rich
    why: Rich
    action: Rich
    significance: str
    major: bool
    chapter: str | None  # None: manual-wide
    changes: tuple[ChangeView, ...]
    audience: tuple[str, ...]
    orphaned: bool


@dataclass(frozen=True)
class SweepView:
    """A term sweep as one chapter sees it: the phrase replaced, and its places there."""

    change: ChangeView
    old: str
    new: str
    places: tuple[PlaceView, ...]


@dataclass(frozen=True)
class DetailView:
    """A manual-wide front-matter change as one chapter sees it: the key, and its value there
    before and after (None: the key was added, or removed)."""

    change: ChangeView
    key: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class RenumberingView:
    """A renumbering cascade of one chapter: "sections 4-9 renumbered 5-10, paragraphs ..."."""

    change: ChangeView
    text: str


@dataclass(frozen=True)
class ChapterView:
    id: str
    title: str
    part: str
    path: str
    body: Markup  # the text as clean HTML, changed passages marked
    markdown: str  # the same as clean Markdown (for the Markdown and DOCX outputs)
    changed: bool
    added: bool
    entries: tuple[EntryView, ...]  # its own, and manual-wide ones covering its changes
    sweeps: tuple[SweepView, ...]
    changes: tuple[ChangeView, ...]
    uncovered: tuple[ChangeView, ...]  # changes no entry describes yet (previews only)
    last_updated: ReleaseRef | None
    details: tuple[DetailView, ...] = ()  # manual-wide front-matter changes touching it
    renumberings: tuple[RenumberingView, ...] = ()
    marked: bool = False  # some passage of its text is marked "Updated"


@dataclass(frozen=True)
class PartView:
    id: str
    title: str
    chapters: tuple[ChapterView, ...]


@dataclass(frozen=True)
class ChapterNotes:
    """One chapter heading of the bulletin or the complete list."""

    id: str
    title: str
    exists: bool  # has a page in this release
    added: bool
    removed: bool
    entries: tuple[EntryView, ...]
    uncovered: tuple[ChangeView, ...]


@dataclass(frozen=True)
class PartNotes:
    id: str
    title: str
    chapters: tuple[ChapterNotes, ...]


@dataclass(frozen=True)
class FeedItem:
    release: ReleaseRef
    introduction: Rich
    majors: tuple[tuple[str, str, EntryView], ...]  # (chapter id, chapter title, entry)


@dataclass(frozen=True)
class ReleaseView:
    manual: ManualInfo
    release: ReleaseInfo
    parts: tuple[PartView, ...]  # every chapter, in reading order
    bulletin: tuple[PartNotes, ...]  # major entries by part and chapter
    across: tuple[EntryView, ...]  # major manual-wide entries
    complete: tuple[PartNotes, ...]  # every entry and change by part and chapter
    complete_across: tuple[EntryView, ...]  # every manual-wide entry
    across_uncovered: tuple[ChangeView, ...]  # manual-wide changes not yet described
    entries: tuple[EntryView, ...]
    changes: tuple[ChangeView, ...]
    history: tuple[ReleaseRef, ...]  # releases published before this one, oldest first
    feed: tuple[FeedItem, ...]  # this release and those before it, newest first
    raw_changes: tuple[Change, ...] = ()  # as detected, for changes.json and changes.csv
    raw_entries: tuple[Entry, ...] = ()  # as the notes hold them

    @property
    def chapters(self) -> tuple[ChapterView, ...]:
        return tuple(c for p in self.parts for c in p.chapters)

    @property
    def changed_chapters(self) -> tuple[ChapterView, ...]:
        return tuple(c for c in self.chapters if c.changed)


# --- The data a view is built from ----------------------------------------------------------

@dataclass(frozen=True)
class PastRelease:
    record: Release
    commit: str | None  # its source commit (None when it cannot be found)
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class ReleaseData:
    config: Config
    release: Release
    introduction: str  # Markdown
    change_set: ChangeSet
    entries: tuple[Entry, ...]
    past: tuple[PastRelease, ...]  # published before this release, oldest first
    last_changed: Mapping[str, str]  # chapter path -> id of the past release that changed it


def worktree_data(manual: Manual, release_id: str) -> ReleaseData:
    """The release as the working tree holds it: for previews."""
    config = manual.config
    release = load_release(config, release_id)
    folder = config.releases_dir / release.id
    intro_file = folder / INTRODUCTION_FILE
    intro = intro_file.read_text("utf-8") if intro_file.is_file() else ""
    records = [r for r in list_releases(config) if r.id != release.id]
    change_set = release_changes(manual, release)
    past = _past(manual, release, records, lambda r: load_entries(config, r.id))
    return ReleaseData(config, release, release.introduction or intro, change_set,
                       load_entries(config, release.id), past,
                       _last_changed(manual, past))


def commit_data(manual: Manual, release_id: str, commit: str) -> ReleaseData:
    """The release exactly as it stood at `commit`: editorial.toml, release.toml, notes,
    chapters and templates all read from git, never from the working tree."""
    repo = manual.repo
    commit = gitio.resolve(repo, commit)
    raw_config = gitio.file_at(repo, commit, CONFIG_NAME)
    if raw_config is None:
        raise ConfigError(f"no {CONFIG_NAME} at commit {commit[:12]}", CONFIG_NAME)
    try:
        config = parse_config(manual.root, tomllib.loads(raw_config.decode("utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"unreadable at commit {commit[:12]}: {exc}", CONFIG_NAME) from None
    at = Manual(config=config, repo=repo)
    records = _records_at(at, commit)
    release = records.get(release_id)
    if release is None:
        path = f"releases/{release_id}/{RELEASE_FILE}"
        raise ConfigError(f"no release '{release_id}' at commit {commit[:12]}", path)
    intro = gitio.file_at(repo, commit, f"releases/{release.id}/{INTRODUCTION_FILE}")
    change_set = release_changes(at, release, to_ref=commit)
    others = sorted((r for r in records.values() if r.id != release.id),
                    key=lambda r: (r.date, r.id))
    # Earlier releases' entries as they stand in this commit (corrections included).
    past = _past(at, release, others, lambda r: _entries_at(at, r.id, commit))
    return ReleaseData(config, release,
                       release.introduction or (intro or b"").decode("utf-8", "replace"),
                       change_set, _entries_at(at, release.id, commit), past,
                       _last_changed(at, past))


def _records_at(manual: Manual, commit: str) -> dict[str, Release]:
    out = {}
    for path, blob in gitio.list_files(manual.repo, commit, "releases").items():
        parts = path.split("/")
        if len(parts) == 3 and parts[2] == RELEASE_FILE:
            record = parse_release(path, gitio.blob_bytes(manual.repo, blob), parts[1])
            out[record.id] = record
    return out


def _entries_at(manual: Manual, release_id: str, commit: str | None) -> tuple[Entry, ...]:
    if commit is None:
        return ()
    prefix = f"releases/{release_id}/{NOTES_DIR}"
    files = gitio.list_files(manual.repo, commit, prefix)
    return read_entries((path, gitio.blob_bytes(manual.repo, blob))
                        for path, blob in files.items() if path.endswith(".yaml"))


def _source(manual: Manual, record: Release) -> str | None:
    """A published release's source commit: its record's, else its tag's."""
    if record.source_commit:
        try:
            return gitio.resolve(manual.repo, record.source_commit)
        except RefError:  # a record naming a commit this clone lacks
            return None
    tag = manual.config.tag_for(record.id)
    return gitio.resolve(manual.repo, tag) if gitio.tag_exists(manual.repo, tag) else None


def _past(manual: Manual, release: Release, records: Iterable[Release],
          entries_of: Callable[[Release], tuple[Entry, ...]]) -> tuple[PastRelease, ...]:
    """Published releases before `release` (by date, then id), with their entries."""
    key = (release.date, release.id)
    out = []
    for record in records:
        if record.status != "published" or (record.date, record.id) >= key:
            continue
        commit = _source(manual, record)
        out.append(PastRelease(record=record, commit=commit, entries=entries_of(record)))
    return tuple(out)


def _last_changed(manual: Manual, past: Sequence[PastRelease]) -> dict[str, str]:
    """Chapter path -> the newest past release in which its file changed (or first appeared).

    One `git ls-tree` per past release: blobs are compared, nothing is read or parsed."""
    out: dict[str, str] = {}
    previous: dict[str, str] = {}
    prefix = manual.config.procedures
    for item in past:
        if item.commit is None:
            continue
        files = gitio.list_files(manual.repo, item.commit, prefix)
        for path, blob in files.items():
            if previous.get(path) != blob:
                out[path] = item.record.id
        previous = files
    return out


# --- Building the view ----------------------------------------------------------------------

def _dates(date: str) -> tuple[str, str]:
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        return date, date
    return f"{day.day} {day:%B %Y}", f"{day:%B %Y}"


def release_ref(record: Release) -> ReleaseRef:
    date_text, month_year = _dates(record.date)
    return ReleaseRef(record.id, plain(record.title), record.date, date_text, month_year)


def redline_html(change: Change) -> Markup:
    segments: Sequence[Segment] = change.redline
    if "<" in (change.old or "") + (change.new or ""):
        # Markup in the text (a raw HTML block): shown as its plain words, whole, since a
        # redline may cut a tag in two.
        segments = [Segment(op, plain(text)) for op, text in (("delete", change.old),
                                                               ("insert", change.new)) if text]
    elif not segments:
        segments = [Segment(op, text) for op, text in (("delete", change.old),
                                                        ("insert", change.new)) if text]
    out = []
    for s in segments:
        text = html.escape(s.text)
        out.append(text if s.op == "equal" else
                   f"<del>{text}</del>" if s.op == "delete" else f"<ins>{text}</ins>")
    return Markup(" ".join(out) if not change.redline else "".join(out))


def redline_text(change: Change) -> str:
    if change.redline:
        return change.redline_text()
    return " ".join(f"[-{change.old}-]" if op == "delete" else f"{{+{change.new}+}}"
                    for op, text in (("delete", change.old), ("insert", change.new)) if text)


def _change_view(change: Change, covered: Mapping[str, str]) -> ChangeView:
    others = dict(change.detail).get("other_old_values") \
        if change.kind == "metadata.changed" else None
    others = others if isinstance(others, (tuple, list)) else ()
    return ChangeView(
        id=change.id, kind=change.kind, label=KIND_LABELS.get(change.kind, change.kind),
        chapter=change.chapter, location=plain(change.location),
        section=plain(change.section),
        old=plain(change.old) if change.old is not None else None,
        new=plain(change.new) if change.new is not None else None,
        redline=redline_html(change), redline_text=plain(redline_text(change)),
        chapters=change.chapters,
        places=tuple(PlaceView(p.chapter, plain(p.location)) for p in change.places),
        entry=covered.get(change.id), anchor=f"change-{change.id}",
        other_old_values=tuple((str(c), plain(old) if old is not None else None)
                               for c, old in others))


def _entry_view(entry: Entry, changes: Mapping[str, ChangeView]) -> EntryView:
    return EntryView(
        id=entry.id, summary=rich(entry.summary), why=rich(entry.why),
        action=rich(entry.action) if entry.action else EMPTY,
        significance=entry.significance, major=entry.significance == "major",
        chapter=entry.chapter,
        changes=tuple(changes[c] for c in entry.changes if c in changes),
        audience=tuple(plain(a) for a in entry.audience), orphaned=entry.orphaned)


def _touches(change: ChangeView, chapter_id: str) -> bool:
    return chapter_id == change.chapter or chapter_id in change.chapters


def build_view(data: ReleaseData) -> ReleaseView:
    config, record, change_set = data.config, data.release, data.change_set
    date_text, month_year = _dates(record.date)
    past_titles = {p.record.id: plain(p.record.title) for p in data.past}
    base = record.base
    label = f"the {past_titles[base]} release" if base in past_titles else \
        (base[:12] if base and re.fullmatch(r"[0-9a-f]{40}", base) else base or "")
    info = ReleaseInfo(id=record.id, title=plain(record.title), date=record.date,
                       date_text=date_text, month_year=month_year, base=base,
                       base_label=label, first=base is None,
                       introduction=rich(data.introduction))
    covered = {c: e.id for e in data.entries for c in e.changes}
    changes = tuple(_change_view(c, covered) for c in change_set.changes)
    by_id = {c.id: c for c in changes}
    entries = tuple(_entry_view(e, by_id) for e in data.entries)
    history = tuple(release_ref(p.record) for p in data.past)
    refs = {r.id: r for r in history}

    chapters = []
    for chapter in change_set.new.chapters:
        mine = tuple(c for c in changes if _touches(c, chapter.id))
        own = tuple(e for e in entries if e.chapter == chapter.id and not e.orphaned)
        wide = tuple(e for e in entries if e.chapter != chapter.id and not e.orphaned
                     and any(_touches(c, chapter.id) for c in e.changes))
        last = data.last_changed.get(chapter.path)
        marks = _marks(chapter, change_set.changes)
        body, markdown = chapter_outputs(chapter.body, marks, "Updated")
        chapters.append(ChapterView(
            id=chapter.id, title=plain(chapter.title), part=chapter.part, path=chapter.path,
            body=body, markdown=markdown,
            changed=bool(mine), added=any(c.kind == "chapter.added" for c in mine),
            entries=own + wide, sweeps=_sweeps(chapter.id, mine, change_set.changes),
            changes=mine, uncovered=tuple(c for c in mine if c.entry is None),
            last_updated=refs[last] if not mine and last in refs else info.ref,
            details=_details(chapter.id, mine, change_set),
            renumberings=_renumberings(mine, change_set), marked=bool(marks)))
    parts = _by_part(config, chapters)

    titles = _titles(change_set)
    majors = tuple(e for e in entries if e.major and not e.orphaned)
    bulletin = _notes(config, titles, change_set, majors, ())
    uncovered = tuple(c for c in changes if c.entry is None)
    complete = _notes(config, titles, change_set, entries,
                      tuple(c for c in uncovered if c.chapter is not None))
    current = FeedItem(release=info.ref, introduction=info.introduction,
                       majors=tuple((e.chapter or "", titles.get(e.chapter or "", ("", ""))[0],
                                     e) for e in majors))
    feed = (current, *(_feed_item(p, titles) for p in reversed(data.past)))
    return ReleaseView(
        manual=ManualInfo(plain(config.name), plain(config.publisher), plain(config.contact),
                          plain(config.url)),
        release=info, parts=parts, bulletin=bulletin,
        across=tuple(e for e in majors if e.chapter is None),
        complete=complete, complete_across=tuple(e for e in entries if e.chapter is None),
        across_uncovered=tuple(c for c in uncovered if c.chapter is None),
        entries=entries, changes=changes, history=history, feed=feed,
        raw_changes=change_set.changes, raw_entries=data.entries)


def _feed_item(past: PastRelease, titles: Mapping[str, tuple[str, str]]) -> FeedItem:
    entries = [_entry_view(e, {}) for e in past.entries
               if e.significance == "major" and not e.orphaned]
    return FeedItem(release=release_ref(past.record),
                    introduction=rich(past.record.introduction),
                    majors=tuple((e.chapter or "", titles.get(e.chapter or "", ("", ""))[0], e)
                                 for e in entries))


def _marks(chapter: Chapter, changes: Iterable[Change]) -> dict[int, list[str]]:
    """Body line (0-based) -> ids of the changes whose new text starts there.

    A renumbering cascade marks nothing: a section inserted early renumbers every block
    after it, and dozens of "Updated" labels on paragraphs whose words did not change would
    hide the passages that did. The box says what was renumbered instead."""
    marks: dict[int, list[str]] = {}
    for change in changes:
        if is_renumbering(change):
            continue
        if change.kind in _MARKED_KINDS and change.chapter == chapter.id and change.line:
            marks.setdefault(change.line - chapter.body_line, []).append(change.id)
        elif change.kind == "term.swept":
            for place in change.places:
                if place.chapter == chapter.id and place.line:
                    marks.setdefault(place.line - chapter.body_line, []).append(change.id)
    return marks


def _sweeps(chapter_id: str, mine: Iterable[ChangeView],
            changes: Iterable[Change]) -> tuple[SweepView, ...]:
    ids = {c.id for c in mine if c.kind == "term.swept"}
    return tuple(
        SweepView(change=next(v for v in mine if v.id == c.id), old=plain(c.old),
                  new=plain(c.new),
                  places=tuple(PlaceView(p.chapter, plain(p.location)) for p in c.places
                               if p.chapter == chapter_id))
        for c in changes if c.id in ids)


def _details(chapter_id: str, mine: Iterable[ChangeView],
             change_set: ChangeSet) -> tuple[DetailView, ...]:
    """The manual-wide front-matter changes among a chapter's, with its own old value."""
    keys = {c.id: str(dict(c.detail).get("key", "")) for c in change_set.changes
            if c.kind == "metadata.changed" and c.chapter is None}
    return tuple(DetailView(change=c, key=plain(keys[c.id]),
                            old=dict(c.other_old_values).get(chapter_id, c.old), new=c.new)
                 for c in mine if c.id in keys)


def _renumberings(mine: Iterable[ChangeView],
                  change_set: ChangeSet) -> tuple[RenumberingView, ...]:
    phrases = {c.id: str(dict(c.detail)["renumbering"]) for c in change_set.changes
               if is_renumbering(c)}
    return tuple(RenumberingView(change=c, text=plain(phrases[c.id]))
                 for c in mine if c.id in phrases)


def _by_part(config: Config, chapters: Sequence[ChapterView]) -> tuple[PartView, ...]:
    order: list[str] = []
    groups: dict[str, list[ChapterView]] = {}
    for chapter in chapters:  # already in reading order
        if chapter.part not in groups:
            order.append(chapter.part)
        groups.setdefault(chapter.part, []).append(chapter)
    return tuple(PartView(p, plain(config.part(p).title), tuple(groups[p])) for p in order)


def _titles(change_set: ChangeSet) -> dict[str, tuple[str, str]]:
    """Chapter id -> (title, part), new text first, then the old (for removed chapters)."""
    out: dict[str, tuple[str, str]] = {}
    for snap in (change_set.new, change_set.old):
        for chapter in snap.chapters if snap is not None else ():
            out.setdefault(chapter.id, (plain(chapter.title), chapter.part))
    return out


def _notes(config: Config, titles: Mapping[str, tuple[str, str]], change_set: ChangeSet,
           entries: Sequence[EntryView], uncovered: Sequence[ChangeView]
           ) -> tuple[PartNotes, ...]:
    """Entries (and changes not yet described) grouped by part, then chapter, in reading
    order; chapters that no longer exist come after those that do, in their old part."""
    reading = {c.id: i for i, c in enumerate(change_set.new.chapters)}
    old_order = {c.id: i for i, c in enumerate(change_set.old.chapters)} \
        if change_set.old is not None else {}
    kinds: dict[str, set[str]] = {}
    for change in change_set.changes:
        if change.chapter:
            kinds.setdefault(change.chapter, set()).add(change.kind)
    chapter_ids = [e.chapter for e in entries if e.chapter is not None]
    chapter_ids += [c.chapter for c in uncovered if c.chapter is not None]
    groups: dict[str, list[str]] = {}
    for cid in dict.fromkeys(chapter_ids):
        part = titles.get(cid, ("", ""))[1]
        groups.setdefault(part, []).append(cid)
    parts = []
    for part in sorted(groups, key=lambda p: (p == "", config.part(p).order, p)):
        ids = sorted(groups[part], key=lambda c: (c not in reading,
                                                  reading.get(c, old_order.get(c, 10**9)), c))
        parts.append(PartNotes(
            id=part, title=plain(config.part(part).title) if part else "Other entries",
            chapters=tuple(ChapterNotes(
                id=cid, title=titles.get(cid, (cid, ""))[0], exists=cid in reading,
                added="chapter.added" in kinds.get(cid, ()),
                removed="chapter.removed" in kinds.get(cid, ()),
                entries=tuple(e for e in entries if e.chapter == cid),
                uncovered=tuple(c for c in uncovered if c.chapter == cid))
                for cid in ids)))
    return tuple(parts)


