"""A manual with several published releases, for the history tests (log, blame, show, diff,
corrections, verify). Release records and notes are written as publishing leaves them: the
notes committed with the text (the source commit), then the record marked published with its
source commit and approvals, and the tag `release/<id>` on the source commit."""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from conftest import ManualRepo

from pipeline.manual import compare, open_manual
from pipeline.models import Change

# Chooses an entry's changes from the changes of its release.
Select = Callable[[Change], bool]


@dataclass
class Note:
    summary: str
    why: str
    select: Select
    significance: str = "major"
    chapter: str | None = None  # None: manual-wide (notes/_manual.yaml)


@dataclass
class Built:
    """What a release of the fixture was made from."""

    id: str
    commit: str
    changes: list[Change] = field(default_factory=list)
    entries: dict[str, list[str]] = field(default_factory=dict)  # entry id -> change ids


def _yaml_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def entry_id(release_id: str, summary: str) -> str:
    return "e-" + hashlib.sha1(f"{release_id}\0{summary}".encode()).hexdigest()[:8]


def publish(manual: ManualRepo, release_id: str, date: str, notes: list[Note] | None = None,
            base: str | None = None, approvers: tuple[tuple[str, str], ...] = (
                ("Jane Chair", "Chair"),), tag: bool = True) -> Built:
    """Make a published release of the manual's working tree."""
    m = open_manual(manual.root, explicit=True)
    changes = list(compare(m, base, None).changes) if base else []
    by_file: dict[str, list[str]] = {}
    built = Built(id=release_id, commit="", changes=changes)
    for note in notes or []:
        covered = [c.id for c in changes if note.select(c)]
        assert covered, f"no change selected for '{note.summary}'"
        eid = entry_id(release_id, note.summary)
        built.entries[eid] = covered
        stem = note.chapter or "_manual"
        by_file.setdefault(stem, []).append(
            f"  - id: {eid}\n    summary: {_yaml_text(note.summary)}\n"
            f"    why: {_yaml_text(note.why)}\n    significance: {note.significance}\n"
            f"    changes: [{', '.join(covered)}]\n")
    for stem, items in by_file.items():
        head = f"chapter: {stem}\n" if stem != "_manual" else ""
        manual.write(f"releases/{release_id}/notes/{stem}.yaml",
                     head + "entries:\n" + "".join(items))
    record = [f'id = "{release_id}"', f'title = "Release {release_id}"', f'date = "{date}"']
    if base:
        record.append(f'base = "{base}"')
    manual.write(f"releases/{release_id}/release.toml",
                 "\n".join([*record, 'status = "approved"']) + "\n")
    source = manual.commit(f"Release {release_id}: text and notes")
    approvals = "".join(
        f'\n[[approvals]]\nby = "{by}"\nrole = "{role}"\nat = "{date}T10:00:00Z"\n'
        f'tree = "{manual.git("rev-parse", source + "^{tree}")}"\n' for by, role in approvers)
    manual.write(f"releases/{release_id}/release.toml",
                 "\n".join([*record, 'status = "published"', f'source_commit = "{source}"'])
                 + "\n" + approvals)
    manual.commit(f"Publish {release_id}")
    if tag:
        manual.git("tag", "-a", f"release/{release_id}", "-m", f"Release {release_id}", source)
    built.commit = source
    return built


def chapter(manual: ManualRepo, cid: str, title: str, body: str, part: str = "A",
            path: str | None = None) -> None:
    manual.chapter(cid, title, textwrap.dedent(body), part=part, path=path)


def kind(*kinds: str, chapter: str | None = None) -> Select:
    def select(c: Change) -> bool:
        return c.kind in kinds and (chapter is None or chapter in (c.chapter, *c.chapters))
    return select


def in_chapter(cid: str) -> Select:
    return lambda c: c.chapter == cid or cid in c.chapters


def cp1_text(term: str, sharing: str) -> str:
    return f"""
        # Introduction

        1.1 Everyone who works with children has a duty to act on concerns about {term}.

        1.2 Concerns must be shared with children's social care {sharing}.

        # Signs

        2.1 Signs of neglect include poor hygiene and missed appointments.
        """


def cp2_text(term: str, extra: str = "") -> str:
    return f"""
        # Referral

        1.1 A referral is made by telephone and confirmed in writing within 48 hours.

        1.2 The referrer considers {term} before calling.
        {extra}"""


