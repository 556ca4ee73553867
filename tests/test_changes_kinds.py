"""One test per change kind: kind, chapter and location, on real git repositories."""

from __future__ import annotations

import re

from conftest import ManualRepo

from pipeline.changes import detect_changes
from pipeline.manual import compare, open_manual
from pipeline.models import CHANGE_KINDS, Change

CP3 = """
    ## Strategy meetings

    4.21 The decision to convene an initial conference is made at the strategy meeting.

    The strategy meeting should involve the police, children's social care and health.

    ## Further information

    - [Working Together](https://example.org/wt)
"""


def release(manual: ManualRepo, tag: str) -> None:
    manual.commit(tag)
    manual.tag(tag)


def found(manual: ManualRepo, a: str = "r1", b: str = "r2") -> list[Change]:
    return list(compare(open_manual(manual.root, explicit=True), a, b).changes)


def brief(changes: list[Change]) -> list[tuple[str, str | None, str]]:
    return [(c.kind, c.chapter, c.location) for c in changes]


def two_releases(manual: ManualRepo, before: dict[str, tuple], after: dict[str, tuple]
                 ) -> list[Change]:
    """Write chapters {id: (title, body, extra...)} as r1, then as r2; the changes between."""
    for cid, (title, body, *rest) in before.items():
        manual.chapter(cid, title, body, **(rest[0] if rest else {}))
    release(manual, "r1")
    for cid in before:
        if cid not in after:
            manual.remove(f"procedures/{cid.lower()}.md")
    for cid, (title, body, *rest) in after.items():
        manual.chapter(cid, title, body, **(rest[0] if rest else {}))
    release(manual, "r2")
    return found(manual)


def test_first_release_has_no_changes(manual: ManualRepo) -> None:
    manual.chapter("CP3", "Child Protection Enquiries", CP3)
    release(manual, "r1")
    snap = open_manual(manual.root, explicit=True).snapshot("r1")
    assert detect_changes(None, snap) == []
    assert detect_changes(snap, snap) == []


def test_chapter_added_and_removed_are_one_change_each(manual: ManualRepo) -> None:
    changes = two_releases(
        manual,
        {"CP3": ("Enquiries", CP3), "PG9": ("Old guidance", "Para one.\n\nPara two.\n")},
        {"CP3": ("Enquiries", CP3),
         "PG10": ("Sexual Abuse", "# Intro\n\nOne.\n\nTwo.\n\nThree.\n")})
    assert brief(changes) == [("chapter.removed", "PG9", "chapter"),
                              ("chapter.added", "PG10", "chapter")]
    added = changes[1]
    assert (added.new, added.new_path, added.part) == ("Sexual Abuse", "procedures/pg10.md", "A")
    assert changes[0].old == "Old guidance"


def test_chapter_retitled(manual: ManualRepo) -> None:
    changes = two_releases(manual, {"CP1": ("Responding to Abuse and Neglect", CP3)},
                           {"CP1": ("Recognising Abuse and Neglect", CP3)})
    assert brief(changes) == [("chapter.retitled", "CP1", "title")]
    assert (changes[0].old, changes[0].new) == ("Responding to Abuse and Neglect",
                                                 "Recognising Abuse and Neglect")


def test_chapter_moved_to_another_file_and_part(manual: ManualRepo) -> None:
    manual.chapter("CP3", "Enquiries", CP3)
    release(manual, "r1")
    manual.remove("procedures/cp3.md")
    manual.chapter("CP3", "Enquiries", CP3, part="B", path="procedures/part-b/cp3.md")
    release(manual, "r2")
    changes = found(manual)
    assert brief(changes) == [("chapter.moved", "CP3", "part and file")]
    c = changes[0]
    assert (c.old_path, c.new_path) == ("procedures/cp3.md", "procedures/part-b/cp3.md")
    assert dict(c.detail) == {"old_part": "A", "new_part": "B"}


def test_chapter_renumbered_keeps_text_and_diffs_the_body(manual: ManualRepo) -> None:
    body = CP3 + "\n    A closing paragraph about reviewing the plan with the family.\n"
    manual.chapter("CP3", "Enquiries", body)
    release(manual, "r1")
    manual.remove("procedures/cp3.md")
    manual.chapter("CP4", "Enquiries", body.replace("the family", "the child and family"))
    release(manual, "r2")
    changes = found(manual)
    assert brief(changes) == [("chapter.renumbered", "CP4", "chapter"),
                              ("paragraph.modified", "CP4", "section 'Further information', "
                               "paragraph 1")]
    c = changes[0]
    assert (c.old_chapter, c.new_chapter) == ("CP3", "CP4")
    assert (c.old_path, c.new_path) == ("procedures/cp3.md", "procedures/cp4.md")


