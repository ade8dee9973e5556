"""PDF papers: text of every page with pypdfium2 -> the text-paper parser, with page numbers.

pypdfium2 is imported inside the functions so that importing this module stays cheap.

Threading: pdfium (and so pypdfium2) is not thread-safe. Call ``extract_pages`` /
``parse_pdf`` from one thread per process only; the indexer runs them in worker processes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from paperlens.core.parse.common import ParseError, ParseResult
from paperlens.core.parse.repair import compose_spacing_accents

MAX_PDF_BYTES = 300 * 1024 * 1024     # larger files are not papers
MAX_PAGES = 1000                      # pages after this one are not read
# The text taken from one file, in characters pdfium finds on its pages (the work of reading
# them): a 1,000-page book has about 3M. Pages after the budget is spent are not read, so that
# a small file whose pages all draw one huge content stream (issue 13: 1,000 pages of 541k
# characters each) costs a few pages, not hours and gigabytes. A page's text is cut at
# MAX_PAGE_CHARS (a dense two-column page has about 10k).
MAX_FILE_CHARS = 5_000_000
MAX_PAGE_CHARS = 50_000
MIN_TEXT_CHARS = 20                   # fewer non-space characters: no usable text layer

ENCRYPTED = "encrypted PDF (password required)"
NO_TEXT = "no text layer (image-only or scanned PDF)"

# pdfium marks a hyphen it considers soft (a word broken at a line end) with U+0002 in its
# char list and U+FFFE in FPDFText_GetText output, and usually drops the line break after it;
# U+00AD is a soft hyphen written into the PDF itself.
_SOFT_HYPHEN_BREAK = re.compile(r"[\x02\ufffe\u00ad][ \t]*\n[ \t]*")
_SOFT_HYPHEN_END = re.compile(r"[\x02\ufffe]\s*\Z")
_SOFT_HYPHEN_CAPITAL = re.compile(r"(?<=[^\W\d_])[\x02\ufffe](?=[ \t]*\n?[ \t]*[A-Z0-9])")
_SOFT_HYPHEN = re.compile(r"[\x02\ufffe\u00ad]")
_CONTROLS = re.compile(r"[\x00\x01\x03-\x08\x0b-\x1f\x7f]")
# what any of the five patterns above can match: a C0 control but \t and \n, DEL, a soft hyphen
_CONTROL_OR_SOFT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\u00ad]")
_LIGATURE = re.compile(r"[\ufb00-\ufb06]")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})


def normalise_page_text(raw: str) -> str:
    """Clean one page of pdfium text.

    Line ends become ``\\n``; words hyphenated at a line end are re-joined where pdfium marks
    a soft hyphen (U+0002 / U+FFFE, with or without the line break after it); a marker at
    the very end of the page becomes ``-`` so that the text parser can re-join the word
    with the next page; ligatures (U+FB00-U+FB06) are expanded; spacing accents are composed
    (``repair.compose_spacing_accents``); NUL and other C0 controls
    except ``\\n`` and ``\\t`` are removed; trailing spaces are stripped from every line and
    trailing empty lines dropped.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL_OR_SOFT.search(text):      # (most lines have neither: five patterns not run)
        text = _CONTROLS.sub("", text)
        text = _SOFT_HYPHEN_END.sub("-", text)
        text = _SOFT_HYPHEN_CAPITAL.sub("-", text)     # "Multi\ufffeArmed" -> "Multi-Armed", "Delta\ufffe4" -> "Delta-4"
        text = _SOFT_HYPHEN_BREAK.sub("", text)
        text = _SOFT_HYPHEN.sub("", text)
    if _LIGATURE.search(text):
        text = text.translate(_LIGATURES)
    text = compose_spacing_accents(text)   # TeX's spacing accents: "Jo˜ao" -> "João"
    if "\n" in text:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    else:
        text = text.rstrip()
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


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
LAYOUT_PAGES = 2          # pages whose every line is measured (the title page, after a cover page)
BAND_LINES = 4            # lines measured at each end of the other pages (running headers/footers)


def _line_spans(raw: str, ends: int = 0) -> list[tuple[int, int, int]]:
    """(line number, start, end) of the page's lines (as ``_LINE_BREAK.split`` numbers them);
    with ``ends``, only the first and last ``ends`` lines."""
    spans, pos = [], 0
    for n, m in enumerate(_LINE_BREAK.finditer(raw)):
        spans.append((n, pos, m.start()))
        pos = m.end()
    spans.append((len(spans), pos, len(raw)))
    if ends and len(spans) > 2 * ends:
        spans = spans[:ends] + spans[-ends:]
    return spans


