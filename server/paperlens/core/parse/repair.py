"""Repair text extractions: mojibake, PDF spacing accents, and decoding of raw bytes.

Real inputs (see ``shared/seeds``) carry UTF-8 read as Mac Roman (``‚Äì`` for an en dash,
``‚Äô`` for ``’``, ``ùúì`` for a math italic letter), UTF-8 read as Latin-1/cp1252 (``Ã©``),
and accents that a PDF extractor emitted as separate spacing characters (``Herv ¬¥e`` ->
``Herv ´e`` -> ``Hervé``).

Line structure is sacred: line numbers of passages point into the original file, so no step
here ever adds or removes a ``\\n`` (or a ``\\r``). Work is done line by line, and only on the
lines that a cheap scan marks as suspicious; clean text is returned as is (same object).
"""
from __future__ import annotations

import codecs
import re
import unicodedata
from functools import lru_cache
from typing import Optional

# --- the cheap scan ------------------------------------------------------------------------------

_LEAD_BYTES = range(0xC2, 0xF5)       # UTF-8 lead bytes of 2-, 3- and 4-byte sequences
_CONT_BYTES = range(0x80, 0xC0)       # UTF-8 continuation bytes


def _chars(byte_values: range, encodings: tuple[str, ...]) -> str:
    out = set()
    for enc in encodings:
        for b in byte_values:
            try:
                out.add(bytes([b]).decode(enc))
            except UnicodeDecodeError:
                pass
    return "".join(sorted(out))


# UTF-8 lead and continuation bytes as they look when read as Latin-1/cp1252, and as Mac Roman
_LATIN_LEADS = _chars(_LEAD_BYTES, ("latin-1", "cp1252"))
_LATIN_CONTS = _chars(_CONT_BYTES, ("latin-1", "cp1252"))
_MAC_LEADS = _chars(_LEAD_BYTES, ("mac_roman",))
_MAC_CONTS = _chars(_CONT_BYTES, ("mac_roman",))

# spacing accents as PDF extractors emit them -> combining marks
_ACCENTS = {
    "\u00b4": "\u0301",  # ´ acute
    "\u02ca": "\u0301",  # ˊ
    "\u02cb": "\u0300",  # ˋ grave
    "\u00a8": "\u0308",  # ¨ diaeresis
    "\u02c6": "\u0302",  # ˆ circumflex
    "\u02dc": "\u0303",  # ˜ tilde
    "\u00b8": "\u0327",  # ¸ cedilla
    "\u02c7": "\u030c",  # ˇ caron
    "\u02da": "\u030a",  # ˚ ring
    "\u02d8": "\u0306",  # ˘ breve
    "\u02d9": "\u0307",  # ˙ dot above
    "\u02dd": "\u030b",  # ˝ double acute
    "\u02db": "\u0328",  # ˛ ogonek
    "\u00af": "\u0304",  # ¯ macron
}
# ASCII look-alikes are everywhere in normal text (code spans, x^2, ~5): only used in the
# "Decenci `ere" pattern and with extra checks
_ASCII_ACCENTS = {"`": "\u0300", "^": "\u0302", "~": "\u0303"}
_BELOW = {"\u0327", "\u0328"}          # cedilla and ogonek sit under the letter *before* them
_DOTLESS = {"\u0131": "i", "\u0237": "j"}   # ¨ı -> ï (LaTeX \"\i)

_LETTER = r"[^\W\d_]"
_ACC_CLASS = "[" + re.escape("".join(_ACCENTS)) + "]"
_ASCII_ACC_CLASS = "[" + re.escape("".join(_ASCII_ACCENTS)) + "]"

_C1_LIGATURES = "\u0080-\u009f\ufb00-\ufb06"     # C1 controls, Latin ligatures (ﬁ)


def _cls(chars: str) -> str:
    return "[" + re.escape(chars) + "]"


# One character class first, so that the regex engine scans for it quickly (clean text is
# skipped at C speed); lookbehinds then tell which kind of suspicious thing it starts.
_SUSPECT = re.compile(
    "[" + re.escape(_LATIN_LEADS + _MAC_LEADS + "\u00f9" + "".join(_ACCENTS) + "".join(_ASCII_ACCENTS))
    + _C1_LIGATURES + "]"
    "(?:(?<=" + _cls(_LATIN_LEADS) + ")" + _cls(_LATIN_CONTS)      # "Ã©", "â€"
    + "|(?<=" + _cls(_MAC_LEADS) + ")" + _cls(_MAC_CONTS)          # "‚Ä", "¬¥"
    + "|(?<=" + _ACC_CLASS + ")" + _LETTER                         # "´e"
    + "|(?<=" + _LETTER + " " + _ASCII_ACC_CLASS + ")" + _LETTER   # "Decenci `ere"
    + "|(?<=" + _LETTER + "`)" + _LETTER                           # "H´el`ene"
    + "|(?<=\u00f9)" + _cls(_MAC_CONTS)                           # "ùúì": F0 9D 9C 93, F0 lost
    + "|(?<=[" + _C1_LIGATURES + "]))"
)


