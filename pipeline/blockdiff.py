"""Compare the bodies of two versions of one chapter, block by block.

Blocks are aligned as difflib.SequenceMatcher aligns them (align.Aligner finds its answer
faster) on their group and rendered text (so a whitespace- or markup-only edit, a heading
promoted a level, or a paragraph turned into a list item is not a change). A piece of the
body (see chunks) whose text stands once in each version is aligned as one element, unparsed:
see `diff_chapter`. In each replaced
region, blocks of the same sort (heading, table row, paragraph or list item) are paired by
word similarity in reading order: a pair is an edit with a redline (`paragraph.modified`,
`heading.changed`, `table.row.modified`); the rest are inserted or deleted. Links of paired
blocks are compared (see `link_changes`).

The result is a list of `Piece`s: a Change without its id yet, and the block it is about, so
that later passes (moves, link-only items, term sweeps) can look at the text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat

from pipeline.align import Aligner
from pipeline.chunks import Layout
from pipeline.locations import location_alone, location_at
from pipeline.models import Block, Change, Chapter, Link, group
from pipeline.parsecache import layout_of
from pipeline.redline import common_count, counter_similarity, word_counts, word_diff, words

# Below this share of common words two blocks are different blocks, not one edited block.
PAIR_THRESHOLD = 0.5
# Headings are short: "5. Scraping and API Usage Restrictions" -> "5. Information Usage
# Restrictions" keeps 3 words of 7 and is still the same heading.
HEADING_THRESHOLD = 0.3
# ...or when the shorter text keeps this share of its words in the longer one.
CONTAINED = 0.8
CONTAINED_MIN_WORDS = 5
# Above this size a replaced region is paired greedily instead of optimally.
_DP_LIMIT = 10_000
_GREEDY_WINDOW = 40


@dataclass(frozen=True)
class Piece:
    change: Change
    old_block: Block | None = None
    new_block: Block | None = None
    candidate: bool = False  # from an added/removed chapter: only kept if it turns into a move


_MODIFIED = {"heading": "heading.changed", "row": "table.row.modified",
             "text": "paragraph.modified"}
_INSERTED = {"heading": "heading.changed", "row": "table.row.inserted",
             "text": "paragraph.inserted"}
_DELETED = {"heading": "heading.changed", "row": "table.row.deleted",
            "text": "paragraph.deleted"}


# The group of a piece of a chapter compared whole, by its text (never a block's group).
_PIECE = "\0piece"
# Rounds of the piece-wise alignment (see diff_chapter) before every piece is compared block
# by block: one or two do for a release's edits.
_ROUNDS = 3


@dataclass
class _Side:
    """One version of a chapter as the diff aligns it: a sequence of elements, each a block
    of a piece compared block by block, or a piece compared whole (by its text; such a piece
    is only ever aligned with the same text on the other side)."""

    chapter: Chapter
    layout: Layout
    at: list[tuple[int, int]]  # (piece, block in it) of each element; block -1: a piece whole
    plain: list[Block | None]  # each element's block, perhaps not placed; None: a piece whole
    keys: list[tuple[str, str]]  # what is compared of each element: its group and text
    counters: dict[int, Counter[str]] = field(default_factory=dict)
    _locations: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, chapter: Chapter, layout: Layout, apart: set[int] | None = None) -> _Side:
        """The side whose pieces in `apart` (all of them when None) are compared block by
        block, and the others whole."""
        texts = layout.texts
        count = len(texts)
        if apart is None or len(apart) * 8 > count:  # many pieces apart: made in one pass
            at: list[tuple[int, int]] = []
            plain: list[Block | None] = []
            keys: list[tuple[str, str]] = []
            for k, text in enumerate(texts):
                if apart is None or k in apart:
                    blocks, _heading, block_keys = layout.entry(k)
                    at.extend(zip(repeat(k), range(len(blocks))))
                    plain.extend(blocks)
                    keys.extend(block_keys)
                else:
                    at.append((k, -1))
                    plain.append(None)
                    keys.append((_PIECE, text))  # type: ignore[arg-type]
            return cls(chapter, layout, at, plain, keys)
        # Few (most comparisons): every piece whole, then the few spliced in their places.
        at = list(zip(range(count), repeat(-1)))
        plain = [None] * count
        keys = list(zip(repeat(_PIECE), texts))  # type: ignore[arg-type]
        for k in sorted(apart, reverse=True):  # from the last, so earlier places hold
            blocks, _heading, block_keys = layout.entry(k)
            at[k:k + 1] = zip(repeat(k), range(len(blocks)))
            plain[k:k + 1] = blocks
            keys[k:k + 1] = block_keys
        return cls(chapter, layout, at, plain, keys)

    def block(self, i: int) -> Block:
        """Element i's block, placed (at its line, under its section)."""
        return self.layout.block(*self.at[i])

    def location(self, i: int) -> str:
        found = self._locations.get(i)
        if found is None:
            found = location_alone(self.plain[i])  # type: ignore[arg-type]
            if found is None:  # numbered from the blocks above it, in its section
                run = self.layout.run_to(*self.at[i])
                found = location_at(run, len(run) - 1)
            self._locations[i] = found
        return found

    def counter(self, i: int) -> Counter[str]:
        c = self.counters.get(i)
        if c is None:
            c = self.counters[i] = word_counts(self.text(i))
        return c

    def text(self, i: int) -> str:
        return self.plain[i].text  # type: ignore[union-attr]


