"""Where a manual is: the nearest folder holding its editorial.toml. Apart from config, and
importing nothing, so that a replayed answer (pipeline/replay.py) finds its manual exactly as
the tool does without loading the tool."""

from __future__ import annotations

import os

CONFIG_NAME = "editorial.toml"
CACHE_FOLDER = "editorial-cache"  # the caches' folder, in the repository's git folder
CHAPTER_SUFFIXES = (".md", ".markdown")
# Files that may sit beside chapters (imported images); they are not chapters.
ASSET_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".emf", ".wmf", ".bmp",
                  ".tif", ".tiff", ".pdf")


def manual_root(start: str) -> str | None:
    """The nearest folder at or above `start` (a resolved path) holding editorial.toml."""
    folder = start
    while True:
        if os.path.isfile(os.path.join(folder, CONFIG_NAME)):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
