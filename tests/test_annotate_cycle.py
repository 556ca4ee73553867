"""The whole cycle a new user goes through, with the real change engine: edits of every kind,
`changes`, `annotate` both ways, `check`, `approve`; then more edits of the same places and a
re-run, which must keep every entry on its change."""

from __future__ import annotations

import json

from conftest import ManualRepo
from notes_fixture import NOTES, edit, read

CP1 = """\
    ## Introduction

    1.1 Practitioners should respond to concerns about contextual safeguarding.

    1.2 Every agency keeps records of its concerns.
    """

CP3 = """\
    ## Strategy meetings

    4.21 The decision whether to convene an initial conference should be made at the
    strategy meeting.

    4.22 The social worker must visit the child within 10 working days.

    4.23 Minutes are circulated to everyone who attended the meeting.

    ## Timescales

    | Step | When |
    |------|------|
    | Referral | Same day |
    | Assessment | 45 working days |
    | Review | Every six months |

    ## Further information

    Contextual safeguarding is described in the national guidance.

    - [Working Together](https://www.gov.uk/working-together)
    - [Old leaflet](https://example.org/old-leaflet)
    """

PG4 = """\
    Bullying is behaviour that hurts someone else, repeated over time.

    Schools have a duty to prevent bullying of every kind, including online.
    """

PG5 = """\
    Private fostering is when a child under 16 is cared for by someone who is not a close
    relative for 28 days or more.

    The local authority must be told of every private fostering arrangement.
    """

CP2 = """\
    Interim arrangements applied during the pandemic and have now ended.
    """


def test_every_kind_of_edit_annotated_checked_approved_and_kept(manual: ManualRepo) -> None:
    manual.chapter("CP1", "Responding to Abuse and Neglect", CP1, owner="Board")
    manual.chapter("CP2", "Interim Arrangements", CP2)
    manual.chapter("CP3", "Child Protection Enquiries", CP3)
    manual.chapter("PG4", "Bullying", PG4, part="B")
    manual.chapter("PG5", "Private Fostering", PG5, part="B")
    manual.commit("base")
    manual.tag("base")
    assert manual.run("release", "start", "2023-09", "--base", "base", "--date",
                      "2023-09-01").exit_code == 0
    manual.commit("start")

    # Edits of every kind.
    cp1, cp3 = "procedures/cp1.md", "procedures/cp3.md"
    edit(manual, cp1, "title: Responding to", "title: Recognising")
    edit(manual, cp1, "owner: Board", "owner: Editorial Board")
    edit(manual, cp1, "contextual safeguarding", "extrafamilial harm")
    manual.remove("procedures/cp2.md")
    manual.chapter("PG37", "Sexual Abuse", "Children who are sexually abused must be "
                   "referred to children's social care at once.", part="B")
    manual.remove("procedures/pg5.md")
    manual.chapter("PG23", "Private Fostering", PG5, part="B")  # renumbered
    manual.chapter("PG4", "Bullying", PG4, part="A", path="procedures/pg4.md")  # moved
    edit(manual, cp3, "## Strategy meetings", "## Strategy discussions")
    edit(manual, cp3, "should be made at", "must be made at")
    edit(manual, cp3, "4.22 The social worker must visit the child within 10 working days.\n\n"
         "4.23 Minutes are circulated to everyone who attended the meeting.\n",
         "4.23 Minutes are circulated to everyone who attended the meeting.\n\n"
         "4.22 The social worker must visit the child within 10 working days.\n\n"
         "4.24 The chair checks that the child's views were heard.\n")
    edit(manual, cp3, "| Assessment | 45 working days |", "| Assessment | 35 working days |")
    edit(manual, cp3, "| Review | Every six months |\n", "")
    edit(manual, cp3, "| Referral | Same day |", "| Referral | Same day |\n"
         "| Visit | Within 5 working days |")
    edit(manual, cp3, "Contextual safeguarding", "Extrafamilial harm")
    edit(manual, cp3, "- [Old leaflet](https://example.org/old-leaflet)\n",
         "- [Parental responsibility](https://www.gov.uk/parental-responsibility)\n")

    first = manual.run("changes", "--json")
    assert first.exit_code == 0, first.output
    changes = json.loads(first.stdout)["changes"]
    kinds = {c["kind"] for c in changes}
    assert {"chapter.added", "chapter.removed", "chapter.retitled", "chapter.moved",
            "chapter.renumbered", "heading.changed", "paragraph.inserted",
            "paragraph.modified", "paragraph.moved", "table.row.inserted",
            "table.row.modified", "table.row.deleted", "link.added", "link.removed",
            "metadata.changed", "term.swept"} <= kinds, kinds

    # Annotate: the first two through the walk, the rest with flags.
    walk_input = "a\n\nWhy one.\n\na\n\nWhy two.\n\nq\n"
    walked = manual.run("annotate", input=walk_input)
    assert walked.exit_code == 0, walked.output
    status = json.loads(manual.run("status", "--json").stdout)
    for item in status["uncovered"]:
        result = manual.run("annotate", item["id"], "--summary",
                            item["suggestion"]["summary"], "--why", "Because.",
                            "--significance", item["suggestion"]["significance"])
        assert result.exit_code == 0, result.output
    check = manual.run("check")
    assert check.exit_code == 0, check.output
    approved = manual.run("approve", "--by", "A. Chair", "--role", "Chair")
    assert approved.exit_code == 0, approved.output
    before = json.loads(manual.run("changes", "--json").stdout)["changes"]
    owner_of = {c["id"]: c["entry"] for c in before}
    assert None not in owner_of.values()
    entries = set(owner_of.values())

    # More edits of the same places; a re-run keeps every entry on its change.
    edit(manual, cp1, "title: Recognising Abuse and Neglect",
         "title: Recognising Abuse and Neglect of Children")
    edit(manual, cp3, "must be made at", "must be made only at")
    edit(manual, cp3, "4.24 The chair checks that the child's views were heard.",
         "4.24 The chair checks that the child's views were heard and recorded.")
    edit(manual, cp3, "| Assessment | 35 working days |", "| Assessment | 30 working days |")
    edit(manual, "procedures/pg37.md", "at once", "at once, and the police told")
    rerun = manual.run("changes", "--json")
    assert rerun.exit_code == 0, rerun.output
    after = json.loads(rerun.stdout)
    assert after["orphaned"] == []
    assert after["uncovered"] == 0, [c for c in after["changes"] if c["entry"] is None]
    assert {c["entry"] for c in after["changes"]} == entries  # every entry kept, all in use
    followed = [line for line in rerun.stderr.splitlines() if " follows " in line]
    assert len(followed) == 4, rerun.stderr  # title, duty, new paragraph, table row
    texts = "".join(read(manual, f"{NOTES}/{name}") for name in ("CP1.yaml", "CP3.yaml"))
    assert "Why one." in texts and "Why two." in texts
    assert manual.run("check").exit_code == 0
    status = manual.run("status").stdout
    assert "stale: chapters or notes changed since" in status
    assert manual.run("approve", "--by", "A. Chair", "--role", "Chair").exit_code == 0
