"""Writing entries: one at a time from the command line, or by walking the uncovered changes.

A Workspace is a release with its detected changes and its notes merged together; every
command of the notes stage starts from one. The walk talks to the editor only through a
Prompter, so the CLI stays a thin shell around it and tests can drive it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from ruamel.yaml.comments import CommentedSeq

from pipeline.errors import NotesError, ReleaseError
from pipeline.manual import ChangeSet, Manual, release_changes
from pipeline.merge import MergedEntry, MergeResult, anchors_for, chapter_of, merge
from pipeline.models import Change, Entry, Release
from pipeline.notes import (
    SIGNIFICANCE,
    NotesFile,
    append_entry,
    load_entries,
    make_entry_id,
    notes_dir,
    notes_path,
    open_notes_file,
    save_notes,
    update_entry,
)
from pipeline.releases import load_release, open_release
from pipeline.report import change_lines
from pipeline.suggest import Suggestion, suggest


@dataclass(frozen=True)
class Workspace:
    """A release, the changes detected for it and its notes, merged."""

    manual: Manual
    release: Release
    change_set: ChangeSet
    entries: tuple[Entry, ...]
    result: MergeResult

    def change(self, change_id: str) -> Change:
        for change in self.change_set.changes:
            if change.id == change_id:
                return change
        raise NotesError(f"no change '{change_id}' in release {self.release.id} "
                         "(see 'editorial changes')", self.notes_where)

    @property
    def notes_where(self) -> str:
        return notes_dir(self.manual.config, self.release.id).relative_to(
            self.manual.root).as_posix()

    def entry(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def open_file(self, path: Path) -> NotesFile:
        """A notes file's round-trip document, to write into."""
        return open_notes_file(self.manual.config, path, self.release.id)

    def file_of(self, entry_id: str) -> NotesFile:
        return self.open_file(self.manual.root / self.entry(entry_id).file)

    def reload_notes(self) -> Workspace:
        """The same changes with the notes read again (after a write)."""
        entries = load_entries(self.manual.config, self.release.id)
        result = merge(entries, self.change_set.changes)
        result.raise_first_issue()
        return replace(self, entries=entries, result=result)


def find_release(manual: Manual, release_id: str | None) -> Release:
    return load_release(manual.config, release_id) if release_id else open_release(
        manual.config)


def open_workspace(manual: Manual, release_id: str | None = None,
                   release: Release | None = None) -> Workspace:
    """The release (the open one by default) with its changes and notes merged; the first
    problem in the notes (bad YAML, an unknown change id, two entries for one change) is
    raised, so a command never works from, or writes over, notes it could not read."""
    release = release or find_release(manual, release_id)
    change_set = release_changes(manual, release)
    entries = load_entries(manual.config, release.id)
    result = merge(entries, change_set.changes)
    result.raise_first_issue()
    return Workspace(manual, release, change_set, entries, result)


def refuse_published(release: Release, where: str) -> None:
    if release.status == "published":
        raise ReleaseError(f"release {release.id} is published; its entries are final",
                           where)


def sync_notes(ws: Workspace) -> list[tuple[str, MergedEntry]]:
    """Write the merge into the notes files (ids followed, anchors, orphan flags); only
    files whose text changes are written. Returns (file, entry) for every entry updated."""
    refuse_published(ws.release, ws.notes_where)
    stale: dict[str, list[MergedEntry]] = {}
    for merged in ws.result.entries:
        if merged.differs():
            stale.setdefault(merged.entry.file, []).append(merged)
    updated = []
    for where, group in stale.items():
        notes = ws.open_file(ws.manual.root / where)
        touched = [m for m in group if update_entry(notes.item(m.id), m.fields())]
        if touched and save_notes(notes):
            updated.extend((notes.where, m) for m in touched)
    return updated


# Writing one entry -------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    entry_id: str
    file: str
    changes: tuple[str, ...]


def target_chapter(changes: Sequence[Change]) -> str | None:
    """The chapter file an entry belongs in; None (the manual-wide file) when its changes
    span chapters."""
    chapters = {chapter_of(c) for c in changes}
    return chapters.pop() if len(chapters) == 1 else None


def check_entry_text(summary: str, why: str, significance: str) -> None:
    if significance not in SIGNIFICANCE:
        raise NotesError(f"unknown significance '{significance}' (major or minor)")
    if not summary.strip():
        raise NotesError("an entry needs a summary (--summary)")
    if significance == "major" and not why.strip():
        raise NotesError("a major entry needs a why (--why: why is this important?)")


