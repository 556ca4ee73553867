"""`editorial status`: progress of the open release, as text and as JSON."""

from __future__ import annotations

import json

import pytest
from conftest import ManualRepo
from notes_fixture import DUTY, LINK, NOTES, TIMESCALE, edit, start_edited


@pytest.fixture
def edited(manual: ManualRepo) -> ManualRepo:
    start_edited(manual)
    for cid, significance in ((DUTY, "major"), (LINK, "minor")):
        assert manual.run("annotate", cid, "--summary", f"About {cid}.", "--why", "Because.",
                          "--significance", significance).exit_code == 0
    assert manual.run("annotate", TIMESCALE, "--summary", "Timescale.", "--why", "Guidance.",
                      "--significance", "major").exit_code == 0
    edit(manual, "procedures/cp3.md", "within 15 working days", "within 10 working days")
    return manual


def test_status_text(edited: ManualRepo) -> None:
    result = edited.run("status")
    assert result.exit_code == 0
    assert result.output == f"""\
Release 2023-09 (September 2023), draft; base base
Changes: 4 detected, 2 covered, 2 without an entry
Entries: 3 (2 major, 1 minor), 1 orphaned
Approvals: none

Without an entry:
  CP1-retitled-dd2966f4  chapter.retitled     title: 'Responding to Abuse and Neglect' -> 'Recognising Abuse and Neglect'
    suggested (major): Chapter retitled: 'Responding to Abuse and Neglect' is now 'Recognising Abuse and Neglect'
  CP1-mod-3a85af34  paragraph.modified   opening, paragraph 1: Practitioners should receive training every year.
    suggested (minor): Spelling corrected: 'recieve' is now 'receive'.

Orphaned entries (kept; none of their changes exist any more):
  e-173cf9c2  {NOTES}/CP3.yaml:30  Timescale.
"""  # noqa: E501


def test_status_json(edited: ManualRepo) -> None:
    assert edited.run("approve", "--by", "A. Chair").exit_code == 1  # not while orphaned
    data = json.loads(edited.run("status", "--json").output)
    assert {k: data[k] for k in ("release", "title", "date", "base", "status", "changes",
                                 "entries", "approved", "approvals")} == {
        "release": "2023-09", "title": "September 2023", "date": "2023-09-01", "base": "base",
        "status": "draft",
        "changes": {"detected": 4, "covered": 2, "uncovered": 2},
        "entries": {"total": 3, "major": 2, "minor": 1, "orphaned": 1},
        "approved": False, "approvals": []}
    assert [(u["id"], u["suggestion"]["significance"]) for u in data["uncovered"]] == [
        ("CP1-retitled-dd2966f4", "major"), ("CP1-mod-3a85af34", "minor")]
    assert data["orphaned"] == [{
        "id": "e-173cf9c2", "file": f"{NOTES}/CP3.yaml", "line": 30, "summary": "Timescale.",
        "significance": "major", "changes": [TIMESCALE]}]
    assert len(data["tree"]) == 40


def test_status_is_read_only(edited: ManualRepo) -> None:
    before = (edited.root / NOTES / "CP3.yaml").read_bytes()
    edited.run("status")
    assert (edited.root / NOTES / "CP3.yaml").read_bytes() == before
    assert b"orphaned" not in before  # only `changes` writes the flag


def test_status_without_an_open_release(manual: ManualRepo) -> None:
    result = manual.run("status")
    assert result.exit_code == 2
    assert result.output == ("Error: releases: no open release (start one with 'editorial "
                             "release start ID')\n")
