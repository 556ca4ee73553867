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
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from pipeline.blockdiff import Piece
from pipeline.models import Change, Place, Segment
from pipeline.redline import edit_count, replacements, words

MIN_PLACES = 2
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
        if c.kind not in _SWEEPABLE or c.old is None or c.new is None:
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