def _page_lines(textpage, raw: str, width: float, height: float, ends_only: bool = False) -> list:
    """The page's text lines with font size and box (layout.Line), from pdfium's char boxes.

    Three characters of a line are measured (first, middle, last), not all of them. With
    ``ends_only`` only the first and last BAND_LINES lines are (where running headers are)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    from paperlens.core.parse.layout import Line

    if pdfium_c.FPDFText_CountChars(textpage) == len(raw):
        char_index = int
    else:       # pdfium left some chars out of the text (NULs): map text indices to char indices
        def char_index(i: int) -> int:
            return pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, i)
    spans = _line_spans(raw, BAND_LINES if ends_only else 0)
    rect = pdfium_c.FS_RECTF()
    loose = pdfium_c.FPDFText_GetLooseCharBox
    out = []
    for order, start, end in spans:
        text = raw[start:end]
        stripped = text.strip()
        if not stripped:
            continue
        first = start + (len(text) - len(text.lstrip()))
        last = start + len(text.rstrip()) - 1
        middle = (first + last) // 2
        while middle < last and raw[middle].isspace():
            middle += 1
        sizes, xs, ys = [], [], []
        for i in (first, middle, last):
            i = char_index(i)
            if i >= 0 and loose(textpage, i, ctypes.byref(rect)):
                sizes.append((rect.top - rect.bottom, rect.right - rect.left))
                xs += [rect.left, rect.right]
                ys += [rect.top, rect.bottom]
        if not sizes:
            continue
        middle = char_index(middle)
        angle = pdfium_c.FPDFText_GetCharAngle(textpage, middle)
        rotated = 0.3 < angle % 3.14159 < 2.84
        size = sorted(w if rotated else h for h, w in sizes)[len(sizes) // 2]
        out.append(Line(text=normalise_page_text(stripped), size=round(abs(size), 2),
                        x0=min(xs), x1=max(xs), top=height - max(ys), bottom=height - min(ys),
                        weight=pdfium_c.FPDFText_GetFontWeight(textpage, middle),
                        rotated=rotated, order=order, page_height=height, page_width=width))
    return out


_NUMBER_AFTER_HYPHEN = re.compile(r"([\x02\ufffe])[ \t]*(?:\r\n|\r|\n)?[ \t]*\d{1,4}[ \t]*\Z")
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _font_name(textpage, index: int, buf) -> str:
    import ctypes

    import pypdfium2.raw as pdfium_c

    flags = ctypes.c_int()
    if not pdfium_c.FPDFText_GetFontInfo(textpage, index, buf, len(buf), ctypes.byref(flags)):
        return ""
    return buf.value.decode("latin-1", "replace")


def _excluded_chars(textpage, n_text: int, n_chars: int) -> list[tuple[int, int]]:
    """(text index, char index) of the chars pdfium left out of the page text (it leaves out
    NULs: code 0 of a font without Unicode map), found by bisecting the index mapping."""
    import pypdfium2.raw as pdfium_c

    def char_of(t: int) -> int:
        return n_chars if t >= n_text else pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, t)

    out: list[tuple[int, int]] = []

    def walk(t0: int, c0: int, t1: int, c1: int) -> None:
        # text indices t0 < t1 map to c0, c1; every skipped char lies between
        if c1 - c0 == t1 - t0 or len(out) > 5000:
            return
        if t1 - t0 == 1:
            out.extend((t1, c) for c in range(c0 + 1, c1))
            return
        mid = (t0 + t1) // 2
        cm = char_of(mid)
        if cm < 0:
            return
        walk(t0, c0, mid, cm)
        walk(mid, cm, t1, c1)

    first = char_of(0) if n_text else n_chars
    out.extend((0, c) for c in range(0, max(0, first)))
    if n_text:
        walk(0, first, n_text, n_chars)
    return out


def _restore_symbols(textpage, raw: str) -> str:
    """Put back the math symbols of TeX fonts that pdfium gives as control characters or leaves
    out (texfonts.py): 'If H C' -> 'If H ≤ C', 'H(y) H(n)' -> 'H(y) − H(n)'."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    from paperlens.core.parse.texfonts import symbol_for

    n_chars = pdfium_c.FPDFText_CountChars(textpage)
    controls = list(_CONTROL_CHAR.finditer(raw))
    if n_chars == len(raw) and not controls:
        return raw
    buf = ctypes.create_string_buffer(128)
    inserts: dict[int, str] = {}          # text index -> symbols to put before it
    replace: dict[int, str] = {}          # text index -> the symbol it stands for
    if n_chars > len(raw):
        for t, c in _excluded_chars(textpage, len(raw), n_chars):
            sym = symbol_for(_font_name(textpage, c, buf), pdfium_c.FPDFText_GetUnicode(textpage, c))
            if sym:
                inserts[t] = inserts.get(t, "") + sym
    same = n_chars == len(raw)
    for m in controls:
        t = m.start()
        c = t if same else pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, t)
        if c >= 0:
            sym = symbol_for(_font_name(textpage, c, buf), ord(raw[t]))
            if sym:
                replace[t] = sym
    if not inserts and not replace:
        return raw
    out, last = [], 0
    for t in sorted(set(inserts) | set(replace)):
        out.append(raw[last:t])
        out.append(inserts.get(t, ""))
        if t in replace:
            out.append(replace[t])
            last = t + 1
        else:
            last = t
    out.append(raw[last:])
    return "".join(out)


