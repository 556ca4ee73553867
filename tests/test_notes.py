"""Notes files: strict reading (errors name file and line), round-trip writing that keeps the
editors' comments, order and wording, and the bad inputs of issue 3 item 8 (one line, exit 2,
nothing rewritten)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ManualRepo
from notes_fixture import DUTY, NOTES, TIMESCALE, edit, read, snapshot_files, start_edited

from pipeline.config import load_config
from pipeline.errors import NotesError
from pipeline.notes import (
    append_entry,
    entries_of,
    load_document,
    load_entries,
    open_notes_file,
    parse_notes,
    read_entries,
    save_notes,
    update_entry,
)

HAND_WRITTEN = f"""\
# CP3 notes, kept by the safeguarding team.
chapter: CP3
entries:
  # The big one this time.
  - id: e-00000001
    summary: >-
      Updated to be clear that the decision to convene a conference is made
      by children's social care, not at the strategy meeting. See paragraph 4.21.
    why: "Deciding at the strategy meeting came too early."   # quoted on purpose
    significance: major
    changes: [{DUTY}] # the duty
    audience: [health, police]
"""


@pytest.fixture
def edited(manual: ManualRepo) -> ManualRepo:
    return start_edited(manual)


def test_a_hand_written_entry_gets_its_anchor_and_keeps_everything_else(
        edited: ManualRepo) -> None:
    path = edited.root / NOTES / "CP3.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(HAND_WRITTEN)
    result = edited.run("changes")
    assert result.stderr == f"Updated {NOTES}/CP3.yaml: e-00000001 anchors refreshed\n"
    assert read(edited, f"{NOTES}/CP3.yaml") == HAND_WRITTEN + f"""\
    anchors:
      - change: {DUTY}
        kind: paragraph.modified
        chapter: CP3
        location: paragraph 4.21
        section: Strategy meetings
        text: 4.21 The decision whether to convene an initial conference should be made at the
          strategy meeting.
"""
    # Following an edit touches only the tool's own keys.
    edit(edited, "procedures/cp3.md", "must be made at", "must now be made at")
    assert edited.run("changes").exit_code == 0
    text = read(edited, f"{NOTES}/CP3.yaml")
    assert text.startswith(HAND_WRITTEN.split("    changes:")[0])
    assert "    changes: [CP3-mod-" in text and "] # the duty\n" in text
    assert DUTY not in text


def test_update_and_append_keep_comments_and_order(tmp_path: Path, manual: ManualRepo) -> None:
    config = load_config(manual.root)
    path = manual.root / NOTES / "CP3.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(HAND_WRITTEN)
    notes = open_notes_file(config, path)
    assert not update_entry(notes.item("e-00000001"), {"significance": "major",
                                                         "changes": [DUTY]})
    assert save_notes(notes) is False  # nothing changed: nothing written
    assert update_entry(notes.item("e-00000001"), {"action": "Wait for the enquiry."})
    append_entry(notes, {"id": "e-00000002", "summary": "Two\nlines.", "significance": "minor",
                         "changes": [TIMESCALE]})
    assert save_notes(notes) is True
    text = path.read_text()
    assert text.startswith(HAND_WRITTEN)
    assert text.endswith("""\
    action: Wait for the enquiry.
  - id: e-00000002
    summary: |-
      Two
      lines.
    significance: minor
    changes: [CP3-mod-23bafed3]
