"""Word-level redlines and text similarity: pure functions over plain text.

A redline is computed with diff-match-patch over word tokens, not characters: each distinct
token (a word, a run of whitespace, one punctuation mark) is mapped to one character, the
character strings are diffed, `diff_cleanupSemantic` merges the small equalities that make
diffs noisy, and the characters are mapped back. The result reads like tracked changes
("[-contextual safeguarding-]{+extrafamilial harm+}"), never like "[-c-]{+ex+}t...".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from pipeline.models import Segment

if TYPE_CHECKING:
    from diff_match_patch import diff_match_patch

# A word keeps inner apostrophes, hyphens, dots and slashes ("children's", "multi-agency",
# "4.21", "gov.uk/guidance") and a leading currency sign ("£5"); whitespace runs and other
# punctuation marks are tokens of their own, so an edit never splits a word.
# (Possessive quantifiers: nothing after a run could make it give characters back, so they
# find what plain ones find, a fifth faster.)
_WORD_PATTERN = r"[£$€¥#]?\w++(?:['’\-./:,]\w++)*+%?"
_TOKEN = re.compile(rf"{_WORD_PATTERN}|\s++|[^\w\s]")
_WORD = re.compile(_WORD_PATTERN)
_OPS = {-1: "delete", 0: "equal", 1: "insert"}
# Surrogates cannot stand for tokens; private-use and later planes are plenty.
_FIRST_CHAR = 0xE000
_CHARS = "".join(chr(_FIRST_CHAR + i) for i in range(0x1900))  # the first ones, in order


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def words(text: str) -> list[str]:
    """The words of a text, case-folded: what similarity is measured on."""
    if text.isascii():  # where case-folding is lowering, and lowering changes no match
        return _WORD.findall(text.lower())
    return [w.casefold() for w in _WORD.findall(text)]


def shingles(w: list[str]) -> Iterable[tuple[str, ...]]:
    """The word triples of a text, from its words (a shorter text is one triple); a triple
    found twice is given twice."""
    if len(w) < 3:
        return (tuple(w),)
    return zip(w, w[1:], w[2:], strict=False)


def word_counts(text: str) -> Counter[str]:
    """Counter(words(text)), counted as the words are found (no list in between)."""
    if text.isascii():  # as in `words`
        return Counter(_WORD.findall(text.lower()))
    return Counter(map(str.casefold, _WORD.findall(text)))


def _encode(a: list[str], b: list[str]) -> tuple[str, str, dict[str, str]]:
    """Each distinct token as one character; the table maps characters back to tokens."""
    table = dict.fromkeys(a)
    table.update(dict.fromkeys(b))
    if len(table) <= len(_CHARS):  # every paragraph: the tables are made by zip, in C
        chars = dict(zip(table, _CHARS, strict=False))
        back = dict(zip(_CHARS, table, strict=False))
    else:
        chars = {tok: chr(_FIRST_CHAR + i if i < 0x1900 else 0x10000 + i)
                 for i, tok in enumerate(table)}
        back = {ch: tok for tok, ch in chars.items()}
    return "".join(map(chars.__getitem__, a)), "".join(map(chars.__getitem__, b)), back


def _decode(chars: str, back: dict[str, str]) -> str:
    return "".join(map(back.__getitem__, chars))


@cache
def _dmp() -> diff_match_patch:
    """One differ for the process, loaded when first needed (a run whose redlines are all in
    the cache never is)."""
    from diff_match_patch import diff_match_patch

    dmp = diff_match_patch()
    # No timeout: a timed-out diff would differ between runs, and paragraphs are small.
    dmp.Diff_Timeout = 0
    return dmp


def word_diff(old: str, new: str) -> tuple[Segment, ...]:
    """The redline turning `old` into `new`, as equal / delete / insert runs of whole words."""
    if old == new:
        return (Segment("equal", old),) if old else ()
    a, b, table = _encode(tokens(old), tokens(new))
    dmp = _dmp()
    diffs = dmp.diff_main(a, b, False)
    dmp.diff_cleanupSemantic(diffs)
    segments = [Segment(_OPS[op], _decode(chars, table)) for op, chars in diffs if chars]
    return _tidy(segments)


def _tidy(segments: list[Segment]) -> tuple[Segment, ...]:
    """Fold a whitespace-only equality between two edits into them, and order each replace
    as delete-then-insert, so "[-a-] [-b-]{+c+} {+d+}" reads "[-a b-]{+c d+}"."""
    out: list[Segment] = []
    i = 0
    while i < len(segments):
        seg = segments[i]
        if (seg.op == "equal" and not seg.text.strip() and out and out[-1].op != "equal"
                and i + 1 < len(segments) and segments[i + 1].op != "equal"):
            # A bare space between two edits belongs to both sides of the replacement.
            _add(out, Segment("delete", seg.text))
            _add(out, Segment("insert", seg.text))
        else:
            _add(out, seg)
        i += 1
    return tuple(_order(out))


def _add(out: list[Segment], seg: Segment) -> None:
    if out and out[-1].op == seg.op:
        out[-1] = Segment(seg.op, out[-1].text + seg.text)
    elif (len(out) >= 2 and seg.op != "equal" and out[-1].op != "equal"
          and out[-2].op == seg.op):
        # delete, insert, delete -> one delete and one insert
        out[-2] = Segment(seg.op, out[-2].text + seg.text)
    else:
        out.append(seg)


def _order(segments: list[Segment]) -> list[Segment]:
    out = list(segments)
    for i in range(len(out) - 1):
        if out[i].op == "insert" and out[i + 1].op == "delete":
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


def replacements(segments: Sequence[Segment]) -> list[tuple[str, str, str, str]]:
    """The replaced phrases of a redline: (old, new, words before, words after) for each
    delete+insert pair; the context is the equal text on either side (for term sweeps)."""
    out = []
    for i, seg in enumerate(segments):
        if seg.op != "delete" or i + 1 >= len(segments) or segments[i + 1].op != "insert":
            continue
        before = segments[i - 1].text if i > 0 and segments[i - 1].op == "equal" else ""
        after = (segments[i + 2].text
                 if i + 2 < len(segments) and segments[i + 2].op == "equal" else "")
        out.append((seg.text, segments[i + 1].text, before, after))
    return out


def edit_count(segments: Sequence[Segment]) -> int:
    """Separate edits in a redline: a replace (delete+insert) counts once."""
    count = 0
    prev = "equal"
    for seg in segments:
        if seg.op != "equal" and prev == "equal":
            count += 1
        prev = seg.op
    return count


def similarity(a: str, b: str) -> float:
    """Share of words the two texts have in common (0..1), order ignored: cheap enough to
    compare every candidate pair, good enough to tell an edit from a different paragraph."""
    return counter_similarity(word_counts(a), word_counts(b))


def counter_similarity(a: Counter[Any], b: Counter[Any]) -> float:
    total = a.total() + b.total()
    if not total:
        return 1.0
    return 2 * common_count(a, b) / total


def common_count(a: Counter[Any], b: Counter[Any]) -> int:
    """sum((a & b).values()), without making `a & b`: only the keys both have are visited
    (two chapters' counts of word triples share a few keys of thousands)."""
    shared = a.keys() & b.keys()
    return sum(n for n in map(min, map(a.__getitem__, shared), map(b.__getitem__, shared))
               if n > 0)


def ordered_similarity(a: str, b: str) -> float:
    """Share of words kept in order (0..1): stricter than `similarity`, used for moves."""
    wa, wb = words(a), words(b)
    total = len(wa) + len(wb)
    if not total:
        return 1.0
    x, y, _back = _encode(wa, wb)
    common = sum(len(chars) for op, chars in _dmp().diff_main(x, y, False) if op == 0)
    return 2 * common / total
