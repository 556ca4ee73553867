"""`editorial approve` and the approval state that `status` and `publish` read."""

from __future__ import annotations

import re
import tomllib

import pytest
from conftest import ManualRepo
from notes_fixture import (
    NOTES,
    RELEASE,
    TIMESCALE,
    edit,
    edit_all,
    read,
    snapshot_files,
    start_release,
)

from pipeline.approval import approval_state
from pipeline.manual import open_manual
from pipeline.releases import load_release

RELEASE_FILE = f"releases/{RELEASE}/release.toml"


@pytest.fixture
def ready(manual: ManualRepo) -> ManualRepo:
    """A release whose one change (a timescale) has its entry: check passes."""
    start_release(manual)
    edit(manual, "procedures/cp3.md", "within 10 working days", "within 15 working days")
    result = manual.run("annotate", TIMESCALE, "--summary", "Visits within 15 days.", "--why",
                        "National guidance changed.", "--significance", "major")
    assert result.exit_code == 0, result.output
    return manual


def recorded(manual: ManualRepo) -> list[dict[str, str]]:
    return tomllib.loads(read(manual, RELEASE_FILE)).get("approvals", [])


def test_approve_records_name_role_time_and_tree(ready: ManualRepo) -> None:
    (ready.root / RELEASE_FILE).write_text(
        "# Kept: comments editors add by hand.\n" + read(ready, RELEASE_FILE))
    result = ready.run("approve", "--by", "Amira Okafor", "--role", "Chair")
    assert result.exit_code == 0, result.output
    [approval] = recorded(ready)
    assert approval["by"] == "Amira Okafor" and approval["role"] == "Chair"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", approval["at"])
    assert re.fullmatch(r"[0-9a-f]{40}", approval["tree"])
    assert result.output == (f"Approved release {RELEASE} by Amira Okafor (Chair) at "
                             f"{approval['at']}, tree {approval['tree'][:12]}\n")
    text = read(ready, RELEASE_FILE)
    assert text.startswith("# Kept: comments editors add by hand.\n")
    assert 'status = "approved"' in text
    m = open_manual(ready.root)
    state = approval_state(m, load_release(m.config, RELEASE))
    assert state.is_current and state.tree == approval["tree"] and state.stale == ()


def test_later_edits_make_the_approval_stale_and_status_says_so(ready: ManualRepo) -> None:
    assert ready.run("approve", "--by", "Amira Okafor", "--role", "Chair").exit_code == 0
    [first] = recorded(ready)
    status = ready.run("status")
    assert status.output.splitlines()[3:6] == [
        "Approvals:",
        f"  Amira Okafor (Chair) at {first['at']}: current",
        "Approved: yes, the approvals cover the chapters and notes as they are now"]
    edit(ready, "procedures/pg4.md", "Bullying is", "Bullying is repeated")
    status = ready.run("status")
    assert status.output.splitlines()[3:6] == [
        "Approvals:",
        f"  Amira Okafor (Chair) at {first['at']}: stale: chapters or notes changed since",
        "Approved: no, approve again after the later edits"]
    edit(ready, "procedures/pg4.md", "Bullying is repeated", "Bullying is")  # undone
    assert "current" in ready.run("status").output.splitlines()[4]
    notes = ready.root / NOTES / "CP3.yaml"
    notes.write_text(notes.read_text().replace("National guidance changed.", "Guidance."))
    assert "stale" in ready.run("status").output.splitlines()[4]


def test_the_same_person_approves_again_only_after_later_edits(ready: ManualRepo) -> None:
    assert ready.run("approve", "--by", "Amira Okafor").exit_code == 0
    before = snapshot_files(ready.root)
    again = ready.run("approve", "--by", "amira  okafor")
    assert again.exit_code == 2
    [first] = recorded(ready)
    assert again.output == (f"Error: {RELEASE_FILE}: already approved by 'Amira Okafor' (at "
                            f"{first['at']})\n")
    assert snapshot_files(ready.root) == before
    edit(ready, "procedures/cp3.md", "15 working days", "15 working days.")
    renewed = ready.run("approve", "--by", "Amira Okafor")
    assert renewed.exit_code == 0
    [second] = recorded(ready)
    assert second["tree"] != first["tree"]
    assert renewed.output.endswith(f"This replaces Amira Okafor's approval of {first['at']}, "
                                   "made before later edits.\n")


