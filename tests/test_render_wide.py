"""What a reader sees of two changes the chapter pages once showed poorly: a front-matter
edit made in several chapters (one manual-wide `metadata.changed`) and a renumbering cascade
(one change listing every renumbered block)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ManualRepo
from test_render_support import git_identity, outline, tree_files, visible_text, write_notes

from pipeline.manual import init_manual, open_manual, release_changes
from pipeline.models import Change
from pipeline.publish import render_preview
from pipeline.releases import load_release, start_release

NUMBERED = """
## 1. Purpose

1.1 This chapter sets out how strategy meetings are held.

## 2. Attendance

2.1 Police and health attend every meeting.

2.2 The school is invited when the child attends one.
"""
INSERTED = """
## 1. Scope

1.1 Strategy meetings are held for every section 47 enquiry.
"""
WIDE = ("Every chapter now names its audience as practitioners.",
        "The board's website filters chapters by audience.")
RENUMBERED = ("A section on scope opens the chapter; the later sections move down by one.",
              "Readers asked what the chapter covers.")


def renumber(text: str) -> str:
    return re.sub(r"^(#* ?)(\d+)", lambda m: f"{m.group(1)}{int(m.group(2)) + 1}", text,
                  flags=re.MULTILINE)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[ManualRepo, list[Change]]:
    base = tmp_path_factory.mktemp("wide")
    with git_identity(base / "home"):
        root = base / "manual"
        init_manual(root, "Test Procedures")
        repo = ManualRepo(root)
        repo.write("editorial.toml", 'name = "Test Procedures"\n[parts]\nA = "Core"\n')
        for cid, audience in (("CP1", "everyone"), ("CP2", "everyone"), ("CP3", "staff")):
            repo.chapter(cid, f"Chapter {cid}", f"{cid}.1 The text of {cid}.\n",
                         audience=audience)
        repo.chapter("CP4", "Strategy Meetings", NUMBERED)
        repo.chapter("CP5", "Unchanged", "5.1 Nothing changes here.\n")
        repo.commit("before")
        repo.tag("before")
        for cid in ("CP1", "CP2", "CP3"):
            repo.chapter(cid, f"Chapter {cid}", f"{cid}.1 The text of {cid}.\n",
                         audience="practitioners")
        repo.chapter("CP4", "Strategy Meetings", INSERTED + renumber(NUMBERED))
        repo.commit("after")
        manual = open_manual(root)
        start_release(manual.config, "r2", title="September 2023", date="2023-09-25",
                      base="before")
        changes = list(release_changes(open_manual(root),
                                       load_release(manual.config, "r2")).changes)
        wide = [c.id for c in changes if c.kind == "metadata.changed"]
        cp4 = [c.id for c in changes if c.chapter == "CP4"]
        write_notes(repo, "r2", "_manual", [("e-wide", "minor", *WIDE, wide)])
        write_notes(repo, "r2", "CP4", [("e-cp4", "major", *RENUMBERED, cp4)])
        repo.commit("notes")
        return repo, changes


@pytest.fixture(scope="module")
def out(built: tuple[ManualRepo, list[Change]], tmp_path_factory: pytest.TempPathFactory
        ) -> Path:
    folder = tmp_path_factory.mktemp("out") / "preview"
    render_preview(open_manual(built[0].root), "r2", folder, ("html", "md"))
    return folder


def box(out: Path, chapter: str) -> list[str]:
    """The lines of a chapter's "Updated" box, as a reader sees them."""
    page = (out / f"chapters/{chapter}.html").read_text("utf-8")
    found = re.search(r'<blockquote class="updated".*?</blockquote>', page, re.DOTALL)
    if found is None:
        return []
    return [text for _, text in outline(found.group(0), ("p", "li"))]


def test_the_engine_gives_one_wide_change_and_one_renumbering(
        built: tuple[ManualRepo, list[Change]]) -> None:
    wide = [c for c in built[1] if c.kind == "metadata.changed"]
    assert [(c.chapter, c.chapters) for c in wide] == [(None, ("CP1", "CP2", "CP3"))]
    renumbering = [c for c in built[1] if dict(c.detail).get("renumbering")]
    assert len(renumbering) == 1 and len(renumbering[0].places) == 5


def test_a_wide_front_matter_change_is_in_the_box_of_every_chapter_it_touched(
        out: Path) -> None:
    assert box(out, "CP1") == [
        "Updated September 2023",
        WIDE[0],
        'Chapter details: "audience" is now "practitioners" (was "everyone").',
        # Nothing in the text is marked, so the box does not say there is.
        "All the changes to this chapter.",
    ]
    assert box(out, "CP2")[2] == box(out, "CP1")[2]
    # CP3 had another value before: its box says its own.
    assert box(out, "CP3")[2] == 'Chapter details: "audience" is now "practitioners" ' \
                                 '(was "staff").'
    assert box(out, "CP5") == []


def test_the_complete_list_names_the_chapters_of_a_wide_front_matter_change(
        out: Path) -> None:
    page = (out / "complete-list.html").read_text("utf-8")
    items = outline(page, ("h2", "h3", "li"))
    line = ("li", "Chapter details changed, front matter 'audience' in 3 chapters: everyone "
                  "practitioners in CP1, CP2, CP3 (CP3 had staff)")
    assert line in items
    assert [i for i in items[: items.index(line)] if i[0] != "li"][-1] == \
        ("h2", "Across the procedures")


def test_a_renumbering_marks_no_passage_and_is_said_in_the_box(out: Path) -> None:
    assert box(out, "CP4") == [
        "Updated September 2023",
        RENUMBERED[0],
        "Numbering: sections 1-2 renumbered 2-3, paragraphs 1.1-2.2 renumbered 2.1-3.2 "
        "(wording unchanged).",
        'Changed passages are marked "Updated" below. All the changes to this chapter.',
    ]
    page = (out / "chapters/CP4.html").read_text("utf-8")
    text = visible_text(page.split("</blockquote>", 1)[1])
    # Only the new section is marked; the renumbered ones read as they are.
    assert text.startswith("Updated 1. Scope Updated 1.1 Strategy meetings are held for every "
                           "section 47 enquiry. 2. Purpose 2.1 This chapter")
    assert text.count("Updated") == 2
    markdown = (out / "chapters/CP4.md").read_text("utf-8")
    assert markdown.count("**Updated**") == 2
    assert "## 2. Purpose\n" in markdown
    assert "- Numbering: sections 1-2 renumbered 2-3, paragraphs 1.1-2.2 renumbered 2.1-3.2 " \
        "(wording unchanged)." in markdown


def test_two_renders_give_the_same_bytes(built: tuple[ManualRepo, list[Change]], out: Path,
                                         tmp_path: Path) -> None:
    render_preview(open_manual(built[0].root), "r2", tmp_path / "again", ("html", "md"))
    assert tree_files(tmp_path / "again") == tree_files(out)


def test_every_link_to_the_complete_list_lands_on_a_heading(out: Path) -> None:
    """CP1-CP3 are touched only by the manual-wide change: their "All the changes to this
    chapter" link goes to "Across the procedures", since they have no heading of their own."""
    anchors = set(re.findall(r'id="([^"]+)"', (out / "complete-list.html").read_text("utf-8")))
    targets = {page.stem: re.findall(r'href="\.\./complete-list\.html#([^"]+)"',
                                     page.read_text("utf-8"))
               for page in (out / "chapters").glob("*.html")}
    assert targets["CP1"] == ["across"]
    assert targets["CP4"] == ["chapter-CP4"]
    assert all(t in anchors for links in targets.values() for t in links)
