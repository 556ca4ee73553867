"""Two versions of a chapter are aligned piece by piece where their pieces are the same text
(blockdiff.diff_chapter): the changes found are the same whether the chapters were just read
(their pieces parsed only as the comparison asks for them), parsed whole, or read back from
the parse cache; and a comparison parses the pieces that changed, not the whole chapter."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import blockdiff, chapters, chunks, parsecache, snapshot
from pipeline.models import Chapter

WORDS = ("child", "family", "meeting", "police", "health", "school", "plan", "risk", "the")


def piece() -> st.SearchStrategy[str]:
    word = st.sampled_from(WORDS)
    para = st.lists(word, min_size=3, max_size=10).map(lambda w: " ".join(w).capitalize() + ".")
    return st.one_of(
        para, para, para,
        para.map(lambda p: f"Intro.\n\n- {p}\n- Second {p.lower()}"),
        st.tuples(st.integers(1, 9), para).map(lambda t: f"{t[0]}.{t[0] + 1} {t[1]}"),
        word.map(lambda w: f"## {w.title()}"),
        para.map(lambda p: f"{p}\n===="),
        st.tuples(word, word).map(lambda t: f"| Who | What |\n|---|---|\n| {t[0]} | {t[1]} |"),
        st.tuples(word, word).map(lambda t: f"- [{t[0]}](https://example.org/{t[1]})"),
        st.just("Fixed paragraph repeated."),
    )


@st.composite
def versions(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """A body, and the body with pieces replaced, dropped, added, moved or re-spaced."""
    body = draw(st.lists(piece(), min_size=1, max_size=14))
    out = list(body)
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(("replace", "drop", "add", "move", "respace")))
        k = draw(st.integers(0, len(out)))
        if how == "add" or not out:
            out.insert(k, draw(piece()))
            continue
        k = min(k, len(out) - 1)
        if how == "drop":
            del out[k]
        elif how == "replace":
            out[k] = draw(piece())
        elif how == "move":
            out.insert(draw(st.integers(0, len(out) - 1)), out.pop(k))
        else:  # the same blocks, written another way
            out[k] = out[k].replace(" ", "\n", 1)
    return body, out


def text(body: list[str]) -> bytes:
    return ("---\nid: CP1\ntitle: T\npart: A\n---\n\n" + "\n\n".join(body) + "\n").encode()


def found(old: Chapter, new: Chapter) -> list[tuple[object, ...]]:
    return [(p.change, p.old_block, p.new_block) for p in blockdiff.diff_chapter(old, new)]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(versions())
def test_the_changes_are_the_same_however_the_chapters_were_read(
        tmp_path: Path, pair: tuple[list[str], list[str]]) -> None:
    a, b = (text(body) for body in pair)
    old, new = (chapters.parse_chapter("procedures/cp1.md", data, blob)
                for data, blob in ((a, "a1"), (b, "b1")))
    whole = found(old, new)
    chunks._MEMO.clear()
    just_read = found(snapshot._deferred("procedures/cp1.md", a, "a1", None),
                      snapshot._deferred("procedures/cp1.md", b, "b1", None))
    assert just_read == whole
    disk = tmp_path / "cache"
    parsecache.store(disk, old)
    parsecache.store(disk, new)
    chunks._MEMO.clear()
    cached = [parsecache.load_lazy(disk, "procedures/cp1.md", blob, lambda: old)
              for blob in ("a1", "b1")]
    assert found(*cached) == whole  # type: ignore[arg-type]


def test_a_comparison_parses_the_pieces_that_changed_not_the_chapter() -> None:
    body = [f"## Section {s}\n\n" + "\n\n".join(f"{s}.{p} Paragraph {p} of section {s} says "
                                                 "what the board decided." for p in range(1, 20))
            for s in range(1, 11)]
    edited = list(body)
    edited[4] = edited[4].replace("5.7 Paragraph 7", "5.7 Paragraph seven")
    parsed: list[str] = []

    def parse(piece: str, offset: int) -> tuple[chapters.Block, ...]:
        parsed.append(piece)
        return chapters.parse_blocks(piece, offset)

    chunks._MEMO.clear()
    old, new = (parsecache.LazyChapter.of(head, None, lay=lambda h=head: chunks.layout(
        h["body"], h["body_line"] - 1, parse))
        for head in (chapters.parse_head("procedures/cp1.md", text(body), "a"),
                     chapters.parse_head("procedures/cp1.md", text(edited), "b")))
    changes = [p.change for p in blockdiff.diff_chapter(old, new)]
    assert [(c.kind, c.location, c.section, c.line) for c in changes] == [
        ("paragraph.modified", "paragraph 5.7", "Section 5", 181)]
    # The two versions of paragraph 5.7 and the heading its section is named by (and the
    # blank line opening the body, which holds no block): 3 of 400 pieces.
    assert sorted(p.strip() for p in parsed if p.strip()) == ["## Section 5",
                              "5.7 Paragraph 7 of section 5 says what the board decided.",
                              "5.7 Paragraph seven of section 5 says what the board decided."]


def test_chapters_from_the_parse_cache_make_only_the_blocks_compared(tmp_path: Path) -> None:
    body = [f"{p}.1 Paragraph {p} says what the board decided." for p in range(1, 60)]
    edited = list(body)
    edited[30] = "31.1 Paragraph 31 says what the board agreed."
    disk = tmp_path / "cache"
    for data, blob in ((text(body), "a"), (text(edited), "b")):
        parsecache.store(disk, chapters.parse_chapter("procedures/cp1.md", data, blob))
    old, new = (parsecache.load_lazy(disk, "procedures/cp1.md", blob, lambda: None)
                for blob in ("a", "b"))
    assert old is not None and new is not None
    changes = [p.change for p in blockdiff.diff_chapter(old, new)]
    assert [(c.kind, c.location, c.line) for c in changes] == [
        ("paragraph.modified", "paragraph 31.1", 67)]
    for chapter in (old, new):
        # The changed piece's blocks made, of 60 (and the blank line opening the body's).
        made = [e for e in parsecache.layout_of(chapter)._entries if e is not None and e[0]]
        assert "blocks" not in chapter.__dict__ and len(made) == 1
    assert old.blocks == chapters.parse_chapter("procedures/cp1.md", text(body), "a").blocks
