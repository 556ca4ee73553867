"""`annotate --correct ENTRY`: a published entry corrected, with the trail kept and committed;
`log` shows the trail, blame and later renders use the corrected text."""

from __future__ import annotations

import json

from conftest import ManualRepo
from history_fixture import assert_errors, build_history, build_published, correct_cp1_why

CP1_NOTES = "releases/2024-09/notes/CP1.yaml"


def _correct_why(manual: ManualRepo) -> str:
    """Correct the why of the 2024-09 entry on CP1; returns the time it was recorded at."""
    result = manual.run("annotate", "--correct", "e-9549b8a2", "--why",
                        "Same-day sharing could not be met at weekends or on bank holidays.",
                        "--by", "A. Editor", "--reason", "Bank holidays were left out.")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Corrected the why of e-9549b8a2 (release 2024-09) in releases/2024-09/notes/CP1.yaml; "
        "the old wording is kept in its corrections, and the change is committed.\n")
    text = (manual.root / CP1_NOTES).read_text()
    return next(line.split("at: ")[1].strip("'") for line in text.splitlines()
                if "- at: " in line)


def test_a_correction_keeps_old_and_new_wording_who_when_why_and_is_committed(
        manual: ManualRepo) -> None:
    build_history(manual)
    at = _correct_why(manual)
    assert (manual.root / CP1_NOTES).read_text() == f"""\
chapter: CP1
entries:
  - id: e-9549b8a2
    summary: "Concerns are shared within one working day."
    why: "Same-day sharing could not be met at weekends or on bank holidays."
    significance: major
    changes: [CP1-mod-588b9702]
    corrections:
      - at: '{at}'
        by: A. Editor
        field: why
        old: Same-day sharing could not be met at weekends.
        new: Same-day sharing could not be met at weekends or on bank holidays.
        reason: Bank holidays were left out.
"""
    assert manual.git("status", "--porcelain") == ""
    assert manual.git("log", "-1", "--format=%s") == (
        "Correct the why of entry e-9549b8a2 (release 2024-09): Bank holidays were left out.")
    assert manual.git("show", "--name-only", "--format=", "HEAD") == CP1_NOTES
    # the release's tag and source commit are untouched: history is not rewritten
    assert manual.git("rev-parse", "release/2024-09^{commit}") != manual.git("rev-parse", "HEAD")


def test_log_shows_the_trail_and_blame_the_corrected_why(manual: ManualRepo) -> None:
    build_history(manual)
    at = _correct_why(manual)
    log = manual.run("log", "CP1").output.split("\n\n")[1]
    assert " ".join(log.split()) == (
        "2024-09 Release 2024-09 (2024-09-30) Approved by: Jane Chair (Chair) "
        "2024-09-30T10:00:00Z 1 change to the text [major] Concerns are shared within one "
        "working day. (e-9549b8a2) Why is this important? Same-day sharing could not be met "
        f"at weekends or on bank holidays. Corrected {at} by A. Editor (why; was: \"Same-day "
        "sharing could not be met at weekends.\"). Reason: Bank holidays were left out.")
    entry = json.loads(manual.run("log", "CP1", "--json").output)["releases"][0]["entries"][0]
    assert entry["corrections"] == [{
        "at": at, "by": "A. Editor", "field": "why",
        "old": "Same-day sharing could not be met at weekends.",
        "new": "Same-day sharing could not be met at weekends or on bank holidays.",
        "reason": "Bank holidays were left out."}]
    releases = json.loads(manual.run("log", "--json").output)
    assert [(r["id"], r["corrections"]) for r in releases][:2] == [("2024-09", 1),
                                                                   ("2024-03", 0)]
    assert "Entries: 1 major, 0 minor; 1 correction" in manual.run("log").output
    rows = json.loads(manual.run("blame", "CP1", "--json").output)["rows"]
    assert rows[3]["why"] == "Same-day sharing could not be met at weekends or on bank holidays."


def test_summary_and_why_corrected_together_then_again(manual: ManualRepo) -> None:
    build_history(manual)
    first = manual.run("annotate", "--correct", "e-366e5a82", "--summary",
                       "Children are seen alone, and spoken to alone.", "--why",
                       "Children speak freely only away from their carers.", "--by", "B. Editor",
                       "--reason", "Clearer.")
    assert first.output.startswith("Corrected the summary and why of e-366e5a82 (release "
                                   "2023-09)")
    manual.run("annotate", "--correct", "e-366e5a82", "--why", "Children speak freely alone.",
               "--by", "C. Editor", "--reason", "Shorter.")
    entry = json.loads(manual.run("log", "CP2", "--json").output)["releases"][0]["entries"][0]
    assert (entry["summary"], entry["why"]) == (
        "Children are seen alone, and spoken to alone.", "Children speak freely alone.")
    assert [(c["field"], c["by"], c["old"]) for c in entry["corrections"]] == [
        ("summary", "B. Editor", "Children are seen alone."),
        ("why", "B. Editor", "Children speak freely only when seen alone."),
        ("why", "C. Editor", "Children speak freely only away from their carers.")]


