"""Change detection between two snapshots of the manual: `detect_changes(old, new)`.

How chapters are paired:
- by id; a chapter whose id is only on one side is paired by content with one only on the
  other side (CHAPTER_THRESHOLD of shared word triples, or less with a close title): that is
  `chapter.renumbered` (a new id or file name, the text kept), and the pair is then compared
  like any other. Chapters
  left over are `chapter.added` / `chapter.removed`: one change each, not one per paragraph.
- same id, another file path or part: `chapter.moved` (location "file", "part" or
  "part and file"); another title: `chapter.retitled` (location "title"); any other front
  matter key changed, added or removed: `metadata.changed` (location "front matter 'key'").

Within a pair of chapters the bodies are compared block by block (see `blockdiff`): a change
of rendered text only counts, so whitespace, markup and heading levels alone are not changes.
Then across the whole manual: deletions that reappear elsewhere become `paragraph.moved`
(`moves`); an inserted or deleted block that is mostly a link (an item of a "Further
information" list) becomes `link.added` / `link.removed` with the URL as new / old and the
item's text in detail; a phrase replaced by the same phrase in several places becomes one
`term.swept` (`sweeps`).

Link changes carry URLs in old / new and the link text in detail["text"].

Ids are `<chapter>-<short kind>-<8 hex of sha1 over kind, chapter and the old and new text>`,
with "-2", "-3"... for exact repeats within a chapter in reading order, and
`term-<8 hex>` for sweeps (from the two phrases). They depend on nothing else (no hash seed,
no other chapter), so the same texts give the same ids on every run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from hashlib import sha1
from typing import Any, Protocol

from pipeline import parsecache
from pipeline.blockdiff import Piece, deleted_pieces, diff_chapter, inserted_pieces, link_only
from pipeline.diffcache import decode_pieces, encode_pieces
from pipeline.gcpause import without_gc
from pipeline.halves import in_two
from pipeline.models import Change, Chapter, Snapshot, with_fields
from pipeline.moves import best_pairs, find_moves
from pipeline.parsecache import size_hint
from pipeline.redline import counter_similarity, shingles, similarity, words
from pipeline.renumbering import fold_renumbering
from pipeline.sweeps import find_sweeps, metadata_sweeps

# Share of word triples two chapters must have in common to be one renamed chapter; less
# is enough when the titles are close ("GitHub Privacy Statement" -> "GitHub General Privacy
# Statement", rewritten at the same time). Unrelated chapters share a few percent at most.
CHAPTER_THRESHOLD = 0.4
CHAPTER_THRESHOLD_SAME_TITLE = 0.2
TITLE_THRESHOLD = 0.6
# Below this many bytes of chapters to compare, a second process costs more than it saves.
FORK_MIN_SIZE = 2_000_000
# The front-matter keys that are chapter-level changes of their own.
_OWN_KEYS = ("id", "title", "part")

SHORT_KINDS = {
    "chapter.added": "added", "chapter.removed": "removed", "chapter.retitled": "retitled",
    "chapter.moved": "moved", "chapter.renumbered": "renumbered", "heading.changed": "heading",
    "paragraph.inserted": "ins", "paragraph.deleted": "del", "paragraph.modified": "mod",
    "paragraph.moved": "move", "table.row.inserted": "row-ins", "table.row.deleted": "row-del",
    "table.row.modified": "row-mod", "link.added": "link-add", "link.removed": "link-del",
    "link.changed": "link-chg", "metadata.changed": "meta", "term.swept": "term",
}
# Chapter-level changes come first in a chapter, in this order; then its body in reading order.
_RANK = {"chapter.added": 0, "chapter.removed": 0, "chapter.renumbered": 1, "chapter.moved": 2,
         "chapter.retitled": 3, "metadata.changed": 4}


class BodyMemo(Protocol):
    """Body changes kept by blob ids (pipeline/diffcache.py)."""

    def get(self, old_blob: str, new_blob: str) -> list[Piece] | None: ...

    def put(self, old_blob: str, new_blob: str, pieces: list[Piece]) -> None: ...


@without_gc
def detect_changes(old: Snapshot | None, new: Snapshot,
                   memo: BodyMemo | None = None) -> list[Change]:
    """Every change from `old` to `new`; nothing when there is no `old` (a first release).
    `memo` keeps the body changes of each pair of chapter versions between runs."""
    if old is None:
        return []
    pairs, gone, came = _pairs_by_id(old, new)
    renamed: list[tuple[Chapter, Chapter]] = []
    renamed_bodies: list[list[Piece]] = []
    whole: list[Piece] = []  # of the chapters added and removed

    def pair_rest() -> None:  # while a second process compares chapters (all_body_changes)
        renamed.extend(_pair_by_content(gone, came) if gone and came else [])
        renamed_bodies.extend(body_changes(before, after, memo) for before, after in renamed)
        paired = {id(c) for pair in renamed for c in pair}
        whole.extend(_whole_chapters([c for c in came if id(c) not in paired],
                                     [c for c in gone if id(c) not in paired]))

    bodies = all_body_changes(pairs, memo, pair_rest)
    order = _chapter_order(old, new)
    pieces: list[Piece] = []
    for (before, after), body in zip(pairs + renamed, bodies + renamed_bodies, strict=True):
        pieces.extend(Piece(c) for c in chapter_changes(before, after))
        pieces.extend(body)
    pieces += whole
    pieces = metadata_sweeps(pieces, order)
    pieces = find_moves(pieces, order)
    pieces = _link_items(pieces)
    pieces = find_sweeps(pieces, order)
    return assign_ids(_in_order(pieces, order))


def _whole_chapters(added: list[Chapter], removed: list[Chapter]) -> list[Piece]:
    """One change for each chapter added or removed, then each of its blocks as a piece a
    move may be made of."""
    pieces: list[Piece] = []
    for chapter in added:
        pieces.append(Piece(Change(id="", kind="chapter.added", chapter=chapter.id,
                                   location="chapter", new=chapter.title, part=chapter.part,
                                   new_path=chapter.path, line=1)))
        pieces.extend(inserted_pieces(chapter))
    for chapter in removed:
        pieces.append(Piece(Change(id="", kind="chapter.removed", chapter=chapter.id,
                                   location="chapter", old=chapter.title, part=chapter.part,
                                   old_path=chapter.path, line=1)))
        pieces.extend(deleted_pieces(chapter))
    return pieces


def all_body_changes(pairs: list[tuple[Chapter, Chapter]], memo: BodyMemo | None = None,
                     meanwhile: Callable[[], None] = lambda: None) -> list[list[Piece]]:
    """`body_changes` of every pair, those not in `memo` shared with a second process when
    there are many (see halves.in_two): each pair is parsed and compared in one process
    only, and only its changes come back. `meanwhile` is done in this process while the
    other one works."""
    out = [_known_body(before, after, memo) for before, after in pairs]
    todo = [k for k, found in enumerate(out) if found is None]
    done = in_two(lambda k: _computed_body(*pairs[k], memo), todo,
                  [size_hint(pairs[k][0]) + size_hint(pairs[k][1]) for k in todo],
                  encode_pieces, decode_pieces, FORK_MIN_SIZE, meanwhile,
                  (parsecache.hold, parsecache.release))
    for k, pieces in zip(todo, done, strict=True):
        out[k] = pieces
    return [pieces or [] for pieces in out]


def body_changes(before: Chapter, after: Chapter, memo: BodyMemo | None = None
                 ) -> list[Piece]:
    """The changes in the body of a chapter (filed under its new id and part). The same bytes
    have the same body, so a chapter whose blob is unchanged is not even read; what two blobs
    give is the same on every run, so it is kept in `memo`."""
    known = _known_body(before, after, memo)
    return known if known is not None else _computed_body(before, after, memo)


def _computed_body(before: Chapter, after: Chapter, memo: BodyMemo | None) -> list[Piece]:
    """The body changes of a pair not known yet (see `_known_body`), kept in `memo`."""
    pieces: list[Piece] = []
    if before.body != after.body:
        body = [_in_chapter(p, after) for p in diff_chapter(before, after)]
        pieces = fold_renumbering(body, after)
    if memo is not None and before.blob and after.blob:
        memo.put(before.blob, after.blob, pieces)
    return pieces


def _known_body(before: Chapter, after: Chapter, memo: BodyMemo | None) -> list[Piece] | None:
    """The body changes of a pair known without reading either body: none for the same
    blob, else what `memo` kept for the two blobs; None when they must be computed."""
    if before.blob and before.blob == after.blob:
        return []
    if memo is not None and before.blob and after.blob:
        return memo.get(before.blob, after.blob)
    return None


def _pairs_by_id(old: Snapshot, new: Snapshot
                 ) -> tuple[list[tuple[Chapter, Chapter]], list[Chapter], list[Chapter]]:
    """(pairs of old and new chapters with the same id, old chapters left, new ones left)."""
    before, after = old.by_id(), new.by_id()
    pairs = [(before[c.id], c) for c in new.chapters if c.id in before]
    gone = [c for c in old.chapters if c.id not in after]
    came = [c for c in new.chapters if c.id not in before]
    return pairs, gone, came


def _shingles(chapter: Chapter) -> Counter[tuple[str, ...]]:
    texts = (text for _group, text in parsecache.layout_of(chapter).keys)  # none placed
    w = words(" ".join(texts)) or words(chapter.title)
    return Counter(shingles(w))


def _pair_by_content(gone: list[Chapter], came: list[Chapter]) -> list[tuple[Chapter, Chapter]]:
    sg = [_shingles(c) for c in gone]
    sc = [_shingles(c) for c in came]
    scored = []
    for i, a in enumerate(gone):
        for j, b in enumerate(came):
            s = 1.0 if a.body == b.body else counter_similarity(sg[i], sc[j])
            if s >= CHAPTER_THRESHOLD or (s >= CHAPTER_THRESHOLD_SAME_TITLE
                                          and similarity(a.title, b.title) >= TITLE_THRESHOLD):
                scored.append((-s, i, j))
    return [(gone[i], came[j]) for i, j in best_pairs(scored)]


def _in_chapter(piece: Piece, chapter: Chapter) -> Piece:
    """A body change of a paired chapter is filed under the chapter's new id and part."""
    c = piece.change
    if c.chapter == chapter.id and c.part == chapter.part:
        return piece
    return replace(piece, change=replace(c, chapter=chapter.id, part=chapter.part))


