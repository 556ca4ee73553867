"""A small manual with two releases, shared by the render, publish, hostile and browser tests
(it holds no tests itself).

March 2023 (r1) is the first release, published with `publish`. September 2023 (r2) changes
CP1 (a paragraph, a term), CP2 (a paragraph added, the term), PG1 (a link added, the term),
adds PG37 and removes PG9; CP3 does not change. The editors' notes are written directly as
YAML (docs/notes-format.md) and the approval straight into release.toml, so these tests
depend only on the change engine, not on the annotate and approve commands.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ManualRepo

from pipeline.approval import content_tree
from pipeline.manual import open_manual, release_changes
from pipeline.models import Approval, Change
from pipeline.publish import publish
from pipeline.releases import load_release, save_release, start_release

CONFIG = ('name = "Test Procedures"\npublisher = "Test Board"\n'
          'contact = "Queries to board@example.org"\n'
          'url = "https://procedures.example.org/"\n'
          '[parts]\nA = "Core procedures"\nB = "Practice guidance"\n')
TERM_OLD, TERM_NEW = "contextual safeguarding", "extrafamilial harm"

CP1 = """
## 1. Introduction

1.1 These procedures apply to everyone who works with children in the city.

1.2 Practitioners should consider {term} when they assess risk outside the home.

## 2. Definitions

2.1 Safeguarding means protecting children from maltreatment{extra}.

2.2 Child protection is the part of safeguarding concerned with significant harm.
"""
CP2 = """
## 1. Referral

1.1 A referral is made to children's social care when a child may need help.

1.2 Referrals about {term} go to the exploitation team.
{inserted}
## 2. Assessment

2.1 An assessment is completed within 45 working days.
"""
CP3 = """
## 1. Enquiries

1.1 A section 47 enquiry starts when there is reasonable cause to suspect harm.

1.2 The enquiry is led by a qualified social worker.
"""
PG1 = """
## 1. Bullying

1.1 Bullying can be a form of {term} when it happens outside school.

## 2. Further information

