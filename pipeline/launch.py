"""The `editorial` command: a kept answer when one is still true (pipeline/replay.py), else
the command line itself. Kept apart from pipeline.cli so that a replay imports nothing else."""

from __future__ import annotations

import os
import sys

from pipeline import replay


def main() -> None:
    argv = sys.argv[1:]
    plan = replay.plan(argv, os.getcwd(), dict(os.environ),
                       (_isatty(sys.stdout), _isatty(sys.stderr)))
    if plan is not None:
        answer = replay.kept_answer(plan)
        if answer is not None:
            replay.replay(answer)
            sys.exit(0)
    from pipeline.cli import main as cli_main

    if plan is None:
        cli_main()
        return
    replay.run_and_keep(plan, cli_main, lambda: _watched(plan))


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