def chapter_changes(old: Chapter, new: Chapter) -> list[Change]:
    """Changes of a chapter as a whole: id, file, part, title, front matter."""
    out = []

    lines = dict(new.meta_lines)

    def add(kind: str, location: str, before: Any, after: Any, key: str = "id",
            **fields: Any) -> None:
        # At the key's line in the new file (the old one's when the key was removed).
        line = lines.get(key) or dict(old.meta_lines).get(key) or 1
        out.append(Change(id="", kind=kind, chapter=new.id, location=location, old=before,
                          new=after, part=new.part, line=line, **fields))

    if old.id != new.id:
        add("chapter.renumbered", "chapter", old.id, new.id, old_chapter=old.id,
            new_chapter=new.id, old_path=old.path, new_path=new.path)
    moved_file = old.path != new.path and old.id == new.id
    moved_part = old.part != new.part
    if moved_file or moved_part:
        where = "part and file" if moved_file and moved_part else "part" if moved_part else "file"
        detail = (("old_part", old.part), ("new_part", new.part)) if moved_part else ()
        add("chapter.moved", where, old.path if moved_file else old.part,
            new.path if moved_file else new.part, key="part", old_path=old.path,
            new_path=new.path, detail=detail)
    if old.title != new.title:
        add("chapter.retitled", "title", old.title, new.title, key="title")
    before, after = old.meta_dict(), new.meta_dict()
    for key in dict.fromkeys([*after, *before]):
        if key in _OWN_KEYS or before.get(key) == after.get(key):
            continue
        add("metadata.changed", f"front matter '{key}'", render_value(before.get(key)),
            render_value(after.get(key)), key=key, detail=(("key", key),))
    return out


