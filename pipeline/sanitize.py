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


def chapter_outputs(markdown: str, marks: Mapping[int, Sequence[str]],
                    label: str) -> tuple[Markup, str]:
    """A chapter body as clean HTML (see render_marked) and as clean Markdown (see
    markdown_marked), from one parse."""
    tokens = _MD.parse(markdown)
    text = _markdown_marked(markdown, tokens, marks, label)
    if marks:
        tokens = _mark(tokens, marks, label)
    return clean_html(_MD.renderer.render(tokens, _MD.options, {})), text


# Raw HTML in Markdown: comments, script and style elements with their content, tags.
_RAW_HTML = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>|<(?:script|style)\b.*"
                       r"|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", re.DOTALL | re.IGNORECASE)
# Links to code: an inline link, an autolink, a reference definition.
_UNSAFE = "(?:javascript|vbscript|data|file):"
_UNSAFE_LINK = re.compile(rf"\]\((\s*<?\s*)(?={_UNSAFE})", re.IGNORECASE)
_UNSAFE_AUTOLINK = re.compile(rf"<{_UNSAFE}[^>]*>", re.IGNORECASE)
_UNSAFE_DEFINITION = re.compile(rf"^\s{{0,3}}\[[^\]]+\]:\s*<?{_UNSAFE}", re.IGNORECASE)
_HEADING = re.compile(r"^( {0,3}#{1,6}[ \t]+)")
_CONTAINER = re.compile(r"^((?:\s*>[ \t]?)*(?:\s*(?:[-+*]|\d{1,9}[.)])[ \t]+)?)")
_ROW = re.compile(r"^(\s*\|?\s*)")
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def markdown_marked(markdown: str, marks: Mapping[int, Sequence[str]], label: str) -> str:
    """A chapter body as Markdown for the Markdown and DOCX outputs: the editors' own text,
    with raw HTML taken out (a raw HTML block keeps its words, a <script> nothing), links to
    javascript: and the like made plain text, and the blocks that start on the given body
    lines (0-based) opening with the label in bold, as the HTML marks them."""
    return _markdown_marked(markdown, _MD.parse(markdown), marks, label)


def _markdown_marked(markdown: str, tokens: Sequence[Token],
                     marks: Mapping[int, Sequence[str]], label: str) -> str:
    lines = markdown.split("\n")
    kinds = {}
    raw_blocks: dict[int, tuple[int, str]] = {}
    inline_html: list[tuple[int, int]] = []
    for tok in tokens:
        if not tok.map:
            continue
        kinds.setdefault(tok.map[0], tok.type)
        if tok.type == "html_block":
            raw_blocks[tok.map[0]] = (tok.map[1], plain(tok.content))
        elif tok.type == "inline" and any(c.type == "html_inline" for c in tok.children or ()):
            inline_html.append((tok.map[0], tok.map[1]))
    tag = f"**{label}** "
    for line in marks:
        if 0 <= line < len(lines) and line not in raw_blocks:
            kind = kinds.get(line)
            text = lines[line]
            pattern = _HEADING if kind == "heading_open" else _ROW if kind == "tr_open" \
                else _CONTAINER
            match = pattern.match(text)
            cut = match.end() if match else 0
            if kind not in ("fence", "code_block") and text[cut:].strip():
                lines[line] = text[:cut] + tag + text[cut:]
    for start, end in inline_html:
        chunk = _RAW_HTML.sub("", "\n".join(lines[start:end])).split("\n")
        lines[start:end] = chunk + [""] * (end - start - len(chunk))
    out: list[str] = []
    index = 0
    while index < len(lines):
        if index in raw_blocks:
            end, words = raw_blocks[index]
            if words:
                out += [words, ""]
            index = end
            continue
        line = lines[index]
        if not _UNSAFE_DEFINITION.match(line):
            out.append(_UNSAFE_AUTOLINK.sub("", _UNSAFE_LINK.sub(r"\\](\1", line)))
        index += 1
    return _BLANK_RUN.sub("\n\n", "\n".join(out)).strip("\n") + "\n"


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
