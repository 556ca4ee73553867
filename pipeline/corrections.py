"""Corrections to the entries of published releases (`annotate --correct`).

A published entry is never edited in silence: the new wording replaces the old in the notes
file, and the entry's `corrections` trail keeps the old and new wording, who, when and why.
The file is then committed on its own, so a correction is committed data with its own commit,
never an edit to history: the release's tag and MANIFEST.json still name what was published,
and `verify` re-renders from the notes as tagged (see pipeline/verify.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.scalarstring import LiteralScalarString

from pipeline import gitio
from pipeline.errors import NotesError, ReleaseError
from pipeline.fsutil import atomic_write
from pipeline.manual import Manual
from pipeline.models import Entry, Release
from pipeline.notes import dump_document, load_document, notes_dir, parse_notes
from pipeline.releases import list_releases

CORRECTABLE = ("summary", "why")


@dataclass(frozen=True)
class Correction:
    at: str  # ISO 8601 UTC
    by: str
    field: str
    old: str
    new: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"at": self.at, "by": self.by, "field": self.field, "old": self.old,
                "new": self.new, "reason": self.reason}


@dataclass(frozen=True)
class Found:
    """An entry and where it lives."""

    release: Release
    file: str  # notes file, relative to the manual root
    entry: Entry


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        # A timestamp typed by hand in YAML without quotes comes back as a datetime.
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    return "" if value is None else str(value)


def trail(entry: Entry) -> tuple[Correction, ...]:
    """An entry's corrections, oldest first."""
    out = []
    for _key, item in entry.corrections:
        data = dict(item) if isinstance(item, tuple) else {}
        out.append(Correction(**{k: _text(data.get(k)) for k in
                                 ("at", "by", "field", "old", "new", "reason")}))
    return tuple(out)


def find_entry(manual: Manual, entry_id: str) -> Found:
    """The entry with this id in any release's notes (as they stand in the working tree)."""
    needle = entry_id.encode("utf-8")
    for release in reversed(list_releases(manual.config)):
        folder = notes_dir(manual.config, release.id)
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            raw = path.read_bytes()
            if needle not in raw:  # most files do not mention it: skip the YAML parse
                continue
            where = path.relative_to(manual.root).as_posix()
            for entry in parse_notes(where, raw):
                if entry.id == entry_id:
                    return Found(release=release, file=where, entry=entry)
    raise NotesError(f"unknown entry '{entry_id}' (entry ids are shown by 'editorial log "
                     "CHAPTER --json' and in the notes files)")


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def correct(manual: Manual, entry_id: str, by: str, reason: str,
            new_text: dict[str, str], at: str | None = None,
            commit: bool = True) -> tuple[Found, tuple[Correction, ...]]:
    """Correct fields (summary, why) of a published entry, keep the trail, and commit the
    notes file alone. Returns where the entry is and the corrections made."""
    by, reason = by.strip(), reason.strip()
    if not by:
        raise NotesError("a correction needs --by NAME")
    if not reason:
        raise NotesError("a correction needs --reason TEXT (why the published text was wrong)")
    wanted = {k: v.strip() for k, v in new_text.items() if v is not None}
    unknown = [k for k in wanted if k not in CORRECTABLE]
    if unknown:
        raise NotesError(f"cannot correct '{unknown[0]}' (only {', '.join(CORRECTABLE)})")
    if not wanted:
        raise NotesError("nothing to correct (give --summary and/or --why)")
    if any(not v for v in wanted.values()):
        raise NotesError("a corrected text cannot be empty")
    found = find_entry(manual, entry_id)
    if found.release.status != "published":
        raise ReleaseError(f"entry '{entry_id}' belongs to release '{found.release.id}', which "
                           "is not published: change it with 'editorial annotate' or in the "
                           "file", found.file, found.entry.line)
    if commit and gitio.is_dirty(manual.repo, [found.file]):
        raise NotesError("the notes file has uncommitted changes: commit or undo them first, "
                         "so the correction is committed on its own", found.file)
    path = manual.root / found.file
    doc = load_document(found.file, path.read_bytes())
    item = next(e for e in doc["entries"] if str(e.get("id", "")).strip() == entry_id)
    when = at or now_utc()
    made = []
    for field_name in CORRECTABLE:
        if field_name not in wanted:
            continue
        old = _text(item.get(field_name)).strip()
        new = wanted[field_name]
        if old == new:
            raise NotesError(f"the {field_name} of '{entry_id}' already reads so", found.file,
                             found.entry.line)
        item[field_name] = _scalar(new)
        made.append(Correction(at=when, by=by, field=field_name, old=old, new=new,
                               reason=reason))
    if "corrections" not in item or item["corrections"] is None:
        item["corrections"] = []
    for c in made:
        item["corrections"].append({"at": c.at, "by": c.by, "field": c.field,
                                    "old": _scalar(c.old), "new": _scalar(c.new),
                                    "reason": _scalar(c.reason)})
    atomic_write(path, dump_document(doc))
    if commit:
        fields = " and ".join(c.field for c in made)
        gitio.commit_only(manual.repo, [found.file],
                          f"Correct the {fields} of entry {entry_id} (release "
                          f"{found.release.id}): {reason}")
    return found, tuple(made)


def _scalar(text: str) -> str:
    """Multi-line text as a YAML literal block, so the file stays readable."""
    return LiteralScalarString(text + "\n") if "\n" in text else text
