"""Renumbering cascades: the headings and paragraphs of a chapter whose text changed only in
their leading number ("4.1 ..." -> "5.1 ...", "4. Strategy" -> "5. Strategy") are one change.

A section inserted early in a chapter renumbers every section and paragraph after it. A board
sees that as one thing, "paragraphs 4.1-9.3 renumbered 5.1-10.3", not as sixty edits, so the
renumbering-only edits of a chapter are folded into one change:

- kind `paragraph.modified` when a paragraph (or numbered list item) is among them, else
  `heading.changed` (only section headings were renumbered);
- location in the new numbering, as every location is: "sections 5-10 and paragraphs
  5.1-10.3"; old and new are the same phrase in the old and the new numbering, so the id is
  stable and depends on the numbers only;
- a compact redline of the number ranges ("sections [-4-9-]{+5-10+} and paragraphs
  [-4.1-9.3-]{+5.1-10.3+}"), each renumbered block among its places, and in detail
  "renumbering" (the board's phrase: "paragraphs 4.1-9.3 renumbered 5.1-10.3") and "numbers"
  (every old -> new number, in reading order).

A range runs over consecutive numbered blocks (of the same sort) that were all renumbered; a
numbered block in between that was not (new, deleted, or edited in its words too) ends it. A
block whose number AND words changed stays its own `paragraph.modified`: the cross reference
"see paragraph 6.34" that becomes "see paragraph 7.34" is a change of words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.blockdiff import Piece, group, renumbered_only
from pipeline.models import Block, Change, Chapter, Place, Segment

_NOUNS = {"heading": ("section", "sections"), "text": ("paragraph", "paragraphs")}


def is_renumbering(change: Change) -> bool:
    return any(key == "renumbering" for key, _ in change.detail)


def fold_renumbering(pieces: list[Piece], new: Chapter) -> list[Piece]:
    """`pieces` (the body changes of one chapter, in reading order) with its renumbering-only
    edits replaced by one change, at the place of the first of them."""
    folded = [k for k, p in enumerate(pieces)
              if p.change.kind in ("paragraph.modified", "heading.changed")
              and p.old_block is not None and p.new_block is not None
              and renumbered_only(p.old_block, p.new_block)]
    if not folded:
        return pieces
    members = [pieces[k] for k in folded]
    change = _change(members, new)
    skip = set(folded[1:])
    return [Piece(change) if k == folded[0] else p
            for k, p in enumerate(pieces) if k not in skip]


def _change(members: Sequence[Piece], new: Chapter) -> Change:
    by_line = {p.new_block.line: p for p in members if p.new_block is not None}
    parts: list[tuple[str, list[list[tuple[str, str]]]]] = []
    for sort, (one, many) in _NOUNS.items():
        runs = _runs(new.blocks, sort, by_line)
        count = sum(len(r) for r in runs)
        if count:
            parts.append((one if count == 1 else many, runs))
    old_text = " and ".join(f"{noun} {_ranges(runs, 0)}" for noun, runs in parts)
    new_text = " and ".join(f"{noun} {_ranges(runs, 1)}" for noun, runs in parts)
    phrase = ", ".join(f"{noun} {_ranges(runs, 0)} renumbered {_ranges(runs, 1)}"
                       for noun, runs in parts)
    redline: list[Segment] = []
    for k, (noun, runs) in enumerate(parts):
        redline.append(Segment("equal", f"{' and ' if k else ''}{noun} "))
        for r, run in enumerate(runs):
            if r:
                redline.append(Segment("equal", ", "))
            redline += [Segment("delete", _range(run, 0)), Segment("insert", _range(run, 1))]
    first = members[0].change
    kind = "paragraph.modified" if any(group(p.new_block) == "text" for p in members
                                       if p.new_block is not None) else "heading.changed"
    numbers = tuple((p.old_block.ref, p.new_block.ref) for p in members
                    if p.old_block is not None and p.new_block is not None)
    places = tuple(Place(chapter=p.change.chapter or "", location=p.change.location,
                         line=p.change.line) for p in members)
    return replace(first, kind=kind, location=new_text, old=old_text, new=new_text,
                   redline=_merge(redline), places=places,
                   detail=(("renumbering", phrase), ("numbers", numbers)))


def _runs(blocks: Sequence[Block], sort: str, members: dict[int, Piece]
          ) -> list[list[tuple[str, str]]]:
    """Runs of consecutive numbered blocks of one sort that were all renumbered, as (old,
    new) numbers."""
    runs: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for block in blocks:
        if block.ref is None or group(block) != sort:
            continue
        piece = members.get(block.line)
        if piece is not None and piece.old_block is not None and piece.old_block.ref:
            current.append((piece.old_block.ref, block.ref))
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _range(run: Sequence[tuple[str, str]], side: int) -> str:
    first, last = run[0][side], run[-1][side]
    return first if len(run) == 1 else f"{first}-{last}"


def _ranges(runs: Sequence[Sequence[tuple[str, str]]], side: int) -> str:
    return ", ".join(_range(run, side) for run in runs)


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for seg in segments:
        if out and out[-1].op == seg.op:
            out[-1] = Segment(seg.op, out[-1].text + seg.text)
        else:
            out.append(seg)
    return tuple(out)
