"""Read the whole manual at a git ref, or from the working tree, as a Snapshot."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pipeline import gitio, parsecache, prefetch
from pipeline.chapters import head_layout, parse_chapter, parse_head
from pipeline.chunks import Layout
from pipeline.config import Config
from pipeline.errors import ChapterError
from pipeline.gcpause import without_gc
from pipeline.gitio import Repo
from pipeline.locate import ASSET_SUFFIXES, CHAPTER_SUFFIXES
from pipeline.models import Chapter, Snapshot

# Parsed chapters by (path, blob): the two sides of a diff share most chapters unchanged.
_PARSED: dict[tuple[str, str], Chapter] = {}
_PARSED_LIMIT = 4000


def _parse_cached(path: str, data: bytes, blob: str, disk: Path | None = None,
                  defer: bool = False) -> Chapter:
    chapter = _known(path, blob, disk, lambda: parse_chapter(path, data, blob))
    if chapter is None:
        if defer:
            chapter = _deferred(path, data, blob, disk)
        else:
            chapter = parse_chapter(path, data, blob)
            parsecache.store(disk, chapter)
        _remember(chapter)
    return chapter


def _deferred(path: str, data: bytes, blob: str, disk: Path | None) -> Chapter:
    """The chapter in `data`, checked now, its blocks parsed (and kept in the parse cache)
    when first used: comparing two releases needs the blocks of a changed chapter only, and
    only in the process that compares it (see changes.detect_changes)."""
    head = parse_head(path, data, blob)

    def lay() -> Layout:
        made = head_layout(head)
        parsecache.store_layout(disk, head, made)
        return made

    return parsecache.LazyChapter.of(head, None, lay=lay)


def _known(path: str, blob: str, disk: Path | None, parse: Callable[[], Chapter]
           ) -> Chapter | None:
    """The chapter in file `path` at `blob` if its parse is known: in this process's memory,
    or in the parse cache (its body and blocks then read when first used, or made by `parse`
    if the entry has gone by then)."""
    chapter = _PARSED.get((path, blob))
    if chapter is None:
        chapter = parsecache.load_lazy(disk, path, blob, parse)
        if chapter is not None:
            _remember(chapter)
    return chapter


def _remember(chapter: Chapter) -> None:
    if len(_PARSED) >= _PARSED_LIMIT:
        _PARSED.clear()
    _PARSED[chapter.path, chapter.blob] = chapter


def read_pair(config: Config, repo: Repo, old: str, new: str, defer: bool = False
              ) -> tuple[Snapshot, Snapshot]:
    """`read_snapshot` of two commits, git reading the files the second one needs (those not
    in the first at the same path, nor in the parse cache) while the first one is read."""
    disk = parsecache.folder(repo.git_dir)
    read = prefetch.taken(str(config.root), config.procedures, (old, new))
    if read is not None:
        gitio.adopt(repo, read.commits, config.procedures, read.listings)
    listings = [gitio.list_files(repo, gitio.resolve(repo, ref), config.procedures)
                for ref in (old, new)]
    early = [blob for path, blob in listings[1].items()
             if listings[0].get(path) != blob and not path.lower().endswith(ASSET_SUFFIXES)
             and not parsecache.kept(disk, path, blob)]
    firsts: gitio.Ahead | None = None
    ahead: gitio.Ahead | None = None
    if read is not None:
        firsts = gitio.Ahead.written(*read.blobs(0))
        ahead = gitio.Ahead.written(*read.blobs(1)) if early else None
    elif early:
        ahead = gitio.Ahead(repo, early)
    try:
        first = read_snapshot(config, repo, old, defer, firsts)
        return first, read_snapshot(config, repo, new, defer, ahead)
    finally:
        prefetch.stop()
        if ahead is not None:
            ahead.close()


@without_gc
def read_snapshot(config: Config, repo: Repo | None, ref: str | None,
                  defer: bool = False, ahead: gitio.Ahead | None = None) -> Snapshot:
    """The manual at `ref` (a tag, branch or commit), or in the working tree when ref is None.
    At a ref, a file's bytes are read only when its parse is not already known, from `ahead`
    when it has them all. With `defer`, every chapter is checked now but its blocks are
    parsed when first used (a comparison needs only those of changed chapters)."""
    disk = parsecache.folder(repo.git_dir) if repo is not None else None
    commit = None
    chapters = []
    if ref is None:
        for path, data, blob in _worktree_files(config):
            if path.lower().endswith(CHAPTER_SUFFIXES):
                chapters.append(_parse_cached(path, data, blob, disk, defer))
            else:
                _refuse_binary(path, data)
    else:
        assert repo is not None
        commit = gitio.resolve(repo, ref)
        listing = gitio.list_files(repo, commit, config.procedures)
        known = {path: _known(path, blob, disk, partial(_parse_blob, repo, path, blob))
                 for path, blob in listing.items() if path.lower().endswith(CHAPTER_SUFFIXES)}
        # One read for all the files whose parse is not known (images are never read), each
        # file checked as it arrives while git reads the next ones; the first problem in
        # file order is raised once all are read, as when they were read first.
        unread: dict[str, list[str]] = {}
        for path, blob in listing.items():
            if known.get(path) is None and (path in known
                                            or not path.lower().endswith(ASSET_SUFFIXES)):
                unread.setdefault(blob, []).append(path)
        outcome: dict[str, Chapter | ChapterError | None] = {}
        stream = ahead.take(unread) if ahead is not None and unread else None
        for blob, data in stream or gitio.blobs_stream(repo, unread):
            for path in unread[blob]:
                try:
                    if path in known:
                        outcome[path] = _parse_cached(path, data, blob, disk, defer)
                    else:
                        _refuse_binary(path, data)
                except ChapterError as exc:
                    outcome[path] = exc
        for path in listing:
            found = known.get(path) or outcome.get(path)
            if isinstance(found, ChapterError):
                raise found
            if found is not None:
                chapters.append(found)
    _refuse_duplicates(chapters)
    return Snapshot(ref=ref, commit=commit, chapters=tuple(sort_chapters(config, chapters)))


def _parse_blob(repo: Repo, path: str, blob: str) -> Chapter:
    return parse_chapter(path, gitio.blob_bytes(repo, blob), blob)


def _refuse_binary(path: str, data: bytes) -> None:
    if not path.lower().endswith(ASSET_SUFFIXES) and b"\0" in data[:8000]:
        raise ChapterError("binary file under the procedures folder (only Markdown "
                           "chapters and their images belong there)", path)


def _worktree_files(config: Config) -> list[tuple[str, bytes, str]]:
    root = config.procedures_dir
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(root).parts):
            data = path.read_bytes()
            rel = path.relative_to(config.root).as_posix()
            out.append((rel, data, _blob_id(data)))
    return out


def _blob_id(data: bytes) -> str:
    """The id git would give these bytes, so working-tree and committed chapters compare."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _refuse_duplicates(chapters: list[Chapter]) -> None:
    seen: dict[str, str] = {}
    for chapter in sorted(chapters, key=lambda c: c.path):
        if chapter.id in seen:
            raise ChapterError(f"duplicate id '{chapter.id}' (also in {seen[chapter.id]})",
                               chapter.path)
        seen[chapter.id] = chapter.path


def natural_key(text: str) -> tuple[object, ...]:
    """'CP10' sorts after 'CP9'."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text))


def sort_chapters(config: Config, chapters: list[Chapter]) -> list[Chapter]:
    """Reading order: part order, then the chapter's `order`, then its id."""
    return sorted(chapters, key=lambda c: (config.part(c.part).order, c.part,
                                           c.order if c.order is not None else 10**9,
                                           natural_key(c.id)))


def chapter_file(config: Config, chapter: Chapter) -> Path:
    return config.root / chapter.path
