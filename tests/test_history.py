"""`editorial log` and `log CHAPTER`: releases, approvals, entries, and a chapter followed
through a retitling, a renumbering and a move to another folder."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import ManualRepo
from history_fixture import Note, build_history, chapter, cp1_text, in_chapter, publish

from pipeline import cache
from pipeline.models import Change, Entry, Place, Segment


def test_log_lists_every_release_newest_first(manual: ManualRepo) -> None:
    build_history(manual)
    manual.write("releases/2025-03/release.toml",
                 'id = "2025-03"\ntitle = "March 2025"\ndate = "2025-03-01"\n'
                 'base = "2024-09"\nstatus = "draft"\n')
    result = manual.run("log")
    assert result.exit_code == 0, result.output
    assert result.output == """\
2025-03  March 2025  (2025-03-01, draft)
  Approved by: no approvals recorded
  Entries: 0 major, 0 minor
2024-09  Release 2024-09  (2024-09-30, published)
  Approved by: Jane Chair (Chair) 2024-09-30T10:00:00Z
  Entries: 1 major, 0 minor
2024-03  Release 2024-03  (2024-03-20, published)
  Approved by: Jane Chair (Chair) 2024-03-20T10:00:00Z; Sam Deputy (Vice-chair) 2024-03-20T10:00:00Z
  Entries: 0 major, 1 minor
2023-09  Release 2023-09  (2023-09-25, published)
  Approved by: Jane Chair (Chair) 2023-09-25T10:00:00Z
  Entries: 3 major, 0 minor
2023-03  Release 2023-03  (2023-03-15, published)
  Approved by: Jane Chair (Chair) 2023-03-15T10:00:00Z
  Entries: 0 major, 0 minor
"""


def test_log_json_gives_approvals_and_counts(manual: ManualRepo) -> None:
    built = build_history(manual)
    result = manual.run("log", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert [r["id"] for r in data] == ["2024-09", "2024-03", "2023-09", "2023-03"]
    assert data[1] == {
        "id": "2024-03", "title": "Release 2024-03", "date": "2024-03-20",
        "status": "published", "source_commit": built["2024-03"].commit,
        "approvals": [{"by": "Jane Chair", "role": "Chair", "at": "2024-03-20T10:00:00Z"},
                      {"by": "Sam Deputy", "role": "Vice-chair", "at": "2024-03-20T10:00:00Z"}],
        "base": "2023-09", "major": 0, "minor": 1, "corrections": 0}


CP1_LOG = """\
CP1 Recognising Abuse and Neglect
Ids and files:
  CP01  procedures/cp01.md        2023-03 to 2023-09
  CP1   procedures/part-a/cp1.md  2024-03 to now

2024-09  Release 2024-09  (2024-09-30)
  Approved by: Jane Chair (Chair) 2024-09-30T10:00:00Z
  1 change to the text
  [major] Concerns are shared within one working day.  (e-9549b8a2)
    Why is this important? Same-day sharing could not be met at weekends.

2024-03  Release 2024-03  (2024-03-20)
  Approved by: Jane Chair (Chair) 2024-03-20T10:00:00Z; Sam Deputy (Vice-chair) 2024-03-20T10:00:00Z
  Renumbered: CP01 -> CP1
  File moved: procedures/cp01.md -> procedures/part-a/cp1.md
  [minor] Chapter CP01 is now CP1, in the part A folder.  (e-b44d0e48)
    Why is this important? Chapter numbers now follow the printed order.

2023-09  Release 2023-09  (2023-09-25)
  Approved by: Jane Chair (Chair) 2023-09-25T10:00:00Z
  Retitled: 'Responding to Abuse' -> 'Recognising Abuse and Neglect'
  1 change to the text
  [major] The chapter is now called Recognising Abuse and Neglect.  (e-f60afb82)
    Why is this important? The chapter is about noticing abuse; the title now says so.
  [major] References to contextual safeguarding now say extrafamilial harm.  (e-1e03b56a)
    Why is this important? Extrafamilial harm is the term national guidance uses.

2023-03  Release 2023-03  (2023-03-15)
  Approved by: Jane Chair (Chair) 2023-03-15T10:00:00Z
  First published.
