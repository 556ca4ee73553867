"""A block located on its own (`location_at`, as the block diff locates changed blocks) is
where numbering the whole chapter (`block_locations`) puts it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.locations import block_locations, location_at
from pipeline.models import Block

BLOCKS = st.builds(
    lambda kind, text, ref, header: Block(kind=kind, text=text, source=text, line=1, ref=ref,
                                          header=header and kind == "table_row"),
    st.sampled_from(["heading", "paragraph", "list_item", "table_row", "code", "html"]),
    st.sampled_from(["Scope", "Strategy meetings", "", "A very long heading " * 5]),
    st.sampled_from([None, None, "4.21", "2"]),
    st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(BLOCKS, max_size=25))
def test_each_block_alone_is_located_as_in_the_whole_chapter(blocks: list[Block]) -> None:
    whole = block_locations(blocks)
    assert [location_at(blocks, i) for i in range(len(blocks))] == whole


def test_numbering_starts_again_under_each_heading() -> None:
    blocks = [Block("paragraph", "Intro", "", 1), Block("heading", "Scope", "", 2),
              Block("paragraph", "One", "", 3), Block("table_row", "a | b", "", 4, header=True),
              Block("table_row", "1 | 2", "", 5), Block("list_item", "x", "", 6),
              Block("paragraph", "Two", "", 7)]
    assert [location_at(blocks, i) for i in range(len(blocks))] == [
        "opening, paragraph 1", "heading 'Scope'", "section 'Scope', paragraph 1",
        "table in section 'Scope', header row", "table in section 'Scope', row 1",
        "section 'Scope', list item 1", "section 'Scope', paragraph 2"]
