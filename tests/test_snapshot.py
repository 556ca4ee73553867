"""Snapshots: reading a manual at a ref or from the files, piecewise parsing and the parse
cache give exactly what a plain parse gives."""

from __future__ import annotations

import os
import random
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ManualRepo
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import chunks, parsecache, snapshot
from pipeline.chapters import parse_blocks, parse_chapter
from pipeline.manual import open_manual

DATA = Path(__file__).parent / "data" / "site-policy"

TRICKY = """\
Intro paragraph with a [link](https://example.org/a).

## 4. Strategy meetings

4.21 The decision is made at the meeting.

```text
code with a blank line

# not a heading
```

<!-- a comment

over blank lines -->

- item one

- item two, loose

  continued inside the item

Next paragraph after the list.

| A | B |
|---|---|
| 1 | 2 |

> quoted

> quoted again

Setext heading
--------------

<div>
html block
</div>

    indented code

Last line.
"""

PIECES = st.sampled_from([
    "Plain paragraph text.", "## A heading", "### Another heading", "- list item",
    "1. numbered item", "  indented continuation", "```", "~~~", "code line", "<!-- open",
    "close -->", "<pre>", "</pre>", "| a | b |", "|---|---|", "| 1 | 2 |", "> quote",
    "4.21 Numbered paragraph.", "[ref]: https://example.org", "See [ref].", "Title", "====",
    "---", "* star item", "<div>", "</div>", "<span>inline</span> text", "", "", ""])


def _clear_memos() -> None:
    snapshot._PARSED.clear()
    chunks._MEMO.clear()


def test_piecewise_parse_equals_whole_parse_on_tricky_markdown() -> None:
    assert chunks.layout(TRICKY, 7, parse_blocks).placed() == parse_blocks(TRICKY, 7)
    assert len(chunks.pieces(TRICKY.split("\n"))) > 5


def test_a_fence_after_a_closing_tag_is_left_to_the_parser() -> None:
    """Found by the property test below: '</pre>' opens an HTML block (CommonMark type 7) that
    swallows the fence under it, so the second fence opens a block running to the end."""
    body = "</pre>\n```\n\n```\n\nPlain paragraph text."
    chunks._MEMO.clear()
    assert chunks.pieces(body.split("\n")) is None
    assert chunks.layout(body, 3, parse_blocks).placed() == parse_blocks(body, 3)


@settings(max_examples=150, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=40))
def test_piecewise_parse_equals_whole_parse_on_any_markdown(lines: list[str]) -> None:
    body = "\n".join(lines)
    chunks._MEMO.clear()
    assert chunks.layout(body, 3, parse_blocks).placed() == parse_blocks(body, 3)


