"""`editorial blame CHAPTER [--at RELEASE|DATE]`: each block with the release that last
changed it and the why of the entry covering that change."""

from __future__ import annotations

import json

from conftest import ManualRepo
from history_fixture import (
    Note,
    assert_errors,
    build_history,
    chapter,
    cp2_text,
    in_chapter,
    publish,
)


def test_blame_follows_the_chapter_through_renumbering_and_a_move(manual: ManualRepo) -> None:
    build_history(manual)
    result = manual.run("blame", "CP1")
    assert result.exit_code == 0, result.output
    assert result.output == """\
CP1 Recognising Abuse and Neglect (procedures/part-a/cp1.md)

2023-09 | title
    Recognising Abuse and Neglect
  Why: The chapter is about noticing abuse; the title now says so.

2023-03 | heading 'Introduction'
    Introduction
  first published

2023-09 | paragraph 1.1
    1.1 Everyone who works with children has a duty to act on concerns about extrafamilial harm.
  Why: Extrafamilial harm is the term national guidance uses.

2024-09 | paragraph 1.2
    1.2 Concerns must be shared with children's social care within one working day.
  Why: Same-day sharing could not be met at weekends.

2023-03 | heading 'Signs'
    Signs
  first published

2023-03 | paragraph 2.1
    2.1 Signs of neglect include poor hygiene and missed appointments.
  first published
"""


def test_blame_at_a_release_uses_the_text_and_id_of_then(manual: ManualRepo) -> None:
    build_history(manual)
    result = manual.run("blame", "CP1", "--at", "2023-09")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "CP01 Recognising Abuse and Neglect (procedures/cp01.md)"
    assert lines[14:17] == [
        "2023-03 | paragraph 1.2",
        "    1.2 Concerns must be shared with children's social care the same day.",
        "  first published"]
    # by the id of then, and by a date inside the release's lifetime: the same answer
    assert manual.run("blame", "CP01", "--at", "2024-01-31").output == result.output


def test_blame_json(manual: ManualRepo) -> None:
    built = build_history(manual)
    data = json.loads(manual.run("blame", "CP1", "--json").output)
    assert data["chapter"] == "CP1"
    assert data["ids"] == ["CP01", "CP1"]
    assert [(r["location"], r["release"], r["first_published"]) for r in data["rows"]] == [
        ("title", "2023-09", False), ("heading 'Introduction'", "2023-03", True),
        ("paragraph 1.1", "2023-09", False), ("paragraph 1.2", "2024-09", False),
        ("heading 'Signs'", "2023-03", True), ("paragraph 2.1", "2023-03", True)]
    title, row = data["rows"][0], data["rows"][3]
    assert title["line"] == 3
    assert row == {
        "kind": "paragraph", "location": "paragraph 1.2", "line": 11,
        "text": "1.2 Concerns must be shared with children's social care within one working day.",
        "release": "2024-09", "date": "2024-09-30", "first_published": False,
        "change": built["2024-09"].entries["e-9549b8a2"][0], "entries": ["e-9549b8a2"],
        "why": "Same-day sharing could not be met at weekends."}
    sweep = data["rows"][2]
    assert sweep["entries"] == ["e-1e03b56a"]  # the manual-wide term sweep's entry


def test_blame_shows_unreleased_edits_and_keeps_a_moved_paragraph_s_release(
        manual: ManualRepo) -> None:
    build_history(manual)
    chapter(manual, "CP1", "Recognising Abuse and Neglect", """
        # Signs

        2.1 Signs of neglect include poor hygiene and missed appointments.

        # Introduction

        1.1 Everyone who works with children has a duty to act on concerns about extrafamilial
        harm.

        1.2 Concerns must be shared with children's social care within one working day.

        1.3 A new duty, not yet published.
        """, path="procedures/part-a/cp1.md")
    data = json.loads(manual.run("blame", "CP1", "--json").output)
    assert [(r["text"][:12], r["release"]) for r in data["rows"]] == [
        ("Recognising ", "2023-09"), ("Signs", "2023-03"), ("2.1 Signs of", "2023-03"),
        ("Introduction", "2023-03"), ("1.1 Everyone", "2023-09"), ("1.2 Concerns", "2024-09"),
        ("1.3 A new du", None)]
    text = manual.run("blame", "CP1").output
    assert text.endswith("unreleased | paragraph 1.3\n    1.3 A new duty, not yet published.\n"
                         "  not yet released\n")


