"""Paragraph moves: a paragraph deleted in one place and inserted, identical or nearly, in
another (in the same chapter or another one) is one `paragraph.moved`, not two changes.

Rules:
- Only paragraphs and list items move (headings and table rows do not); at least one side
  must be in a chapter present in both snapshots (text going from a removed chapter to an
  added one is already said by `chapter.removed` / `chapter.added`).
- Identical texts are paired first, preferring the same chapter, then the nearest in manual
  order. Then near-identical ones: at least NEAR_THRESHOLD of their words kept in order, and
  at least NEAR_MIN_WORDS words long; the move then carries a redline.
- A heading deleted and inserted with the same text in the same chapter (a section moved) is
  not reported: its paragraphs' moves say what happened.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from itertools import chain

from pipeline.blockdiff import Piece
from pipeline.redline import common_count, ordered_similarity, shingles, word_diff, words

NEAR_THRESHOLD = 0.8
NEAR_MIN_WORDS = 6
# A shingle shared by more paragraphs than this says nothing about which two belong together.
_COMMON_SHINGLE = 50

_MOVABLE_OUT = ("paragraph.deleted",)
_MOVABLE_IN = ("paragraph.inserted",)


def find_moves(pieces: list[Piece], order: dict[str, int]) -> list[Piece]:
    """`pieces` with matching deletions and insertions replaced by moves; candidates from
    added/removed chapters that found no partner are dropped. `order` ranks chapter ids."""
    outs: list[int] = []
    ins: list[int] = []
    headings: list[int] = []
    for k, p in enumerate(pieces):
        kind = p.change.kind
        if kind in _MOVABLE_OUT:
            outs.append(k)
        elif kind in _MOVABLE_IN:
            ins.append(k)
        elif kind == "heading.changed":
            headings.append(k)
    pairs = _exact(pieces, outs, ins, order)
    used_out = {o for o, _ in pairs}
    used_in = {i for _, i in pairs}
    pairs += _near(pieces, [o for o in outs if o not in used_out],
                   [i for i in ins if i not in used_in])
    moved_to = {i: o for o, i in pairs}
    skipped = {o for o, _ in pairs} | _section_moves(pieces, headings)
    out: list[Piece] = []
    for k, piece in enumerate(pieces):
        if k in skipped:
            continue
        if k in moved_to:
            out.append(_move(pieces[moved_to[k]], piece))
        elif not piece.candidate:
            out.append(piece)
    return out


def _both_candidates(a: Piece, b: Piece) -> bool:
    return a.candidate and b.candidate


def _exact(pieces: list[Piece], outs: list[int], ins: list[int],
           order: dict[str, int]) -> list[tuple[int, int]]:
    by_text: dict[str, list[int]] = defaultdict(list)
    for o in outs:
        by_text[pieces[o].change.old or ""].append(o)
    pairs = []
    for i in ins:
        target = pieces[i]
        options = [o for o in by_text.get(target.change.new or "", ())
                   if not _both_candidates(pieces[o], target)]
        if not options:
            continue
        here = target.change.chapter or ""
        best = min(options, key=lambda o: (pieces[o].change.chapter != here,
                                           abs(order.get(pieces[o].change.chapter or "", 0)
                                               - order.get(here, 0)), o))
        by_text[target.change.new or ""].remove(best)
        pairs.append((best, i))
    return pairs


def _near(pieces: list[Piece], outs: list[int], ins: list[int]) -> list[tuple[int, int]]:
    # Each text's words found once: for its length, its shingles and its word counts.
    old_words = {o: words(pieces[o].change.old or "") for o in outs}
    new_words = {i: words(pieces[i].change.new or "") for i in ins}
    outs = [o for o in outs if len(old_words[o]) >= NEAR_MIN_WORDS]
    ins = [i for i in ins if len(new_words[i]) >= NEAR_MIN_WORDS]
    if not outs or not ins:
        return []
    new_shingles = {i: set(shingles(new_words[i])) for i in ins}
    # The deleted texts with each shingle; only those of inserted texts can be shared.
    inserted = set().union(*new_shingles.values())
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for o in outs:
        for sh in inserted.intersection(shingles(old_words[o])):
            index[sh].append(o)
    telling = {sh for sh, hits in index.items() if len(hits) <= _COMMON_SHINGLE}
    counts: dict[int, Counter[str]] = {}

    def counted(k: int, w: list[str]) -> Counter[str]:
        found = counts.get(k)
        if found is None:
            found = counts[k] = Counter(w)
        return found

    scored: list[tuple[float, int, int]] = []
    for i in ins:
        target = pieces[i]
        wi = new_words[i]
        shared = Counter(chain.from_iterable(index[sh] for sh in new_shingles[i] & telling))
        for o, count in shared.items():
            if count < 2 or _both_candidates(pieces[o], target):
                continue
            # Words kept in order are words in common (counted with their repeats), and no
            # more than the shorter text has: a pair whose words in common are too few for
            # the threshold is not diffed (over the same total, the bound is exact).
            wo = old_words[o]
            total = len(wo) + len(wi)
            if (2 * min(len(wo), len(wi)) / total < NEAR_THRESHOLD
                    or 2 * common_count(counted(o, wo), counted(i, wi)) / total < NEAR_THRESHOLD):
                continue
            s = ordered_similarity(pieces[o].change.old or "", target.change.new or "")
            if s >= NEAR_THRESHOLD:
                scored.append((-s, o, i))
    return best_pairs(scored)


def best_pairs(scored: list[tuple[float, int, int]]) -> list[tuple[int, int]]:
    """Greedy one-to-one pairing from (-score, left, right), best score first; ties go to
    the earlier left, then right, so the result never depends on the input's order."""
    pairs, used_left, used_right = [], set(), set()
    for _s, left, right in sorted(scored):
        if left not in used_left and right not in used_right:
            used_left.add(left)
            used_right.add(right)
            pairs.append((left, right))
    return pairs


def _section_moves(pieces: list[Piece], headings: list[int]) -> set[int]:
    """Headings deleted and re-inserted unchanged in the same chapter (`headings`: where the
    heading changes are in `pieces`)."""
    gone: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    for k in headings:
        p = pieces[k]
        c = p.change
        if c.new is None and not p.candidate:
            gone[(c.chapter, c.old or "")].append(k)
    out: set[int] = set()
    if not gone:
        return out
    for k in headings:
        p = pieces[k]
        c = p.change
        if c.old is None and not p.candidate:
            match = gone.get((c.chapter, c.new or ""))
            if match:
                out.add(match.pop(0))
                out.add(k)
    return out


def _move(source: Piece, target: Piece) -> Piece:
    old, new = source.change, target.change
    same = old.old == new.new
    detail: list[tuple[str, object]] = [("from", old.location)]
    if old.chapter != new.chapter:
        detail.insert(0, ("from_chapter", old.chapter))
    change = replace(
        new, kind="paragraph.moved", old=old.old, new=new.new,
        redline=() if same else word_diff(old.old or "", new.new or ""),
        old_chapter=old.chapter if old.chapter != new.chapter else None,
        new_chapter=new.chapter if old.chapter != new.chapter else None,
        chapters=(old.chapter or "", new.chapter or "") if old.chapter != new.chapter else (),
        detail=tuple(detail))
    return Piece(change, old_block=source.old_block, new_block=target.new_block)

