"""Editors' Markdown made safe to publish, and output paths kept inside their folder.

Everything an editor writes is data: Markdown is rendered with markdown-it-py and the HTML is
then cleaned with nh3 (an allow-list: no `<script>`, no `on*=` handlers, no `javascript:`
links), before any template sees it. Templates receive the result as `Markup`, so Jinja does
not escape it twice, and never evaluate it: `{{ 7*7 }}` in a chapter is printed as written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from pipeline.errors import PublishError

# CommonMark (with tables), as the chapter parser reads it. Raw HTML is let through to nh3,
# which keeps the harmless part of it (a <br>, a <sup>) and drops the rest.
_MD = MarkdownIt("commonmark").enable("table")

# What may reach an output: nh3's own allow-list, plus the classes, ids and Word style names
# our templates and the changed-passage marks use.
_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()
}
_ATTRIBUTES["*"] = {"class", "id", "title", "lang"}
_ATTRIBUTES["div"] = {"data-custom-style"}
_ATTRIBUTES["span"] = {"data-custom-style"}
_CLEANER = nh3.Cleaner(attributes=_ATTRIBUTES, link_rel="noopener noreferrer")
_TEXT_ONLY = nh3.Cleaner(tags=set(), attributes={})

_SINGLE_PARAGRAPH = re.compile(r"\A<p>((?:(?!</?p>).)*)</p>\s*\Z", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")

# File and folder names an output may take: a chapter or release id, never a path.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def clean_html(fragment: str) -> Markup:
    """HTML with everything outside the allow-list removed."""
    return Markup(_CLEANER.clean(fragment))


@dataclass(frozen=True)
class Rich:
    """An editor's Markdown, rendered and cleaned.

    `html` is block HTML (paragraphs, lists); `inline` is the same without its <p> when the
    text is one paragraph (so it can follow a label on the same line), else None; `text` is
    plain text (for CSV, feeds and plain-text mail). Printing a Rich prints its `html`."""

    html: Markup
    inline: Markup | None
    text: str

    def __html__(self) -> str:
        return str(self.html)

    def __bool__(self) -> bool:
        return bool(self.text)

    def __str__(self) -> str:
        return self.text


EMPTY = Rich(Markup(""), Markup(""), "")


def rich(markdown: str) -> Rich:
    if not markdown.strip():
        return EMPTY
    block = clean_html(_MD.render(markdown))
    match = _SINGLE_PARAGRAPH.match(str(block))
    inline = Markup(match.group(1)) if match else None
    return Rich(html=block, inline=inline, text=html_text(str(block)))


def html_text(fragment: str) -> str:
    """Visible text of cleaned HTML, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def plain(text: str | None) -> str:
    """Text as data for CSV: any markup in it removed (a `<script>` with its content), the
    words kept."""
    if not text:
        return ""
    if "<" not in text:
        return text
    return " ".join(html.unescape(_TEXT_ONLY.clean(text)).split())


def render_marked(markdown: str, marks: Mapping[int, Sequence[str]], label: str) -> Markup:
    """A chapter body as clean HTML, with the blocks that start on the given body lines
    (0-based) marked as changed: wrapped in a highlighted div with an id per change and a
    short visible label, so the mark survives into DOCX and Markdown."""
    tokens = _MD.parse(markdown)
    if marks:
        tokens = _mark(tokens, marks, label)
    return clean_html(_MD.renderer.render(tokens, _MD.options, {}))


_MARKABLE = ("paragraph_open", "heading_open", "tr_open", "fence", "code_block", "html_block")


def _mark(tokens: list[Token], marks: Mapping[int, Sequence[str]], label: str) -> list[Token]:
    out: list[Token] = []
    pending: list[tuple[int, str]] = []  # (nesting level to close at, closing html)
    done: set[int] = set()
    for index, tok in enumerate(tokens):
        line = tok.map[0] if tok.map else None
        ids = marks.get(line, ()) if line is not None and tok.type in _MARKABLE else ()
        if ids and line not in done:
            done.add(line)
            if tok.type == "tr_open":
                tok.attrSet("class", "changed")
                tok.attrSet("id", f"change-{ids[0]}")
                _label(tokens, index, label)
            else:
                opening = (f'<div class="changed" id="change-{html.escape(ids[0])}" '
                           f'data-custom-style="Changed passage">\n')
                out.append(_html_token(opening, tok.level))
                _label(tokens, index, label)
                if tok.nesting == 0:  # fence, code block, html block: self-contained
                    out.append(tok)
                    out.append(_html_token("</div>\n", tok.level))
                    continue
                pending.append((tok.level, "</div>\n"))
        out.append(tok)
        if pending and tok.nesting == -1 and tok.level == pending[-1][0]:
            out.append(_html_token(pending.pop()[1], tok.level))
    return out


def _label(tokens: list[Token], index: int, label: str) -> None:
    """Put the label at the start of the block's text (a table row's first cell)."""
    following = next((t for t in tokens[index + 1: index + 4] if t.type == "inline"), None)
    if following is None or following.children is None:
        return
    tag = Token("html_inline", "", 0)
    tag.content = (f'<span class="changed-label" data-custom-style="Changed label">'
                   f"<strong>{html.escape(label)}</strong></span> ")
    following.children.insert(0, tag)


def _html_token(content: str, level: int) -> Token:
    tok = Token("html_block", "", 0)
    tok.content = content
    tok.level = level
    tok.block = True
    return tok


def safe_name(name: str, what: str, where: str | None = None) -> str:
    """`name` when it can name a file in an output folder; refused otherwise."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise PublishError(f"refusing {what} '{name}': it cannot name a file (letters, "
                           "digits, '.', '-', '_')", where)
    return name


def safe_join(root: Path, relative: str) -> Path:
    """`root / relative`, refused when it would land outside `root`."""
    rel = PurePosixPath(relative)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in relative:
        raise PublishError(f"refusing to write '{relative}': outside the output folder")
    target = (root / Path(*rel.parts)).resolve()
    base = root.resolve()
    if target != base and base not in target.parents:
        raise PublishError(f"refusing to write '{relative}': outside the output folder")
    return target
