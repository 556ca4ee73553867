"""A manual opened for work: its config and its git repository, and the snapshots between
which its changes are detected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline import diffcache, gitio
from pipeline.changes import detect_changes
from pipeline.config import CONFIG_NAME, Config, default_config_text, find_root, load_config
from pipeline.errors import EditorialError
from pipeline.fsutil import atomic_write
from pipeline.gitio import Repo
from pipeline.models import Change, Release, Snapshot
from pipeline.releases import base_commit, open_release, resolve_ref
from pipeline.snapshot import read_pair, read_snapshot

WORKTREE = "WORKTREE"  # how the working tree is named in reports


@dataclass(frozen=True)
class Manual:
    config: Config
    repo: Repo

    @property
    def root(self) -> Path:
        return self.config.root

    def snapshot(self, ref: str | None, defer: bool = False) -> Snapshot:
        """The manual at a release id or git ref; the working tree when ref is None. With
        `defer`, chapters' blocks are parsed when first used (see read_snapshot)."""
        if ref is None or ref == WORKTREE:
            return read_snapshot(self.config, self.repo, None, defer)
        commit = resolve_ref(self.config, self.repo, ref)
        snap = read_snapshot(self.config, self.repo, commit, defer)
        return Snapshot(ref=ref, commit=snap.commit, chapters=snap.chapters)

    def snapshots(self, old: str, new: str | None, defer: bool = False
                  ) -> tuple[Snapshot, Snapshot]:
        """`snapshot(old)` and `snapshot(new)`, git reading the second's files while the
        first's are read when both are refs."""
        if new is None or new == WORKTREE:
            return self.snapshot(old, defer), self.snapshot(new, defer)
        first, second = read_pair(self.config, self.repo, resolve_ref(self.config, self.repo, old),
                                  resolve_ref(self.config, self.repo, new), defer)
        return (Snapshot(ref=old, commit=first.commit, chapters=first.chapters),
                Snapshot(ref=new, commit=second.commit, chapters=second.chapters))


@dataclass(frozen=True)
class ChangeSet:
    """The changes between two states of the manual."""

    from_ref: str | None  # None: nothing before (a first release)
    to_ref: str
    old: Snapshot | None
    new: Snapshot
    changes: tuple[Change, ...]

    def only_chapter(self, chapter_id: str) -> ChangeSet:
        """The changes touching one chapter (by its old or new id)."""
        kept = tuple(c for c in self.changes
                     if chapter_id in (c.chapter, c.old_chapter, c.new_chapter)
                     or chapter_id in c.chapters)
        return ChangeSet(self.from_ref, self.to_ref, self.old, self.new, kept)

    def to_json(self) -> dict[str, object]:
        return {"from": self.from_ref, "to": self.to_ref,
                "changes": [c.to_json() for c in self.changes]}


def open_manual(start: Path, explicit: bool = False) -> Manual:
    """The manual at `start` (given with -C) or the nearest one above it."""
    root = start.resolve() if explicit else find_root(start)
    config = load_config(root)
    return Manual(config=config, repo=gitio.open_repo(root))


def init_manual(folder: Path, name: str) -> Path:
    """Make a manual repository: editorial.toml, procedures/, releases/, git init."""
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / CONFIG_NAME
    if config_path.exists():
        raise EditorialError("already a manual (editorial.toml exists)", str(config_path))
    gitio.init_repo(folder)
    atomic_write(config_path, default_config_text(name))
    for sub in ("procedures", "releases"):
        (folder / sub).mkdir(exist_ok=True)
        keep = folder / sub / ".gitkeep"
        if not any((folder / sub).iterdir()):
            keep.write_text("")
    return folder


def compare(manual: Manual, from_ref: str | None, to_ref: str | None) -> ChangeSet:
    """Changes between two refs (release ids or git refs; None `to_ref` is the working tree)."""
    # Deferred: only the chapters whose text changed are parsed, each in the process that
    # compares it (changes.all_body_changes).
    if from_ref is not None:
        old, new = manual.snapshots(from_ref, to_ref, defer=True)
    else:
        old, new = None, manual.snapshot(to_ref, defer=True)
    return ChangeSet(from_ref=from_ref, to_ref=to_ref or WORKTREE, old=old, new=new,
                     changes=tuple(detect_changes(old, new,
                                                  diffcache.open_cache(manual.repo.git_dir))))


def release_changes(manual: Manual, release: Release | None = None,
                    to_ref: str | None = None) -> ChangeSet:
    """Changes of a release: its base against the working tree (or `to_ref`)."""
    release = release or open_release(manual.config)
    base = base_commit(manual.config, manual.repo, release.base) if release.base else None
    change_set = compare(manual, base, to_ref)
    return ChangeSet(from_ref=release.base, to_ref=change_set.to_ref, old=change_set.old,
                     new=change_set.new, changes=change_set.changes)
