"""History: `editorial blame` and `editorial log` of one chapter across 40 published releases,
against `git log -p` of that chapter's file, in the same run.

The synthetic manual (200 chapters) is cloned and given 40 published releases: the first is
the manual as synth left it; each later one edits a paragraph in each of six chapters and
carries one notes entry per edited chapter (change ids from the engine, as `changes` writes
them). The followed chapter is edited in every fourth release, moved to another folder in
release 20 and renumbered in release 30, so blame and log must follow it through both.

Figures: each command is run as a child process (best of RUNS), as a user runs it; the
editorial figure therefore includes starting Python and importing the package, which is
printed on its own line, and so is blame's time inside a warm process (the work blame
itself does). Target: blame at most 2x `git log -p`.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pipeline.changes import detect_changes
from pipeline.chapters import parse_chapter
from pipeline.models import Snapshot

RELEASES = 40
EDITS_PER_RELEASE = 6
FOLLOWED = "C010"
TARGET_RATIO = 2.0
T = TypeVar("T")
_PARAGRAPH = re.compile(r"^(?:\d+\.\d+ )?[A-Z][a-z]+ .+\.$")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.org",
                           "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
                          cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def _edit(rng: random.Random, path: Path, stamp: str) -> None:
    """Replace one word of one paragraph with a word used nowhere else."""
    lines = path.read_text(encoding="utf-8").split("\n")
    body = lines.index("---", 1) + 1
    options = [i for i in range(body, len(lines)) if _PARAGRAPH.match(lines[i])]
    i = rng.choice(options)
    words = lines[i].split(" ")
    k = rng.randrange(2, len(words) - 1)
    words[k] = f"edit{stamp}x{k}"
    lines[i] = " ".join(words)
    path.write_text("\n".join(lines), encoding="utf-8")


def _chapter_files(root: Path) -> dict[str, Path]:
    out = {}
    for path in sorted((root / "procedures").rglob("*.md")):
        head = path.read_text(encoding="utf-8")[:200]
        match = re.search(r"^id: (\S+)$", head, re.MULTILINE)
        if match:
            out[match.group(1)] = path
    return out


def _entry_ids(root: Path, before: dict[str, bytes], after: Path, rel: str) -> list[str]:
    old = parse_chapter(rel, before[rel])
    new = parse_chapter(after.relative_to(root).as_posix(), after.read_bytes())
    return [c.id for c in detect_changes(Snapshot(None, None, (old,)),
                                         Snapshot(None, None, (new,)))]


def make_history(root: Path) -> str:
    """Publish RELEASES releases in the repository at `root`; the followed chapter's id."""
    rng = random.Random(40)
    followed = FOLLOWED
    previous = None
    for n in range(RELEASES):
        release = f"{2000 + n // 12}-{n % 12 + 1:02d}"
        files = _chapter_files(root)
        notes: dict[str, list[str]] = {}
        if n:
            chosen = rng.sample(sorted(set(files) - {followed}), EDITS_PER_RELEASE - 1)
            if n % 4 == 0:
                chosen.append(followed)
            before = {p.relative_to(root).as_posix(): p.read_bytes() for p in files.values()}
            for cid in chosen:
                _edit(rng, files[cid], f"{n}{cid}")
            moved = None
            if n == 20:  # move the followed chapter to another folder
                target = root / "procedures" / "moved" / files[followed].name
                target.parent.mkdir(exist_ok=True)
                files[followed].rename(target)
                moved = (files[followed], target)
                files[followed] = target
            if n == 30:  # renumber it
                text = files[followed].read_text(encoding="utf-8")
                files[followed].write_text(text.replace(f"id: {followed}\n",
                                                        f"id: {followed}X\n", 1))
                followed = f"{followed}X"
                files[followed] = files.pop(followed[:-1])
                chosen = [followed if c == followed[:-1] else c for c in chosen]
                if followed not in chosen:
                    chosen.append(followed)
            for cid in chosen:
                old = files[cid] if not (moved and cid == followed) else moved[0]
                rel = old.relative_to(root).as_posix()
                notes[cid] = _entry_ids(root, before, files[cid], rel)
        folder = root / "releases" / release
        (folder / "notes").mkdir(parents=True, exist_ok=True)
        for cid, ids in notes.items():
            (folder / "notes" / f"{cid}.yaml").write_text(
                f"chapter: {cid}\nentries:\n  - id: e-{release}-{cid.lower()}\n"
                f"    summary: Release {release} edits {cid}.\n"
                f"    why: Because release {release} needed it.\n    significance: minor\n"
                f"    changes: [{', '.join(ids)}]\n", encoding="utf-8")
        record = (f'id = "{release}"\ntitle = "Release {release}"\ndate = "{release}-15"\n'
                  + (f'base = "{previous}"\n' if previous else ""))
        (folder / "release.toml").write_text(record + 'status = "approved"\n')
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", f"Release {release}")
        source = _git(root, "rev-parse", "HEAD")
        (folder / "release.toml").write_text(
            record + f'status = "published"\nsource_commit = "{source}"\n\n[[approvals]]\n'
            f'by = "Bench Chair"\nrole = "Chair"\nat = "{release}-15T10:00:00Z"\n')
        _git(root, "commit", "-q", "-am", f"Publish {release}")
        _git(root, "tag", f"release/{release}", source)
        previous = release
    return followed


