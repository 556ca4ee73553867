"""`make bench`: speed and memory figures. Timing goals live here, never in the tests.

Each section is a module in bench/ with `run(manual: Path) -> None` that prints its figures;
they all get the same synthetic manual (bench/synth.py: 200 chapters, about a million words,
tags r1 and r2). To add a section, append its module name to SECTIONS.
Run one section with `python bench/run.py NAME...`.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth

SECTIONS: list[str] = [
    "changes_bench",
    "import_bench",
    "history_bench",
    "publish_bench",
]


def main(argv: list[str]) -> int:
    wanted = [s for s in SECTIONS if not argv or s in argv or s.removesuffix("_bench") in argv]
    with tempfile.TemporaryDirectory(prefix="editorial-bench-") as tmp:
        root = Path(tmp) / "manual"
        started = time.perf_counter()
        planted = synth.build(root, chapters=200, words=1_000_000)
        print(f"synthetic manual: 200 chapters, {synth.word_count(root):,} words, "
              f"{len(planted)} planted changes (built in {time.perf_counter() - started:.1f} s)")
        for name in wanted:
            print(f"\n== {name} ==")
            importlib.import_module(name).run(root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