# what only ftfy can fix (after the cheap steps below have run): Latin-1/cp1252 mojibake, Mac
# Roman pairs that the run decoder declined, C1 controls
_NEEDS_FTFY = re.compile(
    "[" + re.escape(_LATIN_LEADS + _MAC_LEADS) + "\u0080-\u009f]"
    "(?:(?<=" + _cls(_LATIN_LEADS) + ")" + _cls(_LATIN_CONTS)
    + "|(?<=" + _cls(_MAC_LEADS) + ")" + _cls(_MAC_CONTS)
    + "|(?<=[\u0080-\u009f]))"
)
_HAS_LIGATURE = re.compile("[\ufb00-\ufb06]")
_LIGATURES = {ord(c): unicodedata.normalize("NFKC", c) for c in "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"}


def looks_mojibake(text: str) -> bool:
    """Cheap check: does any line of ``text`` need :func:`repair_text`?

    False for clean text (ASCII, correct UTF-8 prose in any language, Chinese ...), so the
    expensive repair is skipped. May say True for clean text with unusual pairs (``’é``); the
    repair leaves such text unchanged.
    """
    return bool(text) and _SUSPECT.search(text) is not None


# --- ftfy ----------------------------------------------------------------------------------------

_ftfy_config = None


def _ftfy_fix(line: str) -> str:
    global _ftfy_config
    import ftfy
    if _ftfy_config is None:
        _ftfy_config = ftfy.TextFixerConfig(
            unescape_html=False,        # "&amp;" in a paper is text, not markup to undo
            fix_line_breaks=False,      # line structure must not change
            uncurl_quotes=False,        # keep ’ “ ” as they are
            fix_character_width=False,  # keep fullwidth CJK punctuation （，）
            remove_control_chars=False,     # not only on the lines that happen to be repaired
            remove_terminal_escapes=False,
            fix_latin_ligatures=False,  # done for every repaired line below (ﬁ -> fi)
            normalization=None,         # NFC below
            explain=False,
        )
    try:
        return ftfy.fix_text(line, _ftfy_config)
    except Exception:  # a display nicety: never fail a file because of it
        return line


# --- UTF-8 read as Mac Roman ---------------------------------------------------------------------
# ftfy decodes a whole line or nothing, so lines that mix mojibake with correct non-ASCII text
# ("symbol‚àóindicates" next to a real "−") keep their mojibake; and it is slow. This step
# decodes each run of Mac Roman high characters that forms valid UTF-8, accepting only results
# that are plausible; whatever it declines is left to ftfy.

_MAC_BYTE = {bytes([b]).decode("mac_roman"): b for b in range(0x80, 0x100)}
_MAC_RUN = re.compile("[" + re.escape("".join(_MAC_BYTE)) + "]{2,}")
# 2-byte sequences: only leads whose Mac Roman glyph is implausible before a letter in real
# text: ¬ √ ƒ ≈ ∆ À Œ œ (U+0080-01BF, U+02C0-02FF, Greek). Not ’ “ ” – — « » …: "l’école".
_MAC_LEAD2 = {0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xCB, 0xCE, 0xCF}


def _utf8_len(b: int) -> int:
    if 0xC2 <= b <= 0xDF:
        return 2
    if 0xE0 <= b <= 0xEF:
        return 3
    if 0xF0 <= b <= 0xF4:
        return 4
    return 0


def _plausible(ch: str, lead: int) -> bool:
    if len(ch) != 1:
        return False
    cp = ord(ch)
    if cp < 0xA0 or unicodedata.category(ch) in ("Cc", "Cn", "Cs"):
        return False
    return lead >= 0xE0 or lead in _MAC_LEAD2


