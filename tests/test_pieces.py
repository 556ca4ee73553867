"""Cutting a body into pieces by regular expressions (`chunks.bounds`) gives the pieces the
line-by-line scan (`chunks.pieces`) gives, and the faster checks of a chapter file find what
the plain patterns find."""

from __future__ import annotations

import re
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import chapters, chunks

LINE = st.sampled_from([
    "", "", "", " ", "\t", "\u00a0", "  \u2028", "Plain paragraph.", "## Heading", "- item",
    "* item", "+ item", "1. one", "12) twelve", "1.2 ref", "-", "-x", "    code", " lead",
    "```", "~~~", " ```python", "<div>", "<!-- c", "-->", "<pre>", "</pre>", "text <b>",
    "> quote", "| a | b |", "|---|---|", "[x]: https://e.org", "Title", "===", "---",
    "<<<<<<< HEAD", "=======", ">>>>>>> b", "a=======", "\x0c", "x\x1cy"])


def expected(body: str) -> list[tuple[int, str]] | None:
    lines = body.split("\n")
    starts = chunks.pieces(lines)
    if starts is None:
        return None
    return [(a, "\n".join(lines[a:b])) for a, b in zip(starts, [*starts[1:], len(lines)],
                                                          strict=True)]


@settings(max_examples=500, deadline=None)
@given(st.lists(LINE, max_size=30))
def test_bounds_are_the_pieces(lines: list[str]) -> None:
    body = "\n".join(lines)
    edges = chunks.bounds(body)
    want = expected(body)
    if want is None:
        assert edges is None
    else:
        assert edges is not None
        assert [(body.count("\n", 0, a), body[a:b - 1]) for a, b in pairwise(edges)] == want


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, max_size=12))
def test_fast_line_patterns_find_what_the_plain_ones_find(lines: list[str]) -> None:
    body = "\n".join(lines)
    assert bool(chapters._starts_block(body)) == bool(
        re.search("^" + chapters._OPENS_BLOCK, body, re.MULTILINE))
    assert bool(chunks._REF_DEF(body)) == bool(
        re.search(r"^ {0,3}\[[^\]]+\]:", body, re.MULTILINE))
    slow = re.search("^" + chapters._CONFLICT_MARK, body, re.MULTILINE)
    fast = chapters._conflict_marker(body)
    assert (fast.start(1) if fast else None) == (slow.start(1) if slow else None)
    assert re.search(r"^ *[`~<]", body, re.MULTILINE) is None or \
        chunks._MAY_OPEN.search(body) or body.lstrip(" ")[:1] in ("`", "~", "<")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(
    ["a", "b", " ", "\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x00", "\u00a0", "é",
     "\u2028", "\u3000", ".", "-"]), max_size=30))
def test_collapsed_text_is_the_words_joined_by_single_spaces(text: str) -> None:
    assert chapters.collapse(text) == " ".join(text.split())
