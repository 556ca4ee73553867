"""The editors' entries: `releases/<id>/notes/<chapter-id>.yaml` (format: docs/notes-format.md).

Reading is strict (a clear error naming file and line); writing round-trips the editors'
comments, order and wording (ruamel.yaml), atomically.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from pipeline.config import Config
from pipeline.errors import NotesError
from pipeline.fsutil import atomic_write
from pipeline.models import Entry
from pipeline.releases import release_dir

NOTES_DIR = "notes"
MANUAL_WIDE = "_manual"  # file stem of manual-wide entries
SIGNIFICANCE = ("major", "minor")
FILE_KEYS = ("chapter", "entries")
# Editors' fields first, then the ones the tool keeps: the order new entries are written in.
ENTRY_KEYS = ("id", "summary", "why", "significance", "changes", "audience", "action",
              "anchors", "orphaned", "corrections")


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


def _decode(where: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotesError("not valid UTF-8", where) from None


def load_document(where: str, raw: bytes) -> Any:
    """The round-trip YAML document of a notes file (None when the file is empty)."""
    text = _decode(where, raw)
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise NotesError(f"invalid YAML: {exc.problem or exc.context}", where, line) from None


# Reading. Notes are read far more often than written (status, check, changes with nothing to
# update, history, render), and ruamel's round-trip loader is pure Python: a release of 1,440
# entries took 2.6 s to read with it, 0.1 s with libyaml. So every reader parses with libyaml,
# into mappings and lists that carry their lines as ruamel's do; the round-trip document is
# loaded only for a file about to be written. Scalars follow the YAML 1.2 core schema, as
# ruamel does ("yes" is text, not true), except that timestamps stay the text written.


class _Lines:
    """Line numbers of a mapping's keys or a list's items, as ruamel's `lc` gives them."""

    def __init__(self, line: int, at: dict[Any, int]) -> None:
        self.line = line
        self._at = at

    def key(self, key: Any) -> tuple[int, int]:
        return self._at[key], 0

    def item(self, index: int) -> tuple[int, int]:
        return self._at[index], 0


class _Map(dict):  # type: ignore[type-arg]
    lc: _Lines


class _Seq(list):  # type: ignore[type-arg]
    lc: _Lines


_SAFE = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


class _FastLoader(_SAFE):  # type: ignore[valid-type,misc]
    """libyaml's parser; containers with lines, the YAML 1.2 core schema, duplicate keys
    refused (ruamel refuses them too, and says so better)."""


_FastLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("null", r"^(?:~|null|Null|NULL|)$", "~nN"),
        ("int", r"^[-+]?[0-9]+$", "-+0123456789"),
        ("float", r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"
                  r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$", "-+0123456789.")):
    _FastLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern),
                                      [*_first, ""] if _tag == "null" else list(_first))


def _fast_map(loader: Any, node: Any) -> _Map:
    out = _Map()
    at: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, "duplicate key",
                                                    key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        at[key] = key_node.start_mark.line
    out.lc = _Lines(node.start_mark.line, at)
    return out


def _fast_seq(loader: Any, node: Any) -> _Seq:
    out = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    out.lc = _Lines(node.start_mark.line,
                    {i: child.start_mark.line for i, child in enumerate(node.value)})
    return out


_FastLoader.add_constructor("tag:yaml.org,2002:map", _fast_map)
_FastLoader.add_constructor("tag:yaml.org,2002:seq", _fast_seq)
_FastLoader.add_constructor("tag:yaml.org,2002:int", lambda _loader, node: int(node.value))


def read_document(where: str, raw: bytes) -> Any:
    """A notes file's data for reading (not for writing back: see load_document)."""
    text = _decode(where, raw)
    try:
        return yaml.load(text, Loader=_FastLoader)
    except yaml.YAMLError:
        # ruamel names the problem better (and reads the rare file libyaml will not)
        return load_document(where, raw)


def parse_notes(where: str, raw: bytes) -> tuple[Entry, ...]:
    """Entries of one notes file, validated; `where` names the file in errors."""
    return entries_of(where, read_document(where, raw))


def notes_items(where: str, raw: bytes) -> list[tuple[Entry, Mapping[str, Any]]]:
    """Each entry of a file with the mapping it was read from (what `check` inspects)."""
    doc = read_document(where, raw)
    entries = entries_of(where, doc)
    return list(zip(entries, doc.get("entries") or [], strict=True)) if entries else []


def entries_of(where: str, doc: Any) -> tuple[Entry, ...]:
    """Entries of a loaded notes document, validated."""
    if doc is None:
        return ()
    if not isinstance(doc, dict):
        raise NotesError("a notes file is a mapping with 'chapter' and 'entries'", where, 1)
    _refuse_unknown_keys(where, doc, FILE_KEYS, "notes file")
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
    check_unique_ids(out)
    return tuple(out)


def _refuse_unknown_keys(where: str, mapping: Any, known: tuple[str, ...], what: str) -> None:
    """A misspelt key would silently lose what it holds (a `sumary:` is no summary)."""
    for key in mapping:
        if str(key) not in known:
            hint = difflib.get_close_matches(str(key), known, n=1)
            tip = f" (did you mean '{hint[0]}'?)" if hint else f" ({', '.join(known)})"
            raise NotesError(f"unknown key '{key}' in {what}{tip}", where, _line_of(mapping, key))


