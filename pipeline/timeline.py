"""Points in a manual's history: its published releases, and RELEASE|DATE resolved to one.

A published release is found from its record (`releases/<id>/release.toml`: status and source
commit), so history works in a clone that carries no tags; the tag is the fallback for a
record that has no source commit. A date names the last release published on or before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipeline import gitio
from pipeline.errors import RefError
from pipeline.manual import Manual
from pipeline.models import Release
from pipeline.releases import base_commit, list_releases


@dataclass(frozen=True)
class Point:
    """A published release and the commit its text was published from."""

    release: Release
    commit: str

    @property
    def id(self) -> str:
        return self.release.id


def published(manual: Manual, records: list[Release] | None = None) -> list[Point]:
    """Every published release, oldest first (by date, then id)."""
    records = list_releases(manual.config) if records is None else records
    done = [r for r in records if r.status == "published"]
    recorded = [r.source_commit for r in done if r.source_commit]
    commits = dict(zip(recorded, gitio.resolve_many(manual.repo, recorded), strict=True))
    return [Point(release=r, commit=commits[r.source_commit] if r.source_commit
                  else base_commit(manual.config, manual.repo, r.id))
            for r in done]


def parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def resolve(manual: Manual, when: str, points: list[Point] | None = None) -> Point:
    """A published release named by its id, or the last one published on or before a date
    (YYYY-MM-DD). A release id is tried first: import-history names releases by dates too."""
    points = published(manual) if points is None else points
    for point in points:
        # A release's tag ("release/2023-09") names it as well as its id does.
        if when in (point.id, manual.config.tag_for(point.id)):
            return point
    date = parse_date(when)
    if date is None:
        _refuse_unpublished(manual, when)
        raise RefError(f"unknown release '{when}' (a published release id, or a date "
                       "YYYY-MM-DD; see 'editorial log')")
    if not points:
        raise RefError("no published release yet")
    before = [p for p in points if p.release.date <= date.isoformat()]
    if not before:
        first = points[0]
        raise RefError(f"{date.isoformat()} is before the first published release "
                       f"({first.id}, {first.release.date})")
    return before[-1]


def _refuse_unpublished(manual: Manual, when: str) -> None:
    for record in list_releases(manual.config):
        if record.id == when:
            raise RefError(f"release '{when}' is not published ({record.status})")


def as_it_stood(manual: Manual, when: str) -> tuple[str, str] | None:
    """(release id, commit) to render the manual as it stood at a release or date: the
    release's source commit, with the notes of it and of the releases before it as they are
    committed now, so that corrections made since publication are shown (`render --at`).
    None when `when` names no published release or date (then it is any git ref)."""
    try:
        point = resolve(manual, when)
    except RefError:
        if parse_date(when) is not None:
            raise
        return None
    head = gitio.head_commit(manual.repo)
    if head is None:
        return point.id, point.commit
    notes = [f"releases/{p.id}/notes" for p in published(manual)
             if (p.release.date, p.id) <= (point.release.date, point.id)]
    if all(gitio.tree_id(manual.repo, head, n) == gitio.tree_id(manual.repo, point.commit, n)
           for n in notes):
        return point.id, point.commit
    return point.id, gitio.overlay_commit(
        manual.repo, point.commit, head, notes,
        f"Release {point.id} as it stood, with its notes as corrected since (editorial render "
        "--at)")
