"""A cache for history commands, always correct because every key is content-addressed.

Keys name what a value was computed from by git ids (a blob, a commit pair) or by the sha1 of
bytes, and every key carries the sha1 of the tool's own source, so a new version of the code
never reads what an old one wrote. Nothing is ever invalidated: new commits, edits and
corrections make new keys, and an answer for old keys stays true (as in reno's cache, but
without its need to be rebuilt by hand).

Stored in `<git dir>/editorial/cache.sqlite` (never in the working tree, so it is never
committed). Best effort: a cache that cannot be opened or written is simply not used.
`EDITORIAL_CACHE=0` turns it off, as it does the parse cache (pipeline/parsecache.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import sqlite3
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from pipeline import models

_TYPES: dict[str, type] = {c.__name__: c for c in (
    models.Block, models.Chapter, models.Change, models.Entry, models.Link, models.Place,
    models.Segment)}


@cache
def code_version() -> str:
    """sha1 of the package's source: values computed by other code are never read back."""
    digest = hashlib.sha1()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def encode(value: Any) -> Any:
    """Frozen dataclasses, tuples and datetimes as JSON-able values (see `decode`)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"@": type(value).__name__,
                **{f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return {"@dt": value.isoformat(), "@date": not isinstance(value, dt.datetime)}
    return value


def decode(value: Any) -> Any:
    """The inverse of `encode`: the models hold tuples only, so every list becomes a tuple."""
    if isinstance(value, list):
        return tuple(decode(v) for v in value)
    if isinstance(value, dict):
        if "@dt" in value:
            text = value["@dt"]
            return dt.date.fromisoformat(text) if value["@date"] else \
                dt.datetime.fromisoformat(text)
        kind = _TYPES[value["@"]]
        return kind(**{k: decode(v) for k, v in value.items() if k != "@"})
    return value


class Cache:
    """Key -> JSON value; a no-op when `path` is None."""

    def __init__(self, path: Path | None) -> None:
        self._db: sqlite3.Connection | None = None
        self._pending: dict[str, bytes] = {}
        if path is None or os.environ.get("EDITORIAL_CACHE", "1") == "0":
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=2, isolation_level=None)
            self._db.execute("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v BLOB)")
        except (sqlite3.Error, OSError):
            self._db = None

    def key(self, kind: str, *parts: str) -> str:
        return "\0".join((code_version(), kind, *parts))

    def get(self, key: str) -> Any:
        if key in self._pending:
            return json.loads(zlib.decompress(self._pending[key]))
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return json.loads(zlib.decompress(row[0])) if row else None

    def put(self, key: str, value: Any) -> None:
        if self._db is not None:
            self._pending[key] = zlib.compress(json.dumps(value).encode(), 1)

    def flush(self) -> None:
        """Write what was computed, in one transaction; a busy or read-only database is
        skipped (the values will be computed again next time)."""
        if self._db is None or not self._pending:
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                # What other versions of the tool wrote can never be read by this one.
                self._db.execute("DELETE FROM kv WHERE substr(k, 1, ?) != ?",
                                 (len(code_version()) + 1, code_version() + "\0"))
                self._db.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)",
                                     list(self._pending.items()))
        except sqlite3.Error:
            pass
        self._pending.clear()
