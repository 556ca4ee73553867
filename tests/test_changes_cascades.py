"""Edits a board reads as one thing: a chapter renumbered after an inserted section (one
change, not one per paragraph), and the same front-matter edit made in many chapters (one
manual-wide change)."""

from __future__ import annotations

import re

from conftest import ManualRepo

from pipeline.manual import compare, open_manual
from pipeline.models import Change, Place
from pipeline.report import describe
from pipeline.suggest import suggest

BEFORE = """
    ## 1. Scope

    1.1 This chapter applies to every agency in the Partnership.

    ## 2. Strategy meetings

    2.1 A strategy meeting is held when a child may be suffering significant harm.

    2.2 The meeting is chaired by a manager from children's social care.

    ## 3. Further information

    3.1 Contact the Partnership's business unit for advice on this chapter.
"""

# A section 2 inserted: every later section and paragraph number moves up by one.
AFTER = """
    ## 1. Scope

    1.1 This chapter applies to every agency in the Partnership.

    ## 2. Information sharing

    2.1 Practitioners share information when it is needed to keep a child safe.

    ## 3. Strategy meetings

    3.1 A strategy meeting is held when a child may be suffering significant harm.

    3.2 The meeting is chaired by a manager from children's social care.

    ## 4. Further information

    4.1 Contact the Partnership's business unit for advice on this chapter.
"""


def release(manual: ManualRepo, tag: str, chapters: dict[str, str], **extra: object) -> None:
    for cid, body in chapters.items():
        manual.chapter(cid, f"Chapter {cid}", body, **extra)
    manual.commit(tag)
    manual.tag(tag)


def found(manual: ManualRepo) -> list[Change]:
    return list(compare(open_manual(manual.root, explicit=True), "r1", "r2").changes)


def brief(changes: list[Change]) -> list[tuple[str, str | None, str]]:
    return [(c.kind, c.chapter, c.location) for c in changes]


def one_chapter(manual: ManualRepo, cid: str, before: str, after: str) -> list[Change]:
    """The changes when chapter `cid` reads `before` in r1 and `after` in r2."""
    release(manual, "r1", {cid: before})
    release(manual, "r2", {cid: after})
    return found(manual)


def test_a_section_inserted_renumbers_the_rest_as_one_change(manual: ManualRepo) -> None:
    changes = one_chapter(manual, "CP3", BEFORE, AFTER)
    assert brief(changes) == [
        ("heading.changed", "CP3", "heading '2. Information sharing'"),
        ("paragraph.inserted", "CP3", "paragraph 2.1"),
        ("paragraph.modified", "CP3", "sections 3-4 and paragraphs 3.1-4.1"),
    ]
    renumbering = changes[2]
    assert (renumbering.old, renumbering.new) == ("sections 2-3 and paragraphs 2.1-3.1",
                                                  "sections 3-4 and paragraphs 3.1-4.1")
    assert renumbering.redline_text() == (
        "sections [-2-3-]{+3-4+} and paragraphs [-2.1-3.1-]{+3.1-4.1+}")
    assert dict(renumbering.detail) == {
        "renumbering": "sections 2-3 renumbered 3-4, paragraphs 2.1-3.1 renumbered 3.1-4.1",
        "numbers": (("2", "3"), ("2.1", "3.1"), ("2.2", "3.2"), ("3", "4"), ("3.1", "4.1"))}
    assert renumbering.places == (
        Place("CP3", "heading '3. Strategy meetings'", 15), Place("CP3", "paragraph 3.1", 17),
        Place("CP3", "paragraph 3.2", 19), Place("CP3", "heading '4. Further information'", 21),
        Place("CP3", "paragraph 4.1", 23))
    assert renumbering.line == 15 and renumbering.section == "3. Strategy meetings"
    assert re.fullmatch(r"CP3-mod-[0-9a-f]{8}", renumbering.id)
    assert describe(renumbering) == renumbering.detail[0][1]
    # the same texts give the same id
    assert [c.id for c in found(manual)] == [c.id for c in changes]


def test_renumbering_is_suggested_as_minor_not_as_punctuation(manual: ManualRepo) -> None:
    renumbering = one_chapter(manual, "CP3", BEFORE, AFTER)[2]
    s = suggest(renumbering)
    assert (s.summary, s.significance, s.reason) == (
        "Sections 2-3 renumbered 3-4, paragraphs 2.1-3.1 renumbered 3.1-4.1", "minor",
        "renumbered only; the words are unchanged")


