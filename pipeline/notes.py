"""The editors' entries: `releases/<id>/notes/<chapter-id>.yaml` (format: docs/notes-format.md).

Reading is strict (a clear error naming file and line); writing round-trips the editors'
comments, order and wording (ruamel.yaml), atomically.
"""

from __future__ import annotations

from collections.abc import Iterable
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from pipeline.config import Config
from pipeline.errors import NotesError
from pipeline.models import Entry
from pipeline.releases import release_dir

NOTES_DIR = "notes"
MANUAL_WIDE = "_manual"  # file stem of manual-wide entries
SIGNIFICANCE = ("major", "minor")


def _yaml() -> YAML:
    yaml = YAML()  # round-trip mode: comments and order survive
    yaml.width = 100
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def notes_dir(config: Config, release_id: str) -> Path:
    return release_dir(config, release_id) / NOTES_DIR


def _line_of(node: Any, key: str | int | None = None) -> int | None:
    """1-based line of a ruamel node (or of one of its keys / items)."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is None:
            return lc.line + 1
        if isinstance(key, int):
            return lc.item(key)[0] + 1
        return lc.key(key)[0] + 1
    except (KeyError, IndexError, TypeError):
        return lc.line + 1


def load_document(where: str, raw: bytes) -> Any:
    """The round-trip YAML document of a notes file (None when the file is empty)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotesError("not valid UTF-8", where) from None
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise NotesError(f"invalid YAML: {exc.problem or exc.context}", where, line) from None


def parse_notes(where: str, raw: bytes) -> tuple[Entry, ...]:
    """Entries of one notes file, validated; `where` names the file in errors."""
    doc = load_document(where, raw)
    if doc is None:
        return ()
    if not isinstance(doc, dict):
        raise NotesError("a notes file is a mapping with 'chapter' and 'entries'", where, 1)
    stem = Path(where).stem
    chapter = doc.get("chapter", None if stem == MANUAL_WIDE else stem)
    entries = doc.get("entries") or []
    if not isinstance(entries, list):
        raise NotesError("'entries' must be a list", where, _line_of(doc, "entries"))
    out = []
    for index, item in enumerate(entries):
        line = _line_of(entries, index)
        if not isinstance(item, dict):
            raise NotesError("each entry must be a mapping (summary, why, significance, "
                             "changes)", where, line)
        out.append(_entry(where, item, line, None if chapter is None else str(chapter)))
    return tuple(out)


def _text(where: str, item: Any, key: str) -> str:
    value = item.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise NotesError(f"'{key}' must be text", where, _line_of(item, key))
    return str(value).strip()


def _entry(where: str, item: Any, line: int | None, chapter: str | None) -> Entry:
    entry_id = _text(where, item, "id")
    if not entry_id:
        raise NotesError("entry has no 'id'", where, line)
    significance = _text(where, item, "significance") or "minor"
    if significance not in SIGNIFICANCE:
        raise NotesError(f"unknown significance '{significance}' (major or minor)", where,
                         _line_of(item, "significance"))
    changes = item.get("changes") or []
    if isinstance(changes, str):
        changes = [changes]
    if not isinstance(changes, list) or not all(isinstance(c, str) for c in changes):
        raise NotesError("'changes' must be a list of change ids", where,
                         _line_of(item, "changes"))
    audience = item.get("audience") or []
    if isinstance(audience, str):
        audience = [audience]
    anchors = item.get("anchors") or []
    corrections = item.get("corrections") or []
    return Entry(
        id=entry_id,
        summary=_text(where, item, "summary"),
        why=_text(where, item, "why"),
        significance=significance,  # type: ignore[arg-type]
        changes=tuple(changes),
        chapter=chapter,
        audience=tuple(str(a) for a in audience),
        action=_text(where, item, "action"),
        orphaned=bool(item.get("orphaned", False)),
        anchors=tuple(("anchor", _plain(a)) for a in anchors),
        corrections=tuple(("correction", _plain(c)) for c in corrections),
        file=where,
        line=line,
    )


def _plain(value: Any) -> Any:
    """ruamel's commented containers as plain, hashable values."""
    if isinstance(value, dict):
        return tuple((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def read_entries(files: Iterable[tuple[str, bytes]]) -> tuple[Entry, ...]:
    """Entries of many notes files given as (where, bytes), in file-name order."""
    out: list[Entry] = []
    for where, raw in sorted(files):
        out.extend(parse_notes(where, raw))
    return tuple(out)


def load_entries(config: Config, release_id: str) -> tuple[Entry, ...]:
    """Every entry of a release, from the working tree."""
    folder = notes_dir(config, release_id)
    if not folder.is_dir():
        return ()
    return read_entries((p.relative_to(config.root).as_posix(), p.read_bytes())
                        for p in folder.glob("*.yaml"))


def dump_document(doc: Any) -> str:
    buffer = StringIO()
    _yaml().dump(doc, buffer)
    return buffer.getvalue()
