"""`editorial show CHAPTER --at RELEASE|DATE`: the chapter file as it stood."""

from __future__ import annotations

import json

from conftest import ManualRepo
from history_fixture import assert_errors, build_history

CP01_2023_09 = """\
---
id: CP01
title: Recognising Abuse and Neglect
part: A
---

# Introduction

1.1 Everyone who works with children has a duty to act on concerns about extrafamilial harm.

1.2 Concerns must be shared with children's social care the same day.

# Signs

2.1 Signs of neglect include poor hygiene and missed appointments.
"""


def test_show_at_a_date_between_releases(manual: ManualRepo) -> None:
    build_history(manual)
    # 2024-01-31 falls between 2023-09 (25 September) and 2024-03 (20 March): the chapter as
    # 2023-09 published it, when it was still CP01 in procedures/.
    result = manual.run("show", "CP1", "--at", "2024-01-31")
    assert result.exit_code == 0, result.output
    assert result.stdout == CP01_2023_09
    assert result.stderr == ("CP01 as it stood in release 2023-09 (2023-09-25): "
                             "procedures/cp01.md\n")
    assert manual.run("show", "CP01", "--at", "2023-09").stdout == CP01_2023_09
    # the release day itself counts as published on or before the date
    assert manual.run("show", "CP1", "--at", "2023-09-25").stdout == CP01_2023_09
    first = manual.run("show", "CP1", "--at", "2023-09-24").stdout
    assert "title: Responding to Abuse\n" in first


def test_show_json(manual: ManualRepo) -> None:
    built = build_history(manual)
    data = json.loads(manual.run("show", "CP1", "--at", "2024-03", "--json").stdout)
    assert data == {
        "chapter": "CP1", "release": "2024-03", "date": "2024-03-20",
        "commit": built["2024-03"].commit, "path": "procedures/part-a/cp1.md",
        "blob": manual.git("rev-parse", f"{built['2024-03'].commit}:procedures/part-a/cp1.md"),
        "front_matter": {"id": "CP1", "title": "Recognising Abuse and Neglect", "part": "A"},
        "body": CP01_2023_09.split("---\n", 2)[2]}


def test_show_errors(manual: ManualRepo) -> None:
    build_history(manual)
    manual.chapter("PG7", "Bullying", "1.1 New.", part="B")
    manual.commit("new chapter, not yet released")
    cases = {
        ("show", "PG7", "--at", "2024-09"): "Error: chapter 'PG7' did not exist in release "
                                            "2024-09\n",
        ("show", "CP9", "--at", "2024-09"): "Error: unknown chapter 'CP9' (not in the manual "
                                            "now nor in any published release)\n",
        ("show", "CP1", "--at", "2001-01-01"): "Error: 2001-01-01 is before the first "
                                               "published release (2023-03, 2023-03-15)\n",
        ("show", "CP1", "--at", "last-week"): "Error: unknown release 'last-week' (a published "
                                              "release id, or a date YYYY-MM-DD; see "
                                              "'editorial log')\n",
    }
    assert_errors(manual, cases)
    missing = manual.run("show", "CP1")
    assert missing.exit_code == 2
    assert "Missing option '--at'" in missing.output


def test_show_at_a_release_tag(manual: ManualRepo) -> None:
    """The tag a user sees in `git tag` names its release as well as the release id does."""
    build_history(manual)
    result = manual.run("show", "CP01", "--at", "release/2023-09")
    assert result.exit_code == 0, result.output
    assert result.stdout == CP01_2023_09