def test_paragraphs_renumbered_within_a_section(manual: ManualRepo) -> None:
    before = ("## 4. Conferences\n\n4.1 A conference is held within fifteen working days.\n\n"
              "4.2 Parents are invited to attend.\n\n4.3 The child may attend.\n\n"
              "4.4 Minutes are sent within one week.\n")
    after = before.replace("4.1 A conference is held within fifteen working days.\n\n",
                           "4.1 A conference is held within fifteen working days.\n\n"
                           "4.2 An interpreter is booked where one is needed.\n\n", 1)
    for old, new in (("4.4 Minutes", "4.5 Minutes"), ("4.3 The child", "4.4 The child"),
                     ("4.2 Parents", "4.3 Parents")):
        after = after.replace(old, new)
    changes = one_chapter(manual, "CP4", before, after)
    assert brief(changes) == [("paragraph.inserted", "CP4", "paragraph 4.2"),
                              ("paragraph.modified", "CP4", "paragraphs 4.3-4.5")]
    assert changes[1].redline_text() == "paragraphs [-4.2-4.4-]{+4.3-4.5+}"
    assert suggest(changes[1]).summary == "Paragraphs 4.2-4.4 renumbered 4.3-4.5"


def test_headings_alone_renumbered_are_one_heading_change(manual: ManualRepo) -> None:
    before = ("## 1. Purpose\n\nWhy the chapter exists.\n\n## 2. Consent\n\nAsk first.\n\n"
              "## 3. Records\n\nWrite it down.\n")
    after = before.replace("## 1. Purpose\n\nWhy the chapter exists.\n\n", "")
    after = after.replace("## 2. Consent", "## 1. Consent").replace("## 3. Rec", "## 2. Rec")
    changes = one_chapter(manual, "CP9", before, after)
    assert brief(changes) == [
        ("heading.changed", "CP9", "heading '1. Purpose'"),
        ("paragraph.deleted", "CP9", "section '1. Purpose', paragraph 1"),
        ("heading.changed", "CP9", "sections 1-2"),
    ]
    assert changes[2].redline_text() == "sections [-2-3-]{+1-2+}"
    assert suggest(changes[2]).summary == "Sections 2-3 renumbered 1-2"


def test_a_paragraph_renumbered_and_reworded_stays_its_own_change(manual: ManualRepo) -> None:
    before = ("## 5. Review\n\n5.1 The plan is reviewed at every core group.\n\n"
              "5.2 The review conference is held within three months.\n\n"
              "5.3 Later reviews are held every six months.\n\n"
              "5.4 See paragraph 6.3 for ending a plan.\n")
    after = ("## 5. Review\n\n5.1 The plan is reviewed at every core group.\n\n"
             "5.2 The plan is shared with the family.\n\n"
             "5.3 The review conference is held within three months.\n\n"
             "5.4 Later reviews are held every four months.\n\n"
             "5.5 See paragraph 6.4 for ending a plan.\n")
    changes = one_chapter(manual, "CP5", before, after)
    assert brief(changes) == [
        ("paragraph.inserted", "CP5", "paragraph 5.2"),
        ("paragraph.modified", "CP5", "paragraph 5.3"),
        ("paragraph.modified", "CP5", "paragraph 5.4"),
        ("paragraph.modified", "CP5", "paragraph 5.5"),
    ]
    renumbered, reworded, cross_reference = changes[1:]
    assert renumbered.redline_text() == "paragraph [-5.2-]{+5.3+}"
    # number and words changed: the paragraph's own redline, with its number in it
    assert reworded.redline_text() == (
        "[-5.3-]{+5.4+} Later reviews are held every [-six-]{+four+} months.")
    # a cross reference that follows the renumbering is a change of words
    assert cross_reference.redline_text() == "[-5.4-]{+5.5+} See paragraph [-6.3-]{+6.4+} for " \
        "ending a plan."
    assert "renumbering" not in dict(cross_reference.detail)
    assert suggest(reworded).significance == "major"  # six -> four months


def test_renumbering_ids_do_not_depend_on_other_chapters(manual: ManualRepo) -> None:
    release(manual, "r1", {"CP3": BEFORE, "CP4": BEFORE})
    release(manual, "r2", {"CP3": AFTER, "CP4": BEFORE})
    alone = [c.id for c in found(manual) if c.chapter == "CP3"]
    release(manual, "r3", {"CP4": AFTER})
    both = compare(open_manual(manual.root, explicit=True), "r1", "r3").changes
    assert [c.id for c in both if c.chapter == "CP3"] == alone
    # two chapters renumbered alike are two changes, never a term sweep
    assert [c.kind for c in both].count("term.swept") == 0
    assert sum("renumbering" in dict(c.detail) for c in both) == 2


FOUR = {cid: f"## Scope\n\nThe text of chapter {cid}.\n" for cid in ("CP1", "CP2", "CP3", "CP4")}


