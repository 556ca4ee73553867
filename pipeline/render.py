"""Templates in, documents out: the bulletin, chapter pages, index, complete list (HTML, and
the HTML that pandoc turns into DOCX, Markdown and PDF), changes.json and changes.csv.

Templates are Jinja2, looked up first in the manual's own `templates/` and then among the
built-in ones, so a manual overrides any of them by file name and `extends`/`include` work
across both. Autoescaping is on and the environment is sandboxed; editors' text reaches a
template only as data (see pipeline.sanitize), so it is printed, never evaluated.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import importlib.resources
import io
import re
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    DictLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from pipeline import gitio, jsonout
from pipeline.convert import PDF_HELP, Conversion, markdown_batches, pdf_engine
from pipeline.errors import EditorialError
from pipeline.manual import Manual
from pipeline.models import Release
from pipeline.sanitize import plain, safe_name
from pipeline.view import ChapterView, PartView, ReleaseView, build_view, worktree_data

TEMPLATES_DIR = "templates"
TEMPLATE_SUFFIXES = (".j2", ".css", ".html", ".md")
# The documents, by the template that makes each.
DOCUMENTS = {
    "bulletin": "bulletin.html.j2",
    "chapter": "chapter.html.j2",
    "index": "index.html.j2",
    "complete_list": "complete-list.html.j2",
    "part": "part.html.j2",
    "feed_entry": "feed-entry.html.j2",
}
DOCUMENT_FORMATS = ("html", "docx", "md", "pdf")  # what templates are rendered for
DATA_OUTPUTS = ("changes.json", "changes.csv", "feed.atom")  # always written
_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


# --- Finding and loading templates ----------------------------------------------------------

def builtin_dir() -> Path:
    """The built-in templates: inside the installed package (`pipeline.templates`), else the
    source checkout's `templates/` (running from a clone without installing)."""
    try:
        found = Path(str(importlib.resources.files("pipeline.templates")))
        if (found / DOCUMENTS["bulletin"]).is_file():
            return found
    except (ModuleNotFoundError, TypeError):
        pass
    checkout = Path(__file__).resolve().parents[1] / TEMPLATES_DIR
    if (checkout / DOCUMENTS["bulletin"]).is_file():
        return checkout
    raise EditorialError("the built-in templates are missing (reinstall editorial)")


def builtin_names() -> list[str]:
    return sorted(p.name for p in builtin_dir().iterdir()
                  if p.is_file() and p.name.endswith(TEMPLATE_SUFFIXES))


def worktree_loader(root: Path) -> BaseLoader:
    """The manual's templates/ over the built-in ones."""
    own = root / TEMPLATES_DIR
    search = [str(own)] if own.is_dir() else []
    return FileSystemLoader([*search, str(builtin_dir())])


def commit_loader(manual: Manual, commit: str) -> BaseLoader:
    """The manual's templates/ as they stood at `commit`, over the built-in ones."""
    files = gitio.list_files(manual.repo, commit, TEMPLATES_DIR)
    own = {}
    for path, blob in files.items():
        name = path.removeprefix(TEMPLATES_DIR + "/")
        if name.endswith(TEMPLATE_SUFFIXES):
            own[name] = gitio.blob_bytes(manual.repo, blob).decode("utf-8", "replace")
    return ChoiceLoader([DictLoader(own), FileSystemLoader(str(builtin_dir()))])


def environment(loader: BaseLoader) -> SandboxedEnvironment:
    return SandboxedEnvironment(loader=loader, autoescape=True, undefined=StrictUndefined,
                                trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=True)


# --- Where documents live, and links between them -------------------------------------------

