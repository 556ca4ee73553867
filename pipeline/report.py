"""Plain-text and HTML reports of a change set, for the terminal (`changes`, `diff`)."""

from __future__ import annotations

import html
from collections.abc import Iterable

from pipeline.config import Config
from pipeline.manual import ChangeSet
from pipeline.models import Change, Segment, redline_markup

_RED, _GREEN, _BOLD, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[0m"


def redline_text(segments: Iterable[Segment], color: bool = False) -> str:
    """`[-deleted-]{+inserted+}`; coloured red and green for a terminal."""
    if not color:
        return redline_markup(segments)
    return redline_markup(segments, f"{_RED}[-{{}}-]{_RESET}", f"{_GREEN}{{{{+{{}}+}}}}{_RESET}")


def redline_html(segments: Iterable[Segment]) -> str:
    out = []
    for s in segments:
        text = html.escape(s.text)
        if s.op == "equal":
            out.append(text)
        elif s.op == "delete":
            out.append(f"<del>{text}</del>")
        else:
            out.append(f"<ins>{text}</ins>")
    return "".join(out)


def group_by_chapter(config: Config, change_set: ChangeSet
                     ) -> list[tuple[str, str, list[tuple[str, str, list[Change]]]]]:
    """[(part id, part title, [(chapter id, chapter title, changes)])] in reading order;
    manual-wide changes (term sweeps) come last under part id ''."""
    titles: dict[str, tuple[str, str]] = {}
    order: dict[str, int] = {}
    for snap in (change_set.old, change_set.new):
        if snap is None:
            continue
        for i, chapter in enumerate(snap.chapters):
            titles[chapter.id] = (chapter.title, chapter.part)
            order.setdefault(chapter.id, i)
    parts: dict[str, dict[str, list[Change]]] = {}
    wide: list[Change] = []
    for change in change_set.changes:
        if change.chapter is None:
            wide.append(change)
            continue
        part = titles.get(change.chapter, (change.chapter, change.part or ""))[1]
        parts.setdefault(part, {}).setdefault(change.chapter, []).append(change)
    out = []
    for part_id in sorted(parts, key=lambda p: (config.part(p).order, p)):
        chapters = sorted(parts[part_id], key=lambda c: order.get(c, 10**9))
        out.append((part_id, config.part(part_id).title,
                    [(c, titles.get(c, (c, ""))[0], parts[part_id][c]) for c in chapters]))
    if wide:
        out.append(("", "Across the manual", [("", "", wide)]))
    return out


def describe(change: Change) -> str:
    """One line naming what changed, for summaries."""
    if change.kind == "term.swept":
        where = ", ".join(change.chapters)
        return f"'{change.old}' now '{change.new}' ({len(change.places)} places: {where})"
    detail = dict(change.detail)
    if detail.get("renumbering"):
        return str(detail["renumbering"])
    if change.kind in ("heading.changed", "metadata.changed") and change.old is None:
        return f"added '{change.new}'"
    if change.kind in ("heading.changed", "metadata.changed") and change.new is None:
        return f"removed '{change.old}'"
    if change.kind in ("chapter.retitled", "heading.changed", "chapter.renumbered",
                       "chapter.moved", "metadata.changed", "link.changed"):
        return f"'{change.old}' -> '{change.new}'"
    if change.kind == "paragraph.moved":
        text = change.new or ""
        text = text if len(text) <= 50 else text[:47] + "..."
        return f"{text} (moved from {moved_from(change)}{', edited' if change.redline else ''})"
    text = change.new if change.new is not None else change.old
    text = text or ""
    return text if len(text) <= 70 else text[:67] + "..."


def summary_text(config: Config, change_set: ChangeSet) -> str:
    changes = change_set.changes
    chapters = {c.chapter for c in changes if c.chapter}
    lines = [f"Changes from {change_set.from_ref or '(nothing)'} to {change_set.to_ref}: "
             f"{len(changes)} change{'s' if len(changes) != 1 else ''} in "
             f"{len(chapters)} chapter{'s' if len(chapters) != 1 else ''}"]
    for _pid, part_title, chapter_groups in group_by_chapter(config, change_set):
        lines.append("")
        lines.append(part_title)
        for cid, title, group in chapter_groups:
            if cid:
                lines.append(f"  {cid} {title}")
            for change in group:
                lines.append(f"    {change.id}  {change.kind:<20} {change.location}: "
                             f"{describe(change)}")
    return "\n".join(lines)


def change_lines(change: Change, color: bool = False) -> list[str]:
    """What changed, indented: the redline, a sweep's phrases, or the old and new text."""
    if change.redline:
        return ["  " + redline_text(change.redline, color)]
    if change.kind == "term.swept":
        return ["  " + describe(change)]
    runs = [Segment("delete", change.old) if change.old is not None else None,
            Segment("insert", change.new) if change.new is not None else None]
    return ["  " + redline_text([run], color) for run in runs if run is not None]


def diff_text(config: Config, change_set: ChangeSet, color: bool = False) -> str:
    lines = [f"{_BOLD if color else ''}diff {change_set.from_ref} {change_set.to_ref}"
             f"{_RESET if color else ''}"]
    for _pid, part_title, chapter_groups in group_by_chapter(config, change_set):
        for cid, title, group in chapter_groups:
            lines.append("")
            head = f"== {cid} {title} ==" if cid else f"== {part_title} =="
            lines.append(f"{_BOLD}{head}{_RESET}" if color else head)
            for change in group:
                lines.append(f"{change.kind} at {change.location} [{change.id}]")
                if change.kind == "paragraph.moved":
                    lines.append(f"  moved from {moved_from(change)}")
                if change.kind == "paragraph.moved" and not change.redline:
                    lines.append(f"  {change.new}")
                else:
                    lines.extend(change_lines(change, color))
                if change.chapter is None:  # a sweep of terms or of front matter
                    lines.extend(f"  - {p.chapter}, {p.location}" for p in change.places)
    return "\n".join(lines)


def moved_from(change: Change) -> str:
    """Where a moved paragraph was: "section 'X', paragraph 2" (with the chapter if another)."""
    detail = dict(change.detail)
    origin = str(detail.get("from", ""))
    return f"{detail['from_chapter']}, {origin}" if detail.get("from_chapter") else origin


def diff_html(config: Config, change_set: ChangeSet) -> str:
    esc = html.escape
    body = [f"<h1>Changes from {esc(str(change_set.from_ref))} to {esc(change_set.to_ref)}</h1>"]
    for _pid, part_title, chapter_groups in group_by_chapter(config, change_set):
        body.append(f"<h2>{esc(part_title)}</h2>")
        for cid, title, group in chapter_groups:
            if cid:
                body.append(f"<h3>{esc(cid)} {esc(title)}</h3>")
            body.append("<ul>")
            for change in group:
                if change.redline:
                    text = redline_html(change.redline)
                else:
                    text = "".join(
                        f"<{tag}>{esc(value)}</{tag}>"
                        for tag, value in (("del", change.old), ("ins", change.new))
                        if value is not None)
                body.append(f'<li id="{esc(change.id)}"><strong>{esc(change.kind)}</strong> '
                            f"{esc(change.location)}: {text}</li>")
            body.append("</ul>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
             "del{background:#fdd;color:#900}ins{background:#dfd;color:#060;text-decoration:none}")
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Changes</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")
