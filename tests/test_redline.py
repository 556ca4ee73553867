"""Word-level redlines: whole words, readable as tracked changes, and lossless."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import redline
from pipeline.models import Change, Segment
from pipeline.redline import (
    edit_count,
    ordered_similarity,
    replacements,
    similarity,
    tokens,
    word_diff,
)


def text(old: str, new: str) -> str:
    return Change(id="", kind="paragraph.modified", chapter=None, location="",
                  redline=word_diff(old, new)).redline_text()


def test_a_phrase_replaced_reads_as_one_replacement() -> None:
    assert text("Practitioners should consider contextual safeguarding when assessing risk.",
                "Practitioners should consider extrafamilial harm when assessing risk.") == (
        "Practitioners should consider [-contextual safeguarding-]{+extrafamilial harm+} when "
        "assessing risk.")


def test_words_are_never_split() -> None:
    assert text("The fee is £5 per copy.", "The fee is £6 per copy.") == (
        "The fee is [-£5-]{+£6+} per copy.")
    assert text("See paragraph 4.21 onwards.", "See paragraph 4.22 onwards.") == (
        "See paragraph [-4.21-]{+4.22+} onwards.")
    assert text("a multi-agency meeting", "a single-agency meeting") == (
        "a [-multi-agency-]{+single-agency+} meeting")
    assert text("the child’s plan", "the children’s plan") == "the [-child’s-]{+children’s+} plan"


def test_scattered_small_edits_merge_into_readable_runs() -> None:
    assert text("a b c d e f", "x y z w") == "[-a b c d e f-]{+x y z w+}"
    assert text("We will do the thing quickly and then review it",
                "We shall do a thing quickly and then never review it at all") == (
        "We [-will-]{+shall+} do [-the-]{+a+} thing quickly and then {+never +}review it"
        "{+ at all+}")


def test_insertions_and_deletions() -> None:
    assert text("made at the meeting.", "made by social care, not at the meeting.") == (
        "made {+by social care, not +}at the meeting.")
    assert text("Tell the family now, in writing.", "Tell the family in writing.") == (
        "Tell the family [-now, -]in writing.")


def test_identical_and_empty_texts() -> None:
    assert word_diff("Same text.", "Same text.") == (Segment("equal", "Same text."),)
    assert word_diff("", "") == ()
    assert word_diff("", "New.") == (Segment("insert", "New."),)


def test_replacements_and_edit_count() -> None:
    segments = word_diff("The Professional Services are under the Professional Services terms.",
                         "The Expert Services are under the Expert Services terms.")
    assert [(o, n) for o, n, _, _ in replacements(segments)] == [
        ("Professional", "Expert"), ("Professional", "Expert")]
    assert replacements(segments)[0][3].startswith(" Services")
    assert edit_count(segments) == 2
    assert edit_count(word_diff("a b", "a b c")) == 1


def test_similarity() -> None:
    assert similarity("a b c", "a b d") == 2 / 3
    assert similarity("", "") == 1.0
    assert ordered_similarity("a b c d", "d c b a") == 0.25
    assert ordered_similarity("one two three", "one two three") == 1.0


def test_tokens_keep_whitespace_and_punctuation() -> None:
    assert tokens("Hello,  world!") == ["Hello", ",", "  ", "world", "!"]


WORDS = st.sampled_from(["the", "child", "family", "meeting", "4.21", "£5", "multi-agency",
                         ",", ".", "(", ")", "über", "naïve", "—", "can't"])
TEXTS = st.lists(WORDS, max_size=25).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(TEXTS, TEXTS)
def test_a_redline_holds_both_texts(old: str, new: str) -> None:
    segments = word_diff(old, new)
    assert "".join(s.text for s in segments if s.op != "insert") == old
    assert "".join(s.text for s in segments if s.op != "delete") == new
    # runs alternate: never two of the same kind side by side
    assert all(a.op != b.op for a, b in pairwise(segments))
    assert word_diff(old, new) == segments  # the same on every run


def test_terminal_redline_is_coloured() -> None:
    from pipeline.report import redline_text

    segments = word_diff("made at the meeting", "made by social care at the meeting")
    assert redline_text(segments) == "made {+by social care +}at the meeting"
    assert redline_text(segments, color=True) == (
        "made \x1b[32m{+by social care +}\x1b[0mat the meeting")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aZ9 -'./:,%£#_\nßİΣ’"))))
def test_words_are_the_case_folded_matches(text: str) -> None:
    assert redline.words(text) == [w.casefold() for w in redline._WORD.findall(text)]
    assert redline.word_counts(text) == Counter(redline.words(text))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdef"), st.integers(-2, 4)),
       st.dictionaries(st.sampled_from("abcdef"), st.integers(-2, 4)))
def test_common_count_is_the_size_of_the_intersection(a: dict[str, int],
                                                      b: dict[str, int]) -> None:
    assert redline.common_count(Counter(a), Counter(b)) == sum((Counter(a) & Counter(b)).values())


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab1_ '’-./:,%£$#\n\t\u00a0\x1cé!?"), max_size=60))
def test_tokens_and_words_are_what_the_plain_patterns_find(text: str) -> None:
    """The patterns' possessive quantifiers change nothing they find."""
    import re

    word = r"[£$€¥#]?\w+(?:['’\-./:,]\w+)*%?"
    assert tokens(text) == re.findall(rf"{word}|\s+|[^\w\s]", text)
    assert redline._WORD.findall(text) == re.findall(word, text)