def part_slug(part_id: str, taken: set[str]) -> str:
    """A file name for a part (part ids are free text in editorial.toml)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", part_id).strip("-.")[:60] or "part"
    base, n = slug, 2
    while slug.lower() in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug.lower())
    return slug


@dataclass(frozen=True)
class Links:
    """`url_for(kind, id)` in templates: the relative link from one document to another in
    the same format ("" when that format has no such document)."""

    fmt: str  # html, md, docx, pdf
    depth: int  # folders below the output root
    part_files: Mapping[str, str]  # chapter id -> its part's DOCX

    def __call__(self, kind: str, ident: str | None = None) -> str:
        ext = {"html": "html", "md": "md", "docx": "docx", "pdf": "pdf"}[self.fmt]
        anchors = self.fmt == "html"
        if kind == "bulletin":
            target = f"bulletin.{ext}"
        elif kind in ("complete_list", "change"):
            target = f"complete-list.{ext}"
            if ident and anchors:
                target += f"#{'change' if kind == 'change' else 'chapter'}-{ident}"
        elif kind == "complete_list_across":
            target = f"complete-list.{ext}" + ("#across" if anchors else "")
        elif kind == "index":
            target = f"index.{ext}" if self.fmt in ("html", "md") else ""
        elif kind == "chapter":
            if self.fmt in ("html", "md"):
                target = f"chapters/{ident}.{ext}"
            elif self.fmt == "docx" and ident in self.part_files:
                target = self.part_files[ident]
            else:
                target = ""
        else:
            raise TemplateError(f"url_for: unknown document kind '{kind}'")
        return ("../" * self.depth + target) if target else ""


# --- Rendering -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """What a release renders to: finished files, the pandoc conversions still to run, and
    how their Markdown is finished (see `finish`)."""

    files: dict[str, bytes]
    conversions: tuple[Conversion, ...]
    notes: tuple[str, ...]  # messages for the user (a format that could not be made)
    # Markdown output name -> (placeholder, chapter Markdown) to put in place of each.
    bodies: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # Markdown made only to become a DOCX: its name -> the DOCX's name.
    docx_from_md: dict[str, str] = field(default_factory=dict)


def chapter_file(chapter: ChapterView, ext: str) -> str:
    return f"chapters/{safe_name(chapter.id, 'chapter id', chapter.path)}.{ext}"


def _context(view: ReleaseView, links: Links, page: str) -> dict[str, Any]:
    return {
        "view": view, "manual": view.manual, "release": view.release, "parts": view.parts,
        "bulletin": view.bulletin, "across": view.across, "complete": view.complete,
        "complete_across": view.complete_across, "across_uncovered": view.across_uncovered,
        "entries": view.entries, "changes": view.changes, "history": view.history,
        "format": links.fmt, "url_for": links, "page": page,
    }


def _render(env: SandboxedEnvironment, document: str, context: Mapping[str, Any]) -> str:
    return env.get_template(DOCUMENTS[document]).render(context)


class _Placeholders:
    """Chapter bodies in Markdown documents: the templates print a placeholder paragraph,
    pandoc converts only the page around it, and the chapter's own (cleaned) Markdown goes in
    its place afterwards. Converting the bodies' HTML back into Markdown would cost pandoc
    most of its time on a large manual, and give back less faithful text."""

    def __init__(self, release_id: str) -> None:
        digest = hashlib.sha256(f"editorial:{release_id}".encode()).hexdigest()[:12]
        self.prefix = f"EDITORIALBODY{int(digest, 16)}N"
        self.count = 0

    def swap(self, chapter: ChapterView, found: list[tuple[str, str]]) -> ChapterView:
        token = f"{self.prefix}{self.count}"
        self.count += 1
        found.append((token, chapter.markdown))
        return replace(chapter, body=Markup(f"<p>{token}</p>"))


def render_plan(view: ReleaseView, env: SandboxedEnvironment,
                formats: Sequence[str]) -> Plan:
    wanted = [f for f in DOCUMENT_FORMATS if f in formats]
    notes: list[str] = []
    if "pdf" in wanted and pdf_engine() is None:
        wanted.remove("pdf")
        notes.append(PDF_HELP)
    taken: set[str] = set()
    part_docs = {p.id: f"parts/{part_slug(p.id, taken)}.docx" for p in view.parts}
    part_files = {c.id: part_docs[p.id] for p in view.parts for c in p.chapters}
    files: dict[str, bytes] = {}
    conversions: list[Conversion] = []
    markdown: list[tuple[str, str]] = []  # (name, HTML) to convert to Markdown together
    part_pages: list[tuple[str, str]] = []
    bodies: dict[str, tuple[tuple[str, str], ...]] = {}
    docx_from_md: dict[str, str] = {}
    holders = _Placeholders(view.release.id)
    for fmt in wanted:
        top = Links(fmt, 0, part_files)
        bulletin = _render(env, "bulletin", _context(view, top, "bulletin"))
        complete = _render(env, "complete_list", _context(view, top, "complete_list"))
        if fmt == "html":
            files["bulletin.html"] = inline_css(bulletin).encode("utf-8")
            files["complete-list.html"] = complete.encode("utf-8")
            for name, text in _pages(view, env, fmt):
                files[name] = text.encode("utf-8")
        elif fmt == "md":
            markdown += [("bulletin.md", bulletin), ("complete-list.md", complete)]
            for name, text in _pages(view, env, fmt, holders, bodies):
                markdown.append((name, text))
        elif fmt == "docx":
            conversions.append(Conversion("docx", ("bulletin.docx",), (bulletin,)))
            conversions.append(Conversion("docx", ("complete-list.docx",), (complete,)))
            for part in view.parts:
                found: list[tuple[str, str]] = []
                swapped = replace(part, chapters=tuple(holders.swap(c, found)
                                                       for c in part.chapters))
                context = {**_context(view, top, "part"), "part": swapped}
                name = part_docs[part.id] + ".md"
                part_pages.append((name, _render(env, "part", context)))
                bodies[name] = tuple(found)
                docx_from_md[name] = part_docs[part.id]
        else:
            style = env.get_template("style.css").render()
            conversions.append(Conversion("pdf", ("bulletin.pdf",), (bulletin,), style=style))
            conversions.append(Conversion("pdf", ("complete-list.pdf",), (complete,),
                                          style=style))
    conversions.extend(markdown_batches(markdown))
    # The parts' pages on their own: small, so their DOCX can start early.
    conversions.extend(markdown_batches(part_pages))
    files["changes.json"] = changes_json(view)
    files["changes.csv"] = changes_csv(view)
    return Plan(files=files, conversions=tuple(conversions), notes=tuple(notes),
                bodies=bodies, docx_from_md=docx_from_md)


def _with_bodies(plan: Plan, name: str, data: bytes) -> str:
    text = data.decode("utf-8")
    for token, body in plan.bodies.get(name, ()):
        text = re.sub(rf"^[ \t]*{token}[ \t]*$", lambda _m, b=body: b.rstrip("\n"), text,
                      count=1, flags=re.MULTILINE)
    return text


def finish(plan: Plan, converted: Mapping[str, bytes]) -> dict[str, bytes]:
    """The finished files among what pandoc made: chapters' Markdown put in place."""
    return {name: _with_bodies(plan, name, data).encode("utf-8") if name in plan.bodies
            else data
            for name, data in converted.items() if name not in plan.docx_from_md}