- [Anti-bullying guidance](https://example.org/bullying)
{link}"""
PG9 = """
## 1. Interim arrangements

1.1 During the pandemic, visits could be made by video call.
"""
PG37 = """
## 1. Introduction

1.1 This chapter introduces resources on child sexual abuse for every practitioner.
"""
INTRODUCTION = ("This update brings in a **new chapter** on sexual abuse and replaces the "
                "term \"contextual safeguarding\".")

# (chapter file stem, entry id, significance, summary, why, the changes it covers)
MAJOR_CP1 = ("The definition of safeguarding now includes early help. See paragraph 2.1.",
             "The law on sharing information uses this wider definition.")
MAJOR_PG37 = ("A new chapter on child sexual abuse.",
              "Practitioners asked for one place to find the new resources.")
MAJOR_SWEEP = ("References to contextual safeguarding now say extrafamilial harm.",
               "National guidance now uses that term.")
MINOR_CP2 = ("A paragraph on pre-birth referrals was added.",
             "Pre-birth referrals were missing.")
MINOR_PG1 = ("A link to the national guidance was added.", "Readers asked for it.")
MINOR_PG9 = ("The chapter on interim arrangements was withdrawn.", "The pandemic is over.")


def cp1(term: str, extra: str = "") -> str:
    return CP1.format(term=term, extra=extra)


@dataclass
class Sample:
    repo: ManualRepo
    changes: list[Change]  # of r2
    entries: dict[str, tuple[str, str, str, list[str]]]  # id -> (significance, summary, why,
    # changes)

    @property
    def root(self) -> Path:
        return self.repo.root


GITCONFIG = ("[user]\n\tname = Test Editor\n\temail = editor@example.org\n"
             "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
             "[tag]\n\tgpgsign = false\n")


@contextmanager
def git_identity(home: Path) -> Iterator[None]:
    """What conftest's autouse fixture gives each test, for fixtures wider than a test."""
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(GITCONFIG)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        for key, value in {"GIT_AUTHOR_NAME": "Test Editor",
                           "GIT_AUTHOR_EMAIL": "editor@example.org",
                           "GIT_COMMITTER_NAME": "Test Editor",
                           "GIT_COMMITTER_EMAIL": "editor@example.org",
                           "GIT_CONFIG_NOSYSTEM": "1"}.items():
            mp.setenv(key, value)
        yield


def write_notes(repo: ManualRepo, release: str, stem: str,
                entries: list[tuple[str, str, str, str, list[str]]],
                chapter: str | None = None) -> None:
    lines = [f"chapter: {chapter or stem}"] if stem != "_manual" else []
    lines.append("entries:")
    for entry_id, significance, summary, why, changes in entries:
        lines += [f"  - id: {entry_id}",
                  f"    summary: {quote(summary)}",
                  f"    why: {quote(why)}",
                  f"    significance: {significance}",
                  f"    changes: [{', '.join(changes)}]"]
    repo.write(f"releases/{release}/notes/{stem}.yaml", "\n".join(lines) + "\n")


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def approve(repo: ManualRepo, release_id: str) -> None:
    """Sign the release off as `approve` would: on the tree of its chapters and notes."""
    manual = open_manual(repo.root)
    record = load_release(manual.config, release_id)
    approval = Approval(by="Chair Person", role="Chair", at="2023-09-20T09:00:00Z",
                        tree=content_tree(manual, release_id))
    save_release(manual.config, replace(record, approvals=(approval,), status="approved"))


def build(root: Path) -> Sample:
    from pipeline.manual import init_manual

    init_manual(root, "Test Procedures")
    repo = ManualRepo(root)
    repo.write("editorial.toml", CONFIG)
    repo.chapter("CP1", "Recognising Abuse", cp1(TERM_OLD), part="A")
    repo.chapter("CP2", "Referral and Assessment",
                 CP2.format(term=TERM_OLD, inserted=""), part="A")
    repo.chapter("CP3", "Enquiries", CP3, part="A")
    repo.chapter("PG1", "Bullying", PG1.format(term=TERM_OLD, link=""), part="B")
    repo.chapter("PG9", "Interim Arrangements", PG9, part="B")
    repo.commit("The procedures as first published")
    manual = open_manual(root)
    start_release(manual.config, "r1", title="March 2023", date="2023-03-27")
    repo.commit("Release r1")
    approve(repo, "r1")
    repo.commit("r1 approved")
    publish(open_manual(root), "r1", ("html",))

    repo.chapter("CP1", "Recognising Abuse",
                 cp1(TERM_NEW, ", and includes early help for families"), part="A")
    repo.chapter("CP2", "Referral and Assessment", CP2.format(
        term=TERM_NEW, inserted="\n1.3 Pre-birth referrals are made at 20 weeks.\n"), part="A")
    repo.chapter("PG1", "Bullying", PG1.format(
        term=TERM_NEW, link="- [National guidance](https://example.org/national)\n"), part="B")
    repo.remove("procedures/pg9.md")
    repo.chapter("PG37", "Sexual Abuse", PG37, part="B")
    repo.commit("The procedures as edited for September 2023")
    manual = open_manual(root)
    record = start_release(manual.config, "r2", title="September 2023", date="2023-09-25")
    save_release(manual.config, replace(record, introduction=INTRODUCTION))
    changes = list(release_changes(open_manual(root), load_release(manual.config, "r2")).changes)

    def ids(kind: str, chapter: str | None) -> list[str]:
        return [c.id for c in changes if c.kind == kind and c.chapter == chapter]

    plan = {
        "CP1": [("e-cp1", "major", *MAJOR_CP1, ids("paragraph.modified", "CP1"))],
        "CP2": [("e-cp2", "minor", *MINOR_CP2, ids("paragraph.inserted", "CP2"))],
        "PG1": [("e-pg1", "minor", *MINOR_PG1, ids("link.added", "PG1"))],
        "PG37": [("e-pg37", "major", *MAJOR_PG37, ids("chapter.added", "PG37"))],
        "PG9": [("e-pg9", "minor", *MINOR_PG9, ids("chapter.removed", "PG9"))],
        "_manual": [("e-sweep", "major", *MAJOR_SWEEP, ids("term.swept", None))],
    }
    covered = {c for entries in plan.values() for e in entries for c in e[4]}
    missing = [c.id for c in changes if c.id not in covered]
    assert not missing, f"the sample makes changes the tests do not expect: {missing}"
    assert all(e[4] for entries in plan.values() for e in entries), plan
    for stem, entries in plan.items():
        write_notes(repo, "r2", stem, entries)
    repo.commit("Editors' notes for September 2023")
    approve(repo, "r2")
    repo.commit("September 2023 approved")
    entries = {e[0]: (e[1], e[2], e[3], e[4]) for es in plan.values() for e in es}
    return Sample(repo=repo, changes=changes, entries=entries)


def copy_sample(sample: Sample, target: Path) -> Sample:
    """An independent copy (a test that publishes changes its repository)."""
    shutil.copytree(sample.root, target, symlinks=True)
    return Sample(repo=ManualRepo(target), changes=sample.changes, entries=sample.entries)


def tree_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class _Outline(HTMLParser):
    """Headings, list items and paragraphs of a page, in order, as (tag, visible text)."""

    TAGS = ("h1", "h2", "h3", "li", "p", "blockquote")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str]] = []
        self.open: list[tuple[str, list[str]]] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self.skip += 1
        if tag in self.TAGS:
            self.open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self.skip -= 1
        if tag in self.TAGS and self.open and self.open[-1][0] == tag:
            name, parts = self.open.pop()
            text = " ".join("".join(parts).split())
            self.items.append((name, text))
            if self.open:
                self.open[-1][1].append(" " + "".join(parts) + " ")

    def handle_data(self, data: str) -> None:
        if not self.skip and self.open:
            self.open[-1][1].append(data)


def outline(page: str, tags: tuple[str, ...] = ("h1", "h2", "h3", "li")) -> list[tuple[str, str]]:
    parser = _Outline()
    parser.feed(page)
    return [(tag, text) for tag, text in parser.items if tag in tags]


def visible_text(page: str) -> str:
    """What a reader sees of a page: tags dropped, entities decoded, spaces collapsed."""
    page = re.sub(r"(?is)<(style|script|head)\b.*?</\1>", " ", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