@lru_cache(maxsize=4096)
def _decode_mac_run_text(s: str, letter_before: bool, letter_after: bool) -> str:
    bs = [_MAC_BYTE[c] for c in s]
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        b = bs[i]
        k = _utf8_len(b)
        if k and i + k <= n and all(0x80 <= x <= 0xBF for x in bs[i + 1:i + k]):
            try:
                ch = bytes(bs[i:i + k]).decode("utf-8")
            except UnicodeDecodeError:
                ch = ""
            if ch and b == 0xC3 and bs[i + 1] >= 0xA0:
                # "√" + a Mac Roman symbol is à-ÿ ("L√≥pez", "Schr√∂dinger"), or real math:
                # "√π", "√∞". Only inside a word; elsewhere ftfy judges the whole line.
                before = out[-1].isalpha() if out else letter_before
                after = s[i + k].isalpha() if i + k < n else letter_after
                if not (before or after):
                    ch = ""
            if _plausible(ch, b):
                out.append(ch)
                i += k
                continue
        if b == 0x9D and i + 3 <= n and all(0x80 <= x <= 0xBF for x in bs[i + 1:i + 3]):
            # math alphanumerics U+1D400-1D7FF (F0 9D xx xx) whose F0 (Mac Roman U+F8FF) was lost
            try:
                ch = bytes([0xF0] + bs[i:i + 3]).decode("utf-8")
            except UnicodeDecodeError:
                ch = ""
            if ch and 0x1D400 <= ord(ch) <= 0x1D7FF:
                out.append(ch)
                i += 3
                continue
        out.append(s[i])
        i += 1
    return "".join(out)


def _decode_mac_run(m: re.Match) -> str:
    text, start, end = m.string, m.start(), m.end()
    before = start > 0 and text[start - 1].isalpha()
    after = end < len(text) and text[end].isalpha()
    return _decode_mac_run_text(m.group(), before, after)   # the same few runs repeat: ‚Äô ‚Äì ¬¥


def _fix_mac_roman(line: str) -> str:
    return _MAC_RUN.sub(_decode_mac_run, line)


# --- spacing accents -----------------------------------------------------------------------------

_ACC_RE = re.compile(f"(?P<pre>{_LETTER})?(?P<sp> )?(?P<acc>{_ACC_CLASS})(?P<let>{_LETTER})")
_BELOW_RE = re.compile(f"(?P<pre>{_LETTER}) ?(?P<acc>[\u00b8\u02db])(?!{_LETTER})")   # "Emec ¸ Erc"
_ASCII_ACC_RE = re.compile(f"(?P<pre>{_LETTER})(?P<sp> ?)(?P<acc>{_ASCII_ACC_CLASS})(?P<let>{_LETTER})"
                           f"(?P<rest>\\S*)")


def _compose(letter: str, mark: str) -> Optional[str]:
    base = _DOTLESS.get(letter, letter)
    out = unicodedata.normalize("NFC", base + mark)
    return out if len(out) == 1 else None


def _accent_sub(m: re.Match) -> str:
    pre, sp, acc, let = m.group("pre") or "", m.group("sp") or "", m.group("acc"), m.group("let")
    mark = _ACCENTS[acc]
    composed = _compose(let, mark)
    if mark in _BELOW and pre:
        # ¸ and ˛ usually follow their letter ("Franc ¸ois", "Erc ¸elik": not "ȩ"), but
        # "Fran ¸cois" happens too (not "ņ"): ç ş ţ first, then whichever composes
        below = _compose(pre, mark)
        if below is not None and (pre in "cCsStT" or composed is None or mark == "\u0328"):
            return below + let
    if composed is None:
        return m.group()
    if pre and sp and let.islower():
        return pre + composed                # "Herv ´e" -> "Hervé": the space is an artefact
    return pre + sp + composed               # "and ´Ecole" -> "and École"


def _ascii_accent_sub(m: re.Match) -> str:
    acc, let, rest = m.group("acc"), m.group("let"), m.group("rest")
    if not let.islower() or any(c in rest for c in _ASCII_ACCENTS):
        return m.group()
    if acc != "`" and not m.group("sp"):
        return m.group()                     # "a^b", "x~y": math, not an accent
    if acc in "^~" and not rest[:1].isalpha():
        return m.group()                     # only mid-word: "Mu ~noz", not "of ~n samples"
    composed = _compose(let, _ASCII_ACCENTS[acc])
    if composed is None:
        return m.group()
    return m.group("pre") + composed + rest


def _compose_accents(line: str) -> str:
    if _ACC_RE.search(line):
        line = _ACC_RE.sub(_accent_sub, line)
    if "\u00b8" in line or "\u02db" in line:
        line = _BELOW_RE.sub(lambda m: _compose(m.group("pre"), _ACCENTS[m.group("acc")]) or m.group(), line)
    for acc in _ASCII_ACCENTS:
        if acc not in line:
            continue
        hits = [m for m in _ASCII_ACC_RE.finditer(line) if m.group("acc") == acc]
        # every occurrence of the character must be such an accent; otherwise it is markup
        # (a code span `like this`, x^2, ~5) and the line is left alone
        if hits and len(hits) == line.count(acc):
            line = _ASCII_ACC_RE.sub(lambda m, a=acc: _ascii_accent_sub(m) if m.group("acc") == a
                                     else m.group(), line)
    return line


