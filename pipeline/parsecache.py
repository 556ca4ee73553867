"""Parsed chapters kept between runs, inside the repository's git folder.

A chapter file's blob id names its bytes, so its parse can be kept and reused by every later
run: the base release is read again by each `changes`, and most chapters of the working tree
are the same blobs as in the last commit. Entries live in `<git dir>/editorial-cache/`, so
they are never committed or shown by `git status`. An entry is keyed by the blob, the path
and a fingerprint of the parser's own source, so a changed parser never reads stale entries.
Anything unreadable is ignored and parsed afresh. `EDITORIAL_CACHE=0` turns the cache off.

Entries are kept in pack files: a process appends every entry it adds to one file of its own
(`Pack`), so a first run over a manual makes one file, not one per chapter (making a file
costs far more than writing a hundred kilobytes into it on common disks). A record is the
entry's key digest and length, then the entry; a reader lists the records of every pack once
per process, and a record cut short (a writer still at work, a full disk) is not listed.

An entry holds the chapter's head (id, title, part, front matter: a few hundred bytes) before
its body and blocks (most of it). `load_lazy` reads the head alone and gives a chapter whose
body and blocks are read when first used: comparing two releases needs the blocks of a
chapter only when its text changed and that change is not already known (see diffcache).

Writing entries costs a first run over a large manual a sixth of its time, and nothing it
prints depends on them. So the `editorial` program holds them (`hold`: given as functions,
they are not even encoded yet) and, once its answer is out, leaves them to a detached process
of its own (`release_detached`), as git leaves its housekeeping to `gc --auto`. A writer holds
a shared lock on `<git dir>/editorial-cache/writing.lock` from its first held entry until its
last is written, so `wait_for_writers` can wait for every one (the benchmark does).
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
from itertools import accumulate, chain, pairwise
from pathlib import Path
from typing import Any

from pipeline import halves
from pipeline.chunks import Layout
from pipeline.locate import CACHE_FOLDER
from pipeline.models import Block, Chapter, Link, made

ENTRY_LIMIT = 256  # pack files kept (one per run that added entries)
SIZE_LIMIT = 400 * 1024 * 1024  # bytes of packs kept: about 4000 long chapters


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
    return Path(git_dir) / CACHE_FOLDER / fingerprint()


def key_digest(*key: str) -> bytes:
    return hashlib.sha1("\0".join(key).encode()).digest()


_RECORD = struct.Struct("<20sI")  # key digest, entry length


class Pack:
    """The entries of one folder, in pack files (`<pid>-<random>.bin`). Listed once per
    process; what this process adds is appended to a pack of its own and listed as it goes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: dict[bytes, tuple[Path, int, int]] | None = None
        self._writer: Any = None
        self._writer_pid = 0

    def _listed(self) -> dict[bytes, tuple[Path, int, int]]:
        if self._index is None:
            self._index = {}
            try:
                packs = sorted((e.stat().st_mtime, e.path) for e in os.scandir(self.folder)
                               if e.name.endswith(".bin") and e.is_file())
            except OSError:  # no folder yet: a first run
                packs = []
            for _mtime, name in packs:  # the newest last, so its records win
                self._scan(Path(name))
        return self._index

    def _scan(self, path: Path) -> None:
        assert self._index is not None
        try:
            with path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                at = 0
                while at + _RECORD.size <= size:
                    handle.seek(at)
                    digest, length = _RECORD.unpack(handle.read(_RECORD.size))
                    at += _RECORD.size
                    if at + length > size:
                        break  # cut short: a writer at work, or damage
                    self._index[digest] = (path, at, length)
                    at += length
        except OSError:
            return

    def find(self, digest: bytes) -> tuple[Path, int, int] | None:
        return self._listed().get(digest)

    def get(self, digest: bytes) -> bytes | None:
        """The entry's bytes, or None (absent, or its pack gone or damaged)."""
        where = self.find(digest)
        if where is None:
            return None
        try:
            return read(where)
        except OSError:
            return None

    def add(self, digest: bytes, data: bytes | Callable[[], bytes]) -> None:
        """Append an entry to this process's pack (best effort: a read-only repository
        still works, only slower); while writes are held, later (see `hold`). `data` may be
        a function that makes the bytes, called only when the entry is written (a held entry
        then costs nothing until then); one that raises ValueError writes nothing."""
        if _HELD is not None and _HELD.pid == os.getpid():
            _HELD.entries.append((self, digest, data))
            _HELD.lock(self.folder)
            return
        try:
            if callable(data):
                data = data()
        except ValueError:  # a value marshal cannot keep: made again next time
            return
        try:
            if self._writer is None or self._writer_pid != os.getpid():
                _before_first_write(self.folder)
                self.folder.mkdir(parents=True, exist_ok=True)
                name = f"{os.getpid()}-{os.urandom(4).hex()}.bin"
                self._writer = (self.folder / name).open("ab", buffering=0)
                self._writer_pid = os.getpid()
            self._writer.write(_RECORD.pack(digest, len(data)) + data)
            end = self._writer.tell()
        except OSError:
            return
        self._listed()[digest] = (Path(self._writer.name), end - len(data), len(data))


