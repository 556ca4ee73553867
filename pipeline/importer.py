"""`import`: documents (.docx, .odt, .html, .md) become chapter files with front matter.

Everything is converted into a temporary folder first; only when every document has been read
and every target checked are the files moved into the manual, so a document pandoc cannot read
leaves nothing half-written. The naming rules (ids from headings such as "CP3 - Child
Protection Enquiries", safe file names, front matter kept) are shared with `import-history`.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import yaml
from markdown_it import MarkdownIt

from pipeline.chapters import CHAPTER_ID, collapse, decode, inline_text, split_front_matter
from pipeline.config import Config
from pipeline.convert import IMPORT_READERS, MEDIA_LINK, document_to_markdown
from pipeline.errors import ChapterError, ImportError_
from pipeline.locate import ASSET_SUFFIXES, CHAPTER_SUFFIXES

# "CP3 - Child Protection Enquiries", "CP3 – ...", "PG 37 - Sexual Abuse", "B2.6: ...".
# Upper-case letters only, so ordinary headings ("Part 1 - Scope") are not taken for ids.
ID_HEADING = re.compile(r"^([A-Z]{1,4}) ?(\d+(?:\.\d+)*[a-z]?)\s*[-–—:]\s*(\S.*)$")
_MD = MarkdownIt("commonmark").enable("table")  # as chapters.py reads bodies
# Headings only need the block structure: inline parsing is left to the few heading texts.
_BLOCKS = MarkdownIt("commonmark").enable("table").disable("inline")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NAME_ID = re.compile(r"^([A-Z]{1,4}) ?(\d+(?:\.\d+)*[a-z]?)(?:\s+(.*))?$")
_ID_LIMIT = 64  # CHAPTER_ID's length limit
_NAME_LIMIT = 80
_FRONT = re.compile(r"\A-{3,}[ \t]*\n")
_FRONT_END = re.compile(r"^-{3,}[ \t]*$", re.MULTILINE)


# --- naming ---------------------------------------------------------------------------------

def heading_id(text: str) -> tuple[str, str] | None:
    """(id, title) from a heading like "PG 37 - Sexual Abuse"; None when it reads otherwise."""
    match = ID_HEADING.match(collapse(text))
    if not match:
        return None
    return match.group(1) + match.group(2), match.group(3).strip()


def slugify(text: str, limit: int = _NAME_LIMIT, lower: bool = True) -> str:
    """ASCII letters, digits, '.', '-' and '_' only: safe as a file name and as a chapter id."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text.lower() if lower else text)
    # A run of separators holding a hyphen becomes one hyphen; '..' never survives.
    text = re.sub(r"\.{2,}", ".", re.sub(r"[-._]*-[-._]*", "-", text)).strip("-._")
    if len(text) > limit:
        cut = text[:limit]
        text = (cut.rsplit("-", 1)[0] if "-" in cut[limit // 2:] else cut).strip("-._")
    return text


def name_id(stem: str) -> tuple[str, str] | None:
    """(id, title) from a file name such as "CP3 - Child Protection", "CP3_Child_Protection" or
    "PG 37"; the title is "" when the name is only the id."""
    found = heading_id(stem)
    if found:
        return found
    match = _NAME_ID.match(collapse(stem.replace("_", " ")))
    if not match:
        return None
    return match.group(1) + match.group(2), humanise(match.group(3) or "")


def safe_id(text: str) -> str:
    """A chapter id made from a name ("Safeguarding adults" -> safeguarding-adults)."""
    return slugify(text, _ID_LIMIT) or "chapter"


def humanise(stem: str) -> str:
    """A title from a file name: "safeguarding-adults" -> "Safeguarding adults"."""
    text = collapse(re.sub(r"[-_]+", " ", stem))
    return text[:1].upper() + text[1:] if text else stem


def plain(markdown_inline: str) -> str:
    """The text of one line of Markdown ("Manual \\*2020\\*" -> "Manual *2020*")."""
    tokens = _MD.parseInline(markdown_inline.strip())
    return inline_text(tokens[0])[0] if tokens else collapse(markdown_inline)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str  # plain text
    start: int  # 0-based line of the body where it starts
    end: int  # line after it


def headings(markdown: str) -> list[Heading]:
    """The headings at the top level of the document (not those inside lists or quotes)."""
    tokens = _BLOCKS.parse(markdown)
    out = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0 and token.map:
            out.append(Heading(level=int(token.tag[1:]), text=plain(tokens[i + 1].content),
                               start=token.map[0], end=token.map[1]))
    return out


def _drop_lines(markdown: str, start: int, end: int) -> str:
    lines = markdown.split("\n")
    return "\n".join(lines[:start] + lines[end:]).strip("\n") + "\n"


# --- front matter ---------------------------------------------------------------------------

def split_source_front_matter(name: str, text: str) -> tuple[str | None, dict[str, Any], str]:
    """(front matter text or None, its values, body) of a Markdown file."""
    start = _FRONT.match(text)
    if not start:
        return None, {}, text
    meta, _, _ = split_front_matter(name, text)
    end = _FRONT_END.search(text, start.end())
    assert end is not None  # split_front_matter refused an unclosed block
    # The rest starts at the newline that ends the closing '---', so that front matter
    # rewritten by `with_front_matter` leaves every byte after it as it was.
    return text[start.end(): end.start()], meta, text[end.end():]


def with_front_matter(fm_text: str | None, rest: str, values: dict[str, str]) -> str:
    """A chapter file: `rest` (what followed the front matter) under front matter holding
    `values`."""
    if fm_text is None:
        return front_matter(None, values) + "\n" + rest.lstrip("\n")
    return front_matter(fm_text, values).rstrip("\n") + rest


def _yaml_line(key: str, value: str) -> str:
    return yaml.safe_dump({key: value}, allow_unicode=True, width=10**6,
                          sort_keys=False).rstrip("\n")


def _load(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return None


def front_matter(fm_text: str | None, values: dict[str, str]) -> str:
    """The front matter block ('---' lines included) with `values` set, keeping every other
    line of `fm_text` as written (comments, order, quoting)."""
    old = _load(fm_text or "") or {}
    old = old if isinstance(old, dict) else {}
    lines = fm_text.rstrip("\n").split("\n") if fm_text and fm_text.strip() else []
    rewrite = False
    for key, value in values.items():
        if key in old and str(old[key]).strip() == value:
            continue
        at, single = _find_key(lines, key)
        if at is not None:
            if single:
                lines[at] = _yaml_line(key, value)
            else:
                rewrite = True
            continue
        anchor = {"title": "id", "part": "title"}.get(key)
        after, single = _find_key(lines, anchor) if anchor else (None, True)
        if (after is None or not single) and key == "part":
            after, _ = _find_key(lines, "id")
        lines.insert(0 if after is None else after + 1, _yaml_line(key, value))
    text = "\n".join(lines) + "\n" if lines else ""
    if not rewrite:
        parsed = _load(text)
        rewrite = not isinstance(parsed, dict) or any(
            str(parsed.get(k)).strip() != v for k, v in values.items())
    if rewrite:
        # A value spread over several lines defeated the line edit: write the block afresh.
        merged = {**values, **{k: v for k, v in old.items() if k not in values}}
        text = yaml.safe_dump(merged, allow_unicode=True, sort_keys=False, width=10**6)
    return f"---\n{text}---\n"


def _find_key(lines: list[str], key: str) -> tuple[int | None, bool]:
    """(line holding top-level `key`, whether its value sits on that one line)."""
    for number, line in enumerate(lines):
        if re.match(rf"^{re.escape(key)}\s*:", line):
            value = line.split(":", 1)[1].strip()
            following = lines[number + 1] if number + 1 < len(lines) else ""
            multi = not value or value[0] in "|>" or following[:1] in (" ", "\t")
            return number, not multi
    return None, True


# --- documents into drafts ------------------------------------------------------------------

@dataclass(frozen=True)
class Draft:
    """A chapter read from a document, before it has a place in the manual."""

    id: str
    title: str
    file_stem: str  # the chapter's file name without .md
    body: str  # Markdown; image links start with MEDIA_LINK + "/"
    source: str  # the document, as the user named it
    named_by: str = "name"  # where the id came from: "front matter", "heading" or "name"
    fm_text: str | None = None  # the document's own front matter, kept as written
    explicit_part: str | None = None  # a part the document's front matter gave
    media: tuple[tuple[str, Path], ...] = ()  # (path after MEDIA_LINK/, extracted file)


@dataclass(frozen=True)
class Identity:
    id: str
    title: str
    file_stem: str  # the chapter's file name without .md
    body: str
    named_by: str  # where the id came from: "front matter", "heading" or "name"


def identify(stem: str, body: str, meta: dict[str, Any], doc_title: str = "",
             strip_title: bool = True, heading_first: bool = False) -> Identity:
    """Id, title and file name of a whole document.

    The id comes from the front matter, else from the first of its title, the document's own
    title and its first heading that reads like "CP3 - Child Protection Enquiries", else from
    the file name ("CP3 Child Protection.docx" gives CP3, "Safeguarding adults.docx" gives
    safeguarding-adults). A heading that opens the document and gave the title is dropped from
    the body (the title is in the front matter). `heading_first`: a lone opening heading is a
    better title than the document's own (a web page's <title> names the site as well).
    """
    heads = headings(body)
    first = heads[0] if heads else None
    opens = first is not None and not "\n".join(body.split("\n")[: first.start]).strip()
    # A lone top heading opening the document is its title, not a section.
    title_head = first if (first is not None and opens and
                           sum(h.level <= first.level for h in heads) == 1) else None
    fm_id = str(meta["id"]).strip() if meta.get("id") not in (None, "") else None
    fm_title = collapse(str(meta["title"])) if meta.get("title") not in (None, "") else None
    named = [t for t in (fm_title, doc_title, first.text if first else None) if t]
    found = next(((t, heading_id(t)) for t in named if heading_id(t)), None)
    used_head: Heading | None = None
    from_name = name_id(stem)
    if found is not None:
        text, (chapter_id, title) = found  # type: ignore[misc]
        named_by = "heading"
        if first is not None and text == first.text and opens:
            used_head = first
    else:
        named_by = "heading" if from_name else "name"
        chapter_id, title = from_name or (safe_id(stem), "")
        if doc_title and not (heading_first and title_head is not None):
            title = doc_title
        elif title_head is not None:
            title, used_head = title_head.text, title_head
        title = title or humanise(stem)
    if fm_id is not None:
        chapter_id, named_by = fm_id, "front matter"
    if fm_title is not None:
        title = fm_title
    file_stem = (slugify(stem) or "chapter") if named_by == "name" else \
        slugify(f"{chapter_id} {title}")
    if strip_title and used_head is not None:
        body = _drop_lines(body, used_head.start, used_head.end)
    return Identity(chapter_id, title, file_stem, body, named_by)


def split_at_headings(body: str) -> tuple[str, list[tuple[Heading, str]]]:
    """(text before the first top-level heading, [(heading, its section without it)])."""
    heads = headings(body)
    if not heads:
        return body, []
    top = min(h.level for h in heads)
    cuts = [h for h in heads if h.level == top]
    lines = body.split("\n")
    preamble = "\n".join(lines[: cuts[0].start]).strip("\n")
    sections = []
    for i, head in enumerate(cuts):
        stop = cuts[i + 1].start if i + 1 < len(cuts) else len(lines)
        sections.append((head, "\n".join(lines[head.end: stop]).strip("\n") + "\n"))
    return preamble, sections


def read_document(path: Path, name: str, workdir: Path, split: bool = False,
                  stem: str | None = None) -> tuple[list[Draft], list[str]]:
    """The chapters one document gives (one, or one per top-level heading with `split`), and
    pandoc's warnings. `stem` overrides the file name the fallbacks use."""
    stem = stem if stem is not None else path.stem
    fm_text, meta, text = None, {}, None
    if path.suffix.lower() in CHAPTER_SUFFIXES:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ImportError_(f"cannot read it ({exc.strerror})", name) from None
        fm_text, meta, text = split_source_front_matter(name, decode(name, raw))
    converted = document_to_markdown(path, workdir, name, text=text)
    media = _extracted(converted.media_dir)
    warnings = [f"{name}: {w}" for w in converted.warnings]
    part = str(meta["part"]).strip() if meta.get("part") not in (None, "") else None
    doc_title = plain(converted.title) if converted.title else ""
    html = IMPORT_READERS.get(path.suffix.lower()) == "html"
    preamble, sections = split_at_headings(converted.markdown) if split else ("", [])
    if not sections:
        who = identify(stem, converted.markdown, meta, doc_title, heading_first=html)
        drafts = [Draft(who.id, who.title, who.file_stem, who.body, name, who.named_by, fm_text,
                        part)]
    else:
        # The document's own front matter (less id and title) goes with every chapter.
        shared = {k: v for k, v in meta.items() if k not in ("id", "title")}
        shared_text = yaml.safe_dump(shared, allow_unicode=True, sort_keys=False) \
            if shared else None
        drafts = []
        if preamble.strip():
            who = identify(stem, preamble + "\n", {}, doc_title, heading_first=html)
            drafts.append(Draft(who.id, who.title, who.file_stem, who.body, name, who.named_by,
                                shared_text, part))
        for head, body in sections:
            found = heading_id(head.text)
            if found:
                chapter_id, title = found
                file_stem, named_by = slugify(f"{chapter_id} {title}"), "heading"
            else:
                chapter_id, title = safe_id(head.text), head.text
                file_stem, named_by = slugify(head.text), "name"
            drafts.append(Draft(chapter_id, title, file_stem or chapter_id.lower(), body, name,
                                named_by, shared_text, part))
        drafts = _unique_ids(drafts)
    return [_with_media(d, media) for d in drafts], warnings


def _extracted(media_dir: Path) -> list[tuple[str, Path]]:
    if not media_dir.is_dir():
        return []
    return sorted((p.relative_to(media_dir).as_posix(), p)
                  for p in media_dir.rglob("*") if p.is_file())


def _with_media(draft: Draft, media: list[tuple[str, Path]]) -> Draft:
    used = tuple((rel, path) for rel, path in media
                 if f"{MEDIA_LINK}/{rel}" in draft.body
                 or f"{MEDIA_LINK}/{quote(rel)}" in draft.body)
    return replace(draft, media=used)


def _unique_ids(drafts: list[Draft]) -> list[Draft]:
    """Headings that repeat ("Appendix" twice) get -2, -3 ...; numbered ids must be unique."""
    seen: Counter[str] = Counter()
    out = []
    for draft in drafts:
        seen[draft.id] += 1
        if seen[draft.id] > 1 and draft.named_by == "name":
            n = seen[draft.id]
            draft = replace(draft, id=f"{draft.id[:_ID_LIMIT - 4]}-{n}",
                            file_stem=f"{draft.file_stem}-{n}")
        out.append(draft)
    return out


# --- drafts into files ----------------------------------------------------------------------

@dataclass(frozen=True)
class Planned:
    """A chapter file (and its images) ready to be moved into the manual."""

    path: str  # relative to the manual root, posix
    id: str
    title: str
    part: str
    text: str
    media: tuple[tuple[str, Path], ...]  # (relative path in the manual, extracted file)
    source: str
    replaces: str | None = None  # the existing chapter of the same id, with --force


def render(draft: Draft, part: str, folder: str, stem: str | None = None
           ) -> tuple[str, tuple[tuple[str, Path], ...], list[str]]:
    """(file text, media placed beside the chapter, warnings) of a draft written as
    `folder`/`stem`.md."""
    stem = stem or draft.file_stem
    body, media, warnings = draft.body, [], []
    taken: set[str] = set()
    for rel, path in sorted(draft.media, key=lambda m: -len(m[0])):
        suffix = path.suffix.lower()
        if suffix not in ASSET_SUFFIXES:
            warnings.append(f"{draft.source}: image {PurePosixPath(rel).name} left out "
                            f"({suffix or 'no suffix'} files cannot sit beside chapters)")
            continue
        name = (slugify(path.stem) or "image") + suffix
        n = 1
        while name in taken:
            n += 1
            name = f"{slugify(path.stem) or 'image'}-{n}{suffix}"
        taken.add(name)
        link = f"{stem}-media/{name}"
        body = body.replace(f"{MEDIA_LINK}/{rel}", link).replace(f"{MEDIA_LINK}/{quote(rel)}",
                                                                  link)
        media.append((f"{folder}/{link}", path))
    values = {"id": draft.id, "title": draft.title, "part": part}
    text = with_front_matter(draft.fm_text, "\n\n" + body.lstrip("\n"), values)
    return text, tuple(sorted(media)), warnings


@dataclass(frozen=True)
class Existing:
    """What the manual already holds: chapter id -> path, and where each part's chapters are."""

    ids: dict[str, str]
    folders: dict[str, str]  # part -> the folder most of its chapters are in
    paths: set[str]


def scan_manual(config: Config) -> Existing:
    """Ids and parts of the chapters in the working tree, read leniently: a broken chapter
    elsewhere must not stop an import."""
    ids: dict[str, str] = {}
    part_folders: dict[str, Counter[str]] = {}
    paths: set[str] = set()
    root = config.procedures_dir
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        rel = path.relative_to(config.root).as_posix()
        if not path.is_file():
            continue
        paths.add(rel)
        if path.suffix.lower() not in CHAPTER_SUFFIXES:
            continue
        try:
            meta, _, _ = split_front_matter(rel, decode(rel, path.read_bytes()))
        except ChapterError:
            continue
        if meta.get("id") not in (None, ""):
            ids.setdefault(str(meta["id"]).strip(), rel)
        if meta.get("part") not in (None, ""):
            folder = PurePosixPath(rel).parent.as_posix()
            part_folders.setdefault(str(meta["part"]).strip(), Counter())[folder] += 1
    folders = {part: c.most_common(1)[0][0] for part, c in part_folders.items()}
    return Existing(ids=ids, folders=folders, paths=paths)


def expand_sources(sources: Iterable[Path]) -> list[tuple[Path, str]]:
    """(file, name to show) for every document named, folders walked for importable files."""
    out: list[tuple[Path, str]] = []
    for source in sources:
        if source.is_dir():
            found = sorted(p for p in source.rglob("*") if p.is_file()
                           and p.suffix.lower() in IMPORT_READERS
                           and not any(part.startswith(".") for part in
                                       p.relative_to(source).parts))
            out.extend((p, str(p)) for p in found)
        elif source.is_file():
            out.append((source, str(source)))
        else:
            raise ImportError_("no such file", str(source))
    return out


def plan_import(config: Config, drafts: list[tuple[Draft, Path]], part: str | None,
                force: bool, existing: Existing) -> tuple[list[Planned], list[str]]:
    """Where each draft goes, refusing overwrites and duplicate ids unless `force`.

    With `force`, a chapter whose id the manual already has replaces that chapter in place (same
    file, so git sees an edit, not a move), and an existing file at the target is replaced.
    """
    planned: list[Planned] = []
    warnings: list[str] = []
    by_id: dict[str, str] = {}
    by_path: dict[str, str] = {}
    for draft, source_path in drafts:
        parent = source_path.absolute().parent
        # A document sitting in the procedures folder itself names no part by its folder.
        folder_part = "" if parent == config.procedures_dir.absolute() else parent.name
        chapter_part = part or draft.explicit_part or folder_part or "main"
        folder = existing.folders.get(chapter_part) or \
            f"{config.procedures}/{slugify(chapter_part) or 'main'}"
        if not CHAPTER_ID.match(draft.id) or ".." in draft.id:
            raise ImportError_(f"invalid id '{draft.id}' in its front matter", draft.source)
        rel = f"{folder}/{draft.file_stem}.md"
        replaces = None
        if draft.id in existing.ids and existing.ids[draft.id] != rel:
            if not force:
                raise ImportError_(f"the manual already has a chapter {draft.id} "
                                   f"({existing.ids[draft.id]}); use --force to replace it",
                                   draft.source)
            rel = replaces = existing.ids[draft.id]
            folder = PurePosixPath(rel).parent.as_posix()
        elif rel in existing.paths:
            if not force:
                raise ImportError_(f"{rel} already exists; use --force to replace it",
                                   draft.source)
            replaces = rel
        if draft.id in by_id:
            raise ImportError_(f"two chapters would have the id {draft.id} "
                               f"(also from {by_id[draft.id]})", draft.source)
        if rel in by_path:
            raise ImportError_(f"two chapters would be written to {rel} "
                               f"(also from {by_path[rel]})", draft.source)
        by_id[draft.id], by_path[rel] = draft.source, rel
        text, media, more = render(draft, chapter_part, folder, PurePosixPath(rel).stem)
        warnings += more
        clash = next((m for m, _ in media if m in existing.paths), None)
        if clash is not None and replaces is None and not force:
            raise ImportError_(f"{clash} already exists; use --force to replace it",
                               draft.source)
        planned.append(Planned(path=rel, id=draft.id, title=draft.title, part=chapter_part,
                               text=text, media=media, source=draft.source, replaces=replaces))
    return planned, warnings


@dataclass(frozen=True)
class Written:
    path: str
    id: str
    title: str
    part: str
    source: str
    replaced: bool
    media: tuple[str, ...]


def import_documents(config: Config, sources: list[Path], part: str | None = None,
                     split: bool = False, force: bool = False
                     ) -> tuple[list[Written], list[str]]:
    """Convert and write every document; all or nothing. Returns what was written and the
    warnings to show."""
    documents = expand_sources(sources)
    if not documents:
        raise ImportError_("no documents to import (.docx, .odt, .html or .md)",
                           str(sources[0]) if sources else None)
    existing = scan_manual(config)
    config.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".editorial-import-", dir=config.root) as tmp:
        work = Path(tmp)
        drafts: list[tuple[Draft, Path]] = []
        warnings: list[str] = []
        for n, (path, name) in enumerate(documents):
            found, more = read_document(path, name, work / f"doc-{n}", split)
            drafts.extend((d, path) for d in found)
            warnings += more
        planned, more = plan_import(config, drafts, part, force, existing)
        warnings += more
        install(config.root, work, planned)
    for path, name in documents:
        line = _left_inside(config, path, [p.path for p in planned if p.source == name])
        if line:
            warnings.append(line)
    written = [Written(path=p.path, id=p.id, title=p.title, part=p.part, source=p.source,
                       replaced=p.replaces is not None, media=tuple(m for m, _ in p.media))
               for p in planned]
    return written, warnings


def _left_inside(config: Config, path: Path, chapters: list[str]) -> str | None:
    """A warning when an imported document sits where a snapshot refuses it: a binary file
    (a .docx or .odt) under the procedures folder. The import goes ahead, since its chapter
    is what the user asked for, but the original is theirs to move or delete, not ours."""
    try:
        rel = path.resolve().relative_to(config.procedures_dir.resolve())
    except ValueError:
        return None
    if path.suffix.lower() in CHAPTER_SUFFIXES + ASSET_SUFFIXES:
        return None
    try:
        with path.open("rb") as handle:
            binary = b"\0" in handle.read(8000)  # as the snapshot tells a binary file
    except OSError:
        return None
    if not binary:
        return None
    shown = f"{config.procedures}/{rel.as_posix()}"
    now = f" (its text is now in {', '.join(chapters)})" if chapters else ""
    return (f"{shown}: the original document is still in the procedures folder, where "
            f"editorial refuses binary files; move or delete it{now}")


def install(root: Path, work: Path, planned: list[Planned]) -> None:
    """Move the staged files into the manual; on any failure put everything back as it was."""
    staged: list[tuple[Path, Path]] = []  # (file in the temp folder, destination)
    stage = work / "stage"
    for n, item in enumerate(planned):
        chapter = stage / f"{n}.md"
        chapter.parent.mkdir(parents=True, exist_ok=True)
        chapter.write_text(item.text, encoding="utf-8")
        staged.append((chapter, root / item.path))
        staged.extend((source, root / rel) for rel, source in item.media)
    # With --force, the images of the chapter being replaced go with it.
    stale = {root / PurePosixPath(p.path).with_name(PurePosixPath(p.path).stem + "-media")
             for p in planned if p.replaces}
    backup = work / "backup"
    moved_aside: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    made: list[Path] = []
    try:
        for n, folder in enumerate(sorted(stale)):
            if folder.is_dir():
                aside = backup / f"media-{n}"
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(folder, aside)
                moved_aside.append((aside, folder))
        for n, (source, dest) in enumerate(staged):
            made.extend(_make_parents(dest.parent))
            if dest.exists():
                aside = backup / f"file-{n}"
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(dest, aside)
                moved_aside.append((aside, dest))
            os.replace(source, dest)
            placed.append(dest)
    except OSError:
        for dest in reversed(placed):
            dest.unlink(missing_ok=True)
        for aside, dest in reversed(moved_aside):
            os.replace(aside, dest)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return those it created, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