"""


def test_log_chapter_follows_retitle_renumber_and_move(manual: ManualRepo) -> None:
    build_history(manual)
    result = manual.run("log", "CP1")
    assert result.exit_code == 0, result.output
    assert result.output == CP1_LOG


def test_log_chapter_by_its_old_id_is_the_same_history(manual: ManualRepo) -> None:
    build_history(manual)
    result = manual.run("log", "CP01")
    assert result.exit_code == 0, result.output
    assert result.output == CP1_LOG


def test_log_chapter_json_has_lineage_entries_and_changes(manual: ManualRepo) -> None:
    built = build_history(manual)
    data = json.loads(manual.run("log", "CP1", "--json").output)
    assert data["ids"] == ["CP01", "CP1"]
    assert data["paths"] == ["procedures/cp01.md", "procedures/part-a/cp1.md"]
    assert data["lineage"] == [
        {"id": "CP01", "path": "procedures/cp01.md", "from": "2023-03", "to": "2023-09"},
        {"id": "CP1", "path": "procedures/part-a/cp1.md", "from": "2024-03", "to": "now"}]
    assert [r["release"] for r in data["releases"]] == ["2024-09", "2024-03", "2023-09",
                                                        "2023-03"]
    renumbering = data["releases"][1]
    assert renumbering["chapter"] == "CP1"
    assert [c["kind"] for c in renumbering["changes"]] == ["chapter.renumbered"]
    assert renumbering["changes"][0]["id"] in built["2024-03"].entries["e-b44d0e48"]
    assert renumbering["approvals"][1] == {"by": "Sam Deputy", "role": "Vice-chair",
                                           "at": "2024-03-20T10:00:00Z"}
    entry = data["releases"][0]["entries"][0]
    assert entry == {"id": "e-9549b8a2", "chapter": "CP1", "significance": "major",
                     "summary": "Concerns are shared within one working day.",
                     "why": "Same-day sharing could not be met at weekends.",
                     "changes": built["2024-09"].entries["e-9549b8a2"], "orphaned": False,
                     "file": "releases/2024-09/notes/CP1.yaml", "corrections": []}


def test_log_chapter_shows_unreleased_changes_and_removal(manual: ManualRepo) -> None:
    build_history(manual)
    manual.write("releases/2025-03/release.toml",
                 'id = "2025-03"\ntitle = "March 2025"\ndate = "2025-03-01"\n'
                 'base = "2024-09"\nstatus = "draft"\n')
    manual.remove("procedures/cp2.md")
    result = manual.run("log", "CP2")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:8] == [
        "CP2 Referral and Assessment",
        "Ids and files:",
        "  CP2  procedures/cp2.md  2023-03 to 2024-09",
        "Removed in the working tree, not yet released (release 2025-03).",
        "",
        "Unreleased changes (release 2025-03)",
        "  Chapter removed.",
        "  No entry explains these changes.",
        ]
    assert result.output.splitlines()[8:10] == [
        "", "2023-09  Release 2023-09  (2023-09-25)"]


def test_log_unknown_chapter_is_an_error(manual: ManualRepo) -> None:
    build_history(manual)
    result = manual.run("log", "CP99")
    assert result.exit_code == 2
    assert result.output == ("Error: unknown chapter 'CP99' (not in the manual now nor in any "
                             "published release)\n")


def test_the_cache_never_serves_a_stale_answer(manual: ManualRepo,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    build_history(manual)
    cached = manual.run("blame", "CP1").output
    assert (manual.root / ".git/editorial/cache.sqlite").is_file()
    assert manual.run("blame", "CP1").output == cached  # answered from the cache
    monkeypatch.setenv("EDITORIAL_CACHE", "0")
    assert manual.run("blame", "CP1").output == cached
    monkeypatch.delenv("EDITORIAL_CACHE")
    # New words in the notes and a new release: both show at once.
    notes = manual.root / "releases/2024-09/notes/CP1.yaml"
    notes.write_text(notes.read_text().replace("could not be met at weekends",
                                               "was never met at weekends"))
    chapter(manual, "CP1", "Recognising Abuse and Neglect",
            cp1_text("extrafamilial harm", "within one working day")
            + "\n        3.1 New text.\n",
            path="procedures/part-a/cp1.md")
    publish(manual, "2025-03", "2025-03-10", base="2024-09", notes=[
        Note("A new paragraph 3.1.", "It was missing.", in_chapter("CP1"), chapter="CP1")])
    fresh = manual.run("blame", "CP1", "--json")
    rows = json.loads(fresh.output)["rows"]
    assert rows[3]["why"] == "Same-day sharing was never met at weekends."
    assert (rows[-1]["text"], rows[-1]["release"], rows[-1]["why"]) == (
        "3.1 New text.", "2025-03", "It was missing.")


def test_cache_values_come_back_as_the_same_models() -> None:
    when = dt.datetime(2024, 1, 10, 9, 0, tzinfo=dt.UTC)
    entry = Entry(id="e-1", summary="S", why="W", significance="major", changes=("a", "b"),
                  chapter="CP1", corrections=(("correction", (("at", when), ("by", "A"))),))
    change = Change(id="c", kind="term.swept", chapter=None, location="2 places",
                    redline=(Segment("delete", "x"), Segment("insert", "y")),
                    places=(Place("CP1", "paragraph 1.1", 9),), detail=(("places", 2),))
    for value in (entry, change, (entry, change)):
        assert cache.decode(json.loads(json.dumps(cache.encode(value)))) == value
