"""Every call to pandoc (pypandoc, which carries its own pandoc binary) lives here."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pypandoc

from pipeline.errors import ImportError_, PublishError

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


# --- Output: rendered HTML out to DOCX, Markdown and PDF ------------------------------------

# Plain GitHub Markdown: no raw HTML passes through to a reader of the .md files.
MARKDOWN_WRITER = "gfm-raw_html"
# pandoc's garbage collection grows faster than its input (a whole million-word manual takes
# it half as long again as four quarters do), so chapters are converted in batches of about
# a quarter of a million words: a handful of processes for a large manual, one for a small
# one, never one per chapter.
BATCH_CHARS = 2_500_000
# Engines pandoc can drive, in the order we prefer them (HTML-based first: no TeX needed).
PDF_ENGINES = ("weasyprint", "wkhtmltopdf", "typst", "tectonic", "xelatex", "lualatex",
               "pdflatex")
PDF_HELP = ("PDF skipped: no PDF engine found. Install one, e.g. 'pip install weasyprint' "
            "or 'apt-get install wkhtmltopdf' (or a TeX engine: 'apt-get install "
            "texlive-xetex'), then render again.")
_TITLE = re.compile(r"<title>.*?</title>", re.DOTALL | re.IGNORECASE)
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL | re.IGNORECASE)
_MAIN = re.compile(r"</?main\b", re.IGNORECASE)
_W3CDTF = re.compile(r'(<dcterms:(?:created|modified) xsi:type="dcterms:W3CDTF">)[^<]*(<)')
_ENV_LOCK = threading.Lock()
_HTML_ENGINES = ("weasyprint", "wkhtmltopdf")
_ENGINE_QUIET = {"weasyprint": ["--pdf-engine-opt=--quiet"],
                 "wkhtmltopdf": ["--pdf-engine-opt=--quiet"]}


@dataclass(frozen=True)
class Conversion:
    """One pandoc run: a document to `to` ("docx", "md" or "pdf"), or, for Markdown, several
    HTML fragments converted together and split apart again (`names[i]` from `html[i]`).
    `source` is the input's format: "html", or "gfm" (Markdown made by an earlier run)."""

    to: str
    names: tuple[str, ...]
    html: tuple[str, ...]
    source: str = "html"
    style: str = ""  # CSS for a PDF made through HTML (weasyprint, wkhtmltopdf)

    @property
    def size(self) -> int:
        return sum(len(h) for h in self.html)


def pdf_engine() -> str | None:
    """The first PDF engine on PATH, or None."""
    return next((e for e in PDF_ENGINES if shutil.which(e)), None)


def body_of(document: str) -> str:
    """The inside of <body>, for documents converted together with others. A <main> becomes
    a <div>: pandoc reads only what is inside the <main> elements of a page, which would
    lose the separators between the documents."""
    match = _BODY.search(document)
    inside = match.group(1) if match else document
    return _MAIN.sub(lambda m: m.group(0).replace("main", "div"), inside)


def markdown_batches(items: Sequence[tuple[str, str]]) -> list[Conversion]:
    """(name, HTML) pairs grouped into as few Markdown conversions as BATCH_CHARS allows."""
    batches: list[Conversion] = []
    names: list[str] = []
    parts: list[str] = []
    size = 0
    for name, document in items:
        fragment = body_of(document)
        if parts and size + len(fragment) > BATCH_CHARS:
            batches.append(Conversion("md", tuple(names), tuple(parts)))
            names, parts, size = [], [], 0
        names.append(name)
        parts.append(fragment)
        size += len(fragment)
    if parts:
        batches.append(Conversion("md", tuple(names), tuple(parts)))
    return batches


@contextmanager
def _source_date(epoch: int) -> Iterator[None]:
    """SOURCE_DATE_EPOCH for the processes pandoc starts (a PDF engine dates its file by it)
    and that pypandoc passes this process's environment to."""
    with _ENV_LOCK:
        saved = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = saved


# Raw HTML left in Markdown input is read as text, never passed on.
_READERS = {"html": "html", "gfm": "gfm-raw_html"}