def test_heading_changed_and_level_only_is_no_change(manual: ManualRepo) -> None:
    before = "## 5. Scraping and API Usage Restrictions\n\nText.\n\n### Details\n\nMore text.\n"
    after = "# 5. Information Usage Restrictions\n\nText.\n\n## Details\n\nMore text.\n"
    changes = two_releases(manual, {"AUP": ("Acceptable Use", before)},
                           {"AUP": ("Acceptable Use", after)})
    assert brief(changes) == [("heading.changed", "AUP",
                               "heading '5. Information Usage Restrictions'")]
    assert changes[0].redline_text() == (
        "5. [-Scraping and API-]{+Information+} Usage Restrictions")


def test_paragraph_inserted_deleted_modified(manual: ManualRepo) -> None:
    after = CP3.replace(
        "is made at the strategy meeting.",
        "is made by children's social care after the S47 enquiry, not at the strategy meeting.",
    ).replace(
        "    The strategy meeting should involve the police, children's social care and health.\n",
        "    Minutes are shared within one working day.\n")
    changes = two_releases(manual, {"CP3": ("Enquiries", CP3)}, {"CP3": ("Enquiries", after)})
    assert brief(changes) == [
        ("paragraph.modified", "CP3", "paragraph 4.21"),
        ("paragraph.deleted", "CP3", "section 'Strategy meetings', paragraph 2"),
        ("paragraph.inserted", "CP3", "section 'Strategy meetings', paragraph 2"),
    ]
    assert changes[0].redline_text() == (
        "4.21 The decision to convene an initial conference is made {+by children's social "
        "care after the S47 enquiry, not +}at the strategy meeting.")
    assert changes[0].line == 9 and changes[0].section == "Strategy meetings"
    assert changes[1].old.startswith("The strategy meeting") and changes[1].new is None


def test_whitespace_and_markup_only_edits_are_not_changes(manual: ManualRepo) -> None:
    after = (CP3.replace("4.21 The decision", "4.21   The   decision")
             .replace("should involve", "should\n    involve")
             .replace("- [Working", "* [Working"))
    changes = two_releases(manual, {"CP3": ("Enquiries", CP3)}, {"CP3": ("Enquiries", after)})
    assert changes == []


def test_list_items_are_paragraphs_with_their_own_location(manual: ManualRepo) -> None:
    before = "## Who attends\n\n- the police\n- a social worker\n- the school nurse\n"
    after = "## Who attends\n\n- the police\n- a qualified social worker\n- the school nurse\n"
    changes = two_releases(manual, {"CP3": ("Enquiries", before)}, {"CP3": ("Enquiries", after)})
    assert brief(changes) == [("paragraph.modified", "CP3", "section 'Who attends', list item 2")]


def test_paragraph_moved_within_a_chapter(manual: ManualRepo) -> None:
    moving = "Families should be told about the enquiry unless this puts the child at risk."
    before = f"## One\n\n{moving}\n\nFirst staying paragraph.\n\n## Two\n\nSecond staying.\n"
    after = f"## One\n\nFirst staying paragraph.\n\n## Two\n\nSecond staying.\n\n{moving}\n"
    changes = two_releases(manual, {"CP3": ("Enquiries", before)}, {"CP3": ("Enquiries", after)})
    assert brief(changes) == [("paragraph.moved", "CP3", "section 'Two', paragraph 2")]
    assert dict(changes[0].detail) == {"from": "section 'One', paragraph 1"}
    assert changes[0].redline == ()


