"""`editorial publish` of the one-million-word synthetic manual against one pandoc conversion
of the manual's whole text to HTML. Target: publishing every output (every chapter page,
the index, the bulletin and the complete list, in HTML, DOCX and Markdown) takes at most
twice as long as that one conversion.

The release covers the planted changes r1 -> r2: the notes (one major entry per changed
chapter, the rest minor, the term sweep manual-wide) and the approval are written straight
into the files, untimed, in a copy of the manual (publishing commits and tags). The publish
is timed as a child process, as a user runs it; its progress lines give the phases.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pypandoc
from procs import editorial_command

from pipeline.approval import content_tree
from pipeline.chapters import split_front_matter
from pipeline.manual import open_manual, release_changes
from pipeline.models import Approval
from pipeline.releases import load_release, save_release, start_release

TARGET_RATIO = 2.0
RELEASE = "bench"
FORMATS = "html,docx,md"
PHASES = (("Reading release", "read + detect changes"), ("Rendering", "render templates"),
          ("Converting", "pandoc (DOCX, Markdown)"), ("Writing", "write files"),
          ("Committing", "commit + tag"))


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout


def prepare(source: Path, root: Path) -> int:
    """A copy of the manual with release `bench` (r1 -> r2) annotated and approved; returns
    the number of changes."""
    shutil.copytree(source, root, symlinks=True)
    env = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
    os.environ.update(env)
    manual = open_manual(root)
    record = start_release(manual.config, RELEASE, title="Bench", date="2024-03-25",
                           base="r1", repo=manual.repo)
    changes = release_changes(manual, record).changes
    notes: dict[str, list[dict[str, object]]] = {}
    for change in changes:
        notes.setdefault(change.chapter or "_manual", []).append(change.to_json())
    folder = root / "releases" / RELEASE / "notes"
    folder.mkdir(parents=True)
    for stem, items in notes.items():
        entries = [{"id": f"e-{stem}-major", "significance": "major",
                    "summary": f"The first change to {stem}: {items[0]['location']}.",
                    "why": "Practitioners need to know.", "changes": [items[0]["id"]]}]
        if len(items) > 1:
            entries.append({"id": f"e-{stem}-minor", "significance": "minor",
                            "summary": f"Other edits to {stem}.", "why": "Clarity.",
                            "changes": [i["id"] for i in items[1:]]})
        doc = {"entries": entries} if stem == "_manual" else {"chapter": stem,
                                                             "entries": entries}
        (folder / f"{stem}.yaml").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench notes")
    record = load_release(manual.config, RELEASE)
    approval = Approval(by="Bench", at="2024-03-20T09:00:00Z",
                        tree=content_tree(manual, RELEASE))
    save_release(manual.config, replace(record, approvals=(approval,), status="approved"))
    git(root, "commit", "-q", "-am", "bench approved")
    return len(changes)


def time_publish(root: Path) -> tuple[float, dict[str, float]]:
    """Wall time of `editorial publish`, and of each phase (from its progress lines)."""
    command = [*editorial_command(), "-C", str(root), "publish", "--release", RELEASE,
               "--formats", FORMATS]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    marks: list[tuple[str, float]] = []
    tail = []
    for line in proc.stderr:
        tail.append(line)
        for prefix, name in PHASES:
            if line.startswith(prefix):
                marks.append((name, time.perf_counter() - started))
    proc.wait()
    total = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"publish failed ({proc.returncode}):\n{''.join(tail[-20:])}")
    phases = {}
    for (name, at), (_, until) in zip(marks, [*marks[1:], ("end", total)], strict=True):
        phases[name] = until - at
    return total, phases


def time_pandoc(root: Path, reader: str, runs: int = 2) -> float:
    """Best of `runs`: the manual's whole text (every chapter body, in reading order) to HTML
    in one pandoc process."""
    text = []
    for path in sorted((root / "procedures").rglob("*.md")):
        _, body, _ = split_front_matter(path.name, path.read_text(encoding="utf-8"))
        text.append(body)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "manual.md"
        source.write_text("\n\n".join(text), encoding="utf-8")
        best = float("inf")
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([pypandoc.get_pandoc_path(), "-f", reader, "-t", "html",
                            str(source), "-o", str(Path(tmp) / "manual.html")], check=True)
            best = min(best, time.perf_counter() - started)
    return best


def run(manual: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="editorial-publish-bench-") as tmp:
        root = Path(tmp) / "manual"
        started = time.perf_counter()
        count = prepare(manual, root)
        print(f"release '{RELEASE}': {count} changes annotated and approved "
              f"(untimed, {time.perf_counter() - started:.1f} s)")
        commonmark = time_pandoc(root, "commonmark")
        markdown = time_pandoc(root, "markdown")
        total, phases = time_publish(root)
        published = root / "releases" / RELEASE / "published"
        files = [p for p in published.rglob("*") if p.is_file()]
        pages = len(list(published.glob("chapters/*.html")))
        size = sum(p.stat().st_size for p in files) / 1e6
        print(f"editorial publish ({FORMATS}): {total:6.2f} s  ({len(files)} files, "
              f"{pages} chapter pages, {size:.0f} MB)")
        for name, seconds in phases.items():
            print(f"  {name:28} {seconds:6.2f} s")
        print(f"pandoc -f commonmark -t html : {commonmark:6.2f} s  (the whole text, one run)")
        print(f"pandoc -f markdown -t html   : {markdown:6.2f} s")
        ratio = total / commonmark
        print(f"target: publish at most {TARGET_RATIO:g}x one pandoc conversion "
              f"({'ok' if ratio <= TARGET_RATIO else 'not met'}: {ratio:.2f}x the commonmark "
              f"run, {total / markdown:.2f}x the markdown run)")
