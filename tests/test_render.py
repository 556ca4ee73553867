"""What a reader sees in the outputs of a release: the bulletin, the chapter pages with their
"Updated" box, the index, the complete list, changes.json/csv, DOCX, Markdown and the feed."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import docx
import feedparser
import pytest
from test_render_support import (
    INTRODUCTION,
    MAJOR_CP1,
    MAJOR_PG37,
    MAJOR_SWEEP,
    MINOR_CP2,
    MINOR_PG1,
    MINOR_PG9,
    Sample,
    build,
    copy_sample,
    git_identity,
    outline,
    tree_files,
    visible_text,
)

from pipeline.manual import open_manual
from pipeline.publish import render_outputs, render_preview
from pipeline.render import environment, render_plan, worktree_loader
from pipeline.view import build_view, worktree_data

FORMATS = ("html", "docx", "md")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    base = tmp_path_factory.mktemp("render")
    with git_identity(base / "home"):
        return build(base / "manual")


@pytest.fixture(scope="module")
def out(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("out") / "preview"
    render_preview(open_manual(sample.root), "r2", folder, FORMATS)
    return folder


def read(out: Path, name: str) -> str:
    return (out / name).read_text(encoding="utf-8")


def test_bulletin_lists_major_entries_with_whys_under_part_and_chapter(out: Path) -> None:
    page = read(out, "bulletin.html")
    headings = [item for item in outline(page) if item[0] != "li"]
    assert headings == [
        ("h1", "Updates to Test Procedures - September 2023"),
        ("h2", "Across the procedures"),
        ("h2", "Core procedures"),
        ("h3", "CP1 - Recognising Abuse"),
        ("h2", "Practice guidance"),
        ("h3", "New chapter: PG37 - Sexual Abuse"),
    ]
    items = outline(page)
    for (summary, why), heading in ((MAJOR_SWEEP, "Across the procedures"),
                                    (MAJOR_CP1, "CP1 - Recognising Abuse"),
                                    (MAJOR_PG37, "New chapter: PG37 - Sexual Abuse")):
        entry = ("li", f"{summary} Why is this important? {why}")
        assert entry in items
        # The entry sits under its heading: the nearest heading above it.
        above = [i for i in items[: items.index(entry)] if i[0] != "li"]
        assert above[-1][1] == heading
    text = visible_text(page)
    for summary, why in (MINOR_CP2, MINOR_PG1, MINOR_PG9):
        assert summary not in text
        assert why not in text


def test_bulletin_has_date_introduction_link_and_contact(out: Path) -> None:
    page = read(out, "bulletin.html")
    text = visible_text(page)
    assert "Date: 25 September 2023" in text
    assert "<strong>new chapter</strong>" in page  # the introduction's Markdown, rendered
    assert visible_text(INTRODUCTION.replace("**", "")) in text
    assert '<a href="complete-list.html"' in page
    assert text.endswith("Queries to board@example.org")
    # Mail clients ignore <style>: the rules are in style attributes too.
    assert '<h1 style="' in page


def test_exactly_the_changed_chapters_carry_the_box(out: Path) -> None:
    boxed = {}
    for chapter in ("CP1", "CP2", "CP3", "PG1", "PG37"):
        page = read(out, f"chapters/{chapter}.html")
        boxed[chapter] = "Updated September 2023" in visible_text(page)
    assert boxed == {"CP1": True, "CP2": True, "CP3": False, "PG1": True, "PG37": True}
    assert not (out / "chapters/PG9.html").exists()  # removed in this release
    cp1 = [i for i in outline(read(out, "chapters/CP1.html"), ("blockquote", "li"))]
    box = next(text for tag, text in cp1 if tag == "blockquote")
    assert box.startswith("Updated September 2023 ")
    assert MAJOR_CP1[0] in box
    assert MAJOR_SWEEP[0] in box  # the manual-wide entry covering its term sweep
    assert ('Terminology: "contextual safeguarding" is now "extrafamilial harm" '
            "(paragraph 1.2).") in box
    assert "This chapter is new in this release." in visible_text(read(out, "chapters/PG37.html"))


def test_changed_passages_are_marked_in_the_text(sample: Sample, out: Path) -> None:
    page = read(out, "chapters/CP1.html")
    modified = next(c for c in sample.changes if c.kind == "paragraph.modified")
    marked = re.search(rf'<div class="changed" id="change-{modified.id}"[^>]*>(.*?)</div>',
                       page, re.DOTALL)
    assert marked is not None
    assert visible_text(marked.group(1)) == (
        "Updated 2.1 Safeguarding means protecting children from maltreatment, and includes "
        "early help for families.")
    assert page.count('class="changed"') == 2  # 2.1, and the swept term in 1.2
    assert 'class="changed"' not in read(out, "chapters/CP3.html")


def test_index_lists_parts_chapters_and_last_update(out: Path) -> None:
    items = outline(read(out, "index.html"), ("h2", "li"))
    assert items == [
        ("h2", "Core procedures"),
        ("li", "CP1 - Recognising Abuse (updated September 2023)"),
        ("li", "CP2 - Referral and Assessment (updated September 2023)"),
        ("li", "CP3 - Enquiries (updated March 2023)"),
        ("h2", "Practice guidance"),
        ("li", "PG1 - Bullying (updated September 2023)"),
        ("li", "PG37 - Sexual Abuse (updated September 2023)"),
    ]


def test_complete_list_holds_every_change_and_entry(sample: Sample, out: Path) -> None:
    page = read(out, "complete-list.html")
    for change in sample.changes:
        assert page.count(f'id="change-{change.id}"') == 1
    text = visible_text(page)
    for summary, why in (MAJOR_CP1, MAJOR_PG37, MAJOR_SWEEP, MINOR_CP2, MINOR_PG1, MINOR_PG9):
        assert summary in text and why in text
    assert "PG9 - Interim Arrangements (removed)" in text
    modified = next(c for c in sample.changes if c.kind == "paragraph.modified")
    assert "maltreatment<ins>, and includes early help for families</ins>." in page
    assert f'id="change-{modified.id}"' in page
    assert "Not yet described" not in text


def test_changes_json_and_csv(sample: Sample, out: Path) -> None:
    data = json.loads(read(out, "changes.json"))
    assert data["from"] == "r1" and data["to"] == "r2"
    assert [c["id"] for c in data["changes"]] == [c.id for c in sample.changes]
    assert {c["id"]: c["entry"] for c in data["changes"]} == {
        c: entry for entry, (_, _, _, ids) in sample.entries.items() for c in ids}
    assert {e["id"]: e["significance"] for e in data["entries"]} == {
        e: v[0] for e, v in sample.entries.items()}
    rows = list(csv.DictReader(io.StringIO(read(out, "changes.csv"))))
    assert sorted(r["change"] for r in rows) == sorted(c.id for c in sample.changes)
    row = next(r for r in rows if r["entry"] == "e-cp1")
    assert (row["part"], row["chapter"], row["chapter_title"], row["significance"],
            row["summary"], row["kind"]) == ("Core procedures", "CP1", "Recognising Abuse",
                                             "major", MAJOR_CP1[0], "paragraph.modified")
    assert row["redline"].endswith("maltreatment{+, and includes early help for families+}.")


def test_markdown_reads_as_the_pages_do(out: Path) -> None:
    cp1 = read(out, "chapters/CP1.md")
    assert cp1.startswith("[Test Procedures](../index.md) › Core procedures\n\n"
                          "# CP1 - Recognising Abuse\n\n> **Updated September 2023**\n")
    assert "\n**Updated** 2.1 Safeguarding means protecting children" in cp1
    assert "<" not in cp1  # plain Markdown: no HTML
    bulletin = read(out, "bulletin.md")
    assert "\n## Across the procedures\n" in bulletin
    assert "\n### [CP1 - Recognising Abuse](chapters/CP1.md)\n" in bulletin
    assert f"\n  **Why is this important?** {MAJOR_CP1[1]}\n" in bulletin
    assert "[complete list of all the changes](complete-list.md)" in bulletin.replace(
        "A complete", "complete")
    assert "Updated September 2023" not in read(out, "chapters/CP3.md")


def bulleted(document: Any) -> list[str]:
    """Paragraphs Word shows with a bullet (a list item's later paragraphs have none)."""
    numbering = document.part.numbering_part.element
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    w = "{" + ns["w"] + "}"
    out = []
    for p in document.paragraphs:
        num = p._p.pPr.numPr if p._p.pPr is not None else None
        if num is None or num.numId is None:
            continue
        abstract = numbering.find(f"w:num[@w:numId='{num.numId.val}']/w:abstractNumId", ns)
        level = numbering.find(f"w:abstractNum[@w:abstractNumId='{abstract.get(w + 'val')}']"
                               f"/w:lvl[@w:ilvl='{num.ilvl.val}']", ns)
        fmt, text = level.find("w:numFmt", ns), level.find("w:lvlText", ns)
        if fmt.get(w + "val") == "bullet" and text.get(w + "val").strip():
            out.append(p.text)
    return out


def test_docx_read_back(out: Path) -> None:
    document = docx.Document(str(out / "bulletin.docx"))
    headings = [(p.style.name, p.text) for p in document.paragraphs
                if p.style.name.startswith("Heading")]
    assert headings == [
        ("Heading 1", "Updates to Test Procedures - September 2023"),
        ("Heading 2", "Across the procedures"),
        ("Heading 2", "Core procedures"),
        ("Heading 3", "CP1 - Recognising Abuse"),
        ("Heading 2", "Practice guidance"),
        ("Heading 3", "New chapter: PG37 - Sexual Abuse"),
    ]
    assert bulleted(document) == [MAJOR_SWEEP[0], MAJOR_CP1[0], MAJOR_PG37[0]]
    whys = [p.text for p in document.paragraphs if p.text.startswith("Why is this")]
    assert whys == [f"Why is this important? {why}"
                    for why in (MAJOR_SWEEP[1], MAJOR_CP1[1], MAJOR_PG37[1])]
    part = docx.Document(str(out / "parts/A.docx"))
    titles = [p.text for p in part.paragraphs if p.style.name == "Heading 1"]
    assert titles == ["Core procedures", "CP1 - Recognising Abuse",
                      "CP2 - Referral and Assessment", "CP3 - Enquiries"]
    assert "Updated September 2023" in [p.text for p in part.paragraphs]
    with zipfile.ZipFile(out / "bulletin.docx") as z:
        core = z.read("docProps/core.xml").decode()
    assert "2023-09-25T12:00:00Z" in core  # the release date, not the time of the run


def test_feed_parsed_by_feedparser(out: Path) -> None:
    feed = feedparser.parse(read(out, "feed.atom"))
    assert not feed.bozo
    assert feed.feed.title == "Updates to Test Procedures"
    assert [(e.title, e.link, e.updated) for e in feed.entries] == [
        ("Updates to Test Procedures - September 2023",
         "https://procedures.example.org/r2/bulletin.html", "2023-09-25T12:00:00+00:00"),
        ("Updates to Test Procedures - March 2023",
         "https://procedures.example.org/r1/bulletin.html", "2023-03-27T12:00:00+00:00"),
    ]
    content = feed.entries[0].content[0].value
    assert MAJOR_CP1[0] in content and MAJOR_CP1[1] in content
    assert MINOR_CP2[0] not in content


def test_a_handful_of_pandoc_runs_never_one_per_chapter(sample: Sample) -> None:
    manual = open_manual(sample.root)
    view = build_view(worktree_data(manual, "r2"))
    plan = render_plan(view, environment(worktree_loader(manual.root)), FORMATS)
    kinds = sorted((c.to, len(c.names)) for c in plan.conversions)
    # All the Markdown (bulletin, list, index, every chapter page, each part's page) is one
    # run; then one DOCX per part is made from its Markdown: never one run per chapter.
    assert kinds == [("docx", 1)] * 2 + [("md", 2), ("md", 8)]
    assert plan.docx_from_md == {"parts/A.docx.md": "parts/A.docx",
                                 "parts/B.docx.md": "parts/B.docx"}


def test_two_renders_give_the_same_bytes(sample: Sample, out: Path,
                                         tmp_path: Path) -> None:
    again = render_preview(open_manual(sample.root), "r2", tmp_path / "again", FORMATS)
    assert tree_files(again.folder) == tree_files(out)


def test_rendering_a_commit_gives_what_the_working_tree_gives(sample: Sample,
                                                              out: Path) -> None:
    manual = open_manual(sample.root)
    head = sample.repo.git("rev-parse", "HEAD")
    from_commit = render_outputs(manual, "r2", FORMATS, commit=head).files
    assert from_commit == {k: v for k, v in tree_files(out).items()
                           if not k.startswith(".editorial")}


def test_render_command_previews_into_an_ignored_folder(sample: Sample,
                                                        tmp_path: Path) -> None:
    copy = copy_sample(sample, tmp_path / "manual")
    result = copy.repo.run("render", "--formats", "html")
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(copy.root / "_preview").as_posix()
                   for p in (copy.root / "_preview").rglob("*") if p.is_file())
    assert result.stdout == (f"Rendered release r2: {len(files) - 2} files in _preview/\n"
                             "Bulletin: _preview/bulletin.html\n")
    assert ".gitignore" in files and "bulletin.html" in files and "chapters/CP1.html" in files
    assert copy.repo.git("status", "--porcelain") == ""
    # A second render replaces the first.
    assert copy.repo.run("render", "--formats", "md").exit_code == 0
    assert not (copy.root / "_preview/bulletin.html").exists()
    assert (copy.root / "_preview/bulletin.md").is_file()