def test_paragraph_moved_to_another_chapter_nearly_identical(manual: ManualRepo) -> None:
    moving = ("Families should be told about the enquiry at the start unless this would put "
              "the child at further risk of harm.")
    changes = two_releases(
        manual,
        {"CP3": ("Enquiries", f"## A\n\nStays here.\n\n{moving}\n"),
         "CP4": ("Conferences", "## B\n\nAlso stays.\n")},
        {"CP3": ("Enquiries", "## A\n\nStays here.\n"),
         "CP4": ("Conferences", f"## B\n\nAlso stays.\n\n{moving.replace('further ', '')}\n")})
    assert brief(changes) == [("paragraph.moved", "CP4", "section 'B', paragraph 2")]
    c = changes[0]
    assert (c.old_chapter, c.new_chapter, c.chapters) == ("CP3", "CP4", ("CP3", "CP4"))
    assert "[-further -]" in c.redline_text()


def test_table_rows_compared_row_by_row(manual: ManualRepo) -> None:
    before = ("## Fees\n\n| Service | Fee |\n|---|---|\n| Copy | £5 |\n| Search | £10 |\n"
              "| Visit | £20 |\n")
    after = ("## Fees\n\n| Service | Fee |\n|---|---|\n| Copy | £6 |\n| Visit | £20 |\n"
             "| Archive | £15 |\n")
    changes = two_releases(manual, {"F1": ("Fees", before)}, {"F1": ("Fees", after)})
    assert brief(changes) == [
        ("table.row.modified", "F1", "table in section 'Fees', row 1"),
        ("table.row.deleted", "F1", "table in section 'Fees', row 2"),
        ("table.row.inserted", "F1", "table in section 'Fees', row 3"),
    ]
    assert changes[0].redline_text() == "Copy | [-£5-]{+£6+}"


def test_links_changed_added_removed(manual: ManualRepo) -> None:
    before = ("## Further information\n\n- [Working Together](https://example.org/wt)\n"
              "- [Old leaflet](https://example.org/old)\n\n"
              "See [the guidance](https://example.org/g) and [the form](https://example.org/f).\n")
    after = ("## Further information\n\n- [Working Together](https://example.org/wt2023)\n"
             "- [Bullying guidance](https://example.org/bullying)\n\n"
             "See [the guidance](https://example.org/g) and [the form](https://example.org/f2)"
             ".\n")
    changes = two_releases(manual, {"PG4": ("Bullying", before)}, {"PG4": ("Bullying", after)})
    assert brief(changes) == [
        ("link.changed", "PG4", "section 'Further information', list item 1"),
        ("link.removed", "PG4", "section 'Further information', list item 2"),
        ("link.added", "PG4", "section 'Further information', list item 2"),
        ("link.changed", "PG4", "section 'Further information', paragraph 1"),
    ]
    assert (changes[0].old, changes[0].new) == ("https://example.org/wt",
                                                "https://example.org/wt2023")
    assert dict(changes[2].detail)["text"] == "Bullying guidance"


def test_new_further_information_item_is_a_link_added(manual: ManualRepo) -> None:
    before = "## Further information\n\n- [Working Together](https://example.org/wt)\n"
    after = before + "- [Parental responsibility](https://gov.example/pr) (DfE, 2023)\n"
    changes = two_releases(manual, {"PG4": ("Bullying", before)}, {"PG4": ("Bullying", after)})
    assert brief(changes) == [("link.added", "PG4", "section 'Further information', list item 2")]
    assert changes[0].new == "https://gov.example/pr"
    assert dict(changes[0].detail) == {
        "text": "Parental responsibility",
        "item": "Parental responsibility (DfE, 2023)"}


def test_metadata_changed(manual: ManualRepo) -> None:
    changes = two_releases(manual, {"CP3": ("Enquiries", CP3, {"owner": "Ann Smith"})},
                           {"CP3": ("Enquiries", CP3, {"owner": "Bo Jones", "order": 3})})
    assert brief(changes) == [("metadata.changed", "CP3", "front matter 'owner'"),
                              ("metadata.changed", "CP3", "front matter 'order'")]
    assert (changes[0].old, changes[0].new) == ("Ann Smith", "Bo Jones")
    assert (changes[1].old, changes[1].new, dict(changes[1].detail)) == (None, "3",
                                                                        {"key": "order"})


