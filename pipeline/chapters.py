"""Parse one chapter file: front matter (YAML) then the body's blocks (CommonMark + tables).

Pure: bytes in, a Chapter out, or a ChapterError naming the file and line.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from pipeline.chunks import Layout, layout, line_opening
from pipeline.errors import ChapterError
from pipeline.models import Block, Chapter, Link, new_block

if TYPE_CHECKING:
    from frontmatter import YAMLHandler
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


# The Markdown and YAML libraries are loaded when a file is first parsed: a run whose
# chapters all come from the parse cache never needs them (a tenth of a second saved).
@cache
def _md() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


@cache
def _handler() -> YAMLHandler:
    import frontmatter

    return frontmatter.YAMLHandler()
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")

# A paragraph number such as "4.21" (or "4.21." / "4.21)") opening a paragraph.
_PARA_REF = re.compile(r"^(\d+(?:\.\d+)+)[.)]?(?=\s)")
# A heading number such as "4" or "4.2" opening a heading ("4. Strategy meetings").
_HEADING_REF = re.compile(r"^(\d+(?:\.\d+)*)[.)]?(?=\s)")


def _number(pattern: re.Pattern[str], text: str) -> str | None:
    """The paragraph or heading number (`_PARA_REF`, `_HEADING_REF`) opening `text`: the
    block's reference, whichever way the block was read."""
    match = pattern.match(text)
    return match.group(1) if match else None


_CONFLICT_MARK = r"(<{7} |={7}$|>{7} )"
_conflict_marker = line_opening(_CONFLICT_MARK)
_COMMENT_ONLY = re.compile(r"^\s*(<!--.*?-->\s*)+$", re.DOTALL)

REQUIRED_FIELDS = ("id", "title", "part")
# Chapter ids name files (notes, pages), so they are kept to safe characters: no slashes,
# no leading dot, nothing that could climb out of a folder.
CHAPTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def collapse(text: str) -> str:
    """Whitespace collapsed to single spaces: the form in which texts are compared."""
    if text.isascii():
        # Most texts are lines of words: their newlines made spaces already are the answer
        # when no other whitespace (all of it unprintable but the space) and no run of
        # spaces is left, nor a space at either end. Five scans in C, where splitting into
        # words and joining them made an object per word (this runs for every block).
        joined = text.replace("\n", " ")
        if joined.isprintable() and "  " not in joined and joined[:1] != " " != joined[-1:]:
            return joined
    return " ".join(text.split())


def decode(path: str, data: bytes) -> str:
    """UTF-8 text of a chapter file, refusing binary files and other encodings."""
    if b"\0" in data[:8000]:
        raise ChapterError("binary file under the procedures folder (expected Markdown)", path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ChapterError("not valid UTF-8 (save the file as UTF-8)", path, line) from None
    text = text.removeprefix("\ufeff")
    # Substring scans are far cheaper than replacing, or than the marker pattern, which
    # tries every line: where seven marks of a kind never stand together, no line is one.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A one-character test (memchr) first: a search for seven marks takes ten times longer.
    may_conflict = (("<" in text and "<<<<<<<" in text) or ("=" in text and "=======" in text)
                    or (">" in text and ">>>>>>>" in text))
    match = _conflict_marker(text) if may_conflict else None
    if match:
        line = text[: match.start(1)].count("\n") + 1
        raise ChapterError("merge conflict marker (resolve the conflict first)", path, line)
    return text


# python-frontmatter's YAMLHandler.FM_BOUNDARY (its detect and split use it alone).
_FM_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)
# A front-matter line that YAML reads as a text key and a text value whatever the resolver:
# both open with a letter (never a number, date, float, alias or indicator), hold no ':' or
# '#', and end without spaces. Only yes/no/true/false/on/off/null read otherwise.
_SIMPLE_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*): +"
                          r"([A-Za-z](?:[A-Za-z0-9 ._'-]*[A-Za-z0-9.])?)")
_NOT_TEXT = frozenset(("yes", "no", "true", "false", "on", "off", "null", "y", "n"))


