"""`editorial annotate` both ways, and `editorial changes` merging into the notes."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import ManualRepo
from notes_fixture import DUTY, LINK, NOTES, RETITLE, SPELLING, TIMESCALE, edit, read, start_edited

SP = " "  # a prompt answered with Enter ends in a space


@pytest.fixture
def edited(manual: ManualRepo) -> ManualRepo:
    return start_edited(manual)


def test_changes_lists_what_still_needs_an_entry_with_suggestions(edited: ManualRepo) -> None:
    result = edited.run("changes")
    assert result.exit_code == 0
    assert result.output == f"""\
Changes from base to WORKTREE: 5 changes in 2 chapters; 0 covered, 5 without an entry

Core procedures
  CP1 Recognising Abuse and Neglect
    {RETITLE}  chapter.retitled     title: 'Responding to Abuse and Neglect' -> 'Recognising Abuse and Neglect'
      no entry; suggested (major): Chapter retitled: 'Responding to Abuse and Neglect' is now 'Recognising Abuse and Neglect'
    {SPELLING}  paragraph.modified   opening, paragraph 1: Practitioners should receive training every year.
      no entry; suggested (minor): Spelling corrected: 'recieve' is now 'receive'.
  CP3 Child Protection Enquiries
    {DUTY}  paragraph.modified   paragraph 4.21: 4.21 The decision whether to convene an initial conference must be ...
      no entry; suggested (major): Now says 'must' where it said 'should'. See paragraph 4.21.
    {TIMESCALE}  paragraph.modified   paragraph 4.22: 4.22 The social worker must visit the child within 15 working days.
      no entry; suggested (major): 'within 10 working days' is now 'within 15 working days'. See paragraph 4.22.
    {LINK}  link.added           section 'Further information', list item 2: https://www.gov.uk/parental-responsibility
      no entry; suggested (minor): Links added to Parental responsibility

5 changes still need an entry: run 'editorial annotate'.
"""  # noqa: E501
    assert not (edited.root / NOTES).exists()  # suggestions are never written unasked


def test_annotate_with_text_writes_one_entry(edited: ManualRepo) -> None:
    result = edited.run("annotate", DUTY, "--summary", "The decision is now a duty.",
                        "--why", "Conferences were delayed.", "--significance", "major",
                        "--audience", "health, police", "--action", "Convene within 15 days.")
    assert result.exit_code == 0
    assert result.output == f"Wrote e-9b17ba8e to {NOTES}/CP3.yaml, covering {DUTY}\n"
    assert read(edited, f"{NOTES}/CP3.yaml") == f"""\
# Entries for CP3 in release 2023-09: what changed and why it is important.
# Format: see the README, 'Notes files'. Edit freely; 'editorial check' validates.
chapter: CP3
entries:
  - id: e-9b17ba8e
    summary: The decision is now a duty.
    why: Conferences were delayed.
    significance: major
    changes: [{DUTY}]
    audience: [health, police]
    action: Convene within 15 days.
    anchors:
      - change: {DUTY}
        kind: paragraph.modified
        chapter: CP3
        location: paragraph 4.21
        section: Strategy meetings
        text: 4.21 The decision whether to convene an initial conference should be made at the
          strategy meeting.