""")
    assert [e.id for e in parse_notes("x", path.read_bytes())] == ["e-00000001", "e-00000002"]


def test_save_refuses_to_lose_an_entry(manual: ManualRepo) -> None:
    config = load_config(manual.root)
    path = manual.root / NOTES / "CP3.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(HAND_WRITTEN)
    path.write_text(HAND_WRITTEN + "  - id: e-00000002\n    summary: Two.\n")
    notes = open_notes_file(config, path)
    notes.doc["entries"].pop(0)
    with pytest.raises(NotesError) as caught:
        save_notes(notes)
    assert str(caught.value) == (f"{NOTES}/CP3.yaml: refusing to write: entries e-00000001 "
                                 "would be lost")
    assert path.read_text() == HAND_WRITTEN + "  - id: e-00000002\n    summary: Two.\n"
    notes.doc["entries"].pop(0)  # now empty, after a comment: ruamel writes no valid YAML
    with pytest.raises(NotesError, match="refusing to write: the result would not read back"):
        save_notes(notes)


def test_save_refuses_a_file_changed_since_it_was_read(manual: ManualRepo) -> None:
    config = load_config(manual.root)
    path = manual.root / NOTES / "CP3.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(HAND_WRITTEN)
    notes = open_notes_file(config, path)
    append_entry(notes, {"id": "e-00000002", "summary": "Mine.", "changes": [TIMESCALE]})
    theirs = HAND_WRITTEN + "  - id: e-00000003\n    summary: Theirs.\n"
    path.write_text(theirs)  # another command wrote in between
    with pytest.raises(NotesError) as caught:
        save_notes(notes)
    assert str(caught.value) == (f"{NOTES}/CP3.yaml: changed on disk while being updated (by "
                                 "another command, or an editor saving it); nothing was "
                                 "written: run the command again")
    assert path.read_text() == theirs


@pytest.mark.parametrize(("text", "error"), [
    ("entries:\n  - id: e-1\n    sumary: x\n",
     "x/CP3.yaml:3: unknown key 'sumary' in entry (did you mean 'summary'?)"),
    ("chapters: CP3\n", "x/CP3.yaml:1: unknown key 'chapters' in notes file (did you mean "
                        "'chapter'?)"),
    ("entries:\n  - id: e-1\n  - id: e-1\n",
     "x/CP3.yaml:3: duplicate entry id 'e-1' (also at x/CP3.yaml:2)"),
    ("entries:\n  - summary: x\n", "x/CP3.yaml:2: entry has no 'id'"),
    ("entries:\n  - id: e-1\n    significance: big\n",
     "x/CP3.yaml:3: unknown significance 'big' (major or minor)"),
    ("entries:\n  - id: e-1\n    audience: {a: 1}\n",
     "x/CP3.yaml:3: 'audience' must be a list of names (such as health, police)"),
    ("entries:\n  - id: e-1\n    orphaned: maybe\n",
     "x/CP3.yaml:3: 'orphaned' must be true or false"),
    ("entries: [\n", "x/CP3.yaml:2: invalid YAML: expected the node content, but found "
                     "'<stream end>'"),
    ("- just\n- a list\n", "x/CP3.yaml:1: a notes file is a mapping with 'chapter' and "
                           "'entries'"),
])
def test_strict_reading_names_file_and_line(text: str, error: str) -> None:
    with pytest.raises(NotesError) as caught:
        parse_notes("x/CP3.yaml", text.encode())
    assert str(caught.value) == error


TRICKY = b"""\
chapter: CP1
entries:
  - id: e-1
    summary: yes
    why: 12
    significance: minor
    changes: [a, "b"]
    action: 2023-09-01
    audience: [no, off]
    orphaned: false
    anchors:
      - {change: a, kind: paragraph.modified, text: "x: y"}
  - id: e-2
    summary: |
      Two
      lines.
    why: >-
      Folded
      text.