def _simple_front_matter(text: str) -> tuple[dict[str, Any], str, int] | None:
    """What `split_front_matter` gives, when the front matter is only `key: plain words`
    lines (most chapters: id, title, part, owner) and is read without YAML (the library's
    import and parse are a tenth of reading a large manual); None when it is anything else."""
    if _FM_BOUNDARY.match(text) is None:
        return None
    parts = _FM_BOUNDARY.split(text, 2)
    if len(parts) != 3:
        return None
    meta: dict[str, Any] = {}
    for line in parts[1].split("\n"):
        if not line:
            continue
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None:
            return None
        key, value = match.groups()
        if key.lower() in _NOT_TEXT or value.lower() in _NOT_TEXT:
            return None
        meta[key] = value
    body = parts[2]
    return meta, body, text[: len(text) - len(body)].count("\n")


def split_front_matter(path: str, text: str) -> tuple[dict[str, Any], str, int]:
    """(front matter, body, line on which the body starts)."""
    simple = _simple_front_matter(text)
    if simple is not None:
        return simple
    import yaml

    if not _handler().detect(text):
        raise ChapterError("missing front matter (a chapter starts with '---', then id, title "
                           "and part)", path, 1)
    try:
        fm_text, body = _handler().split(text)
    except ValueError:
        raise ChapterError("front matter is not closed with '---'", path, 1) from None
    try:
        meta = _load_yaml(fm_text) if fm_text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ChapterError(f"invalid front matter: {problem}", path, line) from None
    if not isinstance(meta, dict):
        raise ChapterError("front matter must be a mapping of keys to values", path, 2)
    body_offset = text[: len(text) - len(body)].count("\n")
    return meta, body, body_offset


def _load_yaml(text: str) -> Any:
    """YAML with libyaml when present (ten times faster on a whole manual); on an error, the
    pure-Python loader's message, which names the problem in plainer words."""
    import yaml

    fast = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if fast is yaml.SafeLoader:
        return yaml.safe_load(text)
    try:
        return yaml.load(text, Loader=fast)
    except yaml.YAMLError:
        return yaml.safe_load(text)


def _key_lines(text: str, body_offset: int) -> tuple[tuple[str, int], ...]:
    """Line of each top-level front-matter key (changes to a key are reported at its line)."""
    out = []
    for number, line in enumerate(text.split("\n", body_offset)[:body_offset], start=1):
        match = _TOP_KEY.match(line)
        if match and number > 1:
            out.append((match.group(1), number))
    return tuple(out)


def _front_matter_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.split("\n")[:200], start=1):
        if re.match(rf"^{re.escape(key)}\s*:", line):
            return number
    return None


def parse_chapter(path: str, data: bytes, blob: str | None = None) -> Chapter:
    head = parse_head(path, data, blob)
    return Chapter(**head, blocks=head_blocks(head))


def head_blocks(head: dict[str, Any]) -> tuple[Block, ...]:
    """The blocks of the chapter whose `parse_head` this is."""
    return head_layout(head).placed()


def head_layout(head: dict[str, Any]) -> Layout:
    """`head_blocks`, each placed when asked for (see chunks.Layout)."""
    return layout(head["body"], head["body_line"] - 1, parse_blocks)