def test_the_same_front_matter_edit_in_three_chapters_is_one_change(manual: ManualRepo) -> None:
    for cid, body in FOUR.items():
        manual.chapter(cid, f"Chapter {cid}", body, topics="[Policy, Legal]", owner="Ann Smith")
    manual.commit("r1")
    manual.tag("r1")
    for cid, body in FOUR.items():
        extra = {"owner": "Bo Jones"} if cid != "CP4" else {"owner": "Cy Park"}
        if cid == "CP2":
            extra["topics"] = "[Policy]"  # another edit of the same key: its own change
        manual.chapter(cid, f"Chapter {cid}", body, **extra)
    manual.commit("r2")
    manual.tag("r2")
    changes = found(manual)
    assert brief(changes) == [
        ("metadata.changed", "CP2", "front matter 'topics'"),
        ("metadata.changed", "CP4", "front matter 'owner'"),
        ("metadata.changed", None, "front matter 'owner' in 3 chapters"),
        ("metadata.changed", None, "front matter 'topics' in 3 chapters"),
    ]
    owner, topics = changes[2:]
    assert (owner.old, owner.new, owner.chapters) == ("Ann Smith", "Bo Jones",
                                                      ("CP1", "CP2", "CP3"))
    assert (topics.old, topics.new, topics.chapters) == ("Policy, Legal", None,
                                                         ("CP1", "CP3", "CP4"))
    assert topics.places == tuple(Place(c, "front matter 'topics'", 5) for c in ("CP1", "CP3",
                                                                                 "CP4"))
    assert dict(topics.detail) == {"key": "topics", "chapters": 3}
    assert re.fullmatch(r"meta-[0-9a-f]{8}", topics.id) and topics.id != owner.id
    assert describe(topics) == "removed 'Policy, Legal'"
    assert [c.id for c in found(manual)] == [c.id for c in changes]


def test_a_key_removed_whatever_it_held_is_one_change(manual: ManualRepo) -> None:
    topics = {"CP1": "[Policy, Legal]", "CP2": "[Policy, Legal]", "CP3": "[2FA, Policy]"}
    for cid, value in topics.items():
        manual.chapter(cid, f"Chapter {cid}", FOUR[cid], topics=value)
    manual.commit("r1")
    manual.tag("r1")
    for cid in topics:
        manual.chapter(cid, f"Chapter {cid}", FOUR[cid])
    manual.commit("r2")
    manual.tag("r2")
    changes = found(manual)
    assert brief(changes) == [("metadata.changed", None, "front matter 'topics' in 3 chapters")]
    assert changes[0].old == "Policy, Legal" and changes[0].new is None
    assert dict(changes[0].detail)["other_old_values"] == (("CP3", "2FA, Policy"),)


def test_the_same_front_matter_edit_in_two_chapters_stays_per_chapter(
        manual: ManualRepo) -> None:
    for cid in ("CP1", "CP2"):
        manual.chapter(cid, f"Chapter {cid}", FOUR[cid], owner="Ann Smith")
    manual.commit("r1")
    manual.tag("r1")
    for cid in ("CP1", "CP2"):
        manual.chapter(cid, f"Chapter {cid}", FOUR[cid], owner="Bo Jones")
    manual.commit("r2")
    manual.tag("r2")
    assert brief(found(manual)) == [("metadata.changed", "CP1", "front matter 'owner'"),
                                    ("metadata.changed", "CP2", "front matter 'owner'")]


def test_diff_and_changes_commands_show_both(manual: ManualRepo) -> None:
    for cid in ("CP1", "CP2", "CP3"):
        manual.chapter(cid, f"Chapter {cid}", BEFORE if cid == "CP3" else FOUR[cid],
                       owner="Ann Smith")
    manual.commit("r1")
    manual.tag("r1")
    for cid in ("CP1", "CP2", "CP3"):
        manual.chapter(cid, f"Chapter {cid}", AFTER if cid == "CP3" else FOUR[cid],
                       owner="Bo Jones")
    manual.commit("r2")
    manual.tag("r2")
    ids = {c.kind: c.id for c in found(manual) if c.kind != "heading.changed"}
    result = manual.run("diff", "r1", "r2")
    assert result.exit_code == 0
    assert result.output.endswith(
        f"paragraph.modified at sections 3-4 and paragraphs 3.1-4.1 "
        f"[{ids['paragraph.modified']}]\n"
        "  sections [-2-3-]{+3-4+} and paragraphs [-2.1-3.1-]{+3.1-4.1+}\n"
        "\n== Across the manual ==\n"
        f"metadata.changed at front matter 'owner' in 3 chapters [{ids['metadata.changed']}]\n"
        "  [-Ann Smith-]\n  {+Bo Jones+}\n"
        "  - CP1, front matter 'owner'\n  - CP2, front matter 'owner'\n"
        "  - CP3, front matter 'owner'\n")
    summary = manual.run("changes", "--from", "r1", "--to", "r2")
    assert (f"    {ids['paragraph.modified']}  paragraph.modified   sections 3-4 and paragraphs "
            "3.1-4.1: sections 2-3 renumbered 3-4, paragraphs 2.1-3.1 renumbered 3.1-4.1\n"
            in summary.output)
    assert summary.output.endswith(
        "Across the manual\n"
        f"    {ids['metadata.changed']}  metadata.changed     front matter 'owner' in 3 "
        "chapters: 'Ann Smith' -> 'Bo Jones'\n")