def follow_ups(plan: Plan, converted: Mapping[str, bytes]) -> tuple[Conversion, ...]:
    """The DOCX to make from Markdown among what pandoc just made."""
    return tuple(Conversion("docx", (plan.docx_from_md[name],),
                            (_with_bodies(plan, name, data),), source="gfm")
                 for name, data in converted.items() if name in plan.docx_from_md)


def _pages(view: ReleaseView, env: SandboxedEnvironment, fmt: str,
           holders: _Placeholders | None = None,
           bodies: dict[str, tuple[tuple[str, str], ...]] | None = None
           ) -> list[tuple[str, str]]:
    """The index and every chapter page, in `fmt`'s links; with `holders`, each chapter's
    body is a placeholder (recorded in `bodies`)."""
    top = Links(fmt, 0, {})
    out = [(f"index.{fmt}", _render(env, "index", _context(view, top, "index")))]
    inside = _context(view, Links(fmt, 1, {}), "chapter")
    chapters = view.chapters
    part_of: dict[str, PartView] = {c.id: p for p in view.parts for c in p.chapters}
    for i, chapter in enumerate(chapters):
        name = chapter_file(chapter, fmt)
        shown = chapter
        if holders is not None and bodies is not None:
            found: list[tuple[str, str]] = []
            shown = holders.swap(chapter, found)
            bodies[name] = tuple(found)
        context = {**inside, "chapter": shown, "part": part_of[chapter.id],
                   "previous": chapters[i - 1] if i else None,
                   "next": chapters[i + 1] if i + 1 < len(chapters) else None}
        out.append((name, _render(env, "chapter", context)))
    return out


def inline_css(document: str) -> str:
    """The document's <style> rules copied into style attributes (mail clients drop <style>),
    with the <style> kept for the clients that read it."""
    return css_inline.inline(document, keep_style_tags=True)


def feed_entry_html(view: ReleaseView, env: SandboxedEnvironment, index: int) -> str:
    """The Atom content of `view.feed[index]`; links are made absolute by the feed."""
    context = {**_context(view, Links("html", 0, {}), "feed_entry"),
               "item": view.feed[index]}
    return _render(env, "feed_entry", context)


def release_epoch(date: str) -> int:
    """Noon UTC on the release date, as seconds: the time stamped into DOCX files."""
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        day = dt.date(1980, 1, 1)  # the earliest date a zip file can hold
    return int(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).timestamp())


# --- changes.json and changes.csv -----------------------------------------------------------