def test_render_refuses_a_folder_it_did_not_make(sample: Sample, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/notes.txt").write_text("someone's work")
    result = sample.repo.run("render", "--out", str(tmp_path / "mine"))
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {tmp_path / 'mine'}: exists and was not made by "
                             "'editorial render' (not touching it; choose another --out)\n")
    assert (tmp_path / "mine/notes.txt").read_text() == "someone's work"


def test_render_at_a_release_reads_it_from_git(sample: Sample, tmp_path: Path) -> None:
    result = sample.repo.run("render", "--at", "r1", "--out", str(tmp_path / "r1"),
                             "--formats", "html")
    assert result.exit_code == 0, result.output
    bulletin = visible_text((tmp_path / "r1/bulletin.html").read_text())
    assert "Updates to Test Procedures - March 2023" in bulletin
    assert "This is the first publication of the procedures." in bulletin
    published = sample.root / "releases/r1/published/bulletin.html"
    assert (tmp_path / "r1/bulletin.html").read_bytes() == published.read_bytes()


def test_unknown_format_is_refused(sample: Sample) -> None:
    result = sample.repo.run("render", "--formats", "html,rtf")
    assert result.exit_code == 2
    assert result.stderr == ("Error: unknown format 'rtf' (choose from html, docx, md, pdf, "
                             "json, csv, feed)\n")


def test_pdf_when_an_engine_is_installed(sample: Sample, tmp_path: Path) -> None:
    from pipeline.convert import pdf_engine

    if pdf_engine() is None:
        pytest.skip("no PDF engine here (e.g. apt-get install weasyprint)")
    manual = open_manual(sample.root)
    first = render_preview(manual, "r2", tmp_path / "a", ("pdf",)).folder
    second = render_preview(manual, "r2", tmp_path / "b", ("pdf",)).folder
    for name in ("bulletin.pdf", "complete-list.pdf"):
        data = (first / name).read_bytes()
        assert data.startswith(b"%PDF-")
        assert data == (second / name).read_bytes()  # the same bytes on every render


def test_render_json_lists_what_it_wrote(sample: Sample, tmp_path: Path) -> None:
    result = sample.repo.run("render", "--json", "--out", str(tmp_path / "out"),
                             "--formats", "md")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["release"], data["folder"], data["notes"]) == ("r2", str(tmp_path / "out"), [])
    assert data["files"] == sorted(data["files"])
    assert {"bulletin.md", "chapters/CP3.md", "changes.csv", "changes.json", "feed.atom",
            "index.md"} <= set(data["files"])
    assert all((tmp_path / "out" / name).is_file() for name in data["files"])
