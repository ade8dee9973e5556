"""PDF papers: text of every page with pypdfium2 -> the text-paper parser, with page numbers.

pypdfium2 is imported inside the functions so that importing this module stays cheap.

Threading: pdfium (and so pypdfium2) is not thread-safe. Call ``extract_pages`` /
``parse_pdf`` from one thread per process only; the indexer runs them in worker processes.
"""
from __future__ import annotations

import re
from pathlib import Path

from paperlens.core.parse.common import ParseError, ParseResult

MAX_PDF_BYTES = 300 * 1024 * 1024     # larger files are not papers
MAX_PAGES = 1000                      # pages after this one are not read
MIN_TEXT_CHARS = 20                   # fewer non-space characters: no usable text layer

ENCRYPTED = "encrypted PDF (password required)"
NO_TEXT = "no text layer (image-only or scanned PDF)"

# pdfium marks a hyphen it considers soft (a word broken at a line end) with U+0002 in its
# char list and U+FFFE in FPDFText_GetText output, and usually drops the line break after it;
# U+00AD is a soft hyphen written into the PDF itself.
_SOFT_HYPHEN_BREAK = re.compile(r"[\x02\ufffe\u00ad][ \t]*\n[ \t]*")
_SOFT_HYPHEN_END = re.compile(r"[\x02\ufffe]\s*\Z")
_SOFT_HYPHEN = re.compile(r"[\x02\ufffe\u00ad]")
_CONTROLS = re.compile(r"[\x00\x01\x03-\x08\x0b-\x1f\x7f]")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})


def normalise_page_text(raw: str) -> str:
    """Clean one page of pdfium text.

    Line ends become ``\\n``; words hyphenated at a line end are re-joined where pdfium marks
    a soft hyphen (U+0002 / U+FFFE, with or without the line break after it); a marker at
    the very end of the page becomes ``-`` so that the text parser can re-join the word
    with the next page; ligatures (U+FB00-U+FB06) are expanded; NUL and other C0 controls
    except ``\\n`` and ``\\t`` are removed; trailing spaces are stripped from every line and
    trailing empty lines dropped.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    text = _SOFT_HYPHEN_END.sub("-", text)
    text = _SOFT_HYPHEN_BREAK.sub("", text)
    text = _SOFT_HYPHEN.sub("", text)
    text = text.translate(_LIGATURES)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.rstrip("\n")


def _open_error(exc: Exception) -> ParseError:
    """A user-facing reason for a document pypdfium2 could not open."""
    import pypdfium2.raw as pdfium_c

    code = getattr(exc, "err_code", None)
    message = str(exc)
    if code == pdfium_c.FPDF_ERR_PASSWORD or "password" in message.lower():
        return ParseError(ENCRYPTED)
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return ParseError("encrypted PDF (unsupported security handler)")
    if code == pdfium_c.FPDF_ERR_FILE:
        return ParseError("broken PDF: file not found or could not be opened")
    if code == pdfium_c.FPDF_ERR_FORMAT:
        return ParseError("broken PDF: damaged or not a PDF file")
    return ParseError(f"broken PDF: {message or type(exc).__name__}")


def _check_file(path: Path) -> None:
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}") from exc
    if size == 0:
        raise ParseError("broken PDF: empty file")
    if size > MAX_PDF_BYTES:
        raise ParseError(f"too large for a paper ({size / 1e6:.0f} MB > {MAX_PDF_BYTES / 1e6:.0f} MB)")
    if b"%PDF-" not in head:
        raise ParseError("broken PDF: not a PDF file (no %PDF header)")


def _extract(path: Path, max_pages: int | None = MAX_PAGES) -> tuple[list[str], list[int], int]:
    """Pages' text, the 1-based numbers of pages that failed, and the document's page count."""
    import pypdfium2 as pdfium

    _check_file(path)
    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise _open_error(exc) from exc
    except Exception as exc:  # noqa: BLE001 - anything from the binding is a broken file
        raise ParseError(f"broken PDF: {exc or type(exc).__name__}") from exc
    pages: list[str] = []
    failed: list[int] = []
    try:
        try:
            total = len(doc)
        except Exception as exc:  # noqa: BLE001
            raise ParseError(f"broken PDF: cannot count pages ({exc})") from exc
        count = total if max_pages is None else min(total, max_pages)
        for index in range(count):
            try:
                page = doc[index]
                try:
                    textpage = page.get_textpage()
                    try:
                        raw = textpage.get_text_range()
                    finally:
                        textpage.close()
                finally:
                    page.close()
            except Exception:  # noqa: BLE001 - one bad page does not lose the document
                failed.append(index + 1)
                raw = ""
            pages.append(normalise_page_text(raw))
    finally:
        doc.close()
    return pages, failed, total


def extract_pages(path: Path, max_pages: int | None = MAX_PAGES) -> list[str]:
    """Text of every page of a PDF (see ``normalise_page_text``); a page that fails is ``""``.

    Raises ParseError when the document cannot be opened. Uses pypdfium2, which is not
    thread-safe: call it from one thread per process (the indexer uses worker processes).
    """
    return _extract(Path(path), max_pages)[0]


def parse_pdf(path: Path) -> ParseResult:
    """Parse a PDF paper. Raises ParseError with a user-facing reason.

    Reasons: ``encrypted PDF (password required)``, ``broken PDF: <reason>`` (truncated,
    damaged, empty, not a PDF), ``no text layer (image-only or scanned PDF)``. Passages carry
    the 1-based page they start on. Not thread-safe (pdfium): one thread per process.
    """
    path = Path(path)
    pages, failed, total = _extract(path)
    if failed and len(failed) == len(pages):
        raise ParseError("broken PDF: no page could be read")
    if sum(1 for c in "".join(pages) if not c.isspace()) < MIN_TEXT_CHARS:
        raise ParseError(NO_TEXT)

    text = "\n".join(pages)
    line_pages = [number for number, page in enumerate(pages, 1) for _ in page.split("\n")]
    from paperlens.core.parse.text import parse_text_paper

    result = parse_text_paper(path, text, line_pages=line_pages)
    for paper in result.papers:
        paper.file = str(path)
        paper.source_kind = "pdf"
    if failed:
        shown = ", ".join(str(n) for n in failed[:10]) + (" ..." if len(failed) > 10 else "")
        result.warnings.append(f"{path.name}: could not read page(s) {shown}")
    if total > len(pages):
        result.warnings.append(f"{path.name}: only the first {len(pages)} of {total} pages were read")
    return result


__all__ = ["extract_pages", "normalise_page_text", "parse_pdf", "ENCRYPTED", "NO_TEXT"]