@dataclass
class Extraction:
    pages: list[str]                       # normalised text of every page read
    failed: list[int]                      # 1-based numbers of pages that could not be read
    total: int                             # the document's page count
    lines: list[list] = field(default_factory=list)   # measured lines per page (layout.Line)
    info_title: str = ""
    dropped: list[list[str]] = field(default_factory=list)   # running headers taken out, per page
    running: list[set[int]] = field(default_factory=list)    # their line numbers (Line.order)
    cut: list[int] = field(default_factory=list)            # 1-based pages cut at MAX_PAGE_CHARS
    over_budget: bool = False              # reading stopped: MAX_FILE_CHARS were spent


def _extract(path: Path, max_pages: int | None = MAX_PAGES,
             max_chars: int | None = None) -> Extraction:
    """Read a PDF's pages; running headers, footers and page numbers are taken out of the text.
    Reading stops once the pages read had ``max_chars`` characters (MAX_FILE_CHARS)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    budget = MAX_FILE_CHARS if max_chars is None else max_chars

    _check_file(path)
    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise _open_error(exc) from exc
    except Exception as exc:  # noqa: BLE001 - anything from the binding is a broken file
        raise ParseError(f"broken PDF: {exc or type(exc).__name__}") from exc
    raws: list[str] = []
    lines: list[list] = []
    failed: list[int] = []
    cut: list[int] = []
    spent = 0
    over_budget = False
    info_title = ""
    try:
        try:
            total = len(doc)
        except Exception as exc:  # noqa: BLE001
            raise ParseError(f"broken PDF: cannot count pages ({exc})") from exc
        try:
            info_title = doc.get_metadata_value("Title") or ""
        except Exception:  # noqa: BLE001 - metadata is optional
            info_title = ""
        count = total if max_pages is None else min(total, max_pages)
        for index in range(count):
            if spent >= budget:
                over_budget = True
                break
            page_lines: list = []
            try:
                page = doc[index]
                try:
                    width, height = page.get_size()
                    textpage = page.get_textpage()
                    try:
                        n_chars = max(0, pdfium_c.FPDFText_CountChars(textpage))
                        spent += n_chars
                        whole = n_chars <= MAX_PAGE_CHARS
                        raw = textpage.get_text_range() if whole else \
                            textpage.get_text_range(0, MAX_PAGE_CHARS)
                        if not whole:
                            cut.append(index + 1)
                        try:
                            page_lines = _page_lines(textpage, raw, width, height,
                                                     ends_only=index >= LAYOUT_PAGES)
                        except Exception:  # noqa: BLE001 - layout is a bonus, the text is kept
                            page_lines = []
                        try:
                            if whole:       # (it maps the whole page's chars to its text)
                                raw = _restore_symbols(textpage, raw)   # same lines, symbols back
                        except Exception:  # noqa: BLE001
                            pass
                    finally:
                        textpage.close()
                finally:
                    page.close()
            except Exception:  # noqa: BLE001 - one bad page does not lose the document
                failed.append(index + 1)
                raw = ""
            raws.append(raw)
            lines.append(page_lines)
    finally:
        doc.close()
    from paperlens.core.parse.layout import running_lines

    running = running_lines(lines)
    pages = []
    dropped: list[list[str]] = []
    for raw, drop in zip(raws, running):
        # a page number pdfium ran into the word hyphenated at the page's end: "random\ufffe14"
        raw = _NUMBER_AFTER_HYPHEN.sub(r"\1", raw)
        gone: list[str] = []
        if drop:
            split = _LINE_BREAK.split(raw)
            gone = [line for n, line in enumerate(split) if n in drop]
            raw = "\n".join(line for n, line in enumerate(split) if n not in drop)
        pages.append(normalise_page_text(raw))
        dropped.append(gone)
    return Extraction(pages, failed, total, lines, info_title, dropped, running, cut, over_budget)


def extract_pages(path: Path, max_pages: int | None = MAX_PAGES) -> list[str]:
    """Text of every page of a PDF (see ``normalise_page_text``); a page that fails is ``""``.

    Raises ParseError when the document cannot be opened. Uses pypdfium2, which is not
    thread-safe: call it from one thread per process (the indexer uses worker processes).
    """
    return _extract(Path(path), max_pages).pages


def parse_pdf(path: Path) -> ParseResult:
    """Parse a PDF paper. Raises ParseError with a user-facing reason.

    Reasons: ``encrypted PDF (password required)``, ``broken PDF: <reason>`` (truncated,
    damaged, empty, not a PDF), ``no text layer (image-only or scanned PDF)``. Passages carry
    the 1-based page they start on. Title, authors and year come from the title page's layout
    (layout.read_header) where it has them. Not thread-safe (pdfium): one thread per process.
    """
    path = Path(path)
    ex = _extract(path)
    pages, failed, total = ex.pages, ex.failed, ex.total
    if failed and len(failed) == len(pages):
        raise ParseError("broken PDF: no page could be read")
    if sum(len("".join(page.split())) for page in pages) < MIN_TEXT_CHARS:
        raise ParseError(NO_TEXT)

    text = "\n".join(pages)
    line_pages = [number for number, page in enumerate(pages, 1) for _ in page.split("\n")]
    from paperlens.core.parse.layout import garbled, read_header
    from paperlens.core.parse.text import parse_text_paper

    result = parse_text_paper(path, text, line_pages=line_pages)
    header = read_header(ex.lines[:LAYOUT_PAGES], pages[:LAYOUT_PAGES], ex.info_title,
                         ex.running[:LAYOUT_PAGES])
    from paperlens.core.joins import head_of_pages

    top = [line.text for page in ex.lines[:LAYOUT_PAGES] for line in
           sorted(page, key=lambda l: (l.top, l.x0)) if line.top < 0.55 * (line.page_height or 1e9)]
    top += [line for page in ex.dropped[:3] for line in page]
    for paper in result.papers:
        result.heads[paper.id] = head_of_pages(pages, top)
    for paper in result.papers:
        try:
            _references_by_layout(path, paper, pages, text)
        except Exception:  # noqa: BLE001 - the text's own split stays
            pass
    for paper in result.papers:
        paper.file = str(path)
        paper.source_kind = "pdf"
        if header.title:
            paper.title = header.title
            paper.authors = header.authors
            result.warnings = [w for w in result.warnings if "no title found" not in w]
        elif garbled(paper.title) or not paper.title.strip():
            paper.title = _title_from_file_name(path)
            paper.authors = [a for a in paper.authors if not garbled(a)]
        if header.year:
            paper.year = header.year
        elif header.title:
            paper.year = ""            # a year the header does not print is a guess
    if failed:
        shown = ", ".join(str(n) for n in failed[:10]) + (" ..." if len(failed) > 10 else "")
        result.warnings.append(f"{path.name}: could not read page(s) {shown}")
    if ex.cut:
        shown = ", ".join(str(n) for n in ex.cut[:10]) + (" ..." if len(ex.cut) > 10 else "")
        result.warnings.append(f"{path.name}: page(s) {shown} have more than {MAX_PAGE_CHARS:,} "
                               "characters; the rest of each was left out")
    if ex.over_budget:
        result.warnings.append(f"{path.name}: only the first {len(pages)} of {total} pages were read "
                               f"(the text read from one file is capped at {MAX_FILE_CHARS:,} characters)")
    elif total > len(pages):
        result.warnings.append(f"{path.name}: only the first {len(pages)} of {total} pages were read")
    return result


def _references_by_layout(path: Path, paper, pages: list[str], text: str) -> None:
    """An unnumbered reference list is split again where its lines' indents show entries start
    (a thesis whose scan lost the labels, author-year lists without blank lines)."""
    from paperlens.core.references.entries import parse_references, unnumbered_section

    section = unnumbered_section(text)
    if section is None:
        return
    starts = _indent_starts(path, pages, section)
    if starts:
        paper.references = parse_references(text, section, starts)


MAX_LIST_PAGES = 30       # a reference list longer than this is not measured line by line


def _line_x0s(path: Path, pages: list[str], first: int, last: int) -> dict[tuple[int, int], tuple[float, float]]:
    """(page index, line index in the page's text) -> (x0, page width) for the lines of pages
    ``first``..``last``, from pdfium's char boxes; lines are matched to the page text by their
    first characters, in order (running headers were taken out of the text, soft hyphens joined)."""
    import pypdfium2 as pdfium

    out: dict[tuple[int, int], tuple[float, float]] = {}
    doc = pdfium.PdfDocument(str(path))
    try:
        for index in range(first, last + 1):
            page = doc[index]
            try:
                width, height = page.get_size()
                textpage = page.get_textpage()
                try:
                    if textpage.count_chars() > MAX_PAGE_CHARS:
                        continue
                    raw = textpage.get_text_range()
                    measured = sorted(_page_lines(textpage, raw, width, height), key=lambda l: l.order)
                finally:
                    textpage.close()
            finally:
                page.close()
            at = 0
            for n, line in enumerate(pages[index].split("\n")):
                text = line.strip()
                if not text:
                    continue
                for k in range(at, min(at + 6, len(measured))):
                    probe = measured[k].text.rstrip("-")[:16]
                    if probe and (text.startswith(probe) or measured[k].text.startswith(text[:16])):
                        out[(index, n)] = (measured[k].x0, width)
                        at = k + 1
                        break
    finally:
        doc.close()
    return out


def _indent_starts(path: Path, pages: list[str], section: tuple[int, int]) -> list[int]:
    """Offsets (in the pages joined by newlines) of the lines where entries of an unnumbered
    reference list start, told by hanging indents (or first-line indents); [] when the layout
    does not show either."""
    import bisect

    offsets, pos = [], 0
    for page in pages:
        offsets.append(pos)
        pos += len(page) + 1
    first = bisect.bisect_right(offsets, section[0]) - 1
    last = bisect.bisect_right(offsets, max(section[0], section[1] - 1)) - 1
    if first < 0 or last - first >= MAX_LIST_PAGES:
        return []
    x0s = _line_x0s(path, pages, first, last)
    # the section's lines: (offset, text, column key, x0)
    lines = []
    for index in range(first, last + 1):
        pos = offsets[index]
        for n, line in enumerate(pages[index].split("\n")):
            if section[0] <= pos < section[1] and line.strip() and (index, n) in x0s:
                x0, width = x0s[(index, n)]
                lines.append((pos, line.strip(), (index, x0 > 0.45 * width), x0))
            pos += len(line) + 1
    if len(lines) < 4:
        return []
    flush: set[int] = set()
    indented: set[int] = set()
    for key in {l[2] for l in lines}:
        xs = sorted(l[3] for l in lines if l[2] == key)
        base = xs[len(xs) // 10]
        for off, _, k, x0 in lines:
            if k != key:
                continue
            if abs(x0 - base) <= 2.0:
                flush.add(off)
            elif 3.0 <= x0 - base <= 40.0:
                indented.add(off)
    if len(flush) < 2 or len(indented) < 2:
        return []

    def ends_before(starts: set[int]) -> float:
        """Share of the starts whose previous line ends like an entry (period, year, bracket)."""
        prev, good, total = None, 0, 0
        for off, text, _, _ in lines:
            if off in starts and prev is not None:
                total += 1
                good += bool(re.search(r"[.)\]]$|(?:19|20)\d\d[a-z]?$", prev))
            prev = text
        return good / total if total else 0.0

    hanging, first_line = ends_before(flush), ends_before(indented)
    best, score = (flush, hanging) if hanging >= first_line else (indented, first_line)
    if score < 0.7:
        return []
    return sorted(best)


def _title_from_file_name(path: Path) -> str:
    """A title from a file name, for PDFs whose text cannot give one: 'load_balancing_of_x.pdf'
    -> 'load balancing of x'; '[Tag] Some Title (Org 2016).pdf' -> 'Some Title'."""
    stem = re.sub(r"^\[[^\]]*\]\s*|\s*\([^()]*\)\s*$", "", path.stem)
    return " ".join(re.sub(r"[_]+|(?<=\w)-(?=\s)", " ", stem).split()) or path.stem


__all__ = ["extract_pages", "normalise_page_text", "parse_pdf", "ENCRYPTED", "NO_TEXT"]
