"""`editorial diff A B` between releases that are not neighbours: the changes, then the entries
of every release in between that explain them, grouped by chapter."""

from __future__ import annotations

import json

from conftest import ManualRepo
from history_fixture import build_history


def test_diff_across_three_releases_lists_their_entries_by_chapter(manual: ManualRepo) -> None:
    build_history(manual)
    result = manual.run("diff", "2023-03", "2024-09")
    assert result.exit_code == 0, result.output
    changes, explained = result.output.split("\n\nEntries of ", 1)
    # the redline (report.diff_text) comes first, unchanged
    assert changes.startswith("diff 2023-03 2024-09\n")
    for change_id in ("CP1-renumbered-728256c7", "CP1-retitled-58a17de3", "CP1-mod-588b9702",
                      "CP2-ins-6df02150", "term-e9789e9d"):
        assert f"[{change_id}]" in changes
    assert "Entries of " + explained == """\
Entries of the releases 2023-09, 2024-03, 2024-09 that explain these changes:

== CP1 Recognising Abuse and Neglect ==
2023-09 [major] The chapter is now called Recognising Abuse and Neglect.  (e-f60afb82) (written for
    CP01)
  Why is this important? The chapter is about noticing abuse; the title now says so.
2024-03 [minor] Chapter CP01 is now CP1, in the part A folder.  (e-b44d0e48)
  Why is this important? Chapter numbers now follow the printed order.
2024-09 [major] Concerns are shared within one working day.  (e-9549b8a2)
  Why is this important? Same-day sharing could not be met at weekends.

== CP2 Referral and Assessment ==
2023-09 [major] Children are seen alone.  (e-366e5a82)
  Why is this important? Children speak freely only when seen alone.

== Across the manual ==
2023-09 [major] References to contextual safeguarding now say extrafamilial harm.  (e-1e03b56a)
  Why is this important? Extrafamilial harm is the term national guidance uses.
"""


def test_diff_json_and_one_chapter(manual: ManualRepo) -> None:
    build_history(manual)
    data = json.loads(manual.run("diff", "2023-09", "2024-09", "CP1", "--json").output)
    assert (data["from"], data["to"]) == ("2023-09", "2024-09")
    assert [c["kind"] for c in data["changes"]] == ["chapter.renumbered", "paragraph.modified"]
    assert data["releases"] == ["2024-03", "2024-09"]
    assert [(g["chapter"], [(e["release"], e["id"]) for e in g["entries"]])
            for g in data["entries"]] == [
        ("CP1", [("2024-03", "e-b44d0e48"), ("2024-09", "e-9549b8a2")])]
    # in either order, the same releases explain the difference
    back = json.loads(manual.run("diff", "2024-09", "2023-09", "--json").output)
    assert back["releases"] == ["2024-03", "2024-09"]


def test_diff_between_git_refs_has_no_entries_section(manual: ManualRepo) -> None:
    built = build_history(manual)
    result = manual.run("diff", built["2023-03"].commit, built["2023-09"].commit)
    assert result.exit_code == 0
    assert "Entries of" not in result.output
    data = json.loads(manual.run("diff", built["2023-03"].commit, "2023-09", "--json").output)
    assert "entries" not in data


def test_diff_html_carries_the_entries(manual: ManualRepo) -> None:
    build_history(manual)
    page = manual.run("diff", "2023-09", "2024-03", "--format", "html").output
    assert page.endswith(
        "<h2>Entries of release 2024-03 that explain these changes</h2>"
        "<h3>CP1 Recognising Abuse and Neglect</h3><ul><li id=\"e-b44d0e48\"><strong>2024-03"
        "</strong> [minor] Chapter CP01 is now CP1, in the part A folder.<br><em>Why is this "
        "important?</em> Chapter numbers now follow the printed order.</li></ul>"
        "</body></html>\n")
