"""Term sweeps: one phrase replaced by another in several places becomes one `term.swept`.

Rules:
- Candidates are the replaced phrases (a deletion next to an insertion) in the word redlines
  of modified paragraphs, list items, table rows and headings, compared case-insensitively.
- A sweep needs MIN_PLACES or more places (in one chapter or across chapters).
- Noise is kept out: a term has at most MAX_TERM_WORDS words a side, and at least one word
  that is not a common function word ("the" -> "a", "and" -> "or" are never terms) and not a
  number (dates and paragraph numbers change for other reasons).
- A one-word replacement followed (or preceded) everywhere by the same word is widened to
  that word: "Professional" -> "Expert" always before "Services" is reported as
  "Professional Services" -> "Expert Services".
- A change whose every edit is a replacement of swept terms is absorbed into the sweep (it is
  one of its places, not a change of its own). A change with further edits keeps its own
  `paragraph.modified` and is still listed among the sweep's places.

Front matter is swept too (`metadata_sweeps`): the same key given the same edit (set to the
same value, or removed) in MIN_METADATA_CHAPTERS or more chapters, as when a site policy drops
its `topics:` key from every file, is one manual-wide `metadata.changed` that lists its
chapters and places, with the id `meta-<8 hex of sha1 over the key and the new value>`. Its
old value is the commonest one; chapters that had another are named in detail
"other_old_values" with theirs.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from pipeline.blockdiff import Piece
from pipeline.models import Change, Place, Segment
from pipeline.redline import edit_count, replacements, words
from pipeline.renumbering import is_renumbering

MIN_PLACES = 2
MIN_METADATA_CHAPTERS = 3
MAX_TERM_WORDS = 6
_SWEEPABLE = ("paragraph.modified", "table.row.modified", "heading.changed")
_FIRST_WORD = re.compile(r"^\s(\w+(?:['’\-]\w+)*)")
_LAST_WORD = re.compile(r"(\w+(?:['’\-]\w+)*)\s$")

_FUNCTION_WORDS = """
a an the and or but nor not no of to in on at by for from with without into onto upon about
as is are was were be been being am it its this that these those there here which who whom
whose what when where why how all any each every some such than then so if else also only
very can could may might must shall should will would do does did done has have had having
he she they them their his her we us our you your i me my mine yours theirs
"""
STOPWORDS = frozenset(_FUNCTION_WORDS.split())


@dataclass
class _Occurrence:
    piece: int
    old: str
    new: str
    before: str
    after: str


def find_sweeps(pieces: list[Piece], chapter_order: dict[str, int]) -> list[Piece]:
    """`pieces` with term sweeps added and the changes they fully explain removed."""
    found: dict[tuple[str, str], list[_Occurrence]] = defaultdict(list)
    for k, piece in enumerate(pieces):
        c = piece.change
        if (c.kind not in _SWEEPABLE or c.old is None or c.new is None
                or (c.detail and is_renumbering(c))):
            continue
        for old, new, before, after in replacements(c.redline):
            if is_term(old, new):
                found[_norm(old), _norm(new)].append(_Occurrence(k, old, new, before, after))
    sweeps = {key: occ for key, occ in found.items()
              if len({o.piece for o in occ}) >= MIN_PLACES}
    if not sweeps:
        return pieces
    absorbed: set[int] = set()
    for k in {o.piece for occ in sweeps.values() for o in occ}:
        redline = pieces[k].change.redline
        swept = sum((_norm(o), _norm(n)) in sweeps for o, n, _, _ in replacements(redline))
        if swept == edit_count(redline):
            absorbed.add(k)
    out = [p for k, p in enumerate(pieces) if k not in absorbed]
    for key in sorted(sweeps):
        out.append(_sweep(pieces, sweeps[key], absorbed, chapter_order))
    return out


def is_term(old: str, new: str) -> bool:
    wo, wn = words(old), words(new)
    if not wo or not wn or len(wo) > MAX_TERM_WORDS or len(wn) > MAX_TERM_WORDS:
        return False
    content = [w for w in wo + wn if w not in STOPWORDS and not w.replace(".", "").isdigit()]
    return bool(content)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _common(texts: list[str]) -> str:
    """The most frequent spelling (ties: the first met)."""
    counts = Counter(texts)
    return max(counts, key=lambda t: (counts[t], -texts.index(t)))


def _widen(occ: list[_Occurrence]) -> tuple[str, str]:
    old = _common([" ".join(o.old.split()) for o in occ])
    new = _common([" ".join(o.new.split()) for o in occ])
    if len(words(old)) != 1 or len(words(new)) != 1:
        return old, new
    after = [m.group(1) if (m := _FIRST_WORD.match(o.after)) else None for o in occ]
    if after[0] and all(a == after[0] for a in after) and after[0].casefold() not in STOPWORDS:
        return f"{old} {after[0]}", f"{new} {after[0]}"
    before = [m.group(1) if (m := _LAST_WORD.search(o.before)) else None for o in occ]
    if before[0] and all(b == before[0] for b in before) and before[0].casefold() not in STOPWORDS:
        return f"{before[0]} {old}", f"{before[0]} {new}"
    return old, new


def sweep_id(old: str, new: str) -> str:
    digest = hashlib.sha1(f"term.swept\0{_norm(old)}\0{_norm(new)}".encode()).hexdigest()
    return f"term-{digest[:8]}"


def _sweep(pieces: list[Piece], occ: list[_Occurrence], absorbed: set[int],
           chapter_order: dict[str, int]) -> Piece:
    old, new = _widen(occ)
    seen: set[int] = set()
    places: list[Place] = []
    for o in occ:
        if o.piece in seen:
            continue
        seen.add(o.piece)
        c = pieces[o.piece].change
        places.append(Place(chapter=c.chapter or "", location=c.location, line=c.line))
    places.sort(key=lambda p: (chapter_order.get(p.chapter, 10**9), p.chapter, p.line or 0))
    chapters = tuple(dict.fromkeys(p.chapter for p in places))
    detail = (("occurrences", len(occ)), ("places", len(places)),
              ("chapters", len(chapters)), ("absorbed", len(seen & absorbed)))
    change = Change(id=sweep_id(old, new), kind="term.swept", chapter=None,
                    location=f"{len(places)} places in {len(chapters)} "
                             f"chapter{'s' if len(chapters) != 1 else ''}",
                    old=old, new=new,
                    redline=(Segment("delete", old), Segment("insert", new)),
                    chapters=chapters, places=tuple(places), detail=detail)
    return Piece(change)


def metadata_sweeps(pieces: list[Piece], chapter_order: dict[str, int]) -> list[Piece]:
    """`pieces` with the front-matter edits that many chapters share made one change each."""
    found: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for k, piece in enumerate(pieces):
        c = piece.change
        if c.kind == "metadata.changed" and c.chapter is not None:
            found[str(dict(c.detail).get("key", "")), c.new].append(k)
    wide = {key: ks for key, ks in found.items()
            if len({pieces[k].change.chapter for k in ks}) >= MIN_METADATA_CHAPTERS}
    if not wide:
        return pieces
    first = {ks[0]: key for key, ks in wide.items()}
    gone = {k for ks in wide.values() for k in ks}
    out = []
    for k, piece in enumerate(pieces):
        if k in first:
            out.append(_metadata_sweep([pieces[j].change for j in wide[first[k]]],
                                       chapter_order))
        elif k not in gone:
            out.append(piece)
    return out


def metadata_sweep_id(key: str, new: str | None) -> str:
    material = f"metadata.changed\0{key}\0{'(removed)' if new is None else new}"
    return f"meta-{hashlib.sha1(material.encode()).hexdigest()[:8]}"


def _metadata_sweep(changes: list[Change], chapter_order: dict[str, int]) -> Piece:
    changes = sorted(changes, key=lambda c: (chapter_order.get(c.chapter or "", 10**9),
                                             c.chapter or ""))
    key = str(dict(changes[0].detail).get("key", ""))
    new = changes[0].new
    olds = [c.old for c in changes]
    old = max(dict.fromkeys(olds), key=olds.count)  # the commonest; ties: the first met
    chapters = tuple(c.chapter or "" for c in changes)
    detail: list[tuple[str, object]] = [("key", key), ("chapters", len(chapters))]
    others = tuple((c.chapter or "", c.old) for c in changes if c.old != old)
    if others:
        # Chapters whose old value was another: the edit (the value they now have, or the
        # key removed) is the same, so it is the same change.
        detail.append(("other_old_values", others))
    change = Change(id=metadata_sweep_id(key, new), kind="metadata.changed", chapter=None,
                    location=f"{changes[0].location} in {len(chapters)} chapters",
                    old=old, new=new, chapters=chapters,
                    places=tuple(Place(chapter=c.chapter or "", location=c.location,
                                       line=c.line) for c in changes),
                    detail=tuple(detail))
    return Piece(change)