"""
    status = json.loads(edited.run("status", "--json").output)
    assert status["changes"] == {"detected": 5, "covered": 1, "uncovered": 4}


def test_several_ids_make_one_entry_and_chapters_spanned_go_to_the_manual_file(
        edited: ManualRepo) -> None:
    result = edited.run("annotate", SPELLING, LINK, "--summary", "Tidying.",
                        "--significance", "minor")
    assert result.exit_code == 0
    assert result.output == (f"Wrote e-d9b88895 to {NOTES}/_manual.yaml, covering "
                             f"{SPELLING}, {LINK}\n")
    text = read(edited, f"{NOTES}/_manual.yaml")
    assert "# Entries for the whole manual in release 2023-09" in text
    assert "chapter:" not in text.split("entries:")[0]
    assert f"changes: [{SPELLING}, {LINK}]" in text


def test_annotate_needs_summary_and_significance_together(edited: ManualRepo) -> None:
    result = edited.run("annotate", DUTY, "--summary", "Only a summary.")
    assert result.exit_code == 2
    assert result.output == ("Error: --summary and --significance are both needed to write an "
                             "entry (or give no text, to be asked)\n")


def _walk(manual: ManualRepo, answers: list[str], *ids: str) -> str:
    result = manual.run("annotate", *ids, input="".join(a + "\n" for a in answers))
    assert result.exit_code == 0, result.output
    return result.output


def test_walk_saves_answers_groups_skips_and_quits(edited: ManualRepo) -> None:
    output = _walk(edited, [
        "a", "", "Readers look for it by its title.", "",   # 1: accept suggestions
        "s",                                                   # 2: skip the spelling fix
        "a", "Convening is now a duty.", "", "major",         # 3: major needs a why...
        "Decisions were delayed.",                             # ...asked again
        "g",                                                   # 4: grouped into entry 3
        "q",                                                   # 5: quit
    ])
    assert output == f"""
[1/5] CP1: chapter.retitled at title  ({RETITLE})
  [-Responding to Abuse and Neglect-]
  {{+Recognising Abuse and Neglect+}}
