"""What the engine keeps between runs gives exactly what it computes: chapters read lazily
from the parse cache, and the body changes of each pair of chapter versions."""

from __future__ import annotations

import copy
import gc
import pickle
import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ManualRepo
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import chapters, chunks, diffcache, gcpause, gitio, parsecache, snapshot
from pipeline.changes import body_changes
from pipeline.chapters import parse_blocks, parse_chapter
from pipeline.manual import compare, open_manual
from pipeline.models import Chapter

TEXT = ("---\nid: CP3\ntitle: Enquiries\npart: A\nowner: Ann\ntopics:\n  - a\n  - b\n---\n\n"
        "## 4. Strategy\n\n4.1 See [the form](https://example.org/f).\n\n- an item\n\n"
        "| A | B |\n|---|---|\n| 1 | 2 |\n")


def lazy_copy(root: Path, chapter: Chapter) -> Chapter:
    parsecache.store(root, chapter)
    lazy = parsecache.load_lazy(root, chapter.path, chapter.blob,
                                lambda: pytest.fail("parsed although the entry is there"))
    assert isinstance(lazy, parsecache.LazyChapter)
    return lazy


def test_a_lazy_chapter_is_the_chapter_it_stands_for(tmp_path: Path) -> None:
    chapter = parse_chapter("procedures/cp3.md", TEXT.encode(), "abc")
    lazy = lazy_copy(tmp_path, chapter)
    assert "blocks" not in lazy.__dict__  # not read yet
    assert lazy == chapter and chapter == lazy and hash(lazy) == hash(chapter)
    assert (lazy.body, lazy.blocks) == (chapter.body, chapter.blocks)
    assert lazy != replace(chapter, title="Other")
    for copied in (pickle.loads(pickle.dumps(lazy)), copy.deepcopy(lazy)):
        assert type(copied) is Chapter and copied == chapter
    assert replace(lazy, title="Other").title == "Other"


def test_a_lazy_chapter_whose_entry_went_is_parsed(tmp_path: Path) -> None:
    chapter = parse_chapter("procedures/cp3.md", TEXT.encode(), "abc")
    parsecache.store(tmp_path, chapter)
    parsed = []

    def parse() -> Chapter:
        parsed.append(1)
        return parse_chapter("procedures/cp3.md", TEXT.encode(), "abc")

    lazy = parsecache.load_lazy(tmp_path, chapter.path, chapter.blob, parse)
    assert lazy is not None
    for entry in tmp_path.rglob("*.bin"):
        entry.write_bytes(entry.read_bytes()[:40])  # cut short, as a full disk would
    assert lazy.blocks == chapter.blocks and parsed == [1]
    assert parsecache.load_lazy(tmp_path, "procedures/other.md", "abc", parse) is None


def test_a_chapter_compared_before_its_blocks_are_made_is_placed_and_kept_whole(
        tmp_path: Path) -> None:
    """A chapter read for a comparison gives its blocks through a layout, placing only
    those asked for; its blocks and its parse-cache entry are still the whole parse."""
    chapter = parse_chapter("procedures/cp3.md", TEXT.encode(), "abc")
    chunks._MEMO.clear()
    parsecache.hold()  # as a command does: entries written once its answer is out
    try:
        lazy = snapshot._deferred(chapter.path, TEXT.encode(), "abc", tmp_path)
        layout = parsecache.layout_of(lazy)
        assert "blocks" not in lazy.__dict__ and not layout._placed
        where = [(k, b) for k in range(len(layout.texts))
                 for b in range(len(layout.entry(k)[0]))]  # parsed, none placed
        assert layout.block(*where[3]) == chapter.blocks[3] and len(layout._placed) == 1
        assert lazy.blocks == chapter.blocks and lazy == chapter
    finally:
        parsecache.release()
    kept = parsecache.load(tmp_path, chapter.path, "abc")
    assert kept == chapter
    assert parsecache.layout_of(chapter).placed() == chapter.blocks


def two_releases(manual: ManualRepo) -> None:
    manual.chapter("CP3", "Enquiries", "## 4. Strategy\n\n4.1 The meeting decides.\n\n"
                   "4.2 Minutes are kept.\n\n- [Form](https://example.org/f)\n")
    manual.chapter("CP4", "Conferences", "Unchanged text.\n")
    manual.commit("r1")
    manual.tag("r1")
    manual.chapter("CP3", "Enquiries", "## 3. New\n\n3.1 Added first.\n\n## 4. Strategy\n\n"
                   "4.1 The meeting decides today.\n\n4.2 Minutes are kept.\n\n"
                   "- [Form](https://example.org/f2)\n- [Leaflet](https://example.org/l)\n")
    manual.commit("r2")
    manual.tag("r2")


def test_kept_body_changes_are_what_the_engine_finds(manual: ManualRepo) -> None:
    two_releases(manual)
    m = open_manual(manual.root, explicit=True)
    first = compare(m, "r1", "r2").changes
    folder = Path(m.repo.git_dir) / "editorial-cache" / parsecache.fingerprint() / "changes"
    entries = sorted(folder.rglob("*.bin"))
    assert len(entries) == 1  # one pair changed; CP4 is the same blob on both sides
    snapshot._PARSED.clear()
    assert compare(m, "r1", "r2").changes == first  # read back
    entries[0].write_bytes(b"damaged")
    assert compare(m, "r1", "r2").changes == first  # computed again
    old, new = m.snapshot("r1").get("CP3"), m.snapshot("r2").get("CP3")
    assert old is not None and new is not None
    assert diffcache.open_cache(m.repo.git_dir).get(old.blob, new.blob) == body_changes(old, new)