_SPACING_ACCENT = re.compile(_ACC_CLASS)


def compose_spacing_accents(text: str) -> str:
    """Only the accents step of ``repair_text``, for text that is Unicode already (a PDF's):
    ``Jo˜ao`` -> ``João``, ``Herv ´e`` -> ``Hervé``. Line breaks never change."""
    if not _SPACING_ACCENT.search(text):
        return text
    return "\n".join(unicodedata.normalize("NFC", _compose_accents(line))
                     if _SPACING_ACCENT.search(line) else line for line in text.split("\n"))


# --- the repair ----------------------------------------------------------------------------------

def _repair_line(line: str) -> str:
    cr = line.endswith("\r")
    body = line[:-1] if cr else line
    # cheap, targeted steps first; ftfy (slow, but knows every encoding) only when needed
    fixed = _fix_mac_roman(body)
    if _NEEDS_FTFY.search(fixed):
        fixed = _ftfy_fix(fixed)
        if "\n" in fixed or fixed.count("\r") != body.count("\r"):
            fixed = body
        fixed = _fix_mac_roman(fixed)
    if _HAS_LIGATURE.search(fixed):
        fixed = fixed.translate(_LIGATURES)     # ﬁ -> fi, so that "specific" is found
    fixed = _compose_accents(fixed)
    if fixed != body:
        fixed = unicodedata.normalize("NFC", fixed)
    if "\n" in fixed or fixed.count("\r") != body.count("\r"):
        return line
    return fixed + ("\r" if cr else "")


def repair_text(text: str) -> str:
    """Fix mojibake and PDF spacing accents; the number and place of line breaks never change.

    ``Queen‚Äôs`` -> ``Queen’s``, ``symbol‚àóindicates`` -> ``symbol∗indicates``,
    ``Herv ¬¥e`` -> ``Hervé``, ``Decenci `ere`` -> ``Decencière``, ``MÃ¡rquez`` -> ``Márquez``.
    Only suspicious lines are touched; clean text comes back unchanged.
    """
    if not text or _SUSPECT.search(text) is None:
        return text
    out: list[str] = []
    last = 0          # end of the text already copied to ``out``
    for m in _SUSPECT.finditer(text):
        if m.start() < last:
            continue                                  # a line already repaired
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        if end < 0:
            end = len(text)
        out.append(text[last:start])
        out.append(_repair_line(text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


# --- bytes -> text -------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),   # before UTF-16 LE: FF FE 00 00 starts with FF FE
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def sniff_utf16(data: bytes) -> Optional[str]:
    """``"utf-16-le"``/``"utf-16-be"`` for BOM-less UTF-16 (every other byte NUL), else None.

    Looks at the first KiB only. Text in scripts without a zero high byte (CJK) is not
    detected; stray NULs in a UTF-8 extraction are far too few to count.
    """
    head = data[:1024]
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even = head[0:pairs * 2:2].count(0)
    odd = head[1:pairs * 2:2].count(0)
    if odd >= max(2, 0.3 * pairs) and even <= 0.02 * pairs:
        enc = "utf-16-le"
    elif even >= max(2, 0.3 * pairs) and odd <= 0.02 * pairs:
        enc = "utf-16-be"
    else:
        return None
    try:   # real UTF-16 has no broken surrogate pairs (the last unit may be cut off)
        head[:pairs * 2 - 2].decode(enc)
    except UnicodeDecodeError:
        return None
    return enc


def _decode_8bit_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def decode_text_file(data: bytes) -> str:
    """Bytes of a text file -> repaired text.

    BOM (UTF-8, UTF-16, UTF-32) wins; BOM-less UTF-16 is recognised by its NUL bytes; then
    UTF-8. A file that is not valid UTF-8 is decoded line by line: UTF-8 where a line is valid,
    else cp1252 (Latin-1 for the five bytes cp1252 leaves undefined), so one stray byte does
    not turn a whole UTF-8 file into mojibake. Line breaks are kept as they are (``\\r\\n``
    included). The result goes through :func:`repair_text`.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return repair_text(data[len(bom):].decode(enc, errors="replace"))
    enc16 = sniff_utf16(data)
    if enc16:
        return repair_text(data.decode(enc16, errors="replace"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\n".join(_decode_8bit_line(line) for line in data.split(b"\n"))
    return repair_text(text)


__all__ = ["repair_text", "looks_mojibake", "decode_text_file", "sniff_utf16"]