def render_value(value: Any) -> str | None:
    """A front-matter value as one line of text (lists joined with commas)."""
    if value is None:
        return None
    if isinstance(value, tuple):
        if all(isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) for v in value):
            return "; ".join(f"{k}: {render_value(v)}" for k, v in value)
        return ", ".join(str(render_value(v)) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _link_items(pieces: list[Piece]) -> list[Piece]:
    """An inserted or deleted block that is mostly a link is a link added or removed."""
    out: list[Piece] = []
    for piece in pieces:
        c = piece.change
        if c.kind == "paragraph.inserted" and piece.new_block and link_only(piece.new_block):
            out.extend(Piece(replace(c, kind="link.added", old=None, new=link.url,
                                     detail=(("text", link.text), ("item", c.new))))
                       for link in piece.new_block.links)
        elif c.kind == "paragraph.deleted" and piece.old_block and link_only(piece.old_block):
            out.extend(Piece(replace(c, kind="link.removed", old=link.url, new=None,
                                     detail=(("text", link.text), ("item", c.old))))
                       for link in piece.old_block.links)
        else:
            out.append(piece)
    return out


def _chapter_order(old: Snapshot, new: Snapshot) -> dict[str, int]:
    """Rank of every chapter id: the new reading order, a removed chapter just after the
    chapter that preceded it in the old one."""
    order = {c.id: 2 * i for i, c in enumerate(new.chapters)}
    last = -1
    for c in old.chapters:
        if c.id in order:
            last = order[c.id]
        else:
            order[c.id] = last + 1
    return order


def _in_order(pieces: list[Piece], order: dict[str, int]) -> list[Change]:
    """The changes of `pieces` chapter by chapter (`order` ranks them), each chapter's own
    changes first (_RANK), the rest as they come; manual-wide ones (no chapter) after every
    chapter's."""
    last = 2 * len(order) + 2
    changes = [p.change for p in pieces]
    rank = _RANK.get
    keys = [(order.get(c.chapter, last) if c.chapter else last, rank(c.kind, 9)) for c in changes]
    return [changes[k] for k in sorted(range(len(keys)), key=keys.__getitem__)]


def change_id(change: Change) -> str:
    if change.detail:
        detail = dict(change.detail)
        key, text = detail.get("key", ""), detail.get("text", "")
    else:
        key = text = ""
    fields = (change.kind, change.chapter or "", change.old_chapter or "", change.old or "",
              change.new or "", key, text)
    try:
        material = "\0".join(fields)
    except TypeError:  # not all text (a front-matter key may be a number)
        material = "\0".join(map(str, fields))
    digest = sha1(material.encode("utf-8")).hexdigest()[:8]
    return f"{change.chapter}-{SHORT_KINDS[change.kind]}-{digest}"


def assign_ids(changes: list[Change]) -> list[Change]:
    """Give every change its id; exact repeats within a chapter get "-2", "-3"..."""
    seen: dict[str, int] = {}
    out = []
    for change in changes:
        if change.chapter is None:  # manual-wide: its id was given with it
            out.append(change)
            continue
        base = change_id(change)
        n = seen[base] = seen.get(base, 0) + 1
        out.append(with_fields(change, id=base if n == 1 else f"{base}-{n}"))
    return out
