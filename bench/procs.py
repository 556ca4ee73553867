"""Running the tool as a user runs it, for timing: the console script in a child process, with
compiled bytecode kept as an installed tool has it, timed from outside."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.parsecache import wait_for_writers


def editorial_command() -> list[str]:
    """The installed console script beside this Python, else `python -m pipeline`."""
    script = Path(sys.executable).with_name("editorial")
    if script.exists():
        return [str(script)]
    found = shutil.which("editorial")
    return [found] if found else [sys.executable, "-m", "pipeline"]


def installed_env(pycache: Path, **extra: str) -> dict[str, str]:
    """This environment with bytecode kept (as pip compiles an installed tool's), in a folder
    of its own (PYTHONPYCACHEPREFIX), never in the source tree, even where
    PYTHONDONTWRITEBYTECODE is set; the tool's own switches only as `extra` gives them, so
    each row of a bench says what it measures whatever the caller's environment holds."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "EDITORIAL_REPLAY", "EDITORIAL_CACHE")}
    return {**env, "PYTHONPYCACHEPREFIX": str(pycache), **extra}


def measure(command: list[str], cwd: Path, env: dict[str, str] | None = None
            ) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak resident MB) of one run, output thrown away, until
    the command ends: what its user waits for. CPU time and memory are read from the child's
    own rusage (os.wait4) and those of the processes it leaves behind to write its caches
    (adopted, see `_adopt_orphans`), and nothing of this process; those are waited for
    before this returns, so they never slow the next run down."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime + _orphans_cpu()
    wait_for_writers(cwd / ".git")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}): {err}")
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return elapsed, cpu, usage.ru_maxrss / scale


def _adopt_orphans() -> bool:
    """Become the parent of the processes a command leaves behind (Linux's child
    subreaper), so their CPU time is counted with the command's."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


_ADOPTING = _adopt_orphans()


def _orphans_cpu() -> float:
    """CPU seconds of the processes the last command left behind, once they have ended (none
    other runs meanwhile: commands are timed one at a time)."""
    total = 0.0
    while _ADOPTING:
        try:
            _pid, _status, usage = os.wait4(-1, 0)
        except ChildProcessError:
            break
        total += usage.ru_utime + usage.ru_stime
    return total


def written(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall seconds of one run until the caches it writes once its answer is out are
    written too."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, check=True)
    wait_for_writers(cwd / ".git")
    return time.perf_counter() - started


def best(command: list[str], cwd: Path, runs: int, env: dict[str, str] | None = None,
         before: Callable[[], None] = lambda: None) -> tuple[float, float, float]:
    """(best wall seconds, best CPU seconds, highest peak MB) of `runs` runs, `before` called
    ahead of each (the others measure a busy machine, so the best is kept)."""
    timed = []
    for _ in range(runs):
        before()
        timed.append(measure(command, cwd, env))
    return (min(t[0] for t in timed), min(t[1] for t in timed), max(t[2] for t in timed))
