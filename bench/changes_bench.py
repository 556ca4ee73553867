"""`editorial changes --from r1 --to r2 --json` against `git diff --word-diff r1 r2`.

Both run as child processes on the same repository; each is timed over a few runs (the best
is kept, as the others measure a busy machine) and the editorial process's peak memory is
read from its own rusage (os.wait4), so git's memory never counts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

RUNS = 3
TARGET_RATIO = 5.0
TARGET_MB = 200.0


def editorial_command() -> list[str]:
    """The installed console script beside this Python, else `python -m pipeline`."""
    script = Path(sys.executable).with_name("editorial")
    if script.exists():
        return [str(script)]
    found = shutil.which("editorial")
    return [found] if found else [sys.executable, "-m", "pipeline"]


def measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak resident MB) of one run, output thrown away."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}): {err}")
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return elapsed, usage.ru_maxrss / scale


def best(command: list[str], cwd: Path) -> tuple[float, float]:
    runs = [measure(command, cwd) for _ in range(RUNS)]
    return min(t for t, _ in runs), max(m for _, m in runs)


def run(manual: Path) -> None:
    editorial = [*editorial_command(), "changes", "--from", "r1", "--to", "r2", "--json"]
    git = ["git", "--no-pager", "diff", "--word-diff", "r1", "r2"]
    ed_time, ed_mb = best(editorial, manual)
    git_time, _ = best(git, manual)
    ratio = ed_time / git_time if git_time else float("inf")
    out = subprocess.run(editorial, cwd=manual, capture_output=True, check=True).stdout
    print(f"editorial changes --json : {ed_time:6.2f} s  ({len(out) / 1e6:.1f} MB of JSON)")
    print(f"git diff --word-diff     : {git_time:6.2f} s")
    print(f"ratio                    : {ratio:6.2f}   (target at most {TARGET_RATIO:g})"
          f"  {'ok' if ratio <= TARGET_RATIO else 'OVER'}")
    print(f"peak memory (editorial)  : {ed_mb:6.1f} MB (target at most {TARGET_MB:g} MB)"
          f"  {'ok' if ed_mb <= TARGET_MB else 'OVER'}")
