"""`editorial check`: every problem listed as file:line: message; exit 1, or 0 when clean."""

from __future__ import annotations

import json

import pytest
from conftest import ManualRepo
from notes_fixture import (
    DUTY,
    LINK,
    NOTES,
    RETITLE,
    SPELLING,
    TIMESCALE,
    edit,
    start_edited,
    start_release,
)


@pytest.fixture
def edited(manual: ManualRepo) -> ManualRepo:
    return start_edited(manual)


def annotate_all(manual: ManualRepo) -> None:
    for cid, significance in ((RETITLE, "major"), (SPELLING, "minor"), (DUTY, "major"),
                              (TIMESCALE, "major"), (LINK, "minor")):
        result = manual.run("annotate", cid, "--summary", f"About {cid}.", "--why", "Because.",
                            "--significance", significance)
        assert result.exit_code == 0, result.output


def test_a_clean_release_passes(edited: ManualRepo) -> None:
    annotate_all(edited)
    result = edited.run("check")
    assert result.exit_code == 0
    assert result.output == "All checks passed: release 2023-09, 5 changes, 5 entries.\n"


def test_a_release_with_nothing_changed_passes(manual: ManualRepo) -> None:
    start_release(manual)
    result = manual.run("check")
    assert (result.exit_code, result.output) == (
        0, "All checks passed: release 2023-09, 0 changes, 0 entries.\n")


def test_uncovered_changes_are_listed_with_file_and_line(edited: ManualRepo) -> None:
    annotate_all(edited)
    edit(edited, "procedures/pg4.md", "a duty to prevent", "a duty to prevent and respond to")
    result = edited.run("check")
    assert result.exit_code == 1
    assert result.stdout == (
        "procedures/pg4.md:9: change PG4-mod-54d4289d (paragraph.modified, opening, "
        "paragraph 2) has no entry (see 'editorial annotate')\n")
    assert result.stderr == "Error: 1 problem in release 2023-09\n"


def test_check_refuses_an_unexplained_major_entry_and_orphans(edited: ManualRepo) -> None:
    annotate_all(edited)
    cp3 = edited.root / NOTES / "CP3.yaml"
    cp3.write_text(cp3.read_text().replace("    why: Because.\n", "", 1))
    edit(edited, "procedures/cp1.md", "receive", "recieve")  # the spelling fix undone
    result = edited.run("check")
    assert result.exit_code == 1
    assert result.stdout == (
        f"{NOTES}/CP1.yaml:16: entry e-d66d2ebe is orphaned: none of its changes exist any "
        "more (point it at a change, or delete it)\n"
        f"{NOTES}/CP3.yaml:5: entry e-9b17ba8e is major but has no why (\"Why is this "
        "important?\" is what the bulletin prints)\n")
    assert result.stderr == "Error: 2 problems in release 2023-09\n"


def test_check_lists_every_notes_problem_without_stopping(edited: ManualRepo) -> None:
    annotate_all(edited)
    notes = edited.root / NOTES
    (notes / "PG4.yaml").write_text("chapter: PG4\nentries:\n  - id: e-1\n    summary: [\n")
    (notes / "CP1.yaml").write_text(
        (notes / "CP1.yaml").read_text().replace("significance: minor", "significance: small"))
    (notes / "_manual.yaml").write_text(
        f"entries:\n  - id: e-2\n    summary: Twice.\n    significance: minor\n"
        f"    changes: [{DUTY}]\n  - id: e-3\n    summary: Typo.\n    significance: minor\n"
        "    changes: [CP3-typo]\n")
    result = edited.run("check", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["release"] == "2023-09"
    assert [f"{p['file']}:{p['line']}: {p['message']}" for p in data["problems"]] == [
        f"{NOTES}/CP1.yaml:19: unknown significance 'small' (major or minor)",
        f"{NOTES}/PG4.yaml:5: invalid YAML: expected the node content, but found "
        "'<stream end>'",
        f"{NOTES}/_manual.yaml:2: change '{DUTY}' is covered by two entries: e-2 and "
        f"e-9b17ba8e ({NOTES}/CP3.yaml:5); keep one",
        f"{NOTES}/_manual.yaml:6: entry e-3 names change 'CP3-typo', which does not exist in "
        "this release (see 'editorial changes')",
        # CP1.yaml could not be read, so its changes have no entry either
        f"procedures/cp1.md:3: change {RETITLE} (chapter.retitled, title) has no entry (see "
        "'editorial annotate')",
        f"procedures/cp1.md:7: change {SPELLING} (paragraph.modified, opening, paragraph 1) has "
        "no entry (see 'editorial annotate')",
    ]


def test_check_reports_bad_chapters_and_links(edited: ManualRepo) -> None:
    annotate_all(edited)
    edited.write("procedures/bad.md", "---\ntitle: No id\npart: A\n---\n\nText.\n")
    result = edited.run("check")
    assert result.exit_code == 1
    assert result.stdout == "procedures/bad.md: front matter has no 'id'\n"
    edited.write("procedures/bad.md", "---\nid: CP1\ntitle: Twin\npart: A\n---\n\nText.\n")
    assert edited.run("check").stdout == ("procedures/cp1.md: duplicate id 'CP1' (also in "
                                          "procedures/bad.md)\n")
    edited.remove("procedures/bad.md")
    edit(edited, "procedures/pg4.md", "Schools have", "See [the guide](htps://example.org) "
         "and [CP3](cp9.md) and [mail](mailto:nobody) and [site](www.example.org). Schools have")
    result = edited.run("check")
    assert result.exit_code == 1
    assert [line for line in result.stdout.splitlines() if ": link '" in line] == [
        "procedures/pg4.md:9: link 'the guide': unknown kind of address 'htps:' (use http, "
        "https, mailto, tel, ftp)",
        "procedures/pg4.md:9: link 'CP3': links to 'cp9.md', which does not exist",
        "procedures/pg4.md:9: link 'mail': the address 'mailto:nobody' has no e-mail address",
        "procedures/pg4.md:9: link 'site': the address 'www.example.org' looks like a web "
        "address missing 'https://'",
    ]
    assert "has no entry" in result.stdout  # the edit itself, not annotated


def test_check_reports_a_template_that_does_not_render(edited: ManualRepo) -> None:
    annotate_all(edited)
    edited.write("templates/bulletin.html.j2", "{% if %}\n")
    result = edited.run("check")
    assert result.exit_code == 1
    assert result.stdout.startswith("templates/bulletin.html.j2:1: ")


def test_check_of_an_unknown_release(edited: ManualRepo) -> None:
    result = edited.run("check", "--release", "2099-01")
    assert result.exit_code == 2
    assert result.output == ("Error: releases/2099-01/release.toml: no release '2099-01' (see "
                             "'editorial release list')\n")