def test_term_swept_across_chapters_is_one_change(manual: ManualRepo) -> None:
    cp1 = ("## Definitions\n\nContextual safeguarding looks at harm outside the home.\n\n"
           "## Risk\n\nPractitioners consider contextual safeguarding in every assessment.\n")
    cp3 = "## Scope\n\nThe lead for contextual safeguarding attends the meeting.\n"
    new_cp3 = "## Scope\n\nThe named lead for extrafamilial harm attends the meeting.\n"
    changes = two_releases(
        manual, {"CP1": ("Recognising Abuse", cp1), "CP3": ("Enquiries", cp3)},
        {"CP1": ("Recognising Abuse", cp1.replace("Contextual safeguarding",
                                                  "Extrafamilial harm")
                 .replace("contextual safeguarding", "extrafamilial harm")),
         "CP3": ("Enquiries", new_cp3)})
    assert brief(changes) == [
        ("paragraph.modified", "CP3", "section 'Scope', paragraph 1"),
        ("term.swept", None, "3 places in 2 chapters"),
    ]
    sweep = changes[1]
    assert (sweep.old, sweep.new, sweep.chapters) == ("contextual safeguarding",
                                                      "extrafamilial harm", ("CP1", "CP3"))
    assert [(p.chapter, p.location) for p in sweep.places] == [
        ("CP1", "section 'Definitions', paragraph 1"),
        ("CP1", "section 'Risk', paragraph 1"),
        ("CP3", "section 'Scope', paragraph 1")]
    assert dict(sweep.detail)["absorbed"] == 2
    assert re.fullmatch(r"term-[0-9a-f]{8}", sweep.id)
    # the CP3 paragraph had a further edit, so it keeps its own change
    assert changes[0].redline_text() == (
        "The {+named +}lead for [-contextual safeguarding-]{+extrafamilial harm+} attends the "
        "meeting.")


def test_trivial_words_are_never_swept(manual: ManualRepo) -> None:
    before = "## A\n\nTell the family about the plan.\n\nGive the child the leaflet.\n"
    after = "## A\n\nTell a family about the plan.\n\nGive a child the leaflet.\n"
    changes = two_releases(manual, {"CP3": ("Enquiries", before)}, {"CP3": ("Enquiries", after)})
    assert [c.kind for c in changes] == ["paragraph.modified", "paragraph.modified"]


def test_ids_have_the_documented_shape_and_repeat_suffix(manual: ManualRepo) -> None:
    before = "## A\n\nOne.\n"
    after = "## A\n\nOne.\n\nSee the manager.\n\nMiddle.\n\nSee the manager.\n"
    changes = two_releases(manual, {"CP3": ("Enquiries", before)}, {"CP3": ("Enquiries", after)})
    ids = [c.id for c in changes]
    assert re.fullmatch(r"CP3-ins-[0-9a-f]{8}", ids[0])
    assert ids[2] == ids[0] + "-2"
    assert len(set(ids)) == 3


def test_every_kind_is_in_the_vocabulary(manual: ManualRepo) -> None:
    from pipeline.changes import SHORT_KINDS
    assert set(SHORT_KINDS) == set(CHANGE_KINDS)


def test_a_section_moved_is_its_paragraphs_moved(manual: ManualRepo) -> None:
    one = "## Consent\n\nConsent should be sought from the family before any referral is made.\n"
    two = "## Timescales\n\nThe assessment should be completed within forty five working days.\n"
    changes = two_releases(manual, {"CP3": ("Enquiries", one + "\n" + two)},
                           {"CP3": ("Enquiries", two + "\n" + one)})
    assert brief(changes) == [("paragraph.moved", "CP3", "section 'Timescales', paragraph 1")]


def test_reworded_links_to_the_same_targets_are_not_link_changes(manual: ManualRepo) -> None:
    """Real case (site-policy 2023-10 -> 2024-04): a sentence rewritten around its links keeps
    two of its targets, drops one and one of two links to the same page."""
    manual.chapter("AUP", "Acceptable Use", """
        Terms have the meanings in our [Terms](/tos), [Corporate Terms](/cts), and
        [Privacy Statement](/privacy); see also the [Corporate Terms](/cts).
        """)
    release(manual, "r1")
    manual.chapter("AUP", "Acceptable Use", """
        Terms have the meanings in your agreement: the [GitHub Terms of Service](/tos) or the
        [GitHub Corporate Terms of Service](/cts).
        """)
    release(manual, "r2")
    changes = found(manual)
    links = sorted((c.kind, c.old) for c in changes if c.kind.startswith("link."))
    assert links == [("link.removed", "/cts"), ("link.removed", "/privacy")]
    assert [c.kind for c in changes if not c.kind.startswith("link.")] == ["paragraph.modified"]