_AFTER_NUMBER = re.compile(r"^[.)]?\s*")


def renumbered_only(old: Block, new: Block) -> bool:
    """Two headings or two paragraphs whose texts differ only in their leading number: "4.1
    The plan ..." and "5.1 The plan ...", "4. Strategy" and "5) Strategy"."""
    if old.ref is None or new.ref is None or old.ref == new.ref or group(old) != group(new):
        return False
    if group(new) == "row" or not old.text.startswith(old.ref) \
            or not new.text.startswith(new.ref):
        return False
    return (_AFTER_NUMBER.sub("", old.text[len(old.ref):], count=1)
            == _AFTER_NUMBER.sub("", new.text[len(new.ref):], count=1))


def diff_chapter(old: Chapter, new: Chapter) -> list[Piece]:
    """Block-level changes between two versions of a chapter (paired by the caller).

    Most pieces of a chapter (see chunks) are the same text in both versions, and parsing
    them was most of the work of a comparison. So a piece whose text stands once in each
    version is aligned whole, as one element, and only the other pieces are parsed and
    aligned block by block. A piece aligned whole that still falls outside the equal
    stretches (moved, or in a replaced region) is then taken block by block too, and the
    versions aligned again (where that does not settle, every block is aligned). The pieces
    are cut from the text alone, so the answer is the same whether the chapters were parsed
    now or read from the parse cache. It differs from aligning every block only where the
    blocks allow two alignments (moved or repeated blocks), as a piece aligned whole weighs
    one element, not one per block: then it may take the other one, as valid."""
    la, lb = layout_of(old), layout_of(new)
    ta, tb = la.texts, lb.texts
    if ta == tb and None not in ta:
        return []  # the same pieces: the same blocks, and the same links
    # A piece is aligned whole only where its text stands once on each side (so it can be
    # aligned with nothing else) and it holds a block (an element that stands for none would
    # tip the alignment).
    count_a, count_b = Counter(ta), Counter(tb)
    common = {text for text in count_a.keys() & count_b.keys()
              if count_a[text] == 1 == count_b[text] and text and not text.isspace()}
    apart_a = {k for k, text in enumerate(ta) if text not in common}
    apart_b = {k for k, text in enumerate(tb) if text not in common}
    for _round in range(_ROUNDS):
        sa, sb = _Side.of(old, la, apart_a), _Side.of(new, lb, apart_b)
        opcodes = Aligner(sa.keys, sb.keys).get_opcodes()
        more_a = _whole_outside(sa, opcodes, 1)
        more_b = _whole_outside(sb, opcodes, 3)
        if not more_a and not more_b:
            break
        apart_a |= more_a
        apart_b |= more_b
    if more_a or more_b:  # still pieces aligned whole outside the equal stretches
        sa, sb = _Side.of(old, la), _Side.of(new, lb)
        opcodes = Aligner(sa.keys, sb.keys).get_opcodes()
    ka, kb = sa.keys, sb.keys
    if len(ka) == len(kb) and all(x[1] == y[1] for x, y in zip(ka, kb, strict=True)) \
            and all((x[1] < 0) == (y[1] < 0) for x, y in zip(sa.at, sb.at, strict=True)):
        # The same texts (perhaps a paragraph turned into a list item): only links may differ.
        return [p for i in range(len(ka)) if sa.plain[i] is not None
                for p in link_changes(sa, sb, i, i)]
    return _diff(sa, sb, opcodes)


def _whole_outside(side: _Side, opcodes: list[tuple[str, int, int, int, int]], lo: int
                   ) -> set[int]:
    """Pieces of `side` aligned whole but outside the equal stretches of `opcodes` (`lo`:
    where the side's range starts in an opcode)."""
    return {side.at[e][0] for op in opcodes if op[0] != "equal"
            for e in range(op[lo], op[lo + 1]) if side.at[e][1] < 0}