def parse_head(path: str, data: bytes, blob: str | None = None) -> dict[str, Any]:
    """Every field of the chapter but its blocks, checked as `parse_chapter` checks them: all
    a chapter's errors are found here (parsing the body never fails), so the blocks can be
    made later, or never when nobody asks for them."""
    text = decode(path, data)
    meta, body, body_offset = split_front_matter(path, text)
    for key in REQUIRED_FIELDS:
        value = meta.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ChapterError(f"front matter has no '{key}'", path, _front_matter_line(text, key))
        if not isinstance(value, str | int | float):
            raise ChapterError(f"front matter '{key}' must be text", path,
                               _front_matter_line(text, key))
    chapter_id = str(meta["id"]).strip()
    if not CHAPTER_ID.match(chapter_id) or ".." in chapter_id:
        raise ChapterError(f"invalid id '{chapter_id}' (letters, digits, '.', '-', '_'; such as "
                           "CP3 or PG37)", path, _front_matter_line(text, "id"))
    order = meta.get("order")
    if order is not None and not isinstance(order, int):
        raise ChapterError("front matter 'order' must be a whole number", path,
                           _front_matter_line(text, "order"))
    owner = meta.get("owner")
    return {
        "id": chapter_id,
        "title": collapse(str(meta["title"])),
        "part": str(meta["part"]).strip(),
        "path": path,
        "body": body,
        "meta": tuple((str(k), _freeze(v)) for k, v in meta.items()),
        "order": order,
        "owner": str(owner) if owner is not None else None,
        "blob": blob or hashlib.sha1(data).hexdigest(),
        "body_line": body_offset + 1,
        "meta_lines": _key_lines(text, body_offset),
    }


