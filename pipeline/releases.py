"""Release records: `releases/<id>/release.toml`, read and written with their comments kept."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

from pipeline import gitio
from pipeline.config import Config
from pipeline.errors import RefError, ReleaseError
from pipeline.fsutil import atomic_write
from pipeline.gitio import Repo
from pipeline.models import Approval, Release

RELEASE_FILE = "release.toml"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_STATUSES = ("draft", "approved", "published")


def validate_release_id(release_id: str) -> str:
    if not _ID.match(release_id) or ".." in release_id:
        raise ReleaseError(f"invalid release id '{release_id}' (letters, digits, '.', '-', '_'; "
                           "such as 2023-09)")
    return release_id


def release_dir(config: Config, release_id: str) -> Path:
    return config.releases_dir / validate_release_id(release_id)


def release_file(config: Config, release_id: str) -> Path:
    return release_dir(config, release_id) / RELEASE_FILE


def _rel(config: Config, path: Path) -> str:
    try:
        return path.relative_to(config.root).as_posix()
    except ValueError:
        return str(path)


def load_release(config: Config, release_id: str) -> Release:
    path = release_file(config, release_id)
    if not path.is_file():
        raise ReleaseError(f"no release '{release_id}' (see 'editorial release list')",
                           _rel(config, path))
    return parse_release(_rel(config, path), path.read_bytes(), release_id)


def parse_release(where: str, raw: bytes, release_id: str) -> Release:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ReleaseError("not valid UTF-8", where) from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc).split(" (at line")[0]
        raise ReleaseError(f"invalid TOML: {msg}", where, getattr(exc, "lineno", None)) from None
    status = data.get("status", "draft")
    if status not in _STATUSES:
        raise ReleaseError(f"unknown status '{status}' (draft, approved or published)", where)
    date = data.get("date", "")
    if isinstance(date, dt.date):
        date = date.isoformat()
    approvals = []
    for item in data.get("approvals", []):
        if not isinstance(item, dict) or not item.get("by"):
            raise ReleaseError("each [[approvals]] needs 'by'", where)
        at = item.get("at", "")
        approvals.append(Approval(by=str(item["by"]), role=str(item.get("role", "")),
                                  at=at.isoformat() if isinstance(at, dt.datetime) else str(at),
                                  tree=str(item.get("tree", ""))))
    known = {"id", "title", "date", "base", "status", "approvals", "source_commit",
             "introduction"}
    return Release(
        id=str(data.get("id", release_id)),
        title=str(data.get("title", release_id)),
        date=str(date),
        base=str(data["base"]) if data.get("base") else None,
        status=status,
        approvals=tuple(approvals),
        source_commit=data.get("source_commit") or None,
        introduction=str(data.get("introduction", "")),
        extra=tuple((k, v) for k, v in data.items() if k not in known),
    )


def list_releases(config: Config) -> list[Release]:
    """Every release record, oldest first (by date, then id)."""
    if not config.releases_dir.is_dir():
        return []
    out = []
    for folder in sorted(config.releases_dir.iterdir()):
        if (folder / RELEASE_FILE).is_file() and _ID.match(folder.name):
            out.append(load_release(config, folder.name))
    return sorted(out, key=lambda r: (r.date, r.id))


def last_published(config: Config) -> Release | None:
    published = [r for r in list_releases(config) if r.status == "published"]
    return published[-1] if published else None


def open_release(config: Config) -> Release:
    """The release being worked on: the newest one not yet published."""
    drafts = [r for r in list_releases(config) if r.status != "published"]
    if not drafts:
        raise ReleaseError("no open release (start one with 'editorial release start ID')",
                           "releases")
    return drafts[-1]


def save_release(config: Config, release: Release) -> None:
    """Write the record, keeping any comments and keys editors added by hand."""
    # Loaded here: only writing a record needs it, and every command reads records.
    import tomlkit

    path = release_file(config, release.id)
    doc = tomlkit.parse(path.read_text("utf-8")) if path.is_file() else tomlkit.document()
    doc["id"] = release.id
    doc["title"] = release.title
    doc["date"] = release.date
    _set_or_drop(doc, "base", release.base)
    doc["status"] = release.status
    _set_or_drop(doc, "source_commit", release.source_commit)
    if release.introduction and "introduction" not in doc:
        doc["introduction"] = tomlkit.string(release.introduction, multiline=True)
    if release.approvals:
        table = tomlkit.aot()
        for a in release.approvals:
            item = tomlkit.table()
            item["by"] = a.by
            if a.role:
                item["role"] = a.role
            item["at"] = a.at
            item["tree"] = a.tree
            table.append(item)
        doc["approvals"] = table
    elif "approvals" in doc:
        del doc["approvals"]
    atomic_write(path, tomlkit.dumps(doc))


def _set_or_drop(doc: Any, key: str, value: str | None) -> None:
    if value:
        doc[key] = value
    elif key in doc:
        del doc[key]


def start_release(config: Config, release_id: str, title: str | None = None,
                  date: str | None = None, base: str | None = None,
                  repo: Repo | None = None) -> Release:
    validate_release_id(release_id)
    path = release_file(config, release_id)
    if path.exists():
        raise ReleaseError(f"release '{release_id}' already exists", _rel(config, path))
    if date is None:
        date = dt.date.today().isoformat()
    else:
        try:
            date = dt.date.fromisoformat(date).isoformat()
        except ValueError:
            raise ReleaseError(f"invalid date '{date}' (use YYYY-MM-DD)") from None
    if base is None:
        previous = last_published(config)
        base = previous.id if previous else None
    elif repo is not None:
        base_commit(config, repo, base)  # refuse an unknown base now, not at 'changes'
    release = Release(id=release_id, title=title or default_title(date), date=date, base=base)
    save_release(config, release)
    return release


def default_title(date: str) -> str:
    return dt.date.fromisoformat(date).strftime("%B %Y")


def base_commit(config: Config, repo: Repo, base: str) -> str:
    """The commit a release's base names: a release id (its recorded source commit, else its
    tag) or any git ref."""
    if _ID.match(base) and release_file(config, base).is_file():
        record = load_release(config, base)
        if record.source_commit:
            return gitio.resolve(repo, record.source_commit)
        tag = config.tag_for(base)
        if gitio.tag_exists(repo, tag):
            return gitio.resolve(repo, tag)
        raise RefError(f"release '{base}' is not published yet (no source commit, no tag)",
                       _rel(config, release_file(config, base)))
    return gitio.resolve(repo, base)


def resolve_ref(config: Config, repo: Repo, ref: str) -> str:
    """A command-line ref: a release id first, then anything git knows."""
    return base_commit(config, repo, ref)
