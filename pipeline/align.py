"""difflib.SequenceMatcher's alignment of two block lists, found from their runs of equal
blocks instead of a table per search.

The block diff aligns two versions of a chapter with SequenceMatcher (no junk, no autojunk),
whose answer the published record depends on. SequenceMatcher finds it by searching, again
and again in smaller ranges, for the longest stretch of equal elements (earliest in the
first list, then in the second), each search a Python loop over the whole range. Two
versions of a chapter are a few long stretches of equal blocks: `Aligner` lists those
stretches once (every maximal run of equal pairs along a diagonal), and each search takes
the longest run clipped to its range, with the same tie-breaking, so every search answers
as SequenceMatcher's own does and the opcodes are the same (tests/test_align.py checks it
against difflib on random lists full of repeats).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from difflib import Match, SequenceMatcher


class Aligner(SequenceMatcher):
    """SequenceMatcher(None, a, b, autojunk=False), searching its runs of equal elements."""

    def __init__(self, a: Sequence[Hashable], b: Sequence[Hashable]) -> None:
        super().__init__(None, a, b, autojunk=False)  # type: ignore[arg-type]
        self.runs = _runs(a, self.b2j)

    def find_longest_match(self, alo: int = 0, ahi: int | None = None, blo: int = 0,
                           bhi: int | None = None) -> Match:
        if ahi is None:
            ahi = len(self.a)
        if bhi is None:
            bhi = len(self.b)
        besti, bestj, bestsize = alo, blo, 0
        for i, j, size in self.runs:
            if i >= ahi or j >= bhi or i + size <= alo or j + size <= blo:
                continue  # wholly outside the range
            start = max(0, alo - i, blo - j)
            stop = min(size, ahi - i, bhi - j)
            k = stop - start
            if k > bestsize or (k == bestsize and k > 0
                                and (i + start, j + start) < (besti, bestj)):
                besti, bestj, bestsize = i + start, j + start, k
        return Match(besti, bestj, bestsize)


def _runs(a: Sequence[Hashable], b2j: dict[Hashable, list[int]]) -> list[tuple[int, int, int]]:
    """(i, j, size) of every maximal run a[i:i+size] == b[j:j+size] (no longer in either
    direction), from the positions of each element in b."""
    runs: list[list[int]] = []
    previous: dict[int, list[int]] = {}  # j -> the run holding (i - 1, j)
    nothing: list[int] = []
    for i, element in enumerate(a):
        current: dict[int, list[int]] = {}
        for j in b2j.get(element, nothing):
            run = previous.get(j - 1)
            if run is None:
                run = [i, j, 0]
                runs.append(run)
            run[2] += 1
            current[j] = run
        previous = current
    return [(i, j, size) for i, j, size in runs]
