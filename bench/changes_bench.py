"""`editorial changes --from r1 --to r2 --json` against `git diff --word-diff r1 r2`.

Both run as child processes on the same repository; each is timed over a few runs (the best
is kept, as the others measure a busy machine) and the editorial process's CPU time and peak
memory are read from its own rusage (os.wait4), so git's never count. editorial runs cold
(its caches in .git/editorial-cache removed first), with the parse cache only (the chapters
parsed by an earlier run, every pair of chapter versions compared again: the first run after
new commits) and warm (both caches: as every later run on a manual, and the commands of a
release that compare the same base again). A run ends once its answer is out: it leaves the
caches' new entries to a process of its own, which is waited for before the next run (and
the cold run's time until they are written is printed too). These three runs set
EDITORIAL_REPLAY=0, so they
time the engine; a last row runs as users do, where a read-only command whose inputs have not
changed may replay its recorded output (pipeline/replay.py).

Python may keep compiled bytecode as an installed tool does, even where the environment says
PYTHONDONTWRITEBYTECODE: it goes to a folder of its own (PYTHONPYCACHEPREFIX), never into the
source tree.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from procs import best, editorial_command, installed_env, written

RUNS = 5
TARGET_RATIO = 5.0
TARGET_MB = 200.0


def run(manual: Path) -> None:
    editorial = [*editorial_command(), "changes", "--from", "r1", "--to", "r2", "--json"]
    git = ["git", "--no-pager", "diff", "--word-diff", "r1", "r2"]
    cache = manual / ".git" / "editorial-cache"
    replay = installed_env(manual.parent / "pycache")
    env = dict(replay, EDITORIAL_REPLAY="0")  # the engine at work, never a replayed output

    def drop_changes() -> None:
        for folder in cache.glob("*/changes"):
            shutil.rmtree(folder, ignore_errors=True)

    def drop_all() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    cold = best(editorial, manual, RUNS, before=drop_all, env=env)
    drop_all()
    cold_written = written(editorial, manual, env)
    parsed = best(editorial, manual, RUNS, env, drop_changes)
    warm = best(editorial, manual, RUNS, env)
    replayed = best(editorial, manual, RUNS, replay)
    git_run = best(git, manual, RUNS)
    out = subprocess.run(editorial, cwd=manual, capture_output=True, check=True,
                         env=env).stdout
    print(f"JSON written: {len(out) / 1e6:.1f} MB; best of {RUNS} runs each; cold = no "
          "cache, parse cache = chapters parsed by an earlier run, warm = their changes too")
    print(f"{'':36} {'wall':>8} {'cpu':>8} {'ratio':>7} {'peak':>9}")
    for name, (wall, cpu, mb) in (("editorial changes (cold)", cold),
                                  ("editorial changes (parse cache)", parsed),
                                  ("editorial changes (warm)", warm),
                                  ("replayed (nothing read has changed)", replayed),
                                  ("git diff --word-diff", git_run)):
        ratio = wall / git_run[0] if git_run[0] else float("inf")
        print(f"{name:36} {wall:7.2f}s {cpu:7.2f}s {ratio:7.1f} {mb:7.1f}MB")
    peak = max(cold[2], parsed[2], warm[2])

    def verdict(name: str, wall: float) -> str:
        ratio = wall / git_run[0] if git_run[0] else float("inf")
        return f"{name} {ratio:.1f} {'met' if ratio <= TARGET_RATIO else 'NOT met'}"

    # Each case judged on its own: a first run on a manual is cold, so "warm" alone would
    # flatter the tool.
    print(f"cold, until its caches are written by the process it leaves them to: "
          f"{cold_written:.2f}s")
    print(f"target: ratio at most {TARGET_RATIO:g}: {verdict('cold', cold[0])}; "
          f"{verdict('parse cache', parsed[0])}; {verdict('warm', warm[0])}. "
          f"Peak memory at most {TARGET_MB:g} MB: "
          f"{'met' if peak <= TARGET_MB else 'NOT met'} ({peak:.0f} MB)")
