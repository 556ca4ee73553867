"""Properties of change detection over generated chapters (hypothesis, bounded examples):
a snapshot against itself has no changes; ids are the same on every run and whatever the
order of chapters; an edit in one chapter changes no id in another."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.changes import detect_changes
from pipeline.chapters import parse_chapter
from pipeline.models import Change, Chapter, Snapshot

A_WORDS = ("child", "family", "meeting", "police", "health", "school", "plan", "risk",
           "review", "social", "worker", "referral", "consent", "agency", "the", "and")
B_WORDS = ("zeta", "omega", "sigma", "delta", "kappa", "lambda", "theta", "gamma")


def blocks(vocabulary: tuple[str, ...]) -> st.SearchStrategy[str]:
    word = st.sampled_from(vocabulary)
    para = st.lists(word, min_size=3, max_size=12).map(lambda w: " ".join(w).capitalize() + ".")
    return st.one_of(
        para, para,
        para.map(lambda p: f"- {p}"),
        st.tuples(st.integers(1, 9), para).map(lambda t: f"{t[0]}.{t[0] + 1} {t[1]}"),
        word.map(lambda w: f"## {w.title()}"),
        st.tuples(word, word).map(lambda t: f"| Who | What |\n|---|---|\n| {t[0]} | {t[1]} |"),
        st.tuples(word, word).map(lambda t: f"- [{t[0]}](https://example.org/{t[1]})"),
    )


def bodies(vocabulary: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(blocks(vocabulary), min_size=1, max_size=10)


@st.composite
def edited(draw: st.DrawFn, body: list[str], vocabulary: tuple[str, ...]) -> list[str]:
    """`body` with a few blocks replaced, dropped or added."""
    out = list(body)
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(("replace", "drop", "add")))
        k = draw(st.integers(0, len(out)))
        if how == "add" or not out:
            out.insert(k, draw(blocks(vocabulary)))
        elif how == "drop":
            del out[min(k, len(out) - 1)]
        else:
            out[min(k, len(out) - 1)] = draw(blocks(vocabulary))
    return out


def chapter(cid: str, body: list[str], title: str = "Title") -> Chapter:
    text = f"---\nid: {cid}\ntitle: {title}\npart: A\n---\n\n" + "\n\n".join(body) + "\n"
    return parse_chapter(f"procedures/{cid.lower()}.md", text.encode())


def snap(*chapters: Chapter) -> Snapshot:
    return Snapshot(ref=None, commit=None, chapters=chapters)


def ids(changes: list[Change], chapter: str | None = None) -> list[str]:
    return sorted(c.id for c in changes
                  if chapter is None or c.chapter == chapter or c.chapters == (chapter,))


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(bodies(A_WORDS), bodies(B_WORDS))
def test_a_snapshot_against_itself_has_no_changes(a: list[str], b: list[str]) -> None:
    s = snap(chapter("A1", a), chapter("B1", b))
    assert detect_changes(s, s) == []
    # a fresh parse of the same text too
    assert detect_changes(s, snap(chapter("A1", a), chapter("B1", b))) == []


@SETTINGS
@given(st.data(), bodies(A_WORDS), bodies(B_WORDS))
def test_ids_are_stable_and_unique(data: st.DataObject, a: list[str], b: list[str]) -> None:
    new_a = data.draw(edited(a, A_WORDS))
    new_b = data.draw(edited(b, B_WORDS))
    old = snap(chapter("A1", a), chapter("B1", b))
    new = snap(chapter("A1", new_a), chapter("B1", new_b))
    first = detect_changes(old, new)
    assert [c.id for c in first] == [c.id for c in detect_changes(old, new)]
    assert len({c.id for c in first}) == len(first)
    # the order chapters are listed in changes no id
    swapped = detect_changes(snap(*reversed(old.chapters)), snap(*reversed(new.chapters)))
    assert ids(swapped) == ids(first)


@SETTINGS
@given(st.data(), bodies(A_WORDS), bodies(B_WORDS))
def test_an_edit_in_one_chapter_changes_no_id_in_another(data: st.DataObject, a: list[str],
                                                         b: list[str]) -> None:
    new_a = data.draw(edited(a, A_WORDS))
    new_b = data.draw(edited(b, B_WORDS))
    old = snap(chapter("A1", a), chapter("B1", b))
    only_a = detect_changes(old, snap(chapter("A1", new_a), chapter("B1", b)))
    both = detect_changes(old, snap(chapter("A1", new_a), chapter("B1", new_b)))
    assert ids(only_a, "A1") == ids(both, "A1")