def test_two_people_approve(ready: ManualRepo) -> None:
    assert ready.run("approve", "--by", "Amira Okafor", "--role", "Chair").exit_code == 0
    assert ready.run("approve", "--by", "Ben Hall").exit_code == 0
    assert [a["by"] for a in recorded(ready)] == ["Amira Okafor", "Ben Hall"]
    assert "role" not in recorded(ready)[1]


def test_approve_refuses_while_check_fails(manual: ManualRepo) -> None:
    start_release(manual)
    edit_all(manual)
    before = snapshot_files(manual.root)
    result = manual.run("approve", "--by", "Amira Okafor")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-1] == ("Error: cannot approve release 2023-09: 5 problems (see 'editorial "
                         "check')")
    assert lines[0] == ("procedures/cp1.md:3: change CP1-retitled-dd2966f4 (chapter.retitled, "
                        "title) has no entry (see 'editorial annotate')")
    assert snapshot_files(manual.root) == before
    assert recorded(manual) == []


def test_approve_refuses_an_unexplained_major_entry(ready: ManualRepo) -> None:
    notes = ready.root / NOTES / "CP3.yaml"
    notes.write_text(notes.read_text().replace("    why: National guidance changed.\n", ""))
    result = ready.run("approve", "--by", "Amira Okafor")
    assert result.exit_code == 1
    assert result.output == (
        f"{NOTES}/CP3.yaml:5: entry e-173cf9c2 is major but has no why (\"Why is this "
        "important?\" is what the bulletin prints)\n"
        "Error: cannot approve release 2023-09: 1 problem (see 'editorial check')\n")


def test_approve_writes_followed_ids_first_so_a_later_changes_run_keeps_it_current(
        ready: ManualRepo) -> None:
    edit(ready, "procedures/cp3.md", "15 working days", "15 working days of the referral")
    assert ready.run("approve", "--by", "Amira Okafor").exit_code == 0
    assert "CP3-mod-23bafed3" not in read(ready, f"{NOTES}/CP3.yaml").split("anchors:")[0]
    changes = ready.run("changes")
    assert changes.stderr == ""  # nothing left to write
    assert "current" in ready.run("status").output.splitlines()[4]


def test_approve_an_unknown_or_published_release(ready: ManualRepo) -> None:
    result = ready.run("approve", "--by", "X", "--release", "2099-01")
    assert result.exit_code == 2
    assert result.output == ("Error: releases/2099-01/release.toml: no release '2099-01' (see "
                             "'editorial release list')\n")
    path = ready.root / RELEASE_FILE
    path.write_text(path.read_text().replace('status = "draft"', 'status = "published"'))
    result = ready.run("approve", "--by", "X", "--release", RELEASE)
    assert result.exit_code == 2
    assert result.output == f"Error: {RELEASE_FILE}: release {RELEASE} is already published\n"


def test_a_sign_off_given_at_a_meeting_is_recorded_at_its_time(ready: ManualRepo) -> None:
    result = ready.run("approve", "--by", "Amira Okafor", "--at", "2023-09-20")
    assert result.exit_code == 0, result.output
    assert recorded(ready)[0]["at"] == "2023-09-20T00:00:00Z"
    other = ready.run("approve", "--by", "Ben Hale", "--at", "2023-09-21T15:30:00+01:00")
    assert other.exit_code == 0, other.output
    assert recorded(ready)[1]["at"] == "2023-09-21T14:30:00Z"


def test_a_sign_off_time_must_be_a_time_and_not_in_the_future(ready: ManualRepo) -> None:
    before = read(ready, RELEASE_FILE)
    bad = ready.run("approve", "--by", "Amira Okafor", "--at", "next Tuesday")
    assert (bad.exit_code, bad.output) == (
        2, "Error: invalid time 'next Tuesday' (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)\n")
    future = ready.run("approve", "--by", "Amira Okafor", "--at", "2999-01-01")
    assert (future.exit_code, future.output) == (
        2, "Error: '2999-01-01' is in the future: an approval records a sign-off given\n")
    assert read(ready, RELEASE_FILE) == before