def editorial_command() -> list[str]:
    """The console script beside this Python, else `python -m pipeline`."""
    script = Path(sys.executable).with_name("editorial")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


def best(command: list[str], cwd: Path, runs: int = 5) -> tuple[float, float]:
    """(best wall seconds, peak resident MB) of a child process, output thrown away."""
    times, peak = [], 0.0
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - started)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed")
        peak = max(peak, usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024))
    return min(times), peak


def _in_process(root: Path, args: list[str], runs: int = 5) -> float:
    """Best seconds for a command inside this (warm) Python process."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = CliRunner().invoke(cli, ["-C", str(root), *args])
        times.append(time.perf_counter() - started)
        if result.exit_code != 0:
            raise SystemExit(f"editorial {' '.join(args)} failed: {result.output}")
    return min(times)


def _uncached(run: Callable[[], T]) -> T:
    os.environ["EDITORIAL_CACHE"] = "0"
    try:
        return run()
    finally:
        del os.environ["EDITORIAL_CACHE"]


def run(manual: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="editorial-history-") as tmp:
        root = Path(tmp) / "history"
        subprocess.run(["git", "clone", "-q", str(manual), str(root)], check=True)
        started = time.perf_counter()
        chapter = make_history(root)
        print(f"{RELEASES} published releases, {EDITS_PER_RELEASE} chapters edited in each, "
              f"{chapter} followed through a move and a renumbering "
              f"(built in {time.perf_counter() - started:.1f} s)")
        path = _chapter_files(root)[chapter].relative_to(root).as_posix()
        editorial = editorial_command()
        blame, log = [*editorial, "blame", chapter], [*editorial, "log", chapter]
        cold_s, cold_mb = _uncached(lambda: best(blame, root))
        cold_log, _ = _uncached(lambda: best(log, root))
        blame_s, blame_mb = best(blame, root)  # the first run fills the cache
        log_s, _ = best(log, root)
        git_s, _ = best(["git", "--no-pager", "log", "-p", "--", path], root)
        follow_s, _ = best(["git", "--no-pager", "log", "-p", "--follow", "--", path], root)
        start_s, _ = best([sys.executable, "-c", "import pipeline.cli.history_cmds"], root)
        in_cold = _uncached(lambda: _in_process(root, ["blame", chapter]))
        in_warm = _in_process(root, ["blame", chapter])
        in_log = _in_process(root, ["log", chapter])
        print(f"git log -p -- {path}: {git_s:.3f} s;  with --follow: {follow_s:.3f} s")
        print(f"python + imports of log/blame    : {start_s:.3f} s (inside every process below)")
        print(f"editorial blame {chapter}, process : {cold_s:.3f} s no cache, "
              f"{blame_s:.3f} s cached ({max(cold_mb, blame_mb):.0f} MB peak)")
        print(f"editorial log {chapter}, process   : {cold_log:.3f} s no cache, "
              f"{log_s:.3f} s cached")
        print(f"blame, work in a warm process    : {in_cold:.3f} s no cache, "
              f"{in_warm:.3f} s cached;  log cached: {in_log:.3f} s")
        print(f"blame / git log -p               : {blame_s / git_s:.1f}x as a process; "
              f"work alone {in_warm / git_s:.1f}x cached, {in_cold / git_s:.1f}x not "
              f"(target {TARGET_RATIO:.0f}x); vs --follow {in_warm / follow_s:.1f}x cached")