def claimable(ws: Workspace, change_ids: Iterable[str]) -> list[Change]:
    """The changes named, each existing and not yet covered by an entry."""
    ids = list(dict.fromkeys(change_ids))
    if not ids:
        raise NotesError("name the changes the entry covers (their ids: see 'editorial "
                         "changes')")
    out = []
    for cid in ids:
        change = ws.change(cid)
        owner = ws.result.covered_by.get(cid)
        if owner is not None:
            entry = ws.entry(owner)
            raise NotesError(f"change '{cid}' is already covered by entry {owner}",
                             entry.file, entry.line)
        out.append(change)
    return out


def write_entry(ws: Workspace, change_ids: Sequence[str], summary: str, why: str = "",
                significance: str | None = None, audience: Sequence[str] = (),
                action: str = "") -> Written:
    """Add one entry covering `change_ids`; significance None leaves it for later (the walk
    saves answers one by one)."""
    refuse_published(ws.release, ws.notes_where)
    changes = claimable(ws, change_ids)
    if significance is not None:
        check_entry_text(summary, why, significance)
    elif not summary.strip():
        raise NotesError("an entry needs a summary (--summary)")
    notes = ws.open_file(notes_path(ws.manual.config, ws.release.id, target_chapter(changes)))
    ids = tuple(c.id for c in changes)
    entry_id = make_entry_id(ids, (e.id for e in ws.entries))
    append_entry(notes, {
        "id": entry_id, "summary": summary.strip(), "why": why.strip() or None,
        "significance": significance, "changes": list(ids),
        "audience": list(audience) or None, "action": action.strip() or None,
        "anchors": [a.to_dict() for a in anchors_for(changes, ws.change_set.changes)],
    })
    save_notes(notes)
    return Written(entry_id, notes.where, ids)


def set_fields(ws: Workspace, entry_id: str, fields: dict[str, Any]) -> None:
    notes = ws.file_of(entry_id)
    if update_entry(notes.item(entry_id), fields):
        save_notes(notes)


def add_to_entry(ws: Workspace, entry_id: str, change_ids: Sequence[str]) -> Written:
    """Group more changes into an existing entry. When that makes it span chapters it moves
    to the manual-wide file: written there first, then taken out of its old file, so a crash
    in between leaves it twice (an error `check` names), never nowhere."""
    refuse_published(ws.release, ws.notes_where)
    added = claimable(ws, change_ids)
    merged = ws.result.entry(entry_id)
    covered = [ws.change(c) for c in merged.live]
    ids = tuple(dict.fromkeys((*merged.changes, *(c.id for c in added))))
    anchors = [*(a.to_dict() for a in merged.anchors),
               *(a.to_dict() for a in anchors_for(added, ws.change_set.changes))]
    source = ws.file_of(entry_id)
    path = notes_path(ws.manual.config, ws.release.id, target_chapter([*covered, *added]))
    if path == source.path:
        set_fields(ws, entry_id, {"changes": list(ids), "anchors": anchors})
        return Written(entry_id, source.where, ids)
    target = ws.open_file(path)
    item = source.item(entry_id)
    fields = {k: _plain_value(item[k]) for k in item}
    fields.update({"changes": list(ids), "anchors": anchors})
    append_entry(target, fields)
    save_notes(target)
    entries = source.doc["entries"]
    entries.remove(item)
    _save_without(source, entry_id)
    return Written(entry_id, target.where, ids)


def _save_without(notes: NotesFile, entry_id: str) -> None:
    """Save a file an entry has been moved out of (save_notes refuses to lose entries)."""
    if not notes.doc["entries"]:
        # A fresh `[]`: ruamel cannot write an emptied list after a comment readably.
        notes.doc["entries"] = CommentedSeq()
        notes.doc["entries"].fa.set_flow_style()
    kept = replace(notes, entries=tuple(e for e in notes.entries if e.id != entry_id))
    save_notes(kept)


def _plain_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    return value


# The walk ----------------------------------------------------------------------------------


class Prompter(Protocol):
    """How the walk talks to the editor (click in the CLI)."""

    def echo(self, text: str = "") -> None: ...

    def ask(self, question: str, default: str = "", show_default: bool = True) -> str:
        """The answer; `default` when the editor just presses Enter."""
        ...

    def edit(self, text: str) -> str | None:
        """The text after the editor has had it in $EDITOR; None when not saved."""
        ...


@dataclass(frozen=True)
class WalkResult:
    written: tuple[str, ...]  # ids of entries made
    grouped: int  # changes added to an entry made earlier in the walk
    skipped: int
    quit: bool
    remaining: int  # changes still uncovered at the end


EDIT = "e"
_EDIT_HELP = ("# Write the text below. Lines starting with '#' are ignored.\n"
              "# Save and close the editor to keep it.\n")


def change_heading(change: Change, number: int, total: int) -> str:
    where = change.chapter or ", ".join(change.chapters) or "across the manual"
    return f"[{number}/{total}] {where}: {change.kind} at {change.location}  ({change.id})"


