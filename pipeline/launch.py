"""The `editorial` command: a kept answer when one is still true (pipeline/replay.py), else
the command line itself. Kept apart from pipeline.cli so that a replay imports nothing else."""

from __future__ import annotations

import atexit
import gc
import os
import sys

from pipeline import prefetch, replay


def main() -> None:
    """Run the command line, then leave at once (see `_leave`)."""
    try:
        _run()
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _run() -> None:
    argv = sys.argv[1:]
    plan = replay.plan(argv, os.getcwd(), dict(os.environ),
                       (_isatty(sys.stdout), _isatty(sys.stderr)))
    if plan is not None:
        answer = replay.kept_answer(plan)
        if answer is not None:
            replay.replay(answer)
            sys.exit(0)
    prefetch.start(argv, os.getcwd())  # git reads the releases it compares meanwhile
    if _command(argv) in replay.COMMANDS:
        # A read-only command builds no reference cycles worth finding, and ends at once
        # (see `_leave`): the collector's passes over a large comparison's objects, which
        # free nothing, would cost it more than a twentieth of its time.
        gc.disable()
    from pipeline import parsecache
    from pipeline.cli import main as cli_main

    # What the caches keep is written once the answer is out (see `_leave`).
    parsecache.hold()

    if plan is None:
        cli_main()
        return
    replay.run_and_keep(plan, cli_main, lambda: _watched(plan))


def _leave(code: object) -> None:
    """End the process as `sys.exit(code)` would, without tearing the interpreter down. A
    large comparison leaves millions of objects that Python would free one by one before
    exiting (a tenth of a second, after the answer is printed); the exit hooks still run
    (children reaped, finalizers) and the output is flushed first. With other threads still
    running, the usual exit, which waits for them."""
    parsecache = sys.modules.get("pipeline.parsecache")
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        if parsecache is not None:
            parsecache.release()
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # as Python prints an exit message
        print(code, file=sys.stderr)
        status = 1
    status = _flushed(status)
    # The caches' new entries are written by a process of their own, which this one does not
    # wait for, nor for a forked half still writing its own (both hold the caches' locks).
    if parsecache is not None:
        parsecache.release_detached()
    halves = sys.modules.get("pipeline.halves")
    if halves is not None:
        halves.leave_children()
    atexit._run_exitfuncs()
    os._exit(_flushed(status) & 0xFF)


def _flushed(status: int) -> int:
    """`status` once the standard streams are flushed; 120 if they cannot be, as Python
    exits when output it holds cannot be written."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            status = status or 120
    return status


def _command(argv: list[str]) -> str | None:
    """The command named on the command line."""
    args = replay.split_folder(argv)[1]
    return args[0] if args else None


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def _watched(plan: replay.Plan) -> list[str]:
    """What a replayable command reads, named from the manual's config (read only when the
    command runs for real, so a replay needs no TOML parser)."""
    from pathlib import Path

    from pipeline.config import load_config

    config = load_config(Path(plan.root))
    package = os.path.dirname(os.path.abspath(__file__))
    manual = [str(config.procedures_dir), str(config.releases_dir), str(config.root / "templates")]
    # The built-in templates: inside the package when installed, beside it in a checkout.
    code = [package, os.path.join(os.path.dirname(package), "templates")]
    return replay.watched_paths(plan, manual, code)