def changes_json(view: ReleaseView) -> bytes:
    covering = {c: e.id for e in view.raw_entries for c in e.changes}
    data = {
        "release": {"id": view.release.id, "title": view.release.title,
                    "date": view.release.date, "base": view.release.base},
        "from": view.release.base,
        "to": view.release.id,
        "changes": [{**c.to_json(), "entry": covering.get(c.id)} for c in view.raw_changes],
        "entries": [{"id": e.id, "chapter": e.chapter, "significance": e.significance,
                     "summary": e.summary, "why": e.why, "action": e.action or None,
                     "audience": list(e.audience), "changes": list(e.changes),
                     "orphaned": e.orphaned} for e in view.raw_entries],
    }
    text = jsonout.dumps(data, end="\n")
    # The same data, but no "<" or "&" anywhere in the file: safe to embed in a page.
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .encode("utf-8"))


CSV_COLUMNS = ("part", "chapter", "chapter_title", "entry", "significance", "summary", "why",
               "change", "kind", "location", "old", "new", "redline")


def _cell(value: object) -> str:
    """Plain text; a cell a spreadsheet would read as a formula is quoted as text."""
    text = plain(str(value)) if value is not None else ""
    return "'" + text if text.startswith(_CSV_FORMULA) else text


def changes_csv(view: ReleaseView) -> bytes:
    """One row per change with the entry covering it; entries without changes, and changes
    not yet described, get a row each too."""
    titles = {c.id: (c.title, p.title) for p in view.parts for c in p.chapters}
    for group in view.complete:
        for chapter in group.chapters:
            titles.setdefault(chapter.id, (chapter.title, group.title))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)

    def row(chapter: str | None, entry: Any, change: Any) -> None:
        title, part = titles.get(chapter or "", ("", "Across the procedures"))
        writer.writerow([_cell(v) for v in (
            part, chapter or "", title,
            entry.id if entry else "", entry.significance if entry else "",
            entry.summary.text if entry else "", entry.why.text if entry else "",
            change.id if change else "", change.kind if change else "",
            change.location if change else "", change.old if change else "",
            change.new if change else "", change.redline_text if change else "")])

    for entry in view.entries:
        for change in entry.changes or (None,):
            row(entry.chapter, entry, change)
    for change in view.changes:
        if change.entry is None:
            row(change.chapter, None, change)
    return buffer.getvalue().encode("utf-8")


# --- Checking templates (for `editorial check`) ---------------------------------------------

def check_templates(manual: Manual, release: Release) -> list[str]:
    """Problems with the manual's own templates, each `templates/<file>[:<line>]: <what>`:
    syntax errors, names that look like a misspelt built-in, and errors met rendering every
    document of `release` from the working tree. Empty when all is well."""
    own = manual.root / TEMPLATES_DIR
    problems: list[str] = []
    names = builtin_names()
    files = sorted(p for p in own.rglob("*") if p.is_file()) if own.is_dir() else []
    env = environment(worktree_loader(manual.root))
    for path in files:
        name = path.relative_to(own).as_posix()
        where = f"{TEMPLATES_DIR}/{name}"
        if not name.endswith(TEMPLATE_SUFFIXES) or name == "__init__.py":
            continue
        if name not in names:
            hint = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
            if hint:
                problems.append(f"{where}: overrides no built-in template "
                                f"(did you mean '{hint[0]}'?)")
        try:
            env.parse(path.read_text("utf-8"), name=name, filename=where)
        except TemplateSyntaxError as exc:
            problems.append(f"{where}:{exc.lineno}: {exc.message}")
        except UnicodeDecodeError:
            problems.append(f"{where}: not valid UTF-8")
    if problems:
        return problems
    try:
        view = build_view(worktree_data(manual, release.id))
    except EditorialError:
        return []  # the other checks report what stops the release being read
    try:
        render_plan(view, env, ("html",))
        if view.feed:
            feed_entry_html(view, env, 0)
    except TemplateError as exc:
        problems.append(_template_problem(exc, own))
    except EditorialError as exc:
        problems.append(str(exc))
    return problems


def _template_problem(exc: TemplateError, own: Path) -> str:
    """`templates/<file>:<line>: <what>` for an error met while rendering."""
    if isinstance(exc, TemplateNotFound):
        return f"{TEMPLATES_DIR}: template '{exc.name}' not found (an extends or include?)"
    where, line = TEMPLATES_DIR, None
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        filename = frame.filename or ""
        if filename.endswith(TEMPLATE_SUFFIXES):
            path = Path(filename)
            where = (f"{TEMPLATES_DIR}/{path.relative_to(own).as_posix()}"
                     if path.is_relative_to(own) else f"built-in {path.name}")
            line = frame.lineno
            break
    return f"{where}:{line}: {exc}" if line else f"{where}: {exc}"