Suggested summary: Chapter retitled: 'Responding to Abuse and Neglect' is now 'Recognising Abuse and Neglect'
Suggested significance: major (the chapter's title changed)
[a]nnotate, [s]kip, [q]uit [a]: a
Summary (Enter accepts the suggestion, 'e' opens $EDITOR):{SP}
Saved e-5ae936cb in {NOTES}/CP1.yaml.
Why is this important? ('e' opens $EDITOR): Readers look for it by its title.
Significance (major, minor) [major]:{SP}

[2/5] CP1: paragraph.modified at opening, paragraph 1  ({SPELLING})
  Practitioners should [-recieve-]{{+receive+}} training every year.
Suggested summary: Spelling corrected: 'recieve' is now 'receive'.
Suggested significance: minor (spelling only)
[a]nnotate, [g]roup into e-5ae936cb, [s]kip, [q]uit [a]: s

[3/5] CP3: paragraph.modified at paragraph 4.21  ({DUTY})
  4.21 The decision whether to convene an initial conference [-should-]{{+must+}} be made at the strategy meeting.
Suggested summary: Now says 'must' where it said 'should'. See paragraph 4.21.
Suggested significance: major (duty changed: 'should' is now 'must')
[a]nnotate, [g]roup into e-5ae936cb, [s]kip, [q]uit [a]: a
Summary (Enter accepts the suggestion, 'e' opens $EDITOR): Convening is now a duty.
Saved e-9b17ba8e in {NOTES}/CP3.yaml.
Why is this important? ('e' opens $EDITOR):{SP}
Significance (major, minor) [major]: major
A major entry needs a why: it is what the bulletin prints.
Why is this important? ('e' opens $EDITOR): Decisions were delayed.

[4/5] CP3: paragraph.modified at paragraph 4.22  ({TIMESCALE})
  4.22 The social worker must visit the child within [-10-]{{+15+}} working days.
Suggested summary: 'within 10 working days' is now 'within 15 working days'. See paragraph 4.22.
Suggested significance: major (a number or timescale changed ('10'))
[a]nnotate, [g]roup into e-9b17ba8e, [s]kip, [q]uit [a]: g
Grouped into e-9b17ba8e ({NOTES}/CP3.yaml), which now covers 2 changes.

[5/5] CP3: link.added at section 'Further information', list item 2  ({LINK})
  {{+https://www.gov.uk/parental-responsibility+}}
Suggested summary: Links added to Parental responsibility
Suggested significance: minor (links only)
[a]nnotate, [g]roup into e-9b17ba8e, [s]kip, [q]uit [a]: q

Stopped: wrote 2 entries, grouped 1 change, skipped 1; 2 changes still need an entry.
"""  # noqa: E501
    cp1 = read(edited, f"{NOTES}/CP1.yaml")
    assert ("    summary: \"Chapter retitled: 'Responding to Abuse and Neglect' is now "
            "'Recognising Abuse and Neglect'\"\n"
            "    why: Readers look for it by its title.\n    significance: major\n") in cp1
    cp3 = read(edited, f"{NOTES}/CP3.yaml")
    assert ("    summary: Convening is now a duty.\n    why: Decisions were delayed.\n"
            f"    significance: major\n    changes: [{DUTY}, {TIMESCALE}]\n") in cp3


def test_walk_saves_each_answer_as_given(edited: ManualRepo) -> None:
    """Input that stops after the summary (end of input) leaves the summary saved."""
    result = edited.run("annotate", DUTY, input="a\nA duty now.\n")
    assert result.exit_code == 1  # click aborts at the end of input
    cp3 = read(edited, f"{NOTES}/CP3.yaml")
    assert "    summary: A duty now.\n    changes: [" in cp3
    assert "significance" not in cp3
    check = edited.run("check")
    assert f"{NOTES}/CP3.yaml:5: entry e-9b17ba8e has no significance (major or minor)\n" \
        in check.output


def test_walk_opens_the_editor_for_long_text(edited: ManualRepo,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    script = edited.root.parent / "fake_editor.py"
    script.write_text(
        "import sys\n"
        "path = sys.argv[1]\n"
        "seen = open(path).read()\n"
        "open(path, 'w').write(seen + 'First paragraph of why.\\n\\nSecond paragraph.\\n')\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    output = _walk(edited, ["a", "", "e", "major"], DUTY)
    assert "Why is this important? ('e' opens $EDITOR): e\nSignificance" in output
    cp3 = read(edited, f"{NOTES}/CP3.yaml")
    assert "    why: |-\n      First paragraph of why.\n\n      Second paragraph.\n" in cp3


def test_walk_with_everything_covered(edited: ManualRepo) -> None:
    for cid in (RETITLE, SPELLING, DUTY, TIMESCALE, LINK):
        assert edited.run("annotate", cid, "--summary", "S.", "--significance",
                          "minor").exit_code == 0
    result = edited.run("annotate")
    assert result.exit_code == 0
    assert result.output == "Every change in release 2023-09 has an entry.\n"


def test_grouping_across_chapters_moves_the_entry_to_the_manual_file(
        edited: ManualRepo) -> None:
    output = _walk(edited, ["a", "Links and spelling.", "", "minor", "g"], SPELLING, LINK)
    assert f"Grouped into e-d66d2ebe ({NOTES}/_manual.yaml), which now covers 2 changes." \
        in output
    assert "e-d66d2ebe" not in read(edited, f"{NOTES}/CP1.yaml")
    manual_wide = read(edited, f"{NOTES}/_manual.yaml")
    assert f"changes: [{SPELLING}, {LINK}]" in manual_wide
    assert "summary: Links and spelling." in manual_wide
    assert edited.run("check").output.count("has no entry") == 3


def test_changes_keeps_an_entry_on_its_paragraph_after_another_edit(edited: ManualRepo) -> None:
    assert edited.run("annotate", TIMESCALE, "--summary", "Visits within 15 days.",
                      "--why", "Guidance changed.", "--significance", "major").exit_code == 0
    edit(edited, "procedures/cp3.md", "within 15 working days", "within 15 working days of "
         "the referral")
    result = edited.run("changes")
    assert result.exit_code == 0
    assert result.stderr == (f"Updated {NOTES}/CP3.yaml: e-173cf9c2 follows {TIMESCALE} -> "
                             "CP3-mod-8997cbfc\n")
    assert "    CP3-mod-8997cbfc  paragraph.modified   paragraph 4.22: 4.22 The social worker " \
           "must visit the child within 15 working days ...\n      covered by e-173cf9c2\n" \
        in result.stdout
    cp3 = read(edited, f"{NOTES}/CP3.yaml")
    assert "changes: [CP3-mod-8997cbfc]" in cp3
    assert "    summary: Visits within 15 days.\n    why: Guidance changed.\n" in cp3
    again = edited.run("changes")  # nothing more to write: the file is left alone
    assert again.stderr == ""
    assert read(edited, f"{NOTES}/CP3.yaml") == cp3


def test_an_entry_whose_change_vanishes_is_orphaned_then_found_again(
        edited: ManualRepo) -> None:
    assert edited.run("annotate", DUTY, "--summary", "A duty.", "--why", "Why.",
                      "--significance", "major").exit_code == 0
    edit(edited, "procedures/cp3.md", "must be made at", "should be made at")  # reverted
    result = edited.run("changes")
    assert result.stderr == (f"Updated {NOTES}/CP3.yaml: e-9b17ba8e is orphaned (none of its "
                             "changes exist any more)\n")
    assert result.stdout.endswith(
        "Orphaned entries (kept; none of their changes exist any more):\n"
        f"  e-9b17ba8e  {NOTES}/CP3.yaml:5  A duty.\n\n"
        "4 changes still need an entry: run 'editorial annotate'.\n")
    assert "    orphaned: true\n" in read(edited, f"{NOTES}/CP3.yaml")
    edit(edited, "procedures/cp3.md", "should be made at", "shall be made at")  # back again
    result = edited.run("changes")
    assert result.stderr == f"Updated {NOTES}/CP3.yaml: e-9b17ba8e found its change again\n"
    cp3 = read(edited, f"{NOTES}/CP3.yaml")
    assert "    orphaned: false\n" in cp3
    assert "changes: [CP3-mod-" in cp3 and DUTY not in cp3.split("anchors:")[0]


def test_changes_with_explicit_refs_stays_read_only(edited: ManualRepo) -> None:
    assert edited.run("annotate", TIMESCALE, "--summary", "S.", "--significance",
                      "minor").exit_code == 0
    edit(edited, "procedures/cp3.md", "within 15 working days", "within 16 working days")
    before = read(edited, f"{NOTES}/CP3.yaml")
    edited.commit("more")
    result = edited.run("changes", "--from", "base", "--to", "HEAD")
    assert result.exit_code == 0
    assert "covered by" not in result.output
    assert read(edited, f"{NOTES}/CP3.yaml") == before


def test_changes_json_says_which_entry_covers_each_change(edited: ManualRepo) -> None:
    assert edited.run("annotate", LINK, "--summary", "Link.", "--significance",
                      "minor").exit_code == 0
    data = json.loads(edited.run("changes", "--json").output)
    assert data["from"] == "base" and data["to"] == "WORKTREE"
    assert (data["covered"], data["uncovered"], data["orphaned"]) == (1, 4, [])
    by_id = {c["id"]: c for c in data["changes"]}
    assert by_id[LINK]["entry"] == "e-2da68776" and "suggestion" not in by_id[LINK]
    assert by_id[DUTY]["entry"] is None
    assert by_id[DUTY]["suggestion"] == {
        "summary": "Now says 'must' where it said 'should'. See paragraph 4.21.",
        "significance": "major", "reason": "duty changed: 'should' is now 'must'"}


def test_two_branches_annotate_different_chapters_and_merge_cleanly(
        edited: ManualRepo) -> None:
    edited.commit("edits")
    edited.git("checkout", "-q", "-b", "cp1")
    assert edited.run("annotate", RETITLE, "--summary", "Retitled.", "--why", "Clarity.",
                      "--significance", "major").exit_code == 0
    edited.commit("CP1 notes")
    edited.git("checkout", "-q", "main")
    edited.git("checkout", "-q", "-b", "cp3")
    assert edited.run("annotate", DUTY, "--summary", "Duty.", "--why", "Delays.",
                      "--significance", "major").exit_code == 0
    edited.commit("CP3 notes")
    edited.git("checkout", "-q", "main")
    edited.git("merge", "-q", "--no-edit", "cp1")
    edited.git("merge", "-q", "--no-edit", "cp3")  # raises on a conflict
    status = json.loads(edited.run("status", "--json").output)
    assert status["changes"] == {"detected": 5, "covered": 2, "uncovered": 3}
    assert status["entries"]["major"] == 2
