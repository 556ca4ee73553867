"""Commands of the notes stage (registered on import by pipeline.cli)."""

from __future__ import annotations
