"""Parse a chapter body piece by piece, each distinct piece once.

Two versions of a chapter share almost all their text, and parsing Markdown is the slowest
step of reading a manual. So the body is cut at the points where no Markdown construct can
run across (a blank line followed by an unindented line that does not start a list item,
outside any fenced code or multi-line HTML block), each piece is parsed on its own by
`chapters.parse_blocks`, and the result is memoised by the piece's text. A piece is parsed
only when its blocks are asked for (comparing two versions of a chapter asks for the pieces
that differ, and blockdiff aligns the others whole), and its blocks are placed at their lines
and under their section only when asked for too. A body with link reference definitions
(which reach across the whole document) is parsed whole.

All the blocks of a layout are the same tuple of blocks as `parse_blocks(body, line_offset)`:
the tests check this on real and generated chapters.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import accumulate, chain, pairwise, repeat
from operator import itemgetter

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

# A line that may make a heading: one with a '#' (ATX), or one of only '=' or '-' after
# any marks of a container (a setext underline). More than the headings: a piece with none
# of these has no heading.
_UNDERLINE = line_opening(r"[^\n\w]*(?:=+|-+)[ \t]*(?:\n|$)")


def _may_head(text: str) -> bool:
    return "#" in text or _UNDERLINE(text) is not None


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


def piece_edges(body: str) -> list[int] | None:
    """`bounds(body)`, or None when the body is parsed whole: it holds a link reference
    definition (which reaches across the whole document), cannot be cut, or is one piece."""
    if _REF_DEF(body):
        return None
    edges = bounds(body)
    return None if edges is None or len(edges) == 2 else edges


def _texts(body: str, edges: list[int] | None) -> list[str | None]:
    """The text of each piece of `body` cut at `edges` (see `bounds`); None: one piece."""
    return [body] if edges is None else [body[a:b - 1] for a, b in pairwise(edges)]


def layout(body: str, line_offset: int,
           parse: Callable[[str, int], tuple[Block, ...]]) -> Layout:
    """The blocks of `body`, as `parse(body, line_offset)` gives them (`.placed()`), each
    distinct piece parsed once a process, and only when one of its blocks is asked for (a
    comparison asks for the pieces that differ between two versions, and little more); each
    block placed at its line and under its section only when asked for too."""
    edges = piece_edges(body)
    if edges is None:
        return Layout.whole(parse(body, line_offset), body, line_offset)
    texts = _texts(body, edges)
    return Layout(texts, list(map(_MEMO.get, texts)), parse, body, line_offset, edges)


def _parse_piece(text: str, parse: Callable[[str, int], tuple[Block, ...]]) -> _Parsed:
    entry = _MEMO.get(text)
    if entry is None:
        entry = _parsed(parse(text, 0))
        if len(_MEMO) >= _MEMO_LIMIT:
            _MEMO.clear()
        _MEMO[text] = entry
    return entry


def _parsed(blocks: tuple[Block, ...]) -> _Parsed:
    """What a piece that parses to `blocks` gives (see _Parsed)."""
    if len(blocks) == 1:  # most pieces: one paragraph
        block = blocks[0]
        return (blocks, block.section if block.kind == "heading" else None,
                ((group(block), block.text),))
    headings = [b.section for b in blocks if b.kind == "heading"]
    return (blocks, headings[-1] if headings else None,
            tuple([(group(b), b.text) for b in blocks]))


class Layout:
    """The blocks of a chapter body, piece by piece. `texts[k]` is the text of piece k (None
    for a body laid out without its text); `entry(k)` is what it gives: its blocks as its own
    parse gives them (all their fields are the blocks' but `line` and `section`, which
    `block(k, b)` sets; a laid-out body's blocks are placed already), the section of its last
    heading, and (models.group, text) of each block: what a comparison aligns. A piece is
    parsed when its entry is first asked for, and a block placed when it is; `placed()` is
    every block, placed (all pieces parsed then)."""

    __slots__ = ("_blocks", "_body", "_edges", "_entries", "_keys", "_line_offset", "_lines",
                 "_parse", "_placed", "_plain", "_rows", "_sections", "_starts", "texts")

    def __init__(self, texts: list[str | None], entries: list[_Parsed | None],
                 parse: Callable[[str, int], tuple[Block, ...]] | None = None, body: str = "",
                 line_offset: int = 0, edges: list[int] | None = None) -> None:
        self.texts = texts
        self._entries = entries
        self._parse = parse
        self._body = body
        self._line_offset = line_offset
        self._edges = edges or []  # where each piece begins in the body
        self._lines: dict[int, int] = {}  # piece -> the line it opens at, less one
        self._sections: dict[int, str] = {}  # piece -> the section it opens in
        self._placed: dict[tuple[int, int], Block] = {}
        self._blocks: tuple[Block, ...] | None = None  # every block placed, once made
        self._plain: list[Block] | None = None
        self._keys: list[tuple[str, str]] | None = None
        self._starts: list[int] | None = None  # of placed blocks: each piece's first one
        # Placed blocks kept piece by piece, and what makes a piece's (see `kept`).
        self._rows: tuple[list[bytes], Callable[[bytes], tuple[Block, ...]]] | None = None

    @classmethod
    def whole(cls, blocks: Sequence[Block], body: str | None = None, line_offset: int = 0,
              pieces: tuple[list[int], list[int]] | None = None) -> Layout:
        """The layout of blocks already placed: of `body` (starting after `line_offset`
        lines), cut into the pieces `layout` would cut it into, each holding the blocks
        whose lines are in it (or as `pieces` says, as `pieces()` gave it); without a body,
        one piece without a text."""
        blocks = tuple(blocks)
        if pieces is not None:
            edges, counts = pieces
            starts = list(accumulate(counts, initial=0))
        else:
            edges = piece_edges(body) if body is not None else None  # type: ignore[assignment]
            if edges is None:
                starts = [0, len(blocks)]
            else:
                opens = accumulate(map(body.count, repeat("\n"), edges, edges[1:-1]),  # type: ignore[union-attr]
                                   initial=line_offset + 1)
                # Piece k holds the blocks from the first one at or below its first line.
                starts = [bisect_left(blocks, line, key=_line) for line in opens]
                starts.append(len(blocks))
        texts = _texts(body, edges) if body is not None else [None]
        made = cls(texts, [None] * len(texts), body=body or "", line_offset=line_offset,
                   edges=edges)
        made._blocks = blocks
        made._starts = starts
        return made

    @classmethod
    def kept(cls, body: str, line_offset: int, pieces: tuple[list[int], list[int]] | None,
             rows: list[bytes], blocks_of: Callable[[bytes], tuple[Block, ...]]) -> Layout:
        """The layout of placed blocks kept piece by piece (see parsecache): `rows[k]` gives
        piece k's blocks through `blocks_of`, when they are first asked for."""
        edges = pieces[0] if pieces is not None else None
        texts = _texts(body, edges)
        made = cls(texts, [None] * len(texts), body=body, line_offset=line_offset,
                   edges=edges)
        made._rows = (rows, blocks_of)
        return made

    def pieces(self) -> tuple[list[int], list[int]] | None:
        """Where the body's pieces begin (see `bounds`) and how many blocks each holds; None
        for a body parsed whole."""
        if len(self.texts) < 2:
            return None
        return self._edges, [len(self.entry(k)[0]) for k in range(len(self.texts))]

    def entry(self, k: int) -> _Parsed:
        found = self._entries[k]
        if found is None:
            if self._rows is not None:  # placed blocks kept piece by piece
                rows, blocks_of = self._rows
                found = _parsed(blocks_of(rows[k]))
            elif self._parse is None:  # blocks placed already, grouped by piece
                assert self._blocks is not None and self._starts is not None
                found = _parsed(self._blocks[self._starts[k]:self._starts[k + 1]])
            else:
                found = _parse_piece(self.texts[k], self._parse)  # type: ignore[arg-type]
            self._entries[k] = found
        return found

    def block(self, k: int, b: int) -> Block:
        """Block b of piece k, placed."""
        found = self._placed.get((k, b))
        if found is None:
            blocks = self.entry(k)[0]
            block = blocks[b]
            if self._parse is None:  # placed already
                return block
            line = self._line_before(k)
            # The section of the last heading at or above it in its piece, else of the last
            # one above the piece (a heading's section is its own text, perhaps empty).
            section = next((above.section for above in blocks[b::-1] if above.kind == "heading"),
                           None)
            if section is None:
                section = self._section_before(k)
            found = self._placed[k, b] = _placed(block, block.line + line,
                                                 block.section or section)
        return found

    def _line_before(self, k: int) -> int:
        """The line piece k opens at, less one: counted from the nearest piece above it
        whose line is known (a chapter's changed blocks are placed from the top down, so
        the body is counted through about once)."""
        known = self._lines
        line = known.get(k)
        if line is None:
            below = max((j for j in known if j < k), default=None)
            start, line = (0, self._line_offset) if below is None else (
                self._edges[below], known[below])
            line = known[k] = line + self._body.count("\n", start, self._edges[k])
        return line

    def _section_before(self, k: int) -> str:
        """The section piece k opens in: the last heading of the pieces above it."""
        known = self._sections
        walked = []
        section = ""
        for earlier in range(k - 1, -1, -1):
            if earlier + 1 in known:
                section = known[earlier + 1]
                break
            walked.append(earlier + 1)
            found = self._entries[earlier]
            if found is None and not _may_head(self.texts[earlier]):  # type: ignore[arg-type]
                continue  # no heading there: not parsed for this
            heading = self.entry(earlier)[1]
            if heading is not None:
                section = heading
                break
        for later in walked:
            known[later] = section
        return section

    def run_to(self, k: int, b: int) -> list[Block]:
        """The blocks from the nearest heading at or above block b of piece k down to it
        (where a reader's numbering of a section starts), not placed."""
        run = list(self.entry(k)[0][:b + 1])
        while True:
            for at in range(len(run) - 1, -1, -1):
                if run[at].kind == "heading":
                    return run[at:]
            if k == 0:
                return run
            k -= 1
            run[:0] = self.entry(k)[0]

    def _all(self) -> list[_Parsed]:
        for k, found in enumerate(self._entries):
            if found is None:
                self.entry(k)
        return self._entries  # type: ignore[return-value]

    @property
    def plain(self) -> list[Block]:
        """Every block, perhaps not placed (for all but their line and section)."""
        if self._plain is None:
            self._plain = (list(self.placed()) if self._parse is None else
                           list(chain.from_iterable(map(itemgetter(0), self._all()))))
        return self._plain

    @property
    def keys(self) -> list[tuple[str, str]]:
        """(models.group, text) of every block."""
        if self._keys is None:
            self._keys = ([(group(b), b.text) for b in self.plain] if self._parse is None
                          else list(chain.from_iterable(map(itemgetter(2), self._all()))))
        return self._keys

    def placed(self) -> tuple[Block, ...]:
        """Every block, placed."""
        if self._blocks is None and self._parse is None:  # kept piece by piece, placed
            self._blocks = tuple(chain.from_iterable(map(itemgetter(0), self._all())))
        if self._blocks is None:
            entries = self._all()
            lines = accumulate(map(self._body.count, repeat("\n"), self._edges,
                                   self._edges[1:]), initial=self._line_offset)
            sections = accumulate(map(itemgetter(1), entries), _later_section, initial="")
            out: list[Block] = []
            for line, section, (blocks, _last, _keys) in zip(lines, sections, entries,
                                                             strict=False):
                for block in blocks:
                    if block.kind == "heading":
                        section = block.section
                    out.append(_placed(block, block.line + line, block.section or section))
            self._blocks = tuple(out)
        return self._blocks


def _line(block: Block) -> int:
    return block.line


def _later_section(section: str, heading: str | None) -> str:
    """The section after a piece whose last heading is `heading` (None: it has none)."""
    return section if heading is None else heading


def _placed(block: Block, line: int, section: str) -> Block:
    """`block` at another line and section (it runs for every block of a manual)."""
    return with_fields(block, line=line, section=section)