LOCK_NAME = "writing.lock"


class _Held:
    """Entries added while writes are held, by the process that holds them, with a shared
    lock on each cache they go to (taken at the first entry, while the command still runs),
    so that whoever waits for the writers (`wait_for_writers`) waits for these too."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.entries: list[tuple[Pack, bytes, bytes | Callable[[], bytes]]] = []
        self.locks: dict[Path, int] = {}

    def lock(self, folder: Path) -> None:
        top = _top(folder)
        if top in self.locks:
            return
        try:
            top.mkdir(parents=True, exist_ok=True)
            fd = os.open(top / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return
        self.locks[top] = fd
        _flock(fd, shared=True)

    def unlock(self) -> None:
        for fd in self.locks.values():
            os.close(fd)
        self.locks.clear()


_HELD: _Held | None = None


def _top(folder: Path) -> Path:
    """The cache folder named by this module that holds `folder` (else `folder` itself)."""
    for candidate in (folder, *folder.parents):
        if candidate.name == CACHE_FOLDER:
            return candidate
    return folder


def _flock(fd: int, shared: bool) -> None:
    try:
        import fcntl
    except ImportError:  # no locks here (Windows): writers are not waited for
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
    except OSError:
        return


def hold() -> None:
    """Keep the entries this process adds from now on unwritten (and unmade, when given as
    functions) until `release`: a forked child writes them once its results are sent (see
    halves.in_two), and the `editorial` command once its answer is out (`release_detached`).
    A forked child that holds starts with nothing held: its parent writes its own."""
    global _HELD
    if _HELD is None or _HELD.pid != os.getpid():
        _HELD = _Held()


def release() -> None:
    """Write the entries held since `hold`, and write at once again."""
    global _HELD
    held, _HELD = _HELD, None
    if held is not None and held.pid == os.getpid():
        _write(held)


def _write(held: _Held) -> None:
    try:
        for found, digest, data in held.entries:
            found.add(digest, data)
    finally:
        held.unlock()


def release_detached() -> None:
    """`release`, done by a child process of its own that outlives this one (as git leaves
    its housekeeping to a detached process): this process can end as soon as its answer is
    out, and the child, holding the caches' locks, writes the entries after. Done here where
    there is no fork."""
    global _HELD
    held = _HELD
    if held is None or held.pid != os.getpid() or not held.entries or not hasattr(os, "fork"):
        release()
        return
    _HELD = None
    try:
        pid = os.fork()
    except OSError:
        _write(held)
        return
    if pid == 0:
        status = 1
        try:
            halves.detach_from_caller()
            _write(held)
            status = 0
        finally:
            os._exit(status)
    held.unlock()  # the child's copies of the lock files keep the locks
    # What the entries were to be made of stays referenced: this process is about to end,
    # and freeing a comparison's objects one by one took it 12 ms more.
    _LEFT.append(held)


_LEFT: list[_Held] = []


def wait_for_writers(git_dir: str | os.PathLike[str]) -> None:
    """Return once no process is writing entries to the repository's caches (started
    before this call): what a benchmark does before timing the next run."""
    top = Path(git_dir) / CACHE_FOLDER
    try:
        fd = os.open(top / LOCK_NAME, os.O_RDWR)
    except OSError:
        return  # no cache, or nothing ever held
    try:
        _flock(fd, shared=False)
    finally:
        os.close(fd)


def read(where: tuple[Path, int, int], start: int = 0, length: int | None = None) -> bytes:
    """Bytes of an entry (from `start`, `length` of them); OSError when the pack no longer
    holds them."""
    path, offset, size = where
    want = size - start if length is None else length
    with path.open("rb") as handle:
        handle.seek(offset + start)
        data = handle.read(want)
    if len(data) != want:
        raise OSError(f"{path}: cut short")
    return data


_PACKS: dict[Path, Pack] = {}


def pack(folder: Path) -> Pack:
    """The one Pack of a folder in this process."""
    found = _PACKS.get(folder)
    if found is None:
        found = _PACKS[folder] = Pack(folder)
    return found


def _key(path: str, blob: str) -> bytes:
    return key_digest(path, blob)


# Entries are marshalled plain tuples: several times faster to write and read than pickled
# dataclasses, and unable to run code when read. Layout: the head's length (4 bytes), the
# head (field names, chapter fields but body and blocks), then the body and block rows.
_BLOCK_FIELDS = tuple(f.name for f in fields(Block))
_LAZY = ("body", "blocks")
_HEAD_FIELDS = tuple(f.name for f in fields(Chapter) if f.name not in _LAZY)
_LENGTH = struct.Struct("<I")


def block_row(block: Block) -> dict[str, Any]:
    """A block as plain values (its links as pairs), for marshal: the block's own field dict
    when it has no links (only read, never changed), else a copy."""
    row = block.__dict__
    if row["links"]:
        row = dict(row)
        row["links"] = tuple((lk.text, lk.url) for lk in row["links"])
    return row


def block_of(row: dict[str, Any]) -> Block:
    """The block `block_row` gave (made as the parser made it: see models.made)."""
    if row["links"]:
        row["links"] = tuple(Link(text, url) for text, url in row["links"])
    return made(Block, row)


def _encode(chapter: Chapter) -> bytes:
    layout = Layout.whole(chapter.blocks, chapter.body, chapter.body_line - 1)
    return _encoded({name: getattr(chapter, name) for name in _HEAD_FIELDS}, chapter.body,
                    layout)


def _encoded(head: dict[str, Any], body: str, layout: Layout) -> bytes:
    """The entry of the chapter of `head` and `body` whose blocks `layout` holds, with the
    pieces its body is cut into (see Layout.pieces): a comparison of two cached chapters
    aligns most pieces whole, without cutting their bodies again."""
    top = marshal.dumps((_BLOCK_FIELDS, _HEAD_FIELDS,
                         tuple(head[name] for name in _HEAD_FIELDS)))
    blocks, pieces = layout.placed(), layout.pieces()
    # The block rows of each piece marshalled apart: a comparison reads those of the pieces
    # that changed, and most of an entry's blocks are never made.
    starts = accumulate(pieces[1] if pieces is not None else [len(blocks)], initial=0)
    rows = [marshal.dumps([block_row(b) for b in blocks[a:z]]) for a, z in pairwise(starts)]
    rest = marshal.dumps((body, pieces, rows))
    return _LENGTH.pack(len(top)) + top + rest


def _head(head: bytes) -> dict[str, Any] | None:
    """The chapter fields of an entry's head: all but body and blocks (None: another
    layout)."""
    block_fields, head_fields, values = marshal.loads(head)
    if block_fields != _BLOCK_FIELDS or head_fields != _HEAD_FIELDS:
        return None
    return dict(zip(_HEAD_FIELDS, values, strict=True))


def _parts(data: bytes) -> tuple[str, tuple[list[int], list[int]] | None, list[bytes]]:
    """An entry's body, how it is cut into pieces (see Layout.pieces), and the marshalled
    block rows of each piece."""
    (size,) = _LENGTH.unpack_from(data)
    return marshal.loads(data[_LENGTH.size + size:])  # type: ignore[no-any-return]


def _blocks_of(rows: bytes) -> tuple[Block, ...]:
    return tuple(map(block_of, marshal.loads(rows)))


def _rest(data: bytes) -> dict[str, Any]:
    """The body and blocks of an entry."""
    body, _pieces, rows = _parts(data)
    return {"body": body, "blocks": tuple(chain.from_iterable(map(_blocks_of, rows)))}


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
        data = pack(root).get(_key(path, blob))
        chapter = _decode(data) if data is not None else None
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
        if self.name == "body" and "body" not in state and state["_entry"] is not None:
            obj.layout()  # the body, and each piece's blocks only when asked for
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
    def of(cls, head: dict[str, Any], entry: tuple[Path, int, int] | None,
           parse: Callable[[], Chapter] | None = None, lay: Callable[[], Layout] | None = None
           ) -> LazyChapter:
        """The chapter of `head` whose body and blocks are read from `entry`, or made by
        `parse` if the entry has gone; or, with no entry, whose blocks `lay` lays out without
        placing them (see `layout`)."""
        chapter = object.__new__(cls)
        state = chapter.__dict__
        state.update(head)
        state["_entry"] = entry
        state["_parse"] = parse
        state["_lay"] = lay
        return chapter

    def layout(self) -> Layout:
        """The chapter's blocks as a chunks.Layout: made by `lay` when the blocks are not
        made yet (they are then placed only as they are asked for, and `blocks` places the
        rest from it), else of the blocks."""
        state = self.__dict__
        made = state.get("_layout")
        if made is None:
            lay = state["_lay"]
            if lay is not None and "blocks" not in state:
                made = lay()
            elif "blocks" not in state and state["_entry"] is not None:
                made = self._kept_layout()
            if made is None:
                made = Layout.whole(self.blocks, self.body, self.body_line - 1)
            state["_layout"] = made
        return made

    def _kept_layout(self) -> Layout | None:
        """The layout of the entry's blocks, each piece's made when first asked for; None
        when the entry cannot be read."""
        state = self.__dict__
        try:
            body, pieces, rows = _parts(read(state["_entry"]))
        except Exception:  # the entry went (pruned, damaged): `blocks` parses the file
            return None
        state.setdefault("body", body)
        return Layout.kept(body, self.body_line - 1, pieces, rows, _blocks_of)

    def _fill(self) -> None:
        state = self.__dict__
        if state["_lay"] is not None or "_layout" in state:
            # Every block placed from the layout (made now if not), the body with it.
            state["blocks"] = self.layout().placed()
            return
        if state["_entry"] is not None:
            try:
                state.update(_rest(read(state["_entry"])))
                return
            except Exception:  # the entry went (pruned, damaged): parse the file
                pass
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


def layout_of(chapter: Chapter) -> Layout:
    """The blocks of any chapter as a chunks.Layout (see LazyChapter.layout)."""
    if isinstance(chapter, LazyChapter):
        return chapter.layout()
    return Layout.whole(chapter.blocks, chapter.body, chapter.body_line - 1)


def size_hint(chapter: Chapter) -> int:
    """About how much text `chapter` holds, without reading a body not read yet."""
    state = chapter.__dict__
    body = state.get("body")
    if body is not None:
        return len(body)
    entry = state.get("_entry")
    return entry[2] if entry is not None else 1


def kept(root: Path | None, path: str, blob: str) -> bool:
    """Whether the chapter in file `path` at `blob` has an entry (none is read)."""
    return root is not None and pack(root).find(_key(path, blob)) is not None


def load_lazy(root: Path | None, path: str, blob: str,
              parse: Callable[[], Chapter]) -> Chapter | None:
    """The chapter from its entry, its body and blocks read when first used; None when
    there is no readable entry. `parse` makes the chapter from the file if the entry is gone
    by the time the body is wanted."""
    if root is None:
        return None
    entry = pack(root).find(_key(path, blob))
    if entry is None:
        return None
    pack_path, offset, length = entry
    try:
        with pack_path.open("rb") as handle:  # one open: this runs for every chapter
            handle.seek(offset)
            (size,) = _LENGTH.unpack(handle.read(_LENGTH.size))
            if _LENGTH.size + size > length:
                return None
            head = _head(handle.read(size))
    except Exception:  # a damaged entry is parsed again
        return None
    if head is None or head.get("path") != path or head.get("blob") != blob:
        return None
    return LazyChapter.of(head, entry, parse)


def store(root: Path | None, chapter: Chapter) -> None:
    if root is not None:
        pack(root).add(_key(chapter.path, chapter.blob), lambda: _encode(chapter))


def store_layout(root: Path | None, head: dict[str, Any], layout: Layout) -> None:
    """`store` of the chapter of `head` (every field but blocks, as chapters.parse_head
    gives them) whose blocks are `layout`'s: placed when the entry is written."""
    if root is not None:
        pack(root).add(_key(head["path"], head["blob"]),
                       lambda: _encoded(head, head["body"], layout))


_PRUNED: set[Path] = set()


def _before_first_write(folder: Path) -> None:
    """Prune once a process, and only in one that adds entries."""
    root = folder.parent if folder.name == "changes" else folder
    if root not in _PRUNED:
        _PRUNED.add(root)
        prune(root)


def prune(root: Path | None, limit: int = ENTRY_LIMIT) -> None:
    """Drop the oldest entries beyond `limit`, and caches of older parsers."""
    if root is None or not root.parent.is_dir():
        return
    try:
        # Older parsers' caches are the sibling folders of ours, but only inside the folder
        # this module names: a cache placed anywhere else never touches its neighbours.
        siblings = root.parent.iterdir() if root.parent.name == CACHE_FOLDER else ()
        for other in siblings:
            if other != root and other.is_dir():
                for stale in other.rglob("*"):
                    if stale.is_file():
                        stale.unlink()
        if not root.is_dir():
            return
        entries = sorted(((p.stat(), p) for p in root.rglob("*.bin")),
                         key=lambda e: e[0].st_mtime, reverse=True)
        total = 0
        for count, (stat, old) in enumerate(entries):
            total += stat.st_size
            if count >= limit or total > SIZE_LIMIT:
                old.unlink()
    except OSError:
        return