def _pandoc(source: str, to: str, extra: Sequence[str], name: str,
            outputfile: Path | None = None, reader: str = "html") -> str:
    try:
        # --quiet: an image that cannot be fetched (the sandbox fetches none) is expected.
        return pypandoc.convert_text(source, to, format=_READERS[reader],
                                     extra_args=["--quiet", *extra],
                                     outputfile=str(outputfile) if outputfile else None,
                                     verify_format=False, sandbox=True)
    except RuntimeError as exc:
        raise PublishError(f"pandoc could not make it ({_pandoc_reason(str(exc))})",
                           name) from None
    except OSError as exc:
        raise PublishError(f"cannot run pandoc ({exc.strerror or exc})", name) from None


def _split_markdown(conversion: Conversion) -> dict[str, bytes]:
    # The separators are paragraphs whose text no editor writes: a fixed word and a number
    # derived from the batch's own text.
    digest = hashlib.sha256("".join(conversion.html).encode("utf-8")).hexdigest()
    token = f"EDITORIALSPLIT{int(digest[:10], 16)}"
    joined = "".join(f"<p>{token}N{i}</p>\n{fragment}\n"
                     for i, fragment in enumerate(conversion.html))
    out = _pandoc(joined, MARKDOWN_WRITER, ["--wrap=none"], conversion.names[0])
    pieces = re.split(rf"^{token}N(\d+)\s*$", out, flags=re.MULTILINE)
    texts = {int(index): text.strip("\n") + "\n"
             for index, text in zip(pieces[1::2], pieces[2::2], strict=True)}
    if sorted(texts) != list(range(len(conversion.names))):
        raise PublishError("pandoc's Markdown could not be split back into its documents",
                           conversion.names[0])
    return {name: texts[i].encode("utf-8") for i, name in enumerate(conversion.names)}


def _binary(conversion: Conversion, workdir: Path, pdf: str | None,
            epoch: int) -> dict[str, bytes]:
    name = conversion.names[0]
    target = workdir / Path(name).name
    document = conversion.html[0]
    if conversion.source == "html":
        document = _TITLE.sub("", document)
    extra = []
    if conversion.to == "pdf" and pdf:
        extra.append(f"--pdf-engine={pdf}")
        if pdf in _HTML_ENGINES and conversion.style:
            extra.append(f"--variable=header-includes:<style>{conversion.style}</style>")
        extra += _ENGINE_QUIET.get(pdf, [])
    _pandoc(document, conversion.to, extra, name, outputfile=target, reader=conversion.source)
    data = target.read_bytes()
    return {name: stamp_docx(data, epoch) if conversion.to == "docx" else data}


def stamp_docx(data: bytes, epoch: int) -> bytes:
    """The DOCX with its document dates set to `epoch`. In its sandbox pandoc reads no
    clock and no SOURCE_DATE_EPOCH: it dates every file 1970, which Word would show."""
    when = dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "docProps/core.xml":
                content = _W3CDTF.sub(rf"\g<1>{when}\g<2>", content.decode("utf-8")).encode()
            target.writestr(info, content)
    return out.getvalue()


def run_conversions(conversions: Sequence[Conversion], epoch: int,
                    progress: Callable[[str], None] | None = None,
                    workers: int | None = None,
                    then: Callable[[dict[str, bytes]], Sequence[Conversion]] | None = None,
                    ) -> dict[str, bytes]:
    """Run every conversion, several at once (pandoc is single-threaded), largest first.
    `then` is given what each conversion made and may return more conversions to run (a
    DOCX made from Markdown), which start as soon as their input is ready.

    `epoch` (seconds, the release date) is stamped into DOCX and PDF files instead of the
    time of the run, so that two renders of the same release give the same bytes."""
    if not conversions:
        return {}
    pdf = pdf_engine() if any(c.to == "pdf" for c in conversions) else None
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="editorial-pandoc-") as tmp, _source_date(epoch):
        workdir = Path(tmp)

        def one(conversion: Conversion) -> dict[str, bytes]:
            if conversion.to == "md":
                result = _split_markdown(conversion)
            else:
                result = _binary(conversion, Path(tempfile.mkdtemp(dir=workdir)), pdf, epoch)
            if progress is not None:
                shown = conversion.names[0] if len(conversion.names) == 1 else \
                    f"{len(conversion.names)} Markdown files"
                progress(f"converted {shown}")
            return result

        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
            running = {pool.submit(one, c) for c in sorted(conversions, key=lambda c: -c.size)}
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    out.update(result)
                    for more in (then(result) if then is not None else ()):
                        running.add(pool.submit(one, more))
    return out