@settings(max_examples=150, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_blocks_placed_when_asked_for_are_the_whole_parse(lines: list[str],
                                                          rng: random.Random) -> None:
    """A chunks.Layout gives each block, asked for in any order, as the whole parse has it;
    its plain blocks differ from them in line and section only."""
    body = "\n".join(lines)
    chunks._MEMO.clear()
    whole = parse_blocks(body, 3)
    layout = chunks.layout(body, 3, parse_blocks)
    where = [(k, b) for k in range(len(layout.texts)) for b in range(len(layout.entry(k)[0]))]
    assert len(where) == len(whole)
    order = list(range(len(whole)))
    rng.shuffle(order)
    for k in order[: len(order) // 2]:
        assert layout.block(*where[k]) == whole[k]
    assert layout.placed() == whole
    assert [replace(b, line=0, section="") for b in layout.plain] == \
        [replace(b, line=0, section="") for b in whole]


def test_piecewise_parse_equals_whole_parse_on_real_text() -> None:
    files = sorted(DATA.rglob("*.md"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        body = text.split("\n---\n", 1)[1]
        assert chunks.layout(body, 5, parse_blocks).placed() == parse_blocks(body, 5), path


def test_snapshot_at_a_ref_and_of_the_files(manual: ManualRepo) -> None:
    manual.chapter("CP3", "Enquiries", "## Scope\n\nOne.\n\n- item\n", owner="Ann")
    manual.chapter("CP1", "Recognising Abuse", "Text.\n", part="B", path="procedures/b/cp1.md")
    manual.commit("r1")
    manual.tag("r1")
    m = open_manual(manual.root, explicit=True)
    at_ref = m.snapshot("r1")
    files = m.snapshot(None)
    assert [c.id for c in at_ref] == ["CP3", "CP1"]  # part A before part B
    assert at_ref.chapters == files.chapters  # same blob ids, same parse
    cp3 = at_ref.get("CP3")
    assert cp3 is not None and cp3.path == "procedures/cp3.md" and cp3.owner == "Ann"
    assert [(b.kind, b.text, b.line, b.section) for b in cp3.blocks] == [
        ("heading", "Scope", 8, "Scope"), ("paragraph", "One.", 10, "Scope"),
        ("list_item", "item", 12, "Scope")]


def test_parse_cache_round_trip_and_damaged_entries(manual: ManualRepo) -> None:
    manual.chapter("CP3", "Enquiries", "## Scope\n\nSee [the form](https://example.org/f).\n",
                   owner="Ann", tags="[a, b]")
    manual.commit("r1")
    m = open_manual(manual.root, explicit=True)
    _clear_memos()
    first = m.snapshot("HEAD")
    folder = parsecache.folder(m.repo.git_dir)
    assert folder is not None
    entries = list(folder.rglob("*.bin"))
    assert len(entries) == 1
    _clear_memos()
    assert m.snapshot("HEAD") == first  # read back from the cache
    entries[0].write_bytes(b"not a cache entry")
    _clear_memos()
    assert m.snapshot("HEAD") == first  # a damaged entry is parsed again


def test_parse_cache_can_be_turned_off(manual: ManualRepo,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITORIAL_CACHE", "0")
    manual.chapter("CP3", "Enquiries", "Text.\n")
    manual.commit("r1")
    m = open_manual(manual.root, explicit=True)
    _clear_memos()
    m.snapshot("HEAD")
    assert parsecache.folder(m.repo.git_dir) is None
    assert not (Path(m.repo.git_dir) / "editorial-cache").exists()


def test_cached_chapter_equals_parsed_chapter(tmp_path: Path) -> None:
    data = ("---\nid: CP3\ntitle: Enquiries\npart: A\norder: 2\nredirect_from:\n  - /a\n  - /b\n"
            "---\n\n" + TRICKY).encode()
    chapter = parse_chapter("procedures/cp3.md", data, "abc")
    parsecache.store(tmp_path, chapter)
    assert parsecache.load(tmp_path, "procedures/cp3.md", "abc") == chapter
    assert parsecache.load(tmp_path, "procedures/other.md", "abc") is None


def test_prune_keeps_the_newest_entries(tmp_path: Path) -> None:
    root = tmp_path / "editorial-cache" / parsecache.fingerprint()
    stale = tmp_path / "editorial-cache" / "oldparser" / "aa" / "x.bin"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"x")
    for k in range(5):
        entry = root / "ab" / f"{k}.bin"
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_bytes(b"x")
        os.utime(entry, (1000 + k, 1000 + k))
    parsecache.prune(root, limit=2)
    assert sorted(p.name for p in root.rglob("*.bin")) == ["3.bin", "4.bin"]
    assert not stale.exists()


def test_prune_never_touches_folders_outside_the_cache(tmp_path: Path) -> None:
    """A cache kept somewhere else leaves its neighbours alone: nothing a user wrote is lost."""
    neighbour = tmp_path / "someones-work" / "notes.txt"
    neighbour.parent.mkdir()
    neighbour.write_text("keep me")
    root = tmp_path / parsecache.fingerprint()
    root.mkdir()
    parsecache.prune(root, limit=2)
    assert neighbour.read_text() == "keep me"
