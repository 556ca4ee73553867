"""The block diff's alignment (`align.Aligner`) answers as difflib.SequenceMatcher does: the
same longest stretch for every range, and so the same opcodes, on lists full of repeats."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.align import Aligner

ITEMS = st.lists(st.sampled_from("aaabbcdef"), max_size=40)


@settings(max_examples=1000, deadline=None)
@given(ITEMS, ITEMS)
def test_the_same_opcodes_as_sequence_matcher(a: list[str], b: list[str]) -> None:
    theirs = difflib.SequenceMatcher(None, a, b, autojunk=False)
    assert Aligner(a, b).get_opcodes() == theirs.get_opcodes()


@settings(max_examples=500, deadline=None)
@given(ITEMS, ITEMS, st.data())
def test_the_same_longest_stretch_in_any_range(a: list[str], b: list[str],
                                               data: st.DataObject) -> None:
    alo = data.draw(st.integers(0, len(a)))
    ahi = data.draw(st.integers(alo, len(a)))
    blo = data.draw(st.integers(0, len(b)))
    bhi = data.draw(st.integers(blo, len(b)))
    theirs = difflib.SequenceMatcher(None, a, b, autojunk=False)
    assert Aligner(a, b).find_longest_match(alo, ahi, blo, bhi) == \
        theirs.find_longest_match(alo, ahi, blo, bhi)


def test_a_repeated_pair_is_matched_where_difflib_matches_it() -> None:
    # [A,B,A,B,C] against [A,B,C]: the longest stretch is the second A,B with C.
    a, b = ["A", "B", "A", "B", "C"], ["A", "B", "C"]
    assert Aligner(a, b).get_matching_blocks() == \
        difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    assert Aligner(a, b).get_opcodes()[0] == ("delete", 0, 2, 0, 0)
