"""Where a block sits in its chapter, said the way a reader looks it up.

"paragraph 4.21" when the paragraph carries a reference; otherwise the section (nearest
heading above) and the block's place in it: "section 'Strategy meetings', paragraph 3",
"section 'Further information', list item 2", "table in section 'Fees', row 2",
"heading 'Strategy meetings'". Blocks before the first heading are in the "opening".
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.models import Block

_MAX_NAME = 60


def short(text: str, limit: int = _MAX_NAME) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def block_locations(blocks: Sequence[Block]) -> list[str]:
    """The location of every block, in order (computed in one pass: numbering is per section)."""
    out: list[str] = []
    section = ""
    counts: dict[str, int] = {}
    tables = 0
    row = 0
    in_table = False
    for block in blocks:
        if block.kind == "heading":
            section, counts, tables, in_table = block.text, {}, 0, False
            out.append(f"heading '{short(block.text)}'")
            continue
        where = f"section '{short(section)}'" if section else "opening"
        if block.kind == "table_row":
            if block.header or not in_table:
                tables += 1
                row = 0
                in_table = True
            table = "table" if tables == 1 else f"table {tables}"
            place = f"{table} in {where}" if section else f"{table} in the opening"
            if block.header:
                out.append(f"{place}, header row")
            else:
                row += 1
                out.append(f"{place}, row {row}")
            continue
        in_table = False
        noun = "list item" if block.kind == "list_item" else "paragraph"
        counts[noun] = counts.get(noun, 0) + 1
        out.append(f"paragraph {block.ref}" if block.ref else f"{where}, {noun} {counts[noun]}")
    return out


def location_alone(block: Block) -> str | None:
    """The location of a block that says it itself (a heading, a numbered paragraph or list
    item), as `block_locations` puts it; None for one numbered from the blocks above it."""
    if block.kind == "heading":
        return f"heading '{short(block.text)}'"
    if block.ref and block.kind != "table_row":
        return f"paragraph {block.ref}"
    return None


def location_at(blocks: Sequence[Block], index: int) -> str:
    """`block_locations(blocks)[index]`, numbered from the nearest heading at or above the
    block (where all numbering starts again): a chapter's few changed blocks are located
    without numbering all of its blocks."""
    alone = location_alone(blocks[index])
    if alone is not None:
        return alone
    start = index
    while start > 0 and blocks[start].kind != "heading":
        start -= 1
    return block_locations(blocks[start:index + 1])[-1]