def inserted_pieces(new: Chapter) -> list[Piece]:
    """Every block of an added chapter, as move candidates."""
    side = _Side.of(new, layout_of(new))
    return [_inserted(side, j, candidate=True) for j in range(len(side.plain))]


def deleted_pieces(old: Chapter) -> list[Piece]:
    """Every block of a removed chapter, as move candidates."""
    side = _Side.of(old, layout_of(old))
    return [_deleted(side, i, candidate=True) for i in range(len(side.plain))]


def _diff(sa: _Side, sb: _Side, opcodes: list[tuple[str, int, int, int, int]]
          ) -> list[Piece]:
    a, b = sa.plain, sb.plain
    out: list[Piece] = []
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            for k in range(i2 - i1):
                old, new = a[i1 + k], b[j1 + k]
                # A piece aligned whole is the same text; blocks whose links are equal
                # changed no link (most blocks).
                if old is not None and old.links != new.links:  # type: ignore[union-attr]
                    out.extend(link_changes(sa, sb, i1 + k, j1 + k))
        elif op == "delete":
            out.extend(_deleted(sa, i) for i in range(i1, i2))
        elif op == "insert":
            out.extend(_inserted(sb, j) for j in range(j1, j2))
        else:
            out.extend(_replace(sa, sb, i1, i2, j1, j2))
    return out


def _replace(sa: _Side, sb: _Side, i1: int, i2: int, j1: int, j2: int) -> list[Piece]:
    pairs = _pair(sa, sb, range(i1, i2), range(j1, j2))
    out: list[Piece] = []
    i, j = i1, j1
    for pi, pj in [*pairs, (i2, j2)]:
        out.extend(_deleted(sa, k) for k in range(i, pi))
        out.extend(_inserted(sb, k) for k in range(j, pj))
        if pi < i2:
            out.extend(_modified(sa, sb, pi, pj))
        i, j = pi + 1, pj + 1
    return out


def _threshold(sa: _Side, i: int) -> float:
    return HEADING_THRESHOLD if sa.plain[i].kind == "heading" else PAIR_THRESHOLD


def _pair(sa: _Side, sb: _Side, rows: range, cols: range) -> list[tuple[int, int]]:
    """Order-preserving pairs of similar blocks of the same group in a replaced region."""
    a, b = sa.plain, sb.plain
    heads_a = [i for i in rows if a[i].kind == "heading"]
    heads_b = [j for j in cols if b[j].kind == "heading"]
    forced = set()
    if len(heads_a) == 1 and len(heads_b) == 1:
        # One heading replaced by one heading: the same section, renamed.
        forced.add((heads_a[0], heads_b[0]))

    scores: dict[tuple[int, int], float] = {}

    def score(i: int, j: int) -> float:
        # Asked twice for most pairs (the table, then the walk back through it).
        found = scores.get((i, j))
        if found is None:
            found = scores[i, j] = _score(i, j)
        return found

    def _score(i: int, j: int) -> float:
        if group(a[i]) != group(b[j]):
            return 0.0
        if (i, j) in forced or renumbered_only(a[i], b[j]):
            # A renumbered block is its old self, however short: "2. Consent" -> "1. Consent"
            # is the same section, "1. Purpose" -> "1. Consent" is not.
            return 1.0
        ca, cb = sa.counter(i), sb.counter(j)
        s = counter_similarity(ca, cb)
        if s >= _threshold(sa, i):
            return s
        return PAIR_THRESHOLD if contained(ca, cb) else 0.0

    n, m = len(rows), len(cols)
    if n == 1 == m:  # one block replaced by one (most edits): the table would say this
        return [(rows[0], cols[0])] if score(rows[0], cols[0]) else []
    if n * m > _DP_LIMIT:
        return _pair_greedy(rows, cols, score)
    # best[x][y]: best total score pairing rows[x:] with cols[y:]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for x in range(n - 1, -1, -1):
        row, below = best[x], best[x + 1]
        for y in range(m - 1, -1, -1):
            s = score(rows[x], cols[y])
            take = s + below[y + 1] if s else 0.0
            row[y] = max(take, below[y], row[y + 1])
    pairs = []
    x = y = 0
    while x < n and y < m:
        s = score(rows[x], cols[y])
        if s and best[x][y] == s + best[x + 1][y + 1]:
            pairs.append((rows[x], cols[y]))
            x, y = x + 1, y + 1
        elif best[x][y] == best[x + 1][y]:
            x += 1
        else:
            y += 1
    return pairs