def test_nothing_is_kept_when_the_cache_is_off(manual: ManualRepo,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITORIAL_CACHE", "0")
    two_releases(manual)
    m = open_manual(manual.root, explicit=True)
    assert compare(m, "r1", "r2").changes
    assert diffcache.open_cache(m.repo.git_dir) is None
    assert not (Path(m.repo.git_dir) / "editorial-cache").exists()


def test_many_blobs_read_at_once(manual: ManualRepo) -> None:
    two_releases(manual)
    m = open_manual(manual.root, explicit=True)
    files = gitio.list_files(m.repo, gitio.resolve(m.repo, "r2"), "procedures")
    blobs = list(files.values())
    read = dict(gitio.blobs_stream(m.repo, [*blobs, blobs[0]]))
    assert read == {b: gitio.blob_bytes(m.repo, b) for b in blobs}
    assert dict(gitio.blobs_stream(m.repo, [])) == {}


# Bits of text, with every character that can make Markdown of it.
PIECE = st.lists(st.sampled_from([
    *"ab 1.2)\n\n-+*#>=_`[]()!<>&|~\\\t", "4.21 ", "\u00a0", "\u3000", "\u2028", "x\n",
    "   ", "1. ", "Word", "\n\n"]), max_size=25).map("".join)
# ...and plain text, which the parser is skipped for.
PLAIN = st.lists(st.sampled_from(["Word", "the", " ", "\n", ".", ",", "4.21 ", "2023",
                                  "\u00a0", "\u2028", "\n\n", "1."]), max_size=25).map("".join)
HEADING = st.tuples(st.sampled_from(["", "\n", " "]), st.sampled_from(["#", "##", "######",
                                                                      "#######", "## "]),
                    st.sampled_from([" ", "  ", "\t", ""]), PLAIN,
                    st.sampled_from(["", " ##", "#", " #  ", "\n", "\n\n"])).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(PIECE, PLAIN, HEADING), st.integers(0, 5))
def test_plain_paragraphs_are_read_as_the_markdown_parser_reads_them(text: str,
                                                                     offset: int) -> None:
    assert parse_blocks(text, offset) == chapters._md_blocks(text, offset)


def test_most_of_a_manual_is_plain_paragraphs() -> None:
    assert chapters._plain_paragraph("4.21 The plan\nis agreed.\n\n", 3) == parse_blocks(
        "4.21 The plan\nis agreed.\n\n", 3)
    assert chapters._plain_paragraph("4.21 The plan\nis agreed.\n", 3) is not None
    assert chapters._plain_heading("## 4. Strategy meetings ##\n\n", 2) == parse_blocks(
        "## 4. Strategy meetings ##\n\n", 2) != ()
    for markup in ("See [the form](x).", "A *word*.", "- item", "1. item", "# Head",
                   "Text\n\nMore text", "    code", "Title\n===", "a | b"):
        assert chapters._plain_paragraph(markup, 0) is None, markup


def test_the_collector_is_paused_only_while_reading() -> None:
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an inner pause leaves the outer one be
    assert gc.isenabled()
    with pytest.raises(ValueError), gcpause.paused():
        raise ValueError
    assert gc.isenabled()


# Lines of pieces with lists and links, and of everything that could make them mean more.
ITEM_LINE = st.sampled_from([
    "- an item", "- 4.21 A numbered item.", "- [Form](https://example.org/f)",
    "- [Form](https://Example.org/f)", "- [Form](https://example.org/a b)", "- [](https://e.org)",
    "- [a *b*](https://e.org/x)", "- [Form](https://e.org/x \"t\")", "- [Form](http://xn--e.org)",
    "- [Form](https://e.org/%41)", "- [ ](https://e.org/)", "- ", "-", "-  two spaces",
    "- # heading", "- > quote", "- - nested", "- 1. nested", "- ---", "-\titem", "* star",
    "+ plus", "1. one", "  continued", "    code", "lazy line", "## Further information",
    "# Title #", "Plain paragraph.", "Title", "===", "---", "", "", "", "- a\u00a0b",
    "- \u00a0", "- x\u2028y", "- trailing  ", "- [Form](https://e.org/f) more", "- a|b"])


@settings(max_examples=300, deadline=None)
@given(st.lists(ITEM_LINE, min_size=1, max_size=12), st.integers(0, 5))
def test_lists_and_links_are_read_as_the_markdown_parser_reads_them(lines: list[str],
                                                                    offset: int) -> None:
    text = "\n".join(lines)
    assert parse_blocks(text, offset) == chapters._md_blocks(text, offset)


def _bodies() -> list[str]:
    """Chapter bodies of the corpus, the sample manual's history and the benchmark."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import synth

    root = Path(__file__).resolve().parents[1]
    texts = [p.read_text(encoding="utf-8") for folder in (root / "tests" / "data",
                                                          root / "sample" / "history")
             for p in sorted(folder.rglob("*.md"))]
    words = synth.Words(random.Random(5))
    texts += [synth._chapter(words, n, 1500).render() for n in range(1, 21)]
    return [t.split("\n---\n", 1)[1] for t in texts if t.startswith("---\n")]


def test_pieces_without_the_parser_are_what_the_parser_gives_on_real_text() -> None:
    fast = slow = 0
    for body in _bodies():
        lines = body.split("\n")
        starts = chunks.pieces(lines) or [0]
        for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
            text = "\n".join(lines[start:end])
            plain = chapters._plain_blocks(text, 4)
            if plain is None:
                slow += 1
            else:
                fast += 1
                assert plain == chapters._md_blocks(text, 4), text
    assert fast > 5 * slow  # most pieces of a manual need no parser
