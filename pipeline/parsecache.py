"""Parsed chapters kept between runs, inside the repository's git folder.

A chapter file's blob id names its bytes, so its parse can be kept and reused by every later
run: the base release is read again by each `changes`, and most chapters of the working tree
are the same blobs as in the last commit. Entries live in `<git dir>/editorial-cache/`, so
they are never committed or shown by `git status`. An entry is keyed by the blob, the path
and a fingerprint of the parser's own source, so a changed parser never reads stale entries.
Anything unreadable is ignored and parsed afresh. `EDITORIAL_CACHE=0` turns the cache off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from dataclasses import fields
from functools import cache
from pathlib import Path

from pipeline.models import Block, Chapter, Link

ENTRY_LIMIT = 4000  # about 100 KB each for a long chapter
_FOLDER = "editorial-cache"


@cache
def fingerprint() -> str:
    """Changes whenever the parser or the model does."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha1()
    for name in ("chapters.py", "chunks.py", "models.py", "parsecache.py"):
        digest.update((here / name).read_bytes())
    try:
        from importlib.metadata import version
        digest.update(version("markdown-it-py").encode())
    except Exception:  # a missing version only weakens the key
        pass
    return digest.hexdigest()[:12]


def folder(git_dir: str | os.PathLike[str] | None) -> Path | None:
    if git_dir is None or os.environ.get("EDITORIAL_CACHE", "1") == "0":
        return None
    return Path(git_dir) / _FOLDER / fingerprint()


def _entry(root: Path, path: str, blob: str) -> Path:
    key = hashlib.sha1(f"{path}\0{blob}".encode()).hexdigest()
    return root / key[:2] / f"{key}.bin"


# Entries are marshalled plain tuples: several times faster to write and read than pickled
# dataclasses, and unable to run code when read.
_BLOCK_FIELDS = tuple(f.name for f in fields(Block))
_CHAPTER_FIELDS = tuple(f.name for f in fields(Chapter) if f.name != "blocks")


def _encode(chapter: Chapter) -> bytes:
    blocks = [tuple((tuple((lk.text, lk.url) for lk in value) if name == "links" else value)
                    for name, value in zip(_BLOCK_FIELDS, b.__dict__.values(), strict=True))
              for b in chapter.blocks]
    head = tuple(getattr(chapter, name) for name in _CHAPTER_FIELDS)
    return marshal.dumps((_BLOCK_FIELDS, _CHAPTER_FIELDS, head, blocks))


def _decode(data: bytes) -> Chapter | None:
    block_fields, chapter_fields, head, rows = marshal.loads(data)
    if block_fields != _BLOCK_FIELDS or chapter_fields != _CHAPTER_FIELDS:
        return None
    blocks = []
    for row in rows:
        block = object.__new__(Block)
        # The values were made by the parser and checked then: set them as they are.
        state = block.__dict__
        state.update(zip(_BLOCK_FIELDS, row, strict=True))
        state["links"] = tuple(Link(text, url) for text, url in state["links"])
        blocks.append(block)
    return Chapter(**dict(zip(_CHAPTER_FIELDS, head, strict=True)), blocks=tuple(blocks))


def load(root: Path | None, path: str, blob: str) -> Chapter | None:
    if root is None:
        return None
    try:
        chapter = _decode(_entry(root, path, blob).read_bytes())
    except Exception:  # a missing or damaged entry is parsed again
        return None
    if chapter is not None and chapter.path == path and chapter.blob == blob:
        return chapter
    return None


_stored = 0


def store(root: Path | None, chapter: Chapter) -> None:
    global _stored
    if root is None:
        return
    _stored += 1
    if _stored == 1:
        prune(root)  # once a process, and only in one that adds entries
    target = _entry(root, chapter.path, chapter.blob)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_suffix(f".{os.getpid()}.tmp")
        temp.write_bytes(_encode(chapter))
        os.replace(temp, target)
    except OSError:
        return  # a read-only repository still works, only slower


def prune(root: Path | None, limit: int = ENTRY_LIMIT) -> None:
    """Drop the oldest entries beyond `limit`, and caches of older parsers."""
    if root is None or not root.parent.is_dir():
        return
    try:
        for other in root.parent.iterdir():
            if other != root and other.is_dir():
                for stale in other.rglob("*"):
                    if stale.is_file():
                        stale.unlink()
        if not root.is_dir():
            return
        entries = list(root.rglob("*.bin"))
        if len(entries) > limit:
            entries.sort(key=lambda p: p.stat().st_mtime)
            for old in entries[: len(entries) - limit]:
                old.unlink()
    except OSError:
        return
