"""A manual with a base and an open release, shared by the notes-stage tests (annotate, status,
check, approve, merge)."""

from __future__ import annotations

from pathlib import Path

from conftest import ManualRepo

RELEASE = "2023-09"
NOTES = f"releases/{RELEASE}/notes"

# The ids the engine gives the edits of `edit_all` (stable: same texts, same ids).
RETITLE = "CP1-retitled-dd2966f4"
SPELLING = "CP1-mod-3a85af34"
DUTY = "CP3-mod-0ca7e57f"
TIMESCALE = "CP3-mod-23bafed3"
LINK = "CP3-link-add-af4644df"

CP1 = """\
    Practitioners should recieve training every year.

    ## Definitions

    Abuse is a form of maltreatment of a child.
    """

CP3 = """\
    ## Strategy meetings

    4.21 The decision whether to convene an initial conference should be made at the
    strategy meeting.

    4.22 The social worker must visit the child within 10 working days.

    ## Further information

    - [Working Together](https://www.gov.uk/working-together)
    """

PG4 = """\
    Bullying is behaviour that hurts someone else.

    Schools have a duty to prevent bullying.
    """


def write_base(manual: ManualRepo) -> None:
    manual.chapter("CP1", "Responding to Abuse and Neglect", CP1)
    manual.chapter("CP3", "Child Protection Enquiries", CP3)
    manual.chapter("PG4", "Bullying", PG4, part="B")


def edit(manual: ManualRepo, rel: str, old: str, new: str) -> None:
    path = manual.root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def edit_all(manual: ManualRepo) -> None:
    """One edit of several kinds: retitle, spelling, duty word, timescale, link."""
    edit(manual, "procedures/cp1.md", "title: Responding to", "title: Recognising")
    edit(manual, "procedures/cp1.md", "recieve", "receive")
    edit(manual, "procedures/cp3.md", "should be made at", "must be made at")
    edit(manual, "procedures/cp3.md", "within 10 working days", "within 15 working days")
    with (manual.root / "procedures/cp3.md").open("a", encoding="utf-8") as handle:
        handle.write("- [Parental responsibility](https://www.gov.uk/parental-responsibility)\n")


def read(manual: ManualRepo, rel: str) -> str:
    return (manual.root / rel).read_text(encoding="utf-8")


def snapshot_files(root: Path) -> dict[str, bytes]:
    """Every file under releases/ and procedures/, to show a command rewrote nothing."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for folder in ("releases", "procedures") for p in sorted((root / folder).rglob("*"))
            if p.is_file()}


def start_release(manual: ManualRepo) -> ManualRepo:
    """Chapters CP1, CP3 (part A) and PG4 (part B) committed and tagged `base`; release
    2023-09 started on that base and committed. No edits yet."""
    write_base(manual)
    manual.commit("base")
    manual.tag("base")
    result = manual.run("release", "start", RELEASE, "--base", "base", "--date", "2023-09-01")
    assert result.exit_code == 0, result.output
    manual.commit("start 2023-09")
    return manual


def start_edited(manual: ManualRepo) -> ManualRepo:
    """`start_release`, then the edits of `edit_all` in the working tree."""
    start_release(manual)
    edit_all(manual)
    return manual
