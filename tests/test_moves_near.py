"""Near-identical moves: the move finder pairs exactly what the rule says (moves.py: at least
two shared word triples that few deleted texts have, NEAR_THRESHOLD of words kept in order),
however it narrows down the pairs it diffs. Checked against the rule applied to every pair."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import moves
from pipeline.blockdiff import Piece
from pipeline.models import Change
from pipeline.redline import ordered_similarity, words

VOCABULARY = ("the", "child", "family", "plan", "risk", "review", "school", "police", "Police",
              "multi-agency", "4.21", ",", ".")
TEXTS = st.lists(st.sampled_from(VOCABULARY), min_size=0, max_size=14).map(" ".join)


@st.composite
def edited(draw: st.DrawFn, text: str) -> str:
    """`text` with a few words replaced, dropped, added or moved."""
    w = text.split()
    for _ in range(draw(st.integers(0, 4))):
        how = draw(st.sampled_from(["replace", "drop", "add", "move"]))
        if how == "add" or not w:
            w.insert(draw(st.integers(0, len(w))), draw(st.sampled_from(VOCABULARY)))
            continue
        word = w.pop(draw(st.integers(0, len(w) - 1)))
        if how == "replace":
            w.insert(draw(st.integers(0, len(w))), draw(st.sampled_from(VOCABULARY)))
        elif how == "move":
            w.insert(draw(st.integers(0, len(w))), word)
    return " ".join(w)


@st.composite
def pieces(draw: st.DrawFn) -> list[Piece]:
    olds = draw(st.lists(TEXTS, min_size=1, max_size=12))
    news = [draw(edited(t)) for t in olds if draw(st.booleans())]
    news += draw(st.lists(TEXTS, max_size=4))
    out = [Piece(Change(id="", kind="paragraph.deleted", chapter="A", location="", old=t),
                 candidate=draw(st.booleans())) for t in olds]
    out += [Piece(Change(id="", kind="paragraph.inserted", chapter="B", location="", new=t),
                  candidate=draw(st.booleans())) for t in news]
    return draw(st.permutations(out))


def triples(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[k: k + 3]) for k in range(max(1, len(w) - 2))}


def by_the_rule(pieces: list[Piece], outs: list[int], ins: list[int]) -> list[tuple[int, int]]:
    """Every pair of long enough texts, one deleted and one inserted, tried in turn."""
    outs = [o for o in outs if len(words(pieces[o].change.old or "")) >= moves.NEAR_MIN_WORDS]
    ins = [i for i in ins if len(words(pieces[i].change.new or "")) >= moves.NEAR_MIN_WORDS]
    having = Counter(t for o in outs for t in triples(pieces[o].change.old or ""))
    scored = []
    for o in outs:
        for i in ins:
            old, new = pieces[o].change.old or "", pieces[i].change.new or ""
            shared = [t for t in triples(old) & triples(new)
                      if having[t] <= moves._COMMON_SHINGLE]
            if len(shared) < 2 or (pieces[o].candidate and pieces[i].candidate):
                continue
            s = ordered_similarity(old, new)
            if s >= moves.NEAR_THRESHOLD:
                scored.append((-s, o, i))
    return moves.best_pairs(scored)


@pytest.mark.parametrize("common", [moves._COMMON_SHINGLE, 2])
@settings(max_examples=150, deadline=None)
@given(given_pieces=pieces())
def test_near_pairs_are_those_of_the_rule(common: int, given_pieces: list[Piece]) -> None:
    outs = [k for k, p in enumerate(given_pieces) if p.change.kind == "paragraph.deleted"]
    ins = [k for k, p in enumerate(given_pieces) if p.change.kind == "paragraph.inserted"]
    with pytest.MonkeyPatch.context() as mp:
        # A low limit, so that some shared triples are too common to count.
        mp.setattr(moves, "_COMMON_SHINGLE", common)
        assert moves._near(given_pieces, outs, ins) == by_the_rule(given_pieces, outs, ins)


@settings(max_examples=300, deadline=None)
@given(TEXTS, TEXTS)
def test_words_in_order_are_at_most_the_words_in_common(a: str, b: str) -> None:
    """The bound by which the move finder leaves pairs undiffed."""
    wa, wb = words(a), words(b)
    if wa or wb:
        common = (Counter(wa) & Counter(wb)).total()
        assert ordered_similarity(a, b) <= 2 * common / (len(wa) + len(wb))


def test_a_paragraph_grown_by_a_few_words_is_still_a_move() -> None:
    """Just above the threshold: 10 words kept in order of 10 and 14 (20/24 = 0.83)."""
    old = "the child family plan risk review school police the child"
    new = "the child and family plan of risk review at the school police the child"
    given_pieces = [Piece(Change(id="", kind="paragraph.deleted", chapter="A", location="",
                                 old=old)),
                    Piece(Change(id="", kind="paragraph.inserted", chapter="B", location="",
                                 new=new))]
    assert ordered_similarity(old, new) == 20 / 24
    assert moves._near(given_pieces, [0], [1]) == [(0, 1)]
