"""editorial.toml: one dataclass, found by walking up from a folder.

Unknown keys are not fatal (a newer manual may carry keys an older tool does not know) but
each gives a warning with a "did you mean" hint, as towncrier does.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, NotAManual
from pipeline.locate import CONFIG_NAME, manual_root

DEFAULT_FORMATS = ("html", "docx", "md")
KNOWN_FORMATS = ("html", "docx", "md", "pdf", "json", "csv", "feed")

_KEYS = {
    "name": "the manual's name, used in titles",
    "publisher": "who publishes the manual",
    "contact": "the board's contact line printed under each bulletin",
    "url": "where the manual is published (feed links)",
    "tag_pattern": 'git tag of a published release, default "release/{id}"',
    "procedures": "folder holding the chapters, default procedures",
    "formats": "default output formats",
    "parts": "part id -> title (and order)",
}


@dataclass(frozen=True)
class Part:
    id: str
    title: str
    order: int


@dataclass(frozen=True)
class Config:
    root: Path
    name: str
    publisher: str = ""
    contact: str = ""
    url: str = ""
    tag_pattern: str = "release/{id}"
    procedures: str = "procedures"
    formats: tuple[str, ...] = DEFAULT_FORMATS
    parts: tuple[Part, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def tag_for(self, release_id: str) -> str:
        return self.tag_pattern.format(id=release_id)

    def part(self, part_id: str) -> Part:
        """The configured part, or one made up from its id (sorted after the known ones)."""
        for p in self.parts:
            if p.id == part_id:
                return p
        return Part(id=part_id, title=part_id, order=len(self.parts) + 1000)

    @property
    def releases_dir(self) -> Path:
        return self.root / "releases"

    @property
    def procedures_dir(self) -> Path:
        return self.root / self.procedures


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding editorial.toml."""
    start = start.resolve()
    found = manual_root(str(start))
    if found is not None:
        return Path(found)
    raise NotAManual(f"not a manual (no {CONFIG_NAME} here or in any parent folder)", str(start))


def load_config(root: Path) -> Config:
    path = root / CONFIG_NAME
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotAManual(f"not a manual (no {CONFIG_NAME})", str(root)) from None
    except UnicodeDecodeError:
        raise ConfigError("not valid UTF-8", CONFIG_NAME) from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        msg = str(exc).split(" (at line")[0]
        raise ConfigError(f"invalid TOML: {msg}", CONFIG_NAME, line) from None
    return parse_config(root, data)


def parse_config(root: Path, data: dict[str, Any]) -> Config:
    warnings = []
    for key in data:
        if key not in _KEYS:
            hint = difflib.get_close_matches(key, list(_KEYS), n=1)
            tip = f" (did you mean '{hint[0]}'?)" if hint else ""
            warnings.append(f"{CONFIG_NAME}: unknown key '{key}'{tip}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("'name' is missing or empty", CONFIG_NAME)
    for key in ("publisher", "contact", "url", "tag_pattern", "procedures"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"'{key}' must be a string", CONFIG_NAME)
    tag_pattern = data.get("tag_pattern", "release/{id}")
    if "{id}" not in tag_pattern:
        raise ConfigError("'tag_pattern' must contain {id}", CONFIG_NAME)
    formats = data.get("formats", list(DEFAULT_FORMATS))
    if not isinstance(formats, list) or any(f not in KNOWN_FORMATS for f in formats):
        raise ConfigError(f"'formats' must be a list drawn from {', '.join(KNOWN_FORMATS)}",
                          CONFIG_NAME)
    return Config(
        root=root,
        name=name.strip(),
        publisher=data.get("publisher", ""),
        contact=data.get("contact", ""),
        url=data.get("url", ""),
        tag_pattern=tag_pattern,
        procedures=data.get("procedures", "procedures").strip("/"),
        formats=tuple(formats),
        parts=_parse_parts(data.get("parts", {})),
        warnings=tuple(warnings),
    )


def _parse_parts(raw: Any) -> tuple[Part, ...]:
    """`[parts]` maps id -> title, or id -> {title, order}; file order is the default order."""
    if not isinstance(raw, dict):
        raise ConfigError("'parts' must be a table of part id -> title", CONFIG_NAME)
    parts = []
    for index, (pid, value) in enumerate(raw.items()):
        if isinstance(value, str):
            parts.append(Part(id=pid, title=value, order=index))
        elif isinstance(value, dict) and isinstance(value.get("title"), str):
            order = value.get("order", index)
            if not isinstance(order, int):
                raise ConfigError(f"parts.{pid}.order must be a whole number", CONFIG_NAME)
            parts.append(Part(id=pid, title=value["title"], order=order))
        else:
            raise ConfigError(f"parts.{pid} must be a title or {{title, order}}", CONFIG_NAME)
    return tuple(sorted(parts, key=lambda p: p.order))


def default_config_text(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'''# The manual's settings. See the README for every key.
name = "{escaped}"
publisher = ""
contact = ""
tag_pattern = "release/{{id}}"
formats = ["html", "docx", "md"]

# Parts in reading order: id = "title"
[parts]
'''