"""


def test_the_fast_reader_reads_as_ruamel_does() -> None:
    """Reading uses libyaml; the round-trip loader (used to write) must agree with it."""
    assert parse_notes("n/CP1.yaml", TRICKY) == entries_of("n/CP1.yaml",
                                                           load_document("x", TRICKY))
    first, second = parse_notes("n/CP1.yaml", TRICKY)
    assert (first.summary, first.why, first.action, first.audience, first.orphaned) == (
        "yes", "12", "2023-09-01", ("no", "off"), False)
    assert (second.summary, second.why, second.line) == ("Two\nlines.", "Folded text.", 13)
    with pytest.raises(NotesError) as caught:
        parse_notes("n/CP1.yaml", b"entries:\n  - id: a\n    id: b\n")
    assert str(caught.value) == ('n/CP1.yaml:3: invalid YAML: found duplicate key "id" with '
                                 'value "b" (original value: "a")')


def test_entry_ids_are_unique_across_files() -> None:
    a = ("n/CP1.yaml", b"entries:\n  - id: e-1\n")
    b = ("n/CP3.yaml", b"entries:\n  - {id: e-1}\n")
    with pytest.raises(NotesError) as caught:
        read_entries([a, b])
    assert str(caught.value) == "n/CP3.yaml:2: duplicate entry id 'e-1' (also at n/CP1.yaml:2)"


def test_the_sample_manual_notes_read() -> None:
    root = Path(__file__).resolve().parent.parent
    config = load_config(root)
    for release in ("2023-09", "2024-03"):
        entries = load_entries(config, release)
        assert entries and all(e.id.startswith("e-") for e in entries)


# Bad input: one line, exit 2, nothing rewritten --------------------------------------------


def _annotate(manual: ManualRepo, *args: str) -> None:
    result = manual.run("annotate", *args)
    assert result.exit_code == 0, result.output


def _refused(manual: ManualRepo, expected: str, *commands: tuple[str, ...]) -> None:
    before = snapshot_files(manual.root)
    for command in commands:
        result = manual.run(*command)
        assert (result.exit_code, result.output) == (2, expected + "\n"), command
        assert snapshot_files(manual.root) == before, command


ALL = (("changes",), ("status",), ("annotate",), ("annotate", TIMESCALE, "--summary", "S.",
                                                  "--significance", "minor"))


def test_broken_yaml_is_an_error_and_never_rewritten(edited: ManualRepo) -> None:
    _annotate(edited, DUTY, "--summary", "Duty.", "--why", "W.", "--significance", "major")
    path = edited.root / NOTES / "CP3.yaml"
    path.write_text(path.read_text().replace("    why: W.\n", "    why: [W.\n"))
    _refused(edited, f"Error: {NOTES}/CP3.yaml:8: invalid YAML: expected ',' or ']', but got "
             "':'",
             *ALL, ("approve", "--by", "A. Chair"))
    check = edited.run("check")
    assert check.exit_code == 1
    assert check.stdout.startswith(f"{NOTES}/CP3.yaml:8: invalid YAML: ")


def test_an_entry_naming_a_change_that_does_not_exist(edited: ManualRepo) -> None:
    path = edited.root / NOTES / "CP1.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("chapter: CP1\nentries:\n  - id: e-1\n    summary: S.\n"
                    "    significance: minor\n    changes: [CP1-mod-00000000]\n")
    _refused(edited, f"Error: {NOTES}/CP1.yaml:3: entry e-1 names change 'CP1-mod-00000000', "
             "which does not exist in this release (see 'editorial changes')", *ALL)
    path.unlink()
    _refused(edited, f"Error: {NOTES}: no change 'CP9-nope' in release 2023-09 (see "
             "'editorial changes')",
             ("annotate", "CP9-nope", "--summary", "S.", "--significance", "minor"))


def test_an_unknown_significance(edited: ManualRepo) -> None:
    _refused(edited, "Error: unknown significance 'huge' (major or minor)",
             ("annotate", DUTY, "--summary", "S.", "--why", "W.", "--significance", "huge"))
    path = edited.root / NOTES / "CP3.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(f"entries:\n  - id: e-1\n    summary: S.\n    significance: Major\n"
                    f"    changes: [{DUTY}]\n")
    _refused(edited, f"Error: {NOTES}/CP3.yaml:4: unknown significance 'Major' (major or "
             "minor)", *ALL)


def test_an_empty_why_on_a_major_entry(edited: ManualRepo) -> None:
    _refused(edited, "Error: a major entry needs a why (--why: why is this important?)",
             ("annotate", DUTY, "--summary", "S.", "--significance", "major"),
             ("annotate", DUTY, "--summary", "S.", "--why", "  ", "--significance", "major"))


def test_two_entries_covering_one_change(edited: ManualRepo) -> None:
    _annotate(edited, DUTY, "--summary", "Duty.", "--why", "W.", "--significance", "major")
    _refused(edited, f"Error: {NOTES}/CP3.yaml:5: change '{DUTY}' is already covered by entry "
             "e-9b17ba8e", ("annotate", DUTY, "--summary", "S.", "--significance", "minor"))
    path = edited.root / NOTES / "_manual.yaml"
    path.write_text(f"entries:\n  - id: e-2\n    summary: S.\n    significance: minor\n"
                    f"    changes: [{DUTY}]\n")
    _refused(edited, f"Error: {NOTES}/_manual.yaml:2: change '{DUTY}' is covered by two "
             f"entries: e-2 and e-9b17ba8e ({NOTES}/CP3.yaml:5); keep one", *ALL)


def test_a_release_that_does_not_exist(edited: ManualRepo) -> None:
    expected = ("Error: releases/2099-01/release.toml: no release '2099-01' (see 'editorial "
                "release list')")
    _refused(edited, expected, ("status", "--release", "2099-01"),
             ("annotate", "--release", "2099-01"), ("check", "--release", "2099-01"))
    _refused(edited, "Error: invalid release id '../x' (letters, digits, '.', '-', '_'; such "
             "as 2023-09)", ("status", "--release", "../x"))


def test_a_published_release_takes_no_new_entries(edited: ManualRepo) -> None:
    path = edited.root / "releases/2023-09/release.toml"
    path.write_text(path.read_text().replace('status = "draft"', 'status = "published"'))
    _refused(edited, f"Error: {NOTES}: release 2023-09 is published; its entries are final",
             ("annotate", DUTY, "--summary", "S.", "--significance", "minor", "--release",
              "2023-09"))