def check_unique_ids(entries: Iterable[Entry]) -> None:
    """Entry ids name entries across the whole release: two alike is an error."""
    seen: dict[str, Entry] = {}
    for entry in entries:
        first = seen.get(entry.id)
        if first is not None:
            other = f"{first.file}:{first.line}" if first.line else first.file
            raise NotesError(f"duplicate entry id '{entry.id}' (also at {other})", entry.file,
                             entry.line)
        seen[entry.id] = entry


def _text(where: str, item: Any, key: str) -> str:
    value = item.get(key, "")
    if value is None:
        return ""
    if isinstance(value, dt.date):  # ruamel reads an unquoted date as one
        return str(value)
    if not isinstance(value, str | int | float):
        raise NotesError(f"'{key}' must be text", where, _line_of(item, key))
    return str(value).strip()


def _entry(where: str, item: Any, line: int | None, chapter: str | None) -> Entry:
    _refuse_unknown_keys(where, item, ENTRY_KEYS, "entry")
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
    if not isinstance(audience, list) or not all(isinstance(a, str) for a in audience):
        raise NotesError("'audience' must be a list of names (such as health, police)", where,
                         _line_of(item, "audience"))
    orphaned = item.get("orphaned", False)
    if not isinstance(orphaned, bool):
        raise NotesError("'orphaned' must be true or false", where, _line_of(item, "orphaned"))
    anchors = item.get("anchors") or []
    if not isinstance(anchors, list) or not all(isinstance(a, dict) for a in anchors):
        raise NotesError("'anchors' (written by the tool) must be a list of mappings", where,
                         _line_of(item, "anchors"))
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
        orphaned=orphaned,
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
    check_unique_ids(out)
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


# Writing. The tool changes only what it must: its own keys (changes, anchors, orphaned) and
# the entries an editor gives it; everything else is left as the editors wrote it.

_HEADER = ("Entries for {what} in release {release}: what changed and why it is important.\n"
           "Format: see the README, 'Notes files'. Edit freely; 'editorial check' validates.")


@dataclass(frozen=True)
class NotesFile:
    """One notes file opened for editing: its round-trip document and its entries.

    The dataclass is frozen; `doc` is the mutable ruamel document that `save_notes` writes.
    """

    path: Path
    where: str  # relative to the manual root, for messages
    raw: bytes | None  # the bytes as read; None when the file does not exist yet
    doc: Any
    entries: tuple[Entry, ...]

    def item(self, entry_id: str) -> Any:
        """The mapping of one entry in `doc`."""
        for item in self.doc.get("entries") or []:
            if isinstance(item, dict) and str(item.get("id", "")).strip() == entry_id:
                return item
        raise KeyError(entry_id)


def notes_path(config: Config, release_id: str, chapter: str | None) -> Path:
    """The file that holds a chapter's entries (manual-wide ones when chapter is None)."""
    return notes_dir(config, release_id) / f"{chapter or MANUAL_WIDE}.yaml"


def _rel(config: Config, path: Path) -> str:
    try:
        return path.relative_to(config.root).as_posix()
    except ValueError:
        return str(path)


def open_notes_file(config: Config, path: Path, release_id: str = "") -> NotesFile:
    """A notes file for editing; a new, empty document when it does not exist yet."""
    where = _rel(config, path)
    if not path.is_file():
        chapter = None if path.stem == MANUAL_WIDE else path.stem
        return NotesFile(path, where, None, new_document(chapter, release_id), ())
    raw = path.read_bytes()
    doc = load_document(where, raw)
    return NotesFile(path, where, raw, doc, entries_of(where, doc))


def new_document(chapter: str | None, release_id: str = "") -> Any:
    doc = CommentedMap()
    if chapter is not None:
        doc["chapter"] = chapter
    doc["entries"] = CommentedSeq()
    what = chapter if chapter is not None else "the whole manual"
    doc.yaml_set_start_comment(_HEADER.format(what=what, release=release_id or "(this)"))
    return doc


def make_entry_id(change_ids: Iterable[str], taken: Iterable[str]) -> str:
    """`e-` and 8 hex digits, made once from the changes first covered, unique in the release.

    Derived rather than random so that the same annotation gives the same id (repeatable
    output, and two branches that annotate one change clash loudly instead of duplicating)."""
    seed = "\n".join(sorted(change_ids))
    used = set(taken)
    salt = 0
    while True:
        digest = hashlib.sha1(f"{seed}\n{salt}".encode()).hexdigest()
        candidate = f"e-{digest[:8]}"
        if candidate not in used:
            return candidate
        salt += 1


def append_entry(notes: NotesFile, fields: Mapping[str, Any]) -> Any:
    """Add an entry at the end of the file's list; `fields` in any order, None left out."""
    entries = notes.doc.get("entries")
    if entries is None:
        entries = CommentedSeq()
        notes.doc["entries"] = entries
    item = CommentedMap()
    entries.append(item)
    update_entry(item, fields)
    return item