def test_blame_of_a_chapter_added_after_the_first_release(manual: ManualRepo) -> None:
    built = build_history(manual)
    chapter(manual, "PG7", "Bullying", """
        1.1 Bullying is repeated, intentional harm.
        """, part="B")
    publish(manual, "2025-03", "2025-03-10", base="2024-09", notes=[
        Note("New chapter on bullying.", "Schools asked for one place to look.",
             in_chapter("PG7"), chapter="PG7")])
    assert built
    result = manual.run("blame", "PG7")
    assert result.exit_code == 0, result.output
    assert result.output == """\
PG7 Bullying (procedures/pg7.md)

2025-03 | title
    Bullying
  Why: Schools asked for one place to look.

2025-03 | paragraph 1.1
    1.1 Bullying is repeated, intentional harm.
  Why: Schools asked for one place to look.
"""


def test_blame_errors(manual: ManualRepo) -> None:
    build_history(manual)
    cases = {
        ("blame", "CP99"): "Error: unknown chapter 'CP99' (not in the manual now nor in any "
                           "published release)\n",
        ("blame", "CP1", "--at", "2019-05-01"): "Error: 2019-05-01 is before the first "
                                                "published release (2023-03, 2023-03-15)\n",
        ("blame", "CP1", "--at", "2031-01"): "Error: unknown release '2031-01' (a published "
                                             "release id, or a date YYYY-MM-DD; see "
                                             "'editorial log')\n",
        ("blame", "CP2", "--at", "2023-03-01"): "Error: 2023-03-01 is before the first "
                                                "published release (2023-03, 2023-03-15)\n",
    }
    assert_errors(manual, cases)


def test_blame_of_a_draft_release_is_refused(manual: ManualRepo) -> None:
    build_history(manual)
    manual.write("releases/2025-03/release.toml",
                 'id = "2025-03"\ntitle = "March 2025"\ndate = "2025-03-01"\n'
                 'base = "2024-09"\nstatus = "draft"\n')
    result = manual.run("blame", "CP1", "--at", "2025-03")
    assert (result.exit_code, result.output) == (
        2, "Error: release '2025-03' is not published (draft)\n")


def test_blame_finds_the_entry_when_lines_moved_since(manual: ManualRepo) -> None:
    build_history(manual)
    # A later release adds lines above CP2's paragraphs: the 2023-09 changes name lines of the
    # file as it was then, and blame must still tie each paragraph to its entry.
    chapter(manual, "CP2", "Referral and Assessment", """
        # Purpose

        0.1 Referrals start most work with children.

        0.2 Anyone may make one.
        """ + cp2_text("extrafamilial harm", "\n        1.3 The child is seen alone.\n"))
    publish(manual, "2025-03", "2025-03-10", base="2024-09", notes=[
        Note("A purpose section.", "Readers asked what referrals are for.",
             in_chapter("CP2"), chapter="CP2")])
    rows = json.loads(manual.run("blame", "CP2", "--json").output)["rows"]
    assert [(r["location"], r["release"], r["entries"]) for r in rows[-3:]] == [
        ("paragraph 1.1", "2023-03", []),
        ("paragraph 1.2", "2023-09", ["e-1e03b56a"]),
        ("paragraph 1.3", "2023-09", ["e-366e5a82"])]
    assert rows[-2]["change"].startswith("CP2-mod-")
    assert rows[-1]["change"] == "CP2-ins-6df02150"