def change_body(change: Change) -> list[str]:
    """The redline, as `diff` shows it."""
    return change_lines(change)


def suggestion_lines(s: Suggestion) -> list[str]:
    return [f"Suggested summary: {s.summary}",
            f"Suggested significance: {s.significance} ({s.reason})"]


def walk(ws: Workspace, io: Prompter, only: Sequence[str] = ()) -> WalkResult:
    """Offer each uncovered change in turn; every answer is saved as soon as it is given."""
    refuse_published(ws.release, ws.notes_where)
    queue = [ws.change(c) for c in dict.fromkeys(only)] if only else list(ws.result.uncovered)
    if only:
        claimable(ws, only)
    written: list[str] = []
    grouped = skipped = 0
    last: str | None = None  # the entry made last in this walk: the one to group into
    for number, change in enumerate(queue, start=1):
        if change.id in ws.result.covered_by:
            continue
        io.echo()
        io.echo(change_heading(change, number, len(queue)))
        for line in change_body(change):
            io.echo(line)
        suggestion = suggest(change)
        for line in suggestion_lines(suggestion):
            io.echo(line)
        choices = "[a]nnotate, " + (f"[g]roup into {last}, " if last else "") + \
            "[s]kip, [q]uit"
        action = _choose(io, choices, "a", "asq" + ("g" if last else ""))
        if action == "q":
            return _finish(ws, written, grouped, skipped, True)
        if action == "s":
            skipped += 1
            continue
        if action == "g" and last is not None:
            done = add_to_entry(ws, last, [change.id])
            ws = ws.reload_notes()
            grouped += 1
            io.echo(f"Grouped into {last} ({done.file}), which now covers "
                    f"{len(done.changes)} changes.")
            entry = ws.result.entry(last).entry
            if suggestion.significance == "major" and entry.significance != "major":
                io.echo(f"Note: this change looks major ({suggestion.reason}); "
                        f"{last} is {entry.significance}.")
            continue
        ws, entry_id = _annotate_one(ws, io, change, suggestion)
        written.append(entry_id)
        last = entry_id
    return _finish(ws, written, grouped, skipped, False)


def _finish(ws: Workspace, written: list[str], grouped: int, skipped: int,
            quit: bool) -> WalkResult:
    ws = ws.reload_notes()
    return WalkResult(tuple(written), grouped, skipped, quit, len(ws.result.uncovered))


def _choose(io: Prompter, question: str, default: str, allowed: str) -> str:
    while True:
        answer = io.ask(question, default).strip().lower()[:1]
        if answer and answer in allowed:
            return answer
        io.echo(f"Please answer one of: {', '.join(allowed)}.")


def _ask_text(io: Prompter, question: str, default: str, required: bool) -> str:
    """A line of text; 'e' opens $EDITOR (with the default in it) for longer text."""
    hint = "Enter accepts the suggestion, " if default else ""
    while True:
        answer = io.ask(f"{question} ({hint}'{EDIT}' opens $EDITOR)", default,
                        show_default=False)
        if answer.strip().lower() == EDIT:
            edited = io.edit(_EDIT_HELP + (default or "") + "\n")
            if edited is None:
                io.echo("Nothing saved in the editor; asking again.")
                continue
            answer = "\n".join(line for line in edited.split("\n")
                               if not line.startswith("#")).strip()
        if answer.strip() or not required:
            return answer.strip()
        io.echo("This cannot be empty.")


def _annotate_one(ws: Workspace, io: Prompter, change: Change,
                  suggestion: Suggestion) -> tuple[Workspace, str]:
    summary = _ask_text(io, "Summary", suggestion.summary, required=True)
    done = write_entry(ws, [change.id], summary)
    ws = ws.reload_notes()
    io.echo(f"Saved {done.entry_id} in {done.file}.")
    why = _ask_text(io, "Why is this important?", "", required=False)
    if why:
        set_fields(ws, done.entry_id, {"why": why})
        ws = ws.reload_notes()
    significance = _ask_significance(io, suggestion.significance)
    while significance == "major" and not why:
        io.echo("A major entry needs a why: it is what the bulletin prints.")
        why = _ask_text(io, "Why is this important?", "", required=True)
        set_fields(ws, done.entry_id, {"why": why})
        ws = ws.reload_notes()
    set_fields(ws, done.entry_id, {"significance": significance})
    return ws.reload_notes(), done.entry_id


def _ask_significance(io: Prompter, default: str) -> str:
    while True:
        answer = io.ask("Significance (major, minor)", default).strip().lower()
        for value in SIGNIFICANCE:
            if len(answer) >= 2 and value.startswith(answer):
                return value
        io.echo("Please answer major or minor.")
