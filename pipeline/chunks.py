"""Parse a chapter body piece by piece, each distinct piece once.

Two versions of a chapter share almost all their text, and parsing Markdown is the slowest
step of reading a manual. So the body is cut at the points where no Markdown construct can
run across (a blank line followed by an unindented line that does not start a list item,
outside any fenced code or multi-line HTML block), each piece is parsed on its own by
`chapters.parse_blocks`, and the result is memoised by the piece's text. The blocks are then
placed at their lines and under their section. A body with link reference definitions (which
reach across the whole document) is parsed whole.

The result is the same tuple of blocks as `parse_blocks(body, line_offset)`: the tests check
this on real and generated chapters.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import overload

from pipeline.models import Block, group, with_fields

_LIST_MARK = r"(?:[-+*]|\d{1,9}[.)])(?:\s|$)"  # what opens a list item
_LIST_START = re.compile(_LIST_MARK)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:", re.MULTILINE)
# HTML blocks that run over blank lines, with what ends them (CommonMark types 1 to 5).
_HTML_OPEN = (
    (re.compile(r"^ {0,3}<(?:script|pre|style|textarea)(?:\s|>|$)", re.IGNORECASE),
     re.compile(r"</(?:script|pre|style|textarea)>", re.IGNORECASE)),
    (re.compile(r"^ {0,3}<!--"), re.compile(r"-->")),
    (re.compile(r"^ {0,3}<\?"), re.compile(r"\?>")),
    (re.compile(r"^ {0,3}<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"^ {0,3}<!\[CDATA\["), re.compile(r"\]\]>")),
)

# A piece's text -> its blocks, the section of its last heading (None: it has none), and
# what a comparison compares of each block (see Layout.keys).
_MEMO: dict[str, tuple[tuple[Block, ...], str | None, tuple[tuple[str, str], ...]]] = {}
_MEMO_LIMIT = 200_000


def pieces(lines: list[str]) -> list[int] | None:
    """Start lines of the pieces the body can be cut into (always starting with 0), or None
    when a cheap scan cannot tell where fences run (then the body is parsed whole)."""
    starts = [0]
    fence: str | None = None
    html_end: re.Pattern[str] | None = None
    # After a line opening with '<' that is none of the HTML blocks above, what follows up to
    # the next blank line may be an HTML block of CommonMark type 6 or 7 (where a fence is not
    # a fence) or a paragraph (where it is): which one takes a real parser to say.
    html_loose = False
    for k, line in enumerate(lines):
        if html_loose and not line.strip():
            html_loose = False
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
            continue
        if html_end is not None:
            if html_end.search(line):
                html_end = None
            continue
        if (k > 0 and line and not line[0].isspace() and not lines[k - 1].strip()
                and not _LIST_START.match(line)):
            starts.append(k)
        lead = line.lstrip(" ")[:1]
        if lead not in ("`", "~", "<"):
            continue  # neither a fence nor an HTML block opens here (most lines)
        match = _FENCE.match(line)
        if match:
            if html_loose:
                return None
            fence = match.group(1)
            continue
        for opener, closer in _HTML_OPEN:
            if opener.match(line):
                rest = line[opener.match(line).end():]  # type: ignore[union-attr]
                if not closer.search(rest):
                    if html_loose:
                        return None
                    html_end = closer
                break
        else:
            html_loose = html_loose or lead == "<"
    return starts


# A line whose first character after spaces may open a fence or an HTML block: only a body
# with such a line needs the line-by-line scan of `pieces`. (The patterns open with a newline,
# not `^`, so the regex engine jumps from newline to newline: ten times faster.)
_MAY_OPEN = re.compile(r"\n *[`~<]")
# A blank (or whitespace-only) line, then a line where a piece starts (as `pieces` says).
_STARTS = rf"(?=\S)(?!{_LIST_MARK})"
_CUT = re.compile(r"\n[^\S\n]*\n" + _STARTS)
_FIRST_CUT = re.compile(r"[^\S\n]*\n" + _STARTS)  # the body's first line blank


def spans(body: str) -> list[tuple[int, int, int]] | None:
    """(start line, start offset, end offset) of the pieces of `body`, as `pieces` cuts it
    (a piece's text is "\n".join of its lines), or None when it cannot be cut. Where no line
    may open a fence or an HTML block, the cuts are found by regular expressions instead of
    a Python loop over the lines."""
    if _MAY_OPEN.search(body) is None and body.lstrip(" ")[:1] not in ("`", "~", "<"):
        first = _FIRST_CUT.match(body)
        ends = [first.end()] if first is not None else []
        ends += [match.end() for match in _CUT.finditer(body)]
        out: list[tuple[int, int, int]] = []
        line, at, start_line, start = 0, 0, 0, 0
        for end in ends:
            line += body.count("\n", at, end)
            at = end
            out.append((start_line, start, end - 1))
            start_line, start = line, end
        out.append((start_line, start, len(body)))
        return out
    lines = body.split("\n")
    starts = pieces(lines)
    if starts is None:
        return None
    offsets = [0]
    for text in lines:
        offsets.append(offsets[-1] + len(text) + 1)
    return [(a, offsets[a], offsets[b] - 1)
            for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]


def parse_pieces(body: str, line_offset: int,
                 parse: Callable[[str, int], tuple[Block, ...]]) -> tuple[Block, ...]:
    """The blocks of `body`, as `parse(body, line_offset)` gives them, parsing each distinct
    piece once per process."""
    return layout(body, line_offset, parse).placed()


def layout(body: str, line_offset: int,
           parse: Callable[[str, int], tuple[Block, ...]]) -> Layout:
    """The blocks of `body` (see `parse_pieces`), each placed at its line and under its
    section only when asked for."""
    if _REF_DEF.search(body):
        return Layout.whole(parse(body, line_offset))
    cuts = spans(body)
    if cuts is None or len(cuts) == 1:
        return Layout.whole(parse(body, line_offset))
    plain: list[Block] = []
    keys: list[tuple[str, str]] = []
    starts: list[int] = []
    shifts: list[int] = []
    sections: list[str] = []
    section = ""
    memo = _MEMO
    for start, begin, end in cuts:
        text = body[begin:end]
        parsed = memo.get(text)
        if parsed is None:
            blocks = parse(text, 0)
            headings = [b.section for b in blocks if b.kind == "heading"]
            parsed = (blocks, headings[-1] if headings else None,
                      tuple((group(b), b.text) for b in blocks))
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[text] = parsed
        starts.append(len(plain))
        shifts.append(line_offset + start)
        sections.append(section)
        plain += parsed[0]
        keys += parsed[2]
        if parsed[1] is not None:
            section = parsed[1]
    return Layout(plain, starts, shifts, sections, keys)


class Layout(Sequence[Block]):
    """The blocks of a chapter body. `plain[i]` is block i as its piece's parse gave it: all
    its fields are the block's but `line` and `section`, which `self[i]` sets (a block is
    placed only when asked for: comparing two versions of a chapter reads the text of every
    block, but places only the few that changed). `keys[i]` is (models.group, text) of
    block i: what the block diff aligns, made once for each distinct piece."""

    __slots__ = ("_placed", "_sections", "_shifts", "_starts", "keys", "plain")

    def __init__(self, plain: list[Block], starts: list[int], shifts: list[int],
                 sections: list[str], keys: list[tuple[str, str]]) -> None:
        self.plain = plain
        self.keys = keys
        self._starts = starts  # index of each piece's first block
        self._shifts = shifts  # what each piece's lines are shifted by
        self._sections = sections  # the section each piece opens in
        self._placed: dict[int, Block] = {}

    @classmethod
    def whole(cls, blocks: Sequence[Block]) -> Layout:
        """The layout of blocks already placed."""
        made = cls(list(blocks), [], [], [], [(group(b), b.text) for b in blocks])
        made._placed = dict(enumerate(blocks))
        return made

    def __len__(self) -> int:
        return len(self.plain)

    @overload
    def __getitem__(self, index: int) -> Block: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Block, ...]: ...

    def __getitem__(self, index: int | slice) -> Block | tuple[Block, ...]:
        if isinstance(index, slice):
            return tuple(self[k] for k in range(*index.indices(len(self.plain))))
        if index < 0:
            index += len(self.plain)
        found = self._placed.get(index)
        if found is None:
            if not 0 <= index < len(self.plain):
                raise IndexError(index)
            found = self._placed[index] = self._place(index)
        return found

    def _place(self, index: int) -> Block:
        piece = bisect_right(self._starts, index) - 1
        first = self._starts[piece]
        section = self._sections[piece]
        for block in self.plain[first:index + 1]:  # headings above it in its piece
            if block.kind == "heading":
                section = block.section
        block = self.plain[index]
        return _placed(block, block.line + self._shifts[piece], block.section or section)

    def placed(self) -> tuple[Block, ...]:
        """Every block, placed."""
        if len(self._placed) == len(self.plain):
            return tuple(self._placed[k] for k in range(len(self.plain)))
        out: list[Block] = []
        bounds = [*self._starts[1:], len(self.plain)]
        for first, end, shift, section in zip(self._starts, bounds, self._shifts,
                                              self._sections, strict=True):
            for block in self.plain[first:end]:
                if block.kind == "heading":
                    section = block.section
                out.append(_placed(block, block.line + shift, block.section or section))
        return tuple(out)


def _placed(block: Block, line: int, section: str) -> Block:
    """`block` at another line and section (it runs for every block of a manual)."""
    return with_fields(block, line=line, section=section)
