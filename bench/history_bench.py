"""History: `editorial blame` and `editorial log` of one chapter across 40 published releases,
against `git log -p` of that chapter's file, in the same run.

The synthetic manual (200 chapters) is cloned and given 40 published releases: the first is
the manual as synth left it; each later one edits a paragraph in each of six chapters and
carries one notes entry per edited chapter (change ids from the engine, as `changes` writes
them). The followed chapter is edited in every fourth release, moved to another folder in
release 20 and renumbered in release 30, so blame and log must follow it through both.

Figures: each command is run as a child process (best of five), as a user runs it, with
compiled bytecode kept as an installed tool has it (in a folder of its own, never in the
source tree). Three states are timed: no cache at all; the history cache only (the first run
after any commit or edit: every answer computed again); and the answer replayed (the same
command again while nothing it reads has changed: pipeline/replay.py). Starting Python alone,
and blame's work inside a warm process, are printed on lines of their own.
Target: blame at most 2x `git log -p`.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from procs import best, editorial_command, installed_env

from pipeline import replay
from pipeline.changes import detect_changes
from pipeline.chapters import parse_chapter
from pipeline.models import Snapshot

RELEASES = 40
EDITS_PER_RELEASE = 6
FOLLOWED = "C010"
TARGET_RATIO = 2.0
RUNS = 5
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


def run(manual: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="editorial-history-") as tmp:
        root = Path(tmp) / "history"
        subprocess.run(["git", "clone", "-q", str(manual), str(root)], check=True)
        started = time.perf_counter()
        chapter = make_history(root)
        built = time.perf_counter()
        print(f"{RELEASES} published releases, {EDITS_PER_RELEASE} chapters edited in each, "
              f"{chapter} followed through a move and a renumbering "
              f"(built in {built - started:.1f} s)")
        path = _chapter_files(root)[chapter].relative_to(root).as_posix()
        editorial = editorial_command()
        blame, log = [*editorial, "blame", chapter], [*editorial, "log", chapter]
        pycache = Path(tmp) / "pycache"
        none, engine, replayed = (installed_env(pycache, EDITORIAL_CACHE="0"),
                                  installed_env(pycache, EDITORIAL_REPLAY="0"),
                                  installed_env(pycache))
        best([sys.executable, "-c", "import pipeline.cli.history_cmds"], root, 1, none)
        timed: dict[str, dict[str, float]] = {"blame": {}, "log": {}}
        peak = 0.0
        for name, command in (("blame", blame), ("log", log)):
            for state, env in (("none", none), ("engine", engine)):
                timed[name][state], _cpu, mb = best(command, root, RUNS, env)
                peak = max(peak, mb)
        # Answers are kept only for files older than replay's window of distrust.
        time.sleep(max(0.0, replay.RACY_NS / 1e9 + 0.1 - (time.perf_counter() - built)))
        for name, command in (("blame", blame), ("log", log)):
            timed[name]["replayed"], _cpu, mb = best(command, root, RUNS, replayed)
            peak = max(peak, mb)
        git_s, _cpu, _mb = best(["git", "--no-pager", "log", "-p", "--", path], root, RUNS)
        follow_s, _cpu, _mb = best(["git", "--no-pager", "log", "-p", "--follow", "--", path],
                                   root, RUNS)
        python_s, _cpu, _mb = best([sys.executable, "-c", "pass"], root, RUNS, none)
        start_s, _cpu, _mb = best([sys.executable, "-c", "import pipeline.cli.history_cmds"],
                                  root, RUNS, none)
        os.environ["EDITORIAL_CACHE"] = "0"
        try:
            in_cold = _in_process(root, ["blame", chapter])
        finally:
            del os.environ["EDITORIAL_CACHE"]
        in_warm = _in_process(root, ["blame", chapter])
        print(f"git log -p -- {path}: {git_s:.3f} s;  with --follow: {follow_s:.3f} s")
        print(f"python alone: {python_s:.3f} s;  python + imports of log/blame: {start_s:.3f} s")
        print(f"{'as a process':32} {'no cache':>9} {'history cache':>14} {'replayed':>9}")
        for name in ("blame", "log"):
            t = timed[name]
            print(f"{'editorial ' + name + ' ' + chapter:32} {t['none']:8.3f}s "
                  f"{t['engine']:13.3f}s {t['replayed']:8.3f}s")
        print(f"blame's work in a warm process: {in_cold:.3f} s no cache, {in_warm:.3f} s cached; "
              f"peak memory {peak:.0f} MB")
        ratios = {state: timed["blame"][state] / git_s for state in ("none", "engine", "replayed")}
        verdict = "met" if ratios["replayed"] <= TARGET_RATIO else "NOT met"
        print(f"blame / git log -p: replayed {ratios['replayed']:.1f}x ({verdict}; target "
              f"{TARGET_RATIO:.0f}x); first run after a change {ratios['engine']:.1f}x, "
              f"no cache {ratios['none']:.1f}x; work alone {in_warm / git_s:.1f}x cached, "
              f"vs --follow {timed['blame']['replayed'] / follow_s:.1f}x replayed")
