"""Suggested summaries and significance (pipeline.suggest): drafts, never decisions."""

from __future__ import annotations

import pytest

from pipeline.models import Change, Place
from pipeline.suggest import suggest, suggest_group


def c(kind: str, old: str | None = None, new: str | None = None,
      location: str = "paragraph 4.21", **extra: object) -> Change:
    return Change(id="x", kind=kind, chapter="CP3", location=location, old=old, new=new,
                  **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(("change", "summary", "significance", "reason"), [
    (c("chapter.retitled", "Responding to Abuse and Neglect", "Recognising Abuse and Neglect",
       "title"),
     "Chapter retitled: 'Responding to Abuse and Neglect' is now 'Recognising Abuse and "
     "Neglect'", "major", "the chapter's title changed"),
    (c("chapter.retitled", "Child protection enquiries", "Child Protection Enquiries", "title"),
     "Chapter retitled: 'Child protection enquiries' is now 'Child Protection Enquiries'",
     "minor", "punctuation or capitals only"),
    (Change(id="x", kind="chapter.added", chapter="PG37", location="chapter",
            new="Sexual Abuse"), "New chapter: PG37 Sexual Abuse", "major", "a new chapter"),
    (c("paragraph.modified", "4.21 The worker should visit.", "4.21 The worker must visit."),
     "Now says 'must' where it said 'should'. See paragraph 4.21.", "major",
     "duty changed: 'should' is now 'must'"),
    (c("paragraph.modified", "4.21 They must attend.", "4.21 They must not attend."),
     "Now says 'must not attend' where it said 'must attend'. See paragraph 4.21.", "major",
     "duty changed: 'must attend' is now 'must not attend'"),
    (c("paragraph.modified", "Visits happen every week.", "Visits happen every two weeks.",
       "section 'Visits', paragraph 2", section="Visits"),
     "'every week' is now 'every two weeks'.", "major",
     "a number or timescale changed ('two')"),
    (c("paragraph.modified", "Review within 10 working days.", "Review within 12 weeks.",
       "paragraph 6.34"),
     "'within 10 working days' is now 'within 12 weeks'. See paragraph 6.34.", "major",
     "a number or timescale changed ('10')"),
    (c("paragraph.modified", "Staff shuold recieve training.", "Staff should receive training."),
     "Spelling corrected: 'shuold recieve' is now 'should receive'. See paragraph 4.21.",
     "minor", "spelling only"),
    (c("paragraph.modified", "Staff should receive training", "Staff should receive training."),
     "Punctuation corrected. See paragraph 4.21.", "minor", "punctuation or capitals only"),
    (c("paragraph.modified", "Assessments are completed.",
       "Assessments are completed, and shared."),
     "Updated: now includes 'and shared'. See paragraph 4.21.", "minor",
     "small wording change (2 words)"),
    (c("paragraph.inserted", None, "The home authority keeps responsibility for the "
       "assessment of a parent in custody until the other accepts it.", "paragraph 6.34"),
     "Added: 'The home authority keeps responsibility for the assessment of a parent in "
     "...'. See paragraph 6.34.", "minor",
     "new text; no duty word, number or timescale"),
    (c("paragraph.inserted", None, "Practitioners must record the child's views.",
       "section 'Plans', paragraph 3", section="Plans"),
     "Added in 'Plans': 'Practitioners must record the child's views'.", "major",
     "new text with a duty word ('must')"),
    (c("link.added", None, "https://www.gov.uk/pr", "section 'Further information', list item 2",
       detail=(("text", "DfE guidance on parental responsibility"),)),
     "Links added to DfE guidance on parental responsibility", "minor", "links only"),
    (c("link.removed", "https://example.org/old", None, "paragraph 2",
       detail=(("text", "Old guidance"),)), "Link removed: Old guidance", "minor", "links only"),
    (Change(id="term-1", kind="term.swept", chapter=None, location="3 places",
            old="contextual safeguarding", new="extrafamilial harm", chapters=("CP1", "CP3"),
            places=(Place("CP1", "paragraph 2"), Place("CP3", "paragraph 1.4"))),
     "References to 'contextual safeguarding' now say 'extrafamilial harm' in CP1, CP3",
     "minor", "terminology brought up to date"),
    (Change(id="x", kind="chapter.renumbered", chapter="PG23", location="chapter", old="PG9",
            new="PG23", old_chapter="PG9", new_chapter="PG23"),
     "Chapter renumbered: PG9 is now PG23", "minor", "renumbered only; the text is unchanged"),
])
def test_suggestions(change: Change, summary: str, significance: str, reason: str) -> None:
    assert suggest(change).to_json() == {"summary": summary, "significance": significance,
                                         "reason": reason}


def test_numbers_that_say_where_are_not_changed_numbers() -> None:
    para = suggest(c("paragraph.modified", "4.21 The worker visits.", "4.22 The worker visits."))
    assert (para.summary, para.significance) == ("Paragraph 4.21 is now 4.22", "minor")
    heading = suggest(c("heading.changed", "4. Scrutiny", "5. Scrutiny", "heading '5. Scrutiny'"))
    assert (heading.summary, heading.significance) == (
        "Section renumbered: '4. Scrutiny' is now '5. Scrutiny'", "minor")
    added = suggest(c("heading.changed", None, "4. The Serious Violence Duty", "heading"))
    assert added.summary == "New section: '4. The Serious Violence Duty'"
    removed = suggest(c("heading.changed", "Covid-19", None, "heading"))
    assert removed.summary == "Section heading removed: 'Covid-19'"


def test_require_is_a_duty_word() -> None:
    s = suggest(c("paragraph.inserted", None, "The duty requires the police to plan.", "x"))
    assert (s.significance, s.reason) == ("major", "new text with a duty word ('requires')")


def test_group_of_links() -> None:
    links = [c("link.added", None, "https://a.example/1", detail=(("text", "A"),)),
             c("link.added", None, "https://a.example/2", detail=(("text", "B"),)),
             c("link.added", None, "https://a.example/3", detail=(("text", "C"),))]
    assert suggest_group(links).summary == "Links added to A, B and C"
    mixed = [c("paragraph.modified", "They should go.", "They must go."), links[0]]
    group = suggest_group(mixed)
    assert (group.summary, group.significance) == (
        "Now says 'must' where it said 'should'. See paragraph 4.21 (and 1 related change)",
        "major")
