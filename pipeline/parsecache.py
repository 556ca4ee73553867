"""Parsed chapters kept between runs, inside the repository's git folder.

A chapter file's blob id names its bytes, so its parse can be kept and reused by every later
run: the base release is read again by each `changes`, and most chapters of the working tree
are the same blobs as in the last commit. Entries live in `<git dir>/editorial-cache/`, so
they are never committed or shown by `git status`. An entry is keyed by the blob, the path
and a fingerprint of the parser's own source, so a changed parser never reads stale entries.
Anything unreadable is ignored and parsed afresh. `EDITORIAL_CACHE=0` turns the cache off.

An entry holds the chapter's head (id, title, part, front matter: a few hundred bytes) before
its body and blocks (most of it). `load_lazy` reads the head alone and gives a chapter whose
body and blocks are read when first used: comparing two releases needs the blocks of a
chapter only when its text changed and that change is not already known (see diffcache).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import struct
from collections.abc import Callable
from dataclasses import fields
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from pipeline.models import Block, Chapter, Link

ENTRY_LIMIT = 4000  # about 100 KB each for a long chapter
_FOLDER = "editorial-cache"


def source_digest(*names: str, modules: tuple[str, ...] = ()) -> str:
    """sha1 of some of the package's own source files and of installed modules' source (a
    module's version is in its source, and reading it is cheaper than importlib.metadata)."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha1()
    for name in names:
        digest.update((here / name).read_bytes())
    for module in modules:
        try:
            spec = find_spec(module)
            if spec is not None and spec.origin:
                digest.update(Path(spec.origin).read_bytes())
        except (ImportError, OSError, ValueError):  # a missing module only weakens the key
            pass
    return digest.hexdigest()[:12]


@cache
def fingerprint() -> str:
    """Changes whenever the parser or the model does."""
    return source_digest("chapters.py", "chunks.py", "models.py", "parsecache.py",
                         modules=("markdown_it",))


def folder(git_dir: str | os.PathLike[str] | None) -> Path | None:
    if git_dir is None or os.environ.get("EDITORIAL_CACHE", "1") == "0":
        return None
    return Path(git_dir) / _FOLDER / fingerprint()


def entry_path(root: Path, *key: str) -> Path:
    digest = hashlib.sha1("\0".join(key).encode()).hexdigest()
    return root / digest[:2] / f"{digest}.bin"


def _entry(root: Path, path: str, blob: str) -> Path:
    return entry_path(root, path, blob)


# Entries are marshalled plain tuples: several times faster to write and read than pickled
# dataclasses, and unable to run code when read. Layout: the head's length (4 bytes), the
# head (field names, chapter fields but body and blocks), then the body and block rows.
_BLOCK_FIELDS = tuple(f.name for f in fields(Block))
_LAZY = ("body", "blocks")
_HEAD_FIELDS = tuple(f.name for f in fields(Chapter) if f.name not in _LAZY)
_LENGTH = struct.Struct("<I")


def block_row(block: Block) -> dict[str, Any]:
    """A block as plain values (its links as pairs), for marshal."""
    row = dict(block.__dict__)
    if row["links"]:
        row["links"] = tuple((lk.text, lk.url) for lk in row["links"])
    return row


_new = object.__new__
_set = object.__setattr__


def block_of(row: dict[str, Any]) -> Block:
    """The block `block_row` gave. Its values were made by the parser and checked then, so
    they are set as they are: this runs for every block read, and a dataclass's own
    constructor is several times slower."""
    block = _new(Block)
    if row["links"]:
        row["links"] = tuple(Link(text, url) for text, url in row["links"])
    _set(block, "__dict__", row)
    return block


def _encode(chapter: Chapter) -> bytes:
    head = marshal.dumps((_BLOCK_FIELDS, _HEAD_FIELDS,
                          tuple(getattr(chapter, name) for name in _HEAD_FIELDS)))
    rest = marshal.dumps((chapter.body, [block_row(b) for b in chapter.blocks]))
    return _LENGTH.pack(len(head)) + head + rest


def _head(head: bytes) -> dict[str, Any] | None:
    """The chapter fields of an entry's head: all but body and blocks (None: another
    layout)."""
    block_fields, head_fields, values = marshal.loads(head)
    if block_fields != _BLOCK_FIELDS or head_fields != _HEAD_FIELDS:
        return None
    return dict(zip(_HEAD_FIELDS, values, strict=True))


def _rest(data: bytes) -> dict[str, Any]:
    (size,) = _LENGTH.unpack_from(data)
    body, rows = marshal.loads(data[_LENGTH.size + size:])
    return {"body": body, "blocks": tuple(map(block_of, rows))}


def _decode(data: bytes) -> Chapter | None:
    (size,) = _LENGTH.unpack_from(data)
    head = _head(data[_LENGTH.size: _LENGTH.size + size])
    if head is None:
        return None
    return Chapter(**head, **_rest(data))


def load(root: Path | None, path: str, blob: str) -> Chapter | None:
    """The whole chapter from its entry, or None."""
    if root is None:
        return None
    try:
        chapter = _decode(_entry(root, path, blob).read_bytes())
    except Exception:  # a missing or damaged entry is parsed again
        return None
    if chapter is not None and chapter.path == path and chapter.blob == blob:
        return chapter
    return None


class _Deferred:
    """A field of a LazyChapter: read from the cache entry the first time it is used."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: LazyChapter | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        state = obj.__dict__
        if self.name not in state:
            obj._fill()
        return state[self.name]

    def __set__(self, obj: LazyChapter, value: Any) -> None:
        obj.__dict__[self.name] = value


class LazyChapter(Chapter):
    """A Chapter whose body and blocks are read from its cache entry when first used (and
    parsed from the file's bytes if the entry has gone meanwhile). It equals, hashes, copies
    and pickles as the Chapter it stands for."""

    body = _Deferred()  # type: ignore[assignment]
    blocks = _Deferred()  # type: ignore[assignment]

    @classmethod
    def of(cls, head: dict[str, Any], entry: Path,
           parse: Callable[[], Chapter]) -> LazyChapter:
        chapter = object.__new__(cls)
        state = chapter.__dict__
        state.update(head)
        state["_entry"] = entry
        state["_parse"] = parse
        return chapter

    def _fill(self) -> None:
        state = self.__dict__
        try:
            state.update(_rest(state["_entry"].read_bytes()))
        except Exception:  # the entry went (pruned, damaged): parse the file
            parsed = state["_parse"]()
            state["body"], state["blocks"] = parsed.body, parsed.blocks

    def plain(self) -> Chapter:
        return Chapter(**{f.name: getattr(self, f.name) for f in fields(Chapter)})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Chapter):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Chapter))

    def __hash__(self) -> int:
        return hash(self.plain())

    def __reduce__(self) -> tuple[Any, ...]:
        return (Chapter, tuple(getattr(self, f.name) for f in fields(Chapter)))


def load_lazy(root: Path | None, path: str, blob: str,
              parse: Callable[[], Chapter]) -> Chapter | None:
    """The chapter from its entry, its body and blocks read when first used; None when
    there is no readable entry. `parse` makes the chapter from the file if the entry is gone
    by the time the body is wanted."""
    if root is None or not _present(root):
        return None
    entry = _entry(root, path, blob)
    try:
        with entry.open("rb") as handle:
            (size,) = _LENGTH.unpack(handle.read(_LENGTH.size))
            head = _head(handle.read(size))
    except Exception:  # a missing or damaged entry is parsed again
        return None
    if head is None or head.get("path") != path or head.get("blob") != blob:
        return None
    return LazyChapter.of(head, entry, parse)


_stored = 0


def store(root: Path | None, chapter: Chapter) -> None:
    write(root, _entry(root, chapter.path, chapter.blob) if root else None,
          lambda: _encode(chapter))


def write(root: Path | None, target: Path | None, data: Callable[[], bytes]) -> None:
    """Write an entry (atomically: a reader never sees half of one)."""
    global _stored
    if root is None or target is None:
        return
    _stored += 1
    if _stored == 1:
        prune(root)  # once a process, and only in one that adds entries
    temp = target.with_suffix(f".{os.getpid()}.tmp")
    try:
        content = data()
        try:
            temp.write_bytes(content)
        except FileNotFoundError:  # a new folder (looked for only then: slow on some disks)
            target.parent.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(content)
        os.replace(temp, target)
        _PRESENT[root] = True
    except OSError:
        return  # a read-only repository still works, only slower


_PRESENT: dict[Path, bool] = {}


def _present(root: Path) -> bool:
    """Whether the cache folder existed when this process first looked: a first run, which
    finds nothing, does not look for each entry in turn."""
    if root not in _PRESENT:
        _PRESENT[root] = root.is_dir()
    return _PRESENT[root]


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
