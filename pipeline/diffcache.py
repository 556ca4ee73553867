"""The body changes of two versions of a chapter, kept between runs beside the parse cache.

Two blob ids name two texts, so what the engine finds between them (`changes.body_changes`:
the block diff, its redlines, the renumbering folded) is the same on every run, and every
command of a release (`changes`, `status`, `check`, `annotate`, `render`, `publish`) compares
the same base with a working tree that moves a few chapters at a time. So the result is kept
under `<git dir>/editorial-cache/`, keyed by the two blob ids and a fingerprint of the
engine's source (and of diff-match-patch's), and read back instead of parsing and diffing the
chapters again. Best effort, like the parse cache: an unreadable entry is computed afresh, and
`EDITORIAL_CACHE=0` turns it off.
"""

from __future__ import annotations

import marshal
import os
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

from pipeline import parsecache
from pipeline.blockdiff import Piece
from pipeline.models import Change, Place, Segment, made

FOLDER = "changes"  # inside the parse cache's folder, so pruned with it
_CHANGE_FIELDS = tuple(f.name for f in fields(Change))
_REDLINE = _CHANGE_FIELDS.index("redline")
_PLACES = _CHANGE_FIELDS.index("places")


@cache
def fingerprint() -> str:
    """Changes whenever the code that finds a chapter's body changes does."""
    return parsecache.source_digest(
        "align.py", "blockdiff.py", "changes.py", "chunks.py", "diffcache.py", "locations.py",
        "models.py",
        "redline.py", "renumbering.py", modules=("diff_match_patch",))


def _change_row(change: Change) -> tuple[Any, ...]:
    row = [getattr(change, name) for name in _CHANGE_FIELDS]
    row[_REDLINE] = tuple((s.op, s.text) for s in change.redline)
    row[_PLACES] = tuple((p.chapter, p.location, p.line) for p in change.places)
    return tuple(row)


def _change_of(row: tuple[Any, ...]) -> Change:
    """The change `_change_row` gave. Its values were made by the engine, so they are set as
    they are (the dataclasses' constructors cost more than the rest of reading them)."""
    values = list(row)
    values[_REDLINE] = tuple(made(Segment, {"op": op, "text": text})
                             for op, text in row[_REDLINE])
    values[_PLACES] = tuple(Place(*p) for p in row[_PLACES])
    return made(Change, dict(zip(_CHANGE_FIELDS, values, strict=True)))


def encode_pieces(pieces: list[Piece]) -> bytes:
    """The body changes of a pair of chapters, as bytes: an entry, or what a forked process
    sends back (see halves.in_two)."""
    return marshal.dumps((_CHANGE_FIELDS, [
        (_change_row(p.change),
         parsecache.block_row(p.old_block) if p.old_block is not None else None,
         parsecache.block_row(p.new_block) if p.new_block is not None else None,
         p.candidate) for p in pieces]))


def decode_pieces(data: bytes) -> list[Piece]:
    """The body changes `encode_pieces` gave; ValueError for another layout's."""
    names, rows = marshal.loads(data)
    if names != _CHANGE_FIELDS:
        raise ValueError("body changes of another layout")
    return [Piece(_change_of(change),
                  parsecache.block_of(old) if old is not None else None,
                  parsecache.block_of(new) if new is not None else None, candidate)
            for change, old, new, candidate in rows]


class DiffCache:
    """Body changes by (old blob, new blob), in the pack files of one folder (see
    parsecache.Pack): listed once, so looking for an entry that is not there costs nothing,
    and a run that adds many entries makes one file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pack = parsecache.pack(folder)

    def _key(self, old_blob: str, new_blob: str) -> bytes:
        return parsecache.key_digest("body changes", fingerprint(), old_blob, new_blob)

    def get(self, old_blob: str, new_blob: str) -> list[Piece] | None:
        data = self._pack.get(self._key(old_blob, new_blob))
        if data is None:
            return None
        try:
            return decode_pieces(data)
        except Exception:  # a damaged entry, or another layout's, is computed again
            return None

    def put(self, old_blob: str, new_blob: str, pieces: list[Piece]) -> None:
        kept = list(pieces)  # as they are now, whenever the entry is written
        self._pack.add(self._key(old_blob, new_blob), lambda: encode_pieces(kept))


def open_cache(git_dir: str | os.PathLike[str] | None) -> DiffCache | None:
    root = parsecache.folder(git_dir)
    return DiffCache(root / FOLDER) if root is not None else None