def build_history(manual: ManualRepo) -> dict[str, Built]:
    """Four published releases. CP01 "Responding to Abuse" is retitled in 2023-09, renumbered
    CP1 and moved to part-a/ in 2024-03, and has paragraph 1.2 edited in 2024-09; CP2 gains a
    paragraph in 2023-09; a term sweep runs across CP01 and CP2 in 2023-09."""
    old_term, new_term = "contextual safeguarding", "extrafamilial harm"
    chapter(manual, "CP01", "Responding to Abuse", cp1_text(old_term, "the same day"))
    chapter(manual, "CP2", "Referral and Assessment", cp2_text(old_term))
    out = {"2023-03": publish(manual, "2023-03", "2023-03-15")}

    chapter(manual, "CP01", "Recognising Abuse and Neglect", cp1_text(new_term, "the same day"))
    chapter(manual, "CP2", "Referral and Assessment",
            cp2_text(new_term, "\n        1.3 The child is seen alone.\n"))
    out["2023-09"] = publish(manual, "2023-09", "2023-09-25", base="2023-03", notes=[
        Note("The chapter is now called Recognising Abuse and Neglect.",
             "The chapter is about noticing abuse; the title now says so.",
             kind("chapter.retitled"), chapter="CP01"),
        Note("Children are seen alone.", "Children speak freely only when seen alone.",
             kind("paragraph.inserted", chapter="CP2"), chapter="CP2"),
        Note("References to contextual safeguarding now say extrafamilial harm.",
             "Extrafamilial harm is the term national guidance uses.",
             kind("term.swept")),
    ])

    manual.remove("procedures/cp01.md")
    chapter(manual, "CP1", "Recognising Abuse and Neglect", cp1_text(new_term, "the same day"),
            path="procedures/part-a/cp1.md")
    out["2024-03"] = publish(manual, "2024-03", "2024-03-20", base="2023-09", notes=[
        Note("Chapter CP01 is now CP1, in the part A folder.",
             "Chapter numbers now follow the printed order.",
             in_chapter("CP1"), significance="minor", chapter="CP1"),
    ], approvers=(("Jane Chair", "Chair"), ("Sam Deputy", "Vice-chair")))

    chapter(manual, "CP1", "Recognising Abuse and Neglect",
            cp1_text(new_term, "within one working day"), path="procedures/part-a/cp1.md")
    out["2024-09"] = publish(manual, "2024-09", "2024-09-30", base="2024-03", notes=[
        Note("Concerns are shared within one working day.",
             "Same-day sharing could not be met at weekends.",
             in_chapter("CP1"), chapter="CP1"),
    ])
    return out


def assert_errors(manual: ManualRepo, cases: dict[tuple[str, ...], str]) -> None:
    """Each command fails with exit 2 and exactly this one line."""
    for args, expected in cases.items():
        result = manual.run(*args)
        assert (result.exit_code, result.output) == (2, expected), args


def publish_cli(manual: ManualRepo, release_id: str, date: str,
                why: dict[str, str] | None = None) -> str:
    """Publish the working tree as a release the way a board does, through the CLI: release
    start, changes, one entry per chapter (its `why` from `why`), check, approve, publish.
    Returns the source commit."""
    def run(*args: str) -> str:
        result = manual.run(*args)
        assert result.exit_code == 0, (args, result.output)
        return result.output

    manual.commit(f"Text for {release_id}")
    run("release", "start", release_id, "--date", date)
    changes = json.loads(run("changes", "--json"))["changes"]
    by_chapter: dict[str, list[str]] = {}
    for change in changes:
        by_chapter.setdefault(change["chapter"] or "_manual", []).append(change["id"])
    for cid, ids in by_chapter.items():
        text = (why or {}).get(cid, f"Needed for {release_id}.")
        run("annotate", *ids, "--summary", f"{cid} updated in {release_id}.", "--why", text,
            "--significance", "major")
    run("check")
    manual.commit(f"Notes for {release_id}")
    run("approve", "--by", "Jane Chair", "--role", "Chair")
    manual.commit(f"Approval of {release_id}")
    run("publish")
    return manual.git("show", "-s", "--format=%H", f"release/{release_id}^")


def build_published(manual: ManualRepo) -> dict[str, str]:
    """Three releases made by `editorial publish`: source commit by release id."""
    manual.write("editorial.toml", 'name = "Test Procedures"\nformats = ["html", "md"]\n'
                                   '[parts]\nA = "Core procedures"\nB = "Practice guidance"\n')
    chapter(manual, "CP1", "Responding to Abuse", cp1_text("contextual safeguarding",
                                                           "the same day"))
    chapter(manual, "CP2", "Referral and Assessment", cp2_text("contextual safeguarding"))
    out = {"2023-03": publish_cli(manual, "2023-03", "2023-03-15")}
    chapter(manual, "CP1", "Recognising Abuse and Neglect",
            cp1_text("contextual safeguarding", "within one working day"))
    out["2023-09"] = publish_cli(manual, "2023-09", "2023-09-25",
                                 why={"CP1": "Same-day sharing could not be met at weekends."})
    chapter(manual, "CP2", "Referral and Assessment",
            cp2_text("contextual safeguarding", "\n        1.3 The child is seen alone.\n"))
    out["2024-03"] = publish_cli(manual, "2024-03", "2024-03-20")
    return out


def correct_cp1_why(manual: ManualRepo, why: str, release_id: str = "2023-09"
                    ) -> tuple[str, str]:
    """Correct the why of a release's (first) CP1 entry through the CLI: (entry id, the time
    the correction was recorded at)."""
    notes = manual.root / f"releases/{release_id}/notes/CP1.yaml"
    entry = next(line.split("id: ")[1] for line in notes.read_text().splitlines()
                 if "- id: " in line)
    fixed = manual.run("annotate", "--correct", entry, "--why", why, "--by", "A. Editor",
                       "--reason", "Bank holidays were left out.")
    assert fixed.exit_code == 0, fixed.output
    at = next(line.split("at: ")[1].strip("'") for line in notes.read_text().splitlines()
              if "- at: " in line)
    return entry, at