def contained(a: Counter[str], b: Counter[str]) -> bool:
    """One text is (nearly) all inside the other: a paragraph cut down to its first sentence,
    or grown by a new one, is the same paragraph edited."""
    shorter = min(a.total(), b.total())
    return shorter >= CONTAINED_MIN_WORDS and common_count(a, b) >= CONTAINED * shorter


def _pair_greedy(rows: range, cols: range, score: Callable[[int, int], float]
                 ) -> list[tuple[int, int]]:
    pairs = []
    start = cols.start
    for i in rows:
        window = range(start, min(cols.stop, start + _GREEDY_WINDOW))
        best_j, best_s = -1, 0.0
        for j in window:
            s = score(i, j)
            if s > best_s:
                best_j, best_s = j, s
        if best_j >= 0:
            pairs.append((i, best_j))
            start = best_j + 1
    return pairs


def _base(side: _Side, index: int, kind: str, **fields: object) -> Change:
    chapter = side.chapter
    block = side.block(index)
    return Change(id="", kind=kind, chapter=chapter.id, location=side.location(index),
                  part=chapter.part, line=block.line, section=block.section,
                  **fields)  # type: ignore[arg-type]


def _inserted(sb: _Side, j: int, candidate: bool = False) -> Piece:
    block = sb.block(j)
    change = _base(sb, j, _INSERTED[group(block)], new=block.text)
    return Piece(change, new_block=block, candidate=candidate)


def _deleted(sa: _Side, i: int, candidate: bool = False) -> Piece:
    block = sa.block(i)
    change = _base(sa, i, _DELETED[group(block)], old=block.text)
    return Piece(change, old_block=block, candidate=candidate)


def _modified(sa: _Side, sb: _Side, i: int, j: int) -> list[Piece]:
    old, new = sa.block(i), sb.block(j)
    if (link_only(old) and link_only(new)
            and not {lk.url for lk in old.links} & {lk.url for lk in new.links}):
        # One linked item replaced by another: a link removed and a link added.
        return link_changes(sa, sb, i, j)
    kind = _MODIFIED[group(new)]
    change = _base(sb, j, kind, old=old.text, new=new.text,
                   redline=word_diff(old.text, new.text))
    return [Piece(change, old_block=old, new_block=new), *link_changes(sa, sb, i, j)]


def link_changes(sa: _Side, sb: _Side, i: int, j: int) -> list[Piece]:
    """Links of two paired blocks. A link whose text stays and whose target changes is
    `link.changed`; so are links that took the places of as many others in running text;
    the other links only on one side are `link.added` / `link.removed`.
    A link whose text was edited along with the paragraph but whose target stayed is not a
    link change (the redline shows the text); links are counted, so one of two links to the
    same target dropped is one `link.removed`."""
    old_links, new_links = sa.plain[i].links, sb.plain[j].links
    if old_links == new_links:
        return []
    gone, came = _minus(old_links, new_links), _minus(new_links, old_links)
    out: list[Piece] = []
    for link in list(gone):
        match = next((c for c in came if c.text == link.text), None)
        if match is not None:
            gone.remove(link)
            came.remove(match)
            out.append(Piece(_base(sb, j, "link.changed", old=link.url, new=match.url,
                                   detail=(("text", link.text),))))
    for link in list(gone):
        # Same target, new wording: the paragraph's redline says it; no link changed.
        match = next((c for c in came if c.url == link.url), None)
        if match is not None:
            gone.remove(link)
            came.remove(match)
    if not gone and not came:
        return out
    if (gone and len(gone) == len(came) and not link_only(sa.plain[i])
            and not link_only(sb.plain[j])):
        # In running text, the links that took the places of others are those links changed
        # ("contact us [here](old)" -> "contact us [through the portal](new)").
        out.extend(Piece(_base(sb, j, "link.changed", old=g.url, new=c.url,
                               detail=(("text", c.text), ("old_text", g.text))))
                   for g, c in zip(gone, came, strict=True))
        return out
    out.extend(Piece(_base(sa, i, "link.removed", old=lk.url, detail=(("text", lk.text),)))
               for lk in gone)
    out.extend(Piece(_base(sb, j, "link.added", new=lk.url, detail=(("text", lk.text),)))
               for lk in came)
    return out


def _minus(a: Sequence[Link], b: Sequence[Link]) -> list[Link]:
    left = Counter(b)
    out = []
    for link in a:
        if left[link]:
            left[link] -= 1
        else:
            out.append(link)
    return out


def link_only(block: Block) -> bool:
    """A block that is mostly a link, such as an item of a "Further information" list: adding
    or removing it is adding or removing a link."""
    if not block.links or block.kind not in ("list_item", "paragraph"):
        return False
    linked = sum(len(words(lk.text)) for lk in block.links)
    return linked * 2 >= len(words(block.text))
