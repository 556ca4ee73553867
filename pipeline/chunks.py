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
from itertools import accumulate, chain, pairwise, repeat
from operator import itemgetter
from typing import overload

from pipeline.models import Block, group, with_fields


def line_opening(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """A search for the first line of a text that opens with `pattern`, as
    `re.search("^" + pattern, text, re.MULTILINE)` finds it, made of a match at the start
    and a search for a newline then the pattern: the regex engine then jumps from newline
    to newline instead of trying `^` at every character (ten times faster on a chapter)."""
    first = re.compile(pattern, re.MULTILINE)
    later = re.compile(r"\n" + pattern, re.MULTILINE)
    return lambda text: first.match(text) or later.search(text)


_LIST_MARK = r"(?:[-+*]|\d{1,9}[.)])(?:\s|$)"  # what opens a list item
_LIST_START = re.compile(_LIST_MARK)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_REF_DEF = line_opening(r" {0,3}\[[^\]]+\]:")
# HTML blocks that run over blank lines, with what ends them (CommonMark types 1 to 5).
_HTML_OPEN = (
    (re.compile(r"^ {0,3}<(?:script|pre|style|textarea)(?:\s|>|$)", re.IGNORECASE),
     re.compile(r"</(?:script|pre|style|textarea)>", re.IGNORECASE)),
    (re.compile(r"^ {0,3}<!--"), re.compile(r"-->")),
    (re.compile(r"^ {0,3}<\?"), re.compile(r"\?>")),
    (re.compile(r"^ {0,3}<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"^ {0,3}<!\[CDATA\["), re.compile(r"\]\]>")),
)

# What a piece's text gives: its blocks, the section of its last heading (None: it has
# none), and what a comparison compares of each block (see Layout.keys).
_Parsed = tuple[tuple[Block, ...], str | None, tuple[tuple[str, str], ...]]
# A piece's text -> what it gives.
_MEMO: dict[str, _Parsed] = {}
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


def bounds(body: str) -> list[int] | None:
    """Where the pieces of `body` begin, as `pieces` cuts it, then len(body) + 1: piece k is
    body[b[k]:b[k + 1] - 1] (its lines joined by newlines); None when it cannot be cut.
    Where no line may open a fence or an HTML block, the cuts are found by regular
    expressions instead of a Python loop over the lines."""
    if _MAY_OPEN.search(body) is None and body.lstrip(" ")[:1] not in ("`", "~", "<"):
        first = _FIRST_CUT.match(body)
        out = [0, first.end()] if first is not None else [0]
        out += [match.end() for match in _CUT.finditer(body)]
        out.append(len(body) + 1)
        return out
    lines = body.split("\n")
    starts = pieces(lines)
    if starts is None:
        return None
    offsets = [0]
    for text in lines:
        offsets.append(offsets[-1] + len(text) + 1)
    return [*(offsets[k] for k in starts), offsets[-1]]


def layout(body: str, line_offset: int,
           parse: Callable[[str, int], tuple[Block, ...]]) -> Layout:
    """The blocks of `body`, as `parse(body, line_offset)` gives them (`.placed()`), each
    distinct piece parsed once a process, and each block placed at its line and under its
    section only when asked for. Most pieces of a chapter are in the memo (the other
    version of the chapter had them), so this is made of whole-list operations, with
    a Python step only for the pieces parsed here."""
    if _REF_DEF(body):
        return Layout.whole(parse(body, line_offset))
    edges = bounds(body)
    if edges is None or len(edges) == 2:
        return Layout.whole(parse(body, line_offset))
    texts = [body[a:b - 1] for a, b in pairwise(edges)]
    memo = _MEMO
    entries: list[_Parsed | None] = list(map(memo.get, texts))
    for k in [k for k, entry in enumerate(entries) if entry is None]:
        entry = memo.get(texts[k])  # the same text twice in one chapter
        if entry is None:
            entry = _parsed(parse(texts[k], 0))
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[texts[k]] = entry
        entries[k] = entry
    return Layout.of(body, line_offset, edges, entries)  # type: ignore[arg-type]


def _parsed(blocks: tuple[Block, ...]) -> _Parsed:
    """What a piece that parses to `blocks` gives (see _Parsed)."""
    if len(blocks) == 1:  # most pieces: one paragraph
        block = blocks[0]
        return (blocks, block.section if block.kind == "heading" else None,
                ((group(block), block.text),))
    headings = [b.section for b in blocks if b.kind == "heading"]
    return (blocks, headings[-1] if headings else None,
            tuple([(group(b), b.text) for b in blocks]))


# Up to this many blocks of a layout are placed each on its own (most changed chapters);
# beyond, where every piece opens is found in one pass (an added chapter: all its blocks).
_FEW = 16


class Layout(Sequence[Block]):
    """The blocks of a chapter body. `plain[i]` is block i as its piece's parse gave it: all
    its fields are the block's but `line` and `section`, which `self[i]` sets (a block is
    placed only when asked for: comparing two versions of a chapter reads the text of every
    block, but places only the few that changed). `keys[i]` is (models.group, text) of
    block i: what the block diff aligns, made once for each distinct piece."""

    __slots__ = ("_body", "_edges", "_entries", "_line_offset", "_opens", "_placed", "_starts",
                 "keys", "plain")

    def __init__(self, plain: list[Block], keys: list[tuple[str, str]]) -> None:
        self.plain = plain
        self.keys = keys
        self._placed: dict[int, Block] = {}
        self._body = ""
        self._line_offset = 0
        self._edges: list[int] = []  # where each piece begins in the body
        self._entries: list[_Parsed] = []  # what each piece gave
        self._starts: list[int] = []  # index of each piece's first block
        self._opens: list[tuple[int, str]] | None = None  # see _openings

    @classmethod
    def of(cls, body: str, line_offset: int, edges: list[int], entries: list[_Parsed]
           ) -> Layout:
        """The layout of the pieces of `body` cut at `edges`, which gave `entries`."""
        made = cls(list(chain.from_iterable(map(itemgetter(0), entries))),
                   list(chain.from_iterable(map(itemgetter(2), entries))))
        made._body, made._line_offset = body, line_offset
        made._edges, made._entries = edges, entries
        made._starts = list(accumulate(map(len, map(itemgetter(0), entries)), initial=0))
        return made

    @classmethod
    def whole(cls, blocks: Sequence[Block]) -> Layout:
        """The layout of blocks already placed."""
        made = cls(list(blocks), [(group(b), b.text) for b in blocks])
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
        if self._opens is None and len(self._placed) < _FEW:
            line, section = self._opening(piece)
        else:
            if self._opens is None:
                self._opens = self._openings()
            line, section = self._opens[piece]
        for block in self.plain[self._starts[piece]:index + 1]:  # headings above, in its piece
            if block.kind == "heading":
                section = block.section
        block = self.plain[index]
        return _placed(block, block.line + line, block.section or section)

    def _opening(self, piece: int) -> tuple[int, str]:
        """`_openings()[piece]`, found alone: the lines before the piece counted, and the
        pieces before it read back to the last one with a heading."""
        line = self._line_offset + self._body.count("\n", 0, self._edges[piece])
        for earlier in range(piece - 1, -1, -1):
            heading = self._entries[earlier][1]
            if heading is not None:
                return line, heading
        return line, ""

    def _openings(self) -> list[tuple[int, str]]:
        """The line each piece opens at (less one) and the section it opens in."""
        lines = accumulate(map(self._body.count, repeat("\n"), self._edges, self._edges[1:]),
                           initial=self._line_offset)
        sections = accumulate(map(itemgetter(1), self._entries), _later_section, initial="")
        return list(zip(lines, sections, strict=False))[:len(self._entries)]

    def placed(self) -> tuple[Block, ...]:
        """Every block, placed."""
        if len(self._placed) == len(self.plain):
            return tuple(self._placed[k] for k in range(len(self.plain)))
        out: list[Block] = []
        opens = self._opens or self._openings()
        for (line, section), (blocks, _last, _keys) in zip(opens, self._entries, strict=True):
            for block in blocks:
                if block.kind == "heading":
                    section = block.section
                out.append(_placed(block, block.line + line, block.section or section))
        return tuple(out)


def _later_section(section: str, heading: str | None) -> str:
    """The section after a piece whose last heading is `heading` (None: it has none)."""
    return section if heading is None else heading


def _placed(block: Block, line: int, section: str) -> Block:
    """`block` at another line and section (it runs for every block of a manual)."""
    return with_fields(block, line=line, section=section)
