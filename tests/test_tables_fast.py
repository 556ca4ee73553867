"""Plain pipe tables are read without the Markdown parser (chapters._plain_table, reached through
_plain_blocks) exactly as markdown-it reads them, anything else is left to the parser, and a
manual made only of plain paragraphs, headings, "- " lists and tables never loads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import chapters

ROOT = Path(__file__).resolve().parent.parent

# Rows, delimiter rows and neighbours of a table, with the variants markdown-it reads otherwise
# (or that a fast path could get wrong): escapes, code, markup, entities, HTML, indents, tabs,
# Unicode spaces, control characters, missing outer pipes, wrong column counts, empty cells.
ROW = st.sampled_from([
    "| a | b |", "|a|b|", "| Agency | Role |", "| a | b |  ", "| a | b |\t", "| a | b",
    "a | b |", "a | b", " | a | b |", "    | a | b |", "| a \\| b | c |", "| `a|b` | c |",
    "| `x` | y |", "| *a* | b |", "| _a_ | b |", "| a & b | c |", "| &amp; | b |",
    "| <b>x</b> | y |", "| [l](https://e.org) | y |", "| ~~s~~ | t |", "|  |  |", "||", "|",
    "| a |", "| a | b | c |", "| a\u00a0| b |", "|\u00a0| b |", "| \u2028 | b |",
    "|\x0c| b |", "| a\x1cb | c |", "| # h | - x |", "| 1. a | > q |", "| --- | --- |",
    "| 4.21 Text. | x |", "| a  b | c   d |", "| é | ü |", "|a||b|", "| x | y | z | w |",
    "| a | b |\u00a0", "| a | b |\u3000", "\u00a0| a | b |"])
DELIMITER = st.sampled_from([
    "|---|---|", "| --- | --- |", "|:--|--:|", "|:-:|:-:|", "|---|", "|---|---|---|",
    "---|---", "|---|---", "| - | - |", "|--- |---|  ", "|-- -|---|", "|---||---|",
    "|\t---|---|", "| :---: | ---: |", "|---|---|\t", " |---|---|", "|===|===|", "|-|-|-|"])
OTHER = st.sampled_from([
    "", "", "", "## 4. Head", "# Head", "Text.", "4.2 Numbered text.", "- item", "* item",
    "1. one", "> | a |", "text | x", "  ", "\t", "```", "<div>", "[x]: https://e.org", "---",
    "===", "- | a |", "    code", "\u00a0", "| a | b |\n"])
LINE = st.one_of(ROW, ROW, DELIMITER, OTHER)


def _same_as_parser(body: str, line_offset: int) -> tuple[chapters.Block, ...] | None:
    """The fast path's blocks for `body` (None when it declines), checked against the parser."""
    slow = chapters._md_blocks(body, line_offset)
    assert chapters.parse_blocks(body, line_offset) == slow
    fast = chapters._plain_blocks(body, line_offset)
    assert fast is None or fast == slow
    return fast


@settings(max_examples=1500, deadline=None)
@given(st.lists(LINE, max_size=10), st.integers(0, 40))
def test_table_like_text_is_read_as_the_parser_reads_it(lines: list[str],
                                                         line_offset: int) -> None:
    _same_as_parser("\n".join(lines), line_offset)


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(["", "## 3. Who\n", "## 3. Who\n\n", "\n", "Text.\n\n", "- item\n\n"]),
       ROW, DELIMITER, st.lists(ROW, max_size=4), st.sampled_from(["", "\n", "\n\nText.",
                                                                  "\n\n## Next\n\n| a |\n|-|"]))
def test_tables_after_a_heading_or_a_paragraph(before: str, header: str, delimiter: str,
                                               rows: list[str], after: str) -> None:
    _same_as_parser(before + "\n".join([header, delimiter, *rows]) + after, 7)


# Cell text as manuals write it: words, numbers, punctuation the inline parser leaves alone.
CELL = st.text(alphabet="abcXYZ019 .,:;'()/-#+=!?%$@é\u00a0", max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 5), st.data())
def test_plain_tables_are_read_without_the_parser(width: int, data: st.DataObject) -> None:
    header = data.draw(st.lists(CELL, min_size=width, max_size=width))
    rows = data.draw(st.lists(st.lists(CELL, min_size=max(1, width - 1), max_size=width + 1),
                              max_size=5))
    aligns = data.draw(st.lists(st.sampled_from(["---", " --- ", ":--", "--:", " :-: "]),
                                min_size=width, max_size=width))
    spaced = data.draw(st.booleans())
    row = ("| {} |" if spaced else "|{}|").format
    join = " | " if spaced else "|"
    lines = [row(join.join(header)), "|" + "|".join(aligns) + "|",
             *(row(join.join(cells)) for cells in rows)]
    heading = data.draw(st.sampled_from(["", "## 5. Contacts\n\n", "# Who\n"]))
    body = heading + "\n".join(lines) + data.draw(st.sampled_from(["", "\n", "\n\nText.\n"]))
    fast = _same_as_parser(body, 3)
    assert fast is not None
    assert [b.header for b in fast if b.kind == "table_row"] == [True] + [False] * len(rows)


def test_the_bench_manual_s_table() -> None:
    body = ("| Agency | Role | Contact |\n|---|---|---|\n"
            "| Negu | Houtu to fougu should. | Vuhouvouli Cova |\n| Ro |\n")
    fast = _same_as_parser(body, 10)
    assert fast is not None
    assert [(b.text, b.line, b.cells, b.header) for b in fast] == [
        ("Agency | Role | Contact", 11, ("Agency", "Role", "Contact"), True),
        ("Negu | Houtu to fougu should. | Vuhouvouli Cova", 13,
         ("Negu", "Houtu to fougu should.", "Vuhouvouli Cova"), False),
        ("Ro |  | ", 14, ("Ro", "", ""), False)]


CHAPTER = """---
id: CP3
title: Contacts
part: A
---

# 3. Contacts

3.1 Agencies are contacted in this order.

| Agency | Role | Contact |
|:---|:---:|---:|
| Police | Enquiries | Duty desk |
| Health | Advice |

- First item
- Second item

## 3.2 Out of hours

| Service | Number |
| --- | --- |
| Duty team | 0100 200 300 |
"""


def test_a_chapter_of_plain_blocks_and_tables_does_not_load_the_parser() -> None:
    chapter = chapters.parse_chapter("procedures/cp3.md", CHAPTER.encode())
    assert chapter.blocks == chapters._md_blocks(chapter.body, chapter.body_line - 1)
    assert sum(b.kind == "table_row" for b in chapter.blocks) == 5
    # In a process of its own: the other tests load markdown_it into this one.
    code = ("import sys\nfrom pipeline import chapters\n"
            "blocks = chapters.parse_chapter('cp3.md', sys.stdin.buffer.read()).blocks\n"
            "print(len(blocks), 'markdown_it' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], input=CHAPTER.encode(), cwd=ROOT,
                         capture_output=True, check=True).stdout.decode()
    assert out.split() == [str(len(chapter.blocks)), "False"]