def _freeze(value: Any) -> Any:
    """YAML values made hashable, so a Chapter stays a frozen value."""
    if isinstance(value, dict):
        return tuple((str(k), _freeze(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def inline_text(token: Token) -> tuple[str, tuple[Link, ...]]:
    """Plain text and links of an inline token."""
    parts: list[str] = []
    links: list[Link] = []
    link_stack: list[tuple[str, int]] = []
    for child in token.children or ():
        t = child.type
        if t in ("text", "code_inline"):
            parts.append(child.content)
        elif t in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif t == "image":
            parts.append(child.content)
        elif t == "link_open":
            link_stack.append((str(child.attrs.get("href", "")), len(parts)))
        elif t == "link_close" and link_stack:
            href, start = link_stack.pop()
            links.append(Link(text=collapse("".join(parts[start:])), url=href))
    return collapse("".join(parts)), tuple(links)


# Text that Markdown leaves as it is: no inline markup (code, emphasis, links, images, HTML,
# entities, escapes), no table cells, no control characters; lines that start no block (no
# indent, heading, quote, list item, setext underline, fence, HTML).
_MARKUP_CHARS = r"\\`*_\[\]<>&~\t\x00-\x08\x0b-\x1f\x7f"
_MARKUP = re.compile(f"[{_MARKUP_CHARS}|]")
_CELL_MARKUP = re.compile(f"[{_MARKUP_CHARS}]")  # a table row line: its pipes are the cells
_OPENS_BLOCK = r"(?:[^\S\n]|[#>=+\-]|\d{1,9}[.)](?:\s|$))"
_BLOCK_START = re.compile(_OPENS_BLOCK)
_starts_block = line_opening(_OPENS_BLOCK)  # some line of a text starts a block


def _plain_paragraph(body: str, line_offset: int, section: str = "") -> tuple[Block, ...] | None:
    """The blocks of a piece that is one paragraph of plain text (most of a manual), made
    without the Markdown parser: exactly what `parse_blocks` gives, in a tenth of the time.
    None when the piece is anything else."""
    if _MARKUP.search(body) or _starts_block(body):
        return None
    # No line opens with whitespace (_BLOCK_START), so the filled lines are the non-empty
    # ones: the paragraph is the body without its empty lines around, if none is inside.
    source = body.strip("\n")
    if not source:
        return ()
    if "\n\n" in source:
        return None  # a blank line between two paragraphs
    text = collapse(source)
    if not text:
        return ()  # only Unicode spaces: no paragraph, as for the parser
    first = len(body) - len(body.lstrip("\n"))
    return (new_block("paragraph", text, source, line_offset + first + 1, 0,
                      _number(_PARA_REF, text), section),)


_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")


def _plain_heading(body: str, line_offset: int) -> tuple[Block, ...] | None:
    """The block of a piece that is one ATX heading of plain text ("## 4. Strategy"), made
    without the Markdown parser; None when the piece is anything else."""
    lines = body.split("\n")
    filled = [k for k, line in enumerate(lines) if line]
    if len(filled) != 1 or _MARKUP.search(body):
        return None
    line = lines[filled[0]]
    match = _ATX.match(line)
    if match is None or line != line.lstrip() or match.group(2).strip("#") == "":
        return None
    text = collapse(match.group(2))
    if not text or text != match.group(2):
        return None  # spaces of other kinds, or a closing sequence: left to the parser
    return (new_block("heading", text, line, line_offset + filled[0] + 1, len(match.group(1)),
                      _number(_HEADING_REF, text), text),)


# A list item's own text: plain, or one link to a plain web address ("Further information").
_LINK_ITEM = re.compile(r"\[([^\]\n]+)\]\((https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*"
                        r"(?:/[A-Za-z0-9._~/-]*)?)\)")


def _plain_item(line: str, number: int, section: str) -> Block | None:
    """The block of a "- " list item line of plain text or one plain link, made without the
    Markdown parser; None when it is anything else."""
    content = line[2:]
    if _BLOCK_START.match(content):
        return None  # a nested block, an indented one or an empty item
    link = _LINK_ITEM.fullmatch(content)
    if link is not None:
        content = link.group(1)
    if _MARKUP.search(content):
        return None
    text = collapse(content)
    if not text:
        return None
    return new_block("list_item", text, line, number + 1, 1, _number(_PARA_REF, text), section,
                     (Link(text=text, url=link.group(2)),) if link is not None else ())


# A GFM table's delimiter row ("|---|:--:|"): a pipe around every column, spaces only.
_DELIMITER_ROW = re.compile(r"\|(?: *:?-+:? *\|)+ *")
# markdown-it stops filling short rows with empty cells after this many in a table
# (markdown_it.rules_block.table.MAX_AUTOCOMPLETED_CELLS): a table that far is left to it.
_MAX_FILLED = 0x10000


def _row_cells(line: str) -> list[str] | None:
    """The plain text of the cells of a table row line that opens and closes with '|'
    (trailing spaces aside) and holds no inline markup; None when it is anything else."""
    row = line.rstrip(" ")
    if row[:1] != "|" or row[-1:] != "|" or _CELL_MARKUP.search(row):
        return None
    # With no '\\|' to keep, markdown-it's split at the pipes, less the empty first and last
    # parts, is this; each cell is its text trimmed, read as plain text by the inline parser.
    return [collapse(cell) for cell in row.split("|")[1:-1]]


def _plain_table(lines: list[str], k: int, line_offset: int,
                 section: str) -> tuple[list[Block], int] | None:
    """The rows of the pipe table whose header is `lines[k]`, and the line after the table,
    made without the Markdown parser when every row opens and closes with '|' and holds
    plain text: such lines open no other block, so the table runs to the next empty line.
    None when the table is anything else, or is no table."""
    header = _row_cells(lines[k])
    if (not header or k + 1 >= len(lines) or _DELIMITER_ROW.fullmatch(lines[k + 1]) is None
            or lines[k + 1].count("|") - 1 != len(header)):
        return None  # the delimiter row must have the header's columns, or it is no table
    width = len(header)
    rows = [new_block("table_row", " | ".join(header), lines[k], line_offset + k + 1,
                      section=section, cells=tuple(header), header=True)]
    end, filled = k + 2, 0
    while end < len(lines) and lines[end]:
        cells = _row_cells(lines[end])
        if cells is None:
            return None  # a line run on into the table (or something opened there)
        # markdown-it gives every row the header's width: short rows filled, long ones cut.
        filled += width - len(cells)
        if filled > _MAX_FILLED:
            return None
        cells = (cells + [""] * width)[:width]
        rows.append(new_block("table_row", " | ".join(cells), lines[end],
                              line_offset + end + 1, section=section, cells=tuple(cells)))
        end += 1
    return rows, end


def _plain_blocks(body: str, line_offset: int) -> tuple[Block, ...] | None:
    """The blocks of a piece made of plain paragraphs, plain ATX headings, flat "- " lists
    of plain items or links (a paragraph and the list under it; a "Further information"
    heading and its links) and plain pipe tables, made without the Markdown parser (a manual
    made only of these never loads it: 40 ms or more in each process); None when the
    piece holds anything else: then a construct this does not follow may be there."""
    lines = body.split("\n")
    blocks: list[Block] = []
    section = ""
    k, count = 0, len(lines)
    while k < count:
        line = lines[k]
        if not line:
            k += 1
        elif line[0] == "#":
            heading = _plain_heading(line, line_offset + k)
            if heading is None:
                return None
            blocks.extend(heading)
            section = heading[0].text
            k += 1
        elif line[:2] == "- ":
            while k < count and lines[k][:2] == "- ":
                item = _plain_item(lines[k], line_offset + k, section)
                if item is None:
                    return None
                blocks.append(item)
                k += 1
            if k < count and lines[k]:
                return None  # a line run on into the item (or something opened there)
        elif line[0] == "|":
            table = _plain_table(lines, k, line_offset, section)
            if table is None:
                return None
            rows, k = table
            blocks.extend(rows)
        else:
            end = k + 1
            while end < count and lines[end]:
                end += 1
            paragraph = _plain_paragraph("\n".join(lines[k:end]), line_offset + k, section)
            if paragraph is None:
                return None
            blocks.extend(paragraph)
            k = end
    return tuple(blocks)


def parse_blocks(body: str, line_offset: int = 0) -> tuple[Block, ...]:
    plain = _plain_paragraph(body, line_offset)
    if plain is None:
        plain = _plain_blocks(body, line_offset)
    return plain if plain is not None else _md_blocks(body, line_offset)


def _md_blocks(body: str, line_offset: int) -> tuple[Block, ...]:
    """The blocks of `body` as the Markdown parser reads it."""
    tokens = _md().parse(body)
    lines = body.split("\n")
    blocks: list[Block] = []
    section = ""
    list_depth = 0
    in_thead = False
    row_cells: list[str] = []
    row_links: list[Link] = []
    row_map: list[int] | None = None
    heading_level = 0

    def source(span: list[int] | None) -> str:
        return "\n".join(lines[span[0]: span[1]]) if span else ""

    def line_of(span: list[int] | None) -> int:
        return line_offset + (span[0] if span else 0) + 1

    for i, tok in enumerate(tokens):
        t = tok.type
        if t in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif t in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif t == "heading_open":
            heading_level = int(tok.tag[1:])
        elif t == "thead_open":
            in_thead = True
        elif t == "thead_close":
            in_thead = False
        elif t == "tr_open":
            row_cells, row_links, row_map = [], [], tok.map
        elif t == "tr_close":
            blocks.append(Block(kind="table_row", text=" | ".join(row_cells),
                                source=source(row_map), line=line_of(row_map),
                                section=section, links=tuple(row_links),
                                cells=tuple(row_cells), header=in_thead))
        elif t == "inline":
            text, links = inline_text(tok)
            parent = tokens[i - 1] if i else None
            span = parent.map if parent is not None else tok.map
            if parent is not None and parent.type in ("th_open", "td_open"):
                row_cells.append(text)
                row_links.extend(links)
            elif parent is not None and parent.type == "heading_open":
                section = text
                blocks.append(Block(kind="heading", text=text, source=source(span),
                                    line=line_of(span), level=heading_level,
                                    ref=_number(_HEADING_REF, text),
                                    section=section, links=links))
            elif text:
                blocks.append(Block(kind="list_item" if list_depth else "paragraph",
                                    text=text, source=source(span), line=line_of(span),
                                    level=list_depth, ref=_number(_PARA_REF, text),
                                    section=section, links=links))
        elif t in ("fence", "code_block"):
            blocks.append(Block(kind="code", text=tok.content.rstrip("\n"),
                                source=source(tok.map), line=line_of(tok.map),
                                section=section))
        elif t == "html_block" and not _COMMENT_ONLY.match(tok.content):
            blocks.append(Block(kind="html", text=collapse(tok.content),
                                source=source(tok.map), line=line_of(tok.map),
                                section=section))
    return tuple(blocks)
