"""Commands of the history stage (registered on import by pipeline.cli)."""

from __future__ import annotations