def test_correction_errors(manual: ManualRepo) -> None:
    build_history(manual)
    manual.write("releases/2025-03/release.toml",
                 'id = "2025-03"\ntitle = "March 2025"\ndate = "2025-03-01"\n'
                 'base = "2024-09"\nstatus = "draft"\n')
    manual.write("releases/2025-03/notes/CP2.yaml",
                 "chapter: CP2\nentries:\n  - id: e-draft001\n    summary: S\n    why: W\n"
                 "    significance: minor\n    changes: []\n")
    manual.commit("draft release")
    fix = ("--by", "A. Editor", "--reason", "R")
    assert_errors(manual, {
        ("annotate", "--correct", "e-nope", "--why", "W", *fix):
            "Error: unknown entry 'e-nope' (entry ids are shown by 'editorial log CHAPTER "
            "--json' and in the notes files)\n",
        ("annotate", "--correct", "e-draft001", "--why", "W2", *fix):
            "Error: releases/2025-03/notes/CP2.yaml:3: entry 'e-draft001' belongs to release "
            "'2025-03', which is not published: change it with 'editorial annotate' or in the "
            "file\n",
        ("annotate", "--correct", "e-9549b8a2", *fix):
            "Error: nothing to correct (give --summary and/or --why)\n",
        ("annotate", "--correct", "e-9549b8a2", "--why", "W", "--reason", "R"):
            "Error: a correction needs --by NAME\n",
        ("annotate", "--correct", "e-9549b8a2", "--why", "W", "--by", "A. Editor"):
            "Error: a correction needs --reason TEXT (why the published text was wrong)\n",
        ("annotate", "--correct", "e-9549b8a2", "--why",
         "Same-day sharing could not be met at weekends.", *fix):
            "Error: releases/2024-09/notes/CP1.yaml:3: the why of 'e-9549b8a2' already reads "
            "so\n",
        ("annotate", "--correct", "e-9549b8a2", "--why", "W", "--significance", "minor", *fix):
            "Error: --correct changes only --summary and --why (with --by and --reason)\n",
    })
    (manual.root / CP1_NOTES).write_text((manual.root / CP1_NOTES).read_text() + "# edited\n")
    assert_errors(manual, {("annotate", "--correct", "e-9549b8a2", "--why", "W", *fix):
                           "Error: releases/2024-09/notes/CP1.yaml: the notes file has "
                           "uncommitted changes: commit or undo them first, so the correction "
                           "is committed on its own\n"})
    assert manual.git("log", "-1", "--format=%s") == "draft release"


def test_renders_after_a_correction_use_the_corrected_text(manual: ManualRepo) -> None:
    build_published(manual)
    correct_cp1_why(manual, "Same-day sharing failed at weekends and on bank holidays.")
    # The manual as it stood on a date after 2023-09, with that release's boxes: the chapter
    # text of then, the entry as corrected now.
    result = manual.run("render", "--at", "2024-01-31", "--out",
                        str(manual.root / "as-it-stood"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Rendered release 2023-09: ")
    bulletin = (manual.root / "as-it-stood/bulletin.html").read_text()
    assert "Same-day sharing failed at weekends and on bank holidays." in bulletin
    assert "could not be met at weekends" not in bulletin
    page = (manual.root / "as-it-stood/chapters/CP2.html").read_text()
    assert "1.3 The child is seen alone." not in page  # CP2 as it stood before 2024-03
    # nothing committed, no branch moved, the working tree as it was
    assert manual.git("log", "-1", "--format=%s").startswith("Correct the why of entry")
    assert manual.git("status", "--porcelain") == "?? as-it-stood/"
    # the published outputs keep the approved wording (verify checks them against the tag)
    published = (manual.root / "releases/2023-09/published/bulletin.html").read_text()
    assert "could not be met at weekends." in published
    # the next release's preview carries the corrected entry in its feed of past releases
    manual.run("release", "start", "2024-09", "--date", "2024-09-30")
    preview = manual.run("render", "--out", str(manual.root / "preview"))
    assert preview.exit_code == 0, preview.output
    assert "Same-day sharing failed at weekends" in (manual.root / "preview/feed.atom").read_text()