def update_entry(item: Any, fields: Mapping[str, Any]) -> bool:
    """Set fields of one entry in place (None removes a key); True when anything changed.

    Values that already read the same are left alone, so their style and comments stay."""
    changed = False
    for key, value in fields.items():
        if key not in ENTRY_KEYS:
            raise ValueError(f"not an entry field: {key}")
        if value is None:
            if key in item:
                del item[key]
                changed = True
            continue
        if key in item:
            changed |= _update_value(item, key, value)
        else:
            item.insert(_position(item, key), key, _to_yaml(key, value))
            changed = True
    return changed


def _position(item: Any, key: str) -> int:
    """Where a new key goes: after the keys that come before it in ENTRY_KEYS."""
    rank = ENTRY_KEYS.index(key)
    position = 0
    for index, existing in enumerate(item):
        if existing in ENTRY_KEYS and ENTRY_KEYS.index(existing) < rank:
            position = index + 1
    return position


def _to_yaml(key: str, value: Any) -> Any:
    if key in ("changes", "audience"):
        seq = CommentedSeq([str(v) for v in value])
        seq.fa.set_flow_style()
        return seq
    if isinstance(value, list | tuple):
        return CommentedSeq([_to_yaml("", v) for v in value])
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _to_yaml(str(k), v)
        return out
    if isinstance(value, str):
        return _text_scalar(value)
    return value


def _text_scalar(text: str) -> str:
    """Multi-line text as a literal block (as the editor typed it); one line stays plain."""
    lines = [line.rstrip() for line in text.strip().split("\n")]
    if len(lines) > 1:
        return LiteralScalarString("\n".join(lines))
    return lines[0]


def _update_value(item: Any, key: str, value: Any) -> bool:
    current = item[key]
    if isinstance(value, str):
        if isinstance(current, str | int | float) and str(current).strip() == value.strip():
            return False
        item[key] = _text_scalar(value)
        return True
    if isinstance(value, bool | int | float):
        if current == value and type(current) is type(value):
            return False
        item[key] = value
        return True
    if isinstance(value, list | tuple) and isinstance(current, list):
        return _update_seq(current, key, list(value))
    if _plain(current) == _plain(value):
        return False
    item[key] = _to_yaml(key, value)
    return True


def _update_seq(current: Any, key: str, values: list[Any]) -> bool:
    """Edit a list in place, item by item, so its comments and flow style survive."""
    changed = False
    for index, value in enumerate(values):
        if index < len(current):
            old = current[index]
            if isinstance(value, Mapping) and isinstance(old, dict):
                changed |= _update_map(old, value)
            elif _plain(old) != _plain(value):
                current[index] = _to_yaml(key, value) if key not in ("changes", "audience") \
                    else str(value)
                changed = True
        else:
            current.append(_to_yaml(key, value) if key not in ("changes", "audience")
                           else str(value))
            changed = True
    while len(current) > len(values):
        del current[len(current) - 1]
        changed = True
    return changed


def _update_map(current: Any, value: Mapping[str, Any]) -> bool:
    changed = False
    for k in list(current):
        if k not in value:
            del current[k]
            changed = True
    for k, v in value.items():
        if k not in current or _plain(current[k]) != _plain(v):
            current[k] = _to_yaml(str(k), v)
            changed = True
    return changed


_TRAILING = re.compile(r"[ \t]+$", re.MULTILINE)


def render_document(where: str, doc: Any) -> str:
    """The document as text, with the trailing spaces ruamel leaves at wrapped lines removed
    (kept only where they would change a value, as inside a literal block)."""
    text = dump_document(doc)
    tidy = _TRAILING.sub("", text)
    if tidy != text:
        try:
            if _plain(_yaml().load(tidy)) != _plain(_yaml().load(text)):
                return text
        except YAMLError:
            return text  # save_notes reads it back and refuses it if it does not parse
    return tidy


def save_notes(notes: NotesFile) -> bool:
    """Write the file atomically if its text changed; True when written.

    Refuses (and writes nothing) if the result would not read back, would lose an entry that
    was there before, or if the file changed on disk since it was read (another command, an
    editor saving): a bug or a race must never cost an editor their words."""
    text = render_document(notes.where, notes.doc)
    if notes.raw is not None and text.encode("utf-8") == notes.raw:
        return False
    try:
        written = entries_of(notes.where, _yaml().load(text))
    except (YAMLError, NotesError) as exc:
        raise NotesError(f"refusing to write: the result would not read back ({exc})",
                         notes.where) from None
    lost = {e.id for e in notes.entries} - {e.id for e in written}
    if lost:
        raise NotesError(f"refusing to write: entries {', '.join(sorted(lost))} would be lost",
                         notes.where)
    on_disk = notes.path.read_bytes() if notes.path.exists() else None
    if on_disk != notes.raw:
        raise NotesError("changed on disk while being updated (by another command, or an "
                         "editor saving it); nothing was written: run the command again",
                         notes.where)
    atomic_write(notes.path, text)
    return True
