"""Every call to pandoc (pypandoc, which carries its own pandoc binary) lives here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pypandoc

from pipeline.errors import ImportError_

# --- Import: documents in (.docx, .odt, .html, .md), GitHub-flavoured Markdown out ----------

IMPORT_READERS: dict[str, str] = {
    ".docx": "docx", ".odt": "odt", ".html": "html", ".htm": "html",
    ".md": "gfm", ".markdown": "gfm",
}
# Links to extracted images start with this folder name; the importer moves the files beside
# their chapter and rewrites the links. Odd on purpose, so it never matches a document's text.
MEDIA_LINK = "editorial-import-media"
_BODY_MARK = "<!-- editorial:body -->"
# The document's own title (Word's Title style, an HTML <title>) first, then the body.
_TEMPLATE = f"$if(title)$$title$$endif$\n{_BODY_MARK}\n$body$\n"
# Chapters are plain Markdown: layout wrappers and bookmark anchors go; images keep no size
# attributes (which would force raw HTML); a figure becomes its image plus any real caption.
# Images pandoc could not fetch (remote, or missing beside the document) are written back as
# they were, because --extract-media would otherwise replace them with their description.
_FILTER = r"""
local function exists(src)
  local path = src:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  if path:sub(1, 1) == "/" then
    local f = io.open(path, "rb"); if f then f:close() return true end
    return false
  end
  for _, dir in ipairs(PANDOC_STATE.resource_path) do
    local f = io.open(dir .. "/" .. path, "rb")
    if f then f:close() return true end
  end
  return false
end
function Image(el)
  el.attr = pandoc.Attr()
  local src = el.src
  if pandoc.mediabag.lookup(src) or src:match("^data:") then return el end
  if not src:match("^%a[%w+.-]*:") and exists(src) then return el end
  local text = pandoc.write(pandoc.Pandoc({pandoc.Plain({el})}), "gfm", {wrap_text = "none"})
  return pandoc.RawInline("gfm", (text:gsub("%s+$", "")))
end
function Span(el) return el.content end
function Div(el) return el.content end
function Figure(el)
  local out = pandoc.Blocks({})
  for _, block in ipairs(el.content) do
    if block.t == "Plain" then out:insert(pandoc.Para(block.content)) else out:insert(block) end
  end
  local caption = pandoc.utils.stringify(el.caption.long)
  if caption ~= "" and caption ~= pandoc.utils.stringify(el.content) then
    out:extend(el.caption.long)
  end
  return out
end
"""


@dataclass(frozen=True)
class ImportedText:
    """A document as Markdown. Links to its images start with MEDIA_LINK + "/"; the files are
    under `media_dir`."""

    markdown: str
    title: str  # the document's own title, as Markdown; "" when it has none
    media_dir: Path
    warnings: tuple[str, ...] = ()


class _Collect(logging.Handler):
    """Keeps pandoc's warnings (which pypandoc logs) for the caller to show."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        first = record.getMessage().strip().splitlines()
        if first:
            self.messages.append(first[0])


def document_to_markdown(source: Path, workdir: Path, name: str,
                         text: str | None = None) -> ImportedText:
    """Convert `source` (or `text`, the body of a Markdown file) into Markdown, extracting its
    images under `workdir`. `name` is how errors name the file. Raises ImportError_."""
    reader = IMPORT_READERS.get(source.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(IMPORT_READERS))
        raise ImportError_(f"cannot import '{source.suffix or source.name}' files ({known})",
                           name)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "import.lua").write_text(_FILTER, encoding="utf-8")
    (workdir / "import.tpl").write_text(_TEMPLATE, encoding="utf-8")
    args = ["--standalone", "--template=import.tpl", "--wrap=none", "--lua-filter=import.lua",
            f"--extract-media={MEDIA_LINK}", f"--resource-path={source.parent.resolve()}"]
    collect = _Collect()
    logger = logging.getLogger("pypandoc")
    logger.addHandler(collect)
    try:
        if text is None:
            out = pypandoc.convert_file(str(source.resolve()), "gfm", format=reader,
                                        extra_args=args, verify_format=False,
                                        cworkdir=str(workdir))
        else:
            out = pypandoc.convert_text(text, "gfm", format=reader, extra_args=args,
                                        verify_format=False, cworkdir=str(workdir))
    except RuntimeError as exc:
        raise ImportError_(f"pandoc cannot read it ({_pandoc_reason(str(exc))})", name) from None
    except OSError as exc:
        raise ImportError_(f"cannot run pandoc ({exc.strerror or exc})", name) from None
    finally:
        logger.removeHandler(collect)
    title, _, body = out.partition(_BODY_MARK)
    return ImportedText(markdown=body.strip("\n") + "\n", title=title.strip(),
                        media_dir=workdir / MEDIA_LINK, warnings=tuple(collect.messages))


def _pandoc_reason(message: str) -> str:
    """The first line of what pandoc said, without pypandoc's wrapper."""
    _, _, said = message.partition("during conversion:")
    lines = [line.strip() for line in (said or message).splitlines() if line.strip()]
    return lines[0].removeprefix("[ERROR] ") if lines else "unknown error"
