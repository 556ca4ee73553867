"""`editorial changes` and `editorial diff` through the command line: exact output, JSON
shape, and one `Error:` line with exit 2 for each kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ManualRepo

from pipeline.cli import cli

CP3 = """
## Strategy meetings

4.21 The decision to convene a conference is made at the strategy meeting.

Contextual safeguarding is considered at every meeting.

## Further information

- [Working Together](https://example.org/wt)
"""
CP1 = """
## Definitions

Contextual safeguarding looks at harm outside the home.

Families should be told about the enquiry unless this would put the child at risk.
"""
MOVING = "Families should be told about the enquiry unless this would put the child at risk."


@pytest.fixture
def releases(manual: ManualRepo) -> ManualRepo:
    manual.chapter("CP3", "Child Protection Enquiries", CP3)
    manual.chapter("CP1", "Responding to Abuse and Neglect", CP1)
    manual.chapter("PG9", "Old Guidance", "Text of the old guidance.\n", part="B")
    manual.commit("r1")
    manual.tag("r1")
    manual.chapter("CP3", "Child Protection Enquiries",
                   CP3.replace("is made at", "is made by children's social care, not at")
                   .replace("Contextual safeguarding", "Extrafamilial harm")
                   .replace("example.org/wt", "example.org/wt2023") + f"\n{MOVING}\n")
    manual.chapter("CP1", "Recognising Abuse and Neglect",
                   CP1.replace("Contextual safeguarding", "Extrafamilial harm")
                   .replace(f"\n{MOVING}\n", ""))
    manual.remove("procedures/pg9.md")
    manual.chapter("PG10", "Sexual Abuse", "New guidance on sexual abuse.\n", part="B")
    manual.commit("r2")
    manual.tag("r2")
    return manual


SUMMARY = """\
Changes from r1 to r2: 7 changes in 4 chapters

Core procedures
  CP1 Recognising Abuse and Neglect
    CP1-retitled-dd2966f4  chapter.retitled     title: 'Responding to Abuse and Neglect' -> \
'Recognising Abuse and Neglect'
  CP3 Child Protection Enquiries
    CP3-mod-9d133c19  paragraph.modified   paragraph 4.21: 4.21 The decision to convene a \
conference is made by children's soc...
    CP3-link-chg-c41fbc53  link.changed         section 'Further information', list item 1: \
'https://example.org/wt' -> 'https://example.org/wt2023'
    CP3-move-96abe7b2  paragraph.moved      section 'Further information', paragraph 1: \
Families should be told about the enquiry unles... (moved from CP1, section 'Definitions', \
paragraph 2)

Practice guidance
  PG9 Old Guidance
    PG9-removed-e85fc9e6  chapter.removed      chapter: Old Guidance
  PG10 Sexual Abuse
    PG10-added-261163ec  chapter.added        chapter: Sexual Abuse

Across the manual
    term-e9789e9d  term.swept           2 places in 2 chapters: 'Contextual safeguarding' now \
'Extrafamilial harm' (2 places: CP1, CP3)
"""

DIFF_CP3 = """\
diff r1 r2

== CP3 Child Protection Enquiries ==
paragraph.modified at paragraph 4.21 [CP3-mod-9d133c19]
  4.21 The decision to convene a conference is made {+by children's social care, not +}at the \
strategy meeting.
link.changed at section 'Further information', list item 1 [CP3-link-chg-c41fbc53]
  [-https://example.org/wt-]
  {+https://example.org/wt2023+}
paragraph.moved at section 'Further information', paragraph 1 [CP3-move-96abe7b2]
  moved from CP1, section 'Definitions', paragraph 2
  Families should be told about the enquiry unless this would put the child at risk.

== Across the manual ==
term.swept at 2 places in 2 chapters [term-e9789e9d]
  [-Contextual safeguarding-]{+Extrafamilial harm+}
  - CP1, section 'Definitions', paragraph 1
  - CP3, section 'Strategy meetings', paragraph 2
"""


def test_changes_prints_a_summary_by_part_and_chapter(releases: ManualRepo) -> None:
    result = releases.run("changes", "--from", "r1", "--to", "r2")
    assert result.exit_code == 0
    assert result.output == SUMMARY


def test_changes_json_gives_every_change(releases: ManualRepo) -> None:
    result = releases.run("changes", "--from", "r1", "--to", "r2", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert (doc["from"], doc["to"]) == ("r1", "r2")
    assert [(c["id"], c["kind"], c["chapter"]) for c in doc["changes"]] == [
        ("CP1-retitled-dd2966f4", "chapter.retitled", "CP1"),
        ("CP3-mod-9d133c19", "paragraph.modified", "CP3"),
        ("CP3-link-chg-c41fbc53", "link.changed", "CP3"),
        ("CP3-move-96abe7b2", "paragraph.moved", "CP3"),
        ("PG9-removed-e85fc9e6", "chapter.removed", "PG9"),
        ("PG10-added-261163ec", "chapter.added", "PG10"),
        ("term-e9789e9d", "term.swept", None),
    ]
    for change in doc["changes"]:
        assert {"id", "kind", "chapter", "location", "old", "new", "redline"} <= set(change)
    modified = doc["changes"][1]
    assert modified["redline"] == ("4.21 The decision to convene a conference is made {+by "
                                   "children's social care, not +}at the strategy meeting.")
    assert (modified["line"], modified["section"], modified["part"]) == (
        9, "Strategy meetings", "A")
    moved = doc["changes"][3]
    assert (moved["old_chapter"], moved["new_chapter"], moved["chapters"]) == (
        "CP1", "CP3", ["CP1", "CP3"])
    sweep = doc["changes"][6]
    assert sweep["chapters"] == ["CP1", "CP3"]
    assert sweep["places"] == [
        {"chapter": "CP1", "location": "section 'Definitions', paragraph 1", "line": 9},
        {"chapter": "CP3", "location": "section 'Strategy meetings', paragraph 2", "line": 11}]
    assert doc["changes"][0]["line"] == 3  # the title's line in the front matter


def test_diff_of_one_chapter_in_text(releases: ManualRepo) -> None:
    result = releases.run("diff", "r1", "r2", "CP3")
    assert result.exit_code == 0
    assert result.output == DIFF_CP3


def test_diff_formats_json_and_html(releases: ManualRepo) -> None:
    as_json = releases.run("diff", "r1", "r2", "CP1", "--format", "json")
    assert as_json.exit_code == 0
    assert [c["kind"] for c in json.loads(as_json.output)["changes"]] == [
        "chapter.retitled", "paragraph.moved", "term.swept"]
    page = releases.run("diff", "r1", "r2", "--format", "html")
    assert page.exit_code == 0
    assert page.output.startswith("<!DOCTYPE html>")
    assert "<ins>by children&#x27;s social care, not </ins>" in page.output
    assert '<li id="PG10-added-261163ec">' in page.output


def test_re_running_gives_the_same_ids(releases: ManualRepo) -> None:
    first = releases.run("changes", "--from", "r1", "--to", "r2", "--json").output
    again = releases.run("changes", "--from", "r1", "--to", "r2", "--json").output
    assert first == again


def test_changes_against_the_working_tree(releases: ManualRepo) -> None:
    releases.chapter("PG10", "Sexual Abuse", "New guidance on child sexual abuse.\n", part="B")
    result = releases.run("changes", "--from", "r2", "--to", "WORKTREE")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "Changes from r2 to WORKTREE: 1 change in 1 chapter"
    assert "paragraph.modified   opening, paragraph 1: New guidance on child sexual abuse." \
        in result.output


BAD_FILES = [
    ("no front matter", "No front matter here.\n",
     "Error: procedures/cp4.md:1: missing front matter (a chapter starts with '---', then id, "
     "title and part)"),
    ("invalid YAML", "---\nid: CP4\ntitle: [unclosed\npart: A\n---\n\nText.\n",
     "Error: procedures/cp4.md:4: invalid front matter: expected ',' or ']', but got ':'"),
    ("missing id", "---\ntitle: Other\npart: A\n---\n\nText.\n",
     "Error: procedures/cp4.md: front matter has no 'id'"),
    ("missing title", "---\nid: CP4\npart: A\n---\n\nText.\n",
     "Error: procedures/cp4.md: front matter has no 'title'"),
    ("duplicate id", "---\nid: CP3\ntitle: Other\npart: A\n---\n\nText.\n",
     "Error: procedures/cp4.md: duplicate id 'CP3' (also in procedures/cp3.md)"),
    ("conflict markers",
     "---\nid: CP4\ntitle: Y\npart: A\n---\n\nText.\n<<<<<<< HEAD\nmine\n=======\ntheirs\n"
     ">>>>>>> branch\n",
     "Error: procedures/cp4.md:8: merge conflict marker (resolve the conflict first)"),
]


@pytest.mark.parametrize(("case", "text", "error"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_chapter_gives_one_error_line(manual: ManualRepo, case: str, text: str,
                                          error: str) -> None:
    manual.chapter("CP3", "Enquiries", "Text.\n")
    manual.commit("r1")
    manual.tag("r1")
    manual.write("procedures/cp4.md", text)
    result = manual.run("changes", "--from", "r1")
    assert (result.exit_code, result.output) == (2, error + "\n")
    manual.commit("bad")  # the same from a ref
    result = manual.run("diff", "r1", "HEAD")
    assert (result.exit_code, result.output) == (2, error + "\n")


@pytest.mark.parametrize(("name", "data", "error"), [
    ("cp4.md", b"---\nid: CP4\ntitle: Y\npart: A\n---\n\nCaf\xe9.\n",
     "Error: procedures/cp4.md:7: not valid UTF-8 (save the file as UTF-8)"),
    ("cp4.md", b"\x89PNG\r\n\x1a\n\x00\x00",
     "Error: procedures/cp4.md: binary file under the procedures folder (expected Markdown)"),
    ("notes.bin", b"\x00\x01\x02binary",
     "Error: procedures/notes.bin: binary file under the procedures folder (only Markdown "
     "chapters and their images belong there)"),
], ids=["not UTF-8", "binary chapter", "binary file"])
def test_bad_bytes_give_one_error_line(manual: ManualRepo, name: str, data: bytes,
                                       error: str) -> None:
    manual.chapter("CP3", "Enquiries", "Text.\n")
    manual.commit("r1")
    manual.tag("r1")
    (manual.root / "procedures" / name).write_bytes(data)
    result = manual.run("changes", "--from", "r1")
    assert (result.exit_code, result.output) == (2, error + "\n")


def test_unknown_ref_or_release(manual: ManualRepo) -> None:
    manual.chapter("CP3", "Enquiries", "Text.\n")
    manual.commit("r1")
    manual.tag("r1")
    for args in (("changes", "--from", "nosuch"), ("changes", "--from", "r1", "--to", "r9"),
                 ("diff", "r1", "nosuch")):
        result = manual.run(*args)
        bad = "r9" if "r9" in args else "nosuch"
        assert (result.exit_code, result.output) == (
            2, f"Error: unknown git ref or release '{bad}'\n")


def test_not_a_manual(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "changes", "--from", "r1"])
    assert (result.exit_code, result.output) == (
        2, f"Error: {tmp_path}: not a manual (no editorial.toml)\n")
