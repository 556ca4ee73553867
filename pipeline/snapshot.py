"""Read the whole manual at a git ref, or from the working tree, as a Snapshot."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import git

from pipeline import gitio, parsecache
from pipeline.chapters import parse_chapter
from pipeline.config import Config
from pipeline.errors import ChapterError
from pipeline.models import Chapter, Snapshot

CHAPTER_SUFFIXES = (".md", ".markdown")
# Files that may sit beside chapters (imported images); they are not chapters.
ASSET_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".emf", ".wmf", ".bmp",
                  ".tif", ".tiff", ".pdf")

# Parsed chapters by (path, blob): the two sides of a diff share most chapters unchanged.
_PARSED: dict[tuple[str, str], Chapter] = {}
_PARSED_LIMIT = 4000


def _parse_cached(path: str, data: bytes, blob: str, disk: Path | None = None) -> Chapter:
    key = (path, blob)
    chapter = _PARSED.get(key)
    if chapter is None:
        chapter = parsecache.load(disk, path, blob)
        if chapter is None:
            chapter = parse_chapter(path, data, blob)
            parsecache.store(disk, chapter)
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[key] = chapter
    return chapter


def read_snapshot(config: Config, repo: git.Repo | None, ref: str | None) -> Snapshot:
    """The manual at `ref` (a tag, branch or commit), or in the working tree when ref is None."""
    if ref is None:
        files = _worktree_files(config)
        commit = None
    else:
        assert repo is not None
        commit = gitio.resolve(repo, ref)
        files = [(f.path, f.data, f.blob) for f in gitio.read_tree(repo, commit, config.procedures)]
    chapters = []
    disk = parsecache.folder(repo.git_dir) if repo is not None else None
    for path, data, blob in files:
        if path.lower().endswith(CHAPTER_SUFFIXES):
            chapters.append(_parse_cached(path, data, blob, disk))
        elif not path.lower().endswith(ASSET_SUFFIXES) and b"\0" in data[:8000]:
            raise ChapterError("binary file under the procedures folder (only Markdown "
                               "chapters and their images belong there)", path)
    _refuse_duplicates(chapters)
    return Snapshot(ref=ref, commit=commit, chapters=tuple(sort_chapters(config, chapters)))


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
