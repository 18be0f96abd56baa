"""The text of a document people keep (a patient leaflet, a formulary entry, a letter): PDF,
HTML, DOCX or plain text, as sentences. Reads bytes it is given; fetching a URL is the CLI's
(through the one fetcher).

PDF text comes with line breaks mid-sentence, and two columns side by side: a page whose
words leave a gutter down the middle is read column by column, and lines are joined into
sentences (hyphenated words rejoined) before anything is read from them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from .errors import InputError

#: A sentence ends at . ! or ? followed by a space and a capital, a digit or a quote.
_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(]?[A-Z0-9])")
#: Abbreviations a sentence does not end at.
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "Dr.", "No.", "approx.", "vs.")


def kind_of(name: str, content: bytes) -> str:
    """pdf, docx, html or text: by the bytes first, the name's suffix second."""
    if content.startswith(b"%PDF"):
        return "pdf"
    if content.startswith(b"PK\x03\x04") and (name.endswith(".docx") or b"word/" in content[:2000]):
        return "docx"
    head = content[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or name.endswith((".html", ".htm")):
        return "html"
    return "text"


#: The most `check` reads of one document: its bytes, what its archive or compressed PDF
#: streams unpack to, and its text. Over them it is refused in one line, never read into
#: gigabytes (a zip bomb of a DOCX, a flate bomb of a PDF, a 200 MB text file).
MAX_DOCUMENT_BYTES = 50_000_000
MAX_UNPACKED_BYTES = 100_000_000
MAX_TEXT_CHARS = 5_000_000


def text_of(name: str, content: bytes) -> str:
    """The document's text, paragraphs separated by blank lines, within the limits above."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise InputError(
            f"{name}: {len(content)} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit of a document"
        )
    kind = kind_of(name, content)
    _check_unpacked(name, kind, content)
    text = _text(name, kind, content)
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"{name}: over {MAX_TEXT_CHARS} characters of text, more than a document")
    return text


def _check_unpacked(name: str, kind: str, content: bytes) -> None:
    """What a DOCX's archive or a PDF's compressed streams unpack to, counted before anything
    is unpacked for real (each stream inflated at most to the limit, then dropped)."""
    import zlib

    if kind == "docx":
        from .errors import ShapeError
        from .sources.pages import check_archive

        try:
            check_archive(content, name, MAX_UNPACKED_BYTES)
        except ShapeError as err:
            raise InputError(str(err)) from err
    elif kind == "pdf":
        total, view = 0, memoryview(content)
        for stream in re.finditer(rb"stream\r?\n", content):
            inflate = zlib.decompressobj()
            try:
                out = inflate.decompress(view[stream.end() :], MAX_UNPACKED_BYTES - total + 1)
            except zlib.error:
                continue  # not a flate stream (an image, a font): bounded by the file's size
            total += len(out)
            if total > MAX_UNPACKED_BYTES:
                raise InputError(
                    f"{name}: its compressed streams unpack to over {MAX_UNPACKED_BYTES} bytes "
                    "(a PDF made to exhaust memory?)"
                )


def _text(name: str, kind: str, content: bytes) -> str:
    try:
        if kind == "pdf":
            return _pdf(content)
        if kind == "docx":
            import docx

            return "\n\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
        if kind == "html":
            from bs4 import BeautifulSoup

            soup = BeautifulSoup(content, "html.parser")
            for tag in soup(["script", "style", "nav", "header", "footer"]):
                tag.decompose()
            return soup.get_text("\n\n")
        return content.decode("utf-8-sig", errors="replace")
    except Exception as err:  # a damaged file of any kind: one clear line, not a traceback
        raise InputError(f"{name}: cannot read it as {kind}: {err}") from err


def _pdf(content: bytes) -> str:
    import pdfplumber

    pages = []
    with pdfplumber.open(io.BytesIO(content)) as pdf:
        for page in pdf.pages:
            middle = page.width / 2
            words = page.extract_words()
            crossing = [w for w in words if w["x0"] < middle - 2 < w["x1"]]
            left = [w for w in words if w["x1"] <= middle]
            right = [w for w in words if w["x0"] >= middle]
            if words and not crossing and left and right:  # two columns: one, then the other
                halves = [page.crop((0, 0, middle, page.height)),
                          page.crop((middle, 0, page.width, page.height))]  # fmt: skip
                pages.append("\n\n".join(h.extract_text() or "" for h in halves))
            else:
                pages.append(page.extract_text() or "")
    return "\n\n".join(pages)


#: A line that starts an item of a list: "• ", "- ", "* ", "– ", "1. ".
_BULLET = re.compile(r"^\s*(?:[•·▪◦*–—-]|\d{1,2}[.)])\s+")
_TERMINAL = ".!?:;,"
#: Words a line that goes on in the next one ends with.
_CONTINUES = {
    "a",
    "an",
    "and",
    "as",
    "at",
    "by",
    "for",
    "from",
    "in",
    "of",
    "on",
    "or",
    "the",
    "to",
    "with",
    "under",
    "that",
    "which",
    "its",
    "their",
    "is",
    "are",
    "was",
}


def is_heading(line: str) -> bool:
    """A title or heading: a short line with no closing punctuation whose words are mostly
    capitalised ("CHMP Recommends Standard Marketing Authorisation for …", "How Does It Work")."""
    line = line.strip()
    words = line.split()
    if not words or len(words) > 16 or line[-1] in _TERMINAL or not line[0].isupper():
        return False
    if "," in line or words[-1].lower() in _CONTINUES:  # a sentence broken across lines
        return False
    long = [w for w in words if len(w) > 3]
    return not long or sum(w[0].isupper() for w in long) * 2 >= len(long)


def _segments(paragraph: str) -> list[str]:
    """A paragraph's lines regrouped: each list item and each heading a segment of its own,
    lines broken mid-sentence joined."""
    out: list[list[str]] = []
    ended = True  # the line before ended a sentence (or there was none)
    for line in paragraph.split("\n"):
        if not line.strip():
            continue
        bullet = _BULLET.match(line)
        heading = ended and is_heading(line)
        if bullet or heading or not out or out[-1] == ["\x01"]:
            out.append([])
        out[-1].append(line[bullet.end() :] if bullet else line)
        if heading:
            out.append(["\x01"])  # what follows a heading starts afresh
        ended = line.rstrip()[-1:] in ".!?" or heading
    return ["\n".join(lines) for lines in out if lines != ["\x01"]]


def sentences(text: str) -> list[str]:
    """Sentences, with lines broken mid-sentence joined, hyphenation undone, and list items
    and headings apart from the sentences around them."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        for segment in _segments(paragraph):
            joined = re.sub(r"(\w)-\n(\w)", r"\1\2", segment)
            joined = re.sub(r"\s+", " ", joined).strip()
            if not joined:
                continue
            for abbreviation in _ABBREVIATIONS:
                joined = joined.replace(abbreviation, abbreviation.replace(".", "\x00"))
            out += [s.replace("\x00", ".").strip() for s in _END.split(joined) if s.strip()]
    return out


#: "Date of preparation: March 2021", "Last updated 12/03/2021", "Revised: 2 May 2022".
_WRITTEN = re.compile(
    r"(?:date of (?:preparation|revision)|last (?:updated|revised)|revised|updated|written)"
    r"\s*:?\s*(?:in\s+|on\s+)?(\d{1,2}[/.]\d{1,2}[/.]\d{4}|\d{1,2} \w+ \d{4}|\w+ \d{4}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}-\d{4})",
    re.I,
)


def stated_date(text: str) -> dt.date | None:
    match = _WRITTEN.search(text)
    if not match:
        return None
    value = match[1]
    for fmt in ("%d/%m/%Y", "%d.%m.%Y", "%d %B %Y", "%B %Y", "%Y-%m-%d", "%m-%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def read(path: Path) -> tuple[str, bytes]:
    """A document's name and bytes; a file over the limit is refused before it is read."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise InputError(
                f"{path}: {size} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit of a document"
            )
        return path.name, path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from err
