"""The text in MIDI files (names, copyright, lyrics) decoded as the file meant it. The standard
names no encoding: files are written in ASCII, Latin-1/Windows-1252, UTF-8, or a local code page
(Shift-JIS for most Japanese files). One encoding is chosen per file from all its text at once,
since a single short name is too little to tell code pages apart."""

from __future__ import annotations

import unicodedata

from charset_normalizer import from_bytes

# Legacy code pages tried when the text is not UTF-8, most likely first: Japanese (the most
# common non-Latin MIDI text), Western European, Korean, Chinese, Cyrillic.
LEGACY_ENCODINGS = ("cp932", "cp1252", "cp949", "gb18030", "big5", "cp1251")
_TIE = 0.05  # chaos ratios this close count as equal; the more likely encoding wins


def text_encoding(texts: list[bytes]) -> str:
    """The encoding that decodes every one of `texts` as its writer meant it."""
    payload = b"\n".join(texts)
    if payload.isascii():
        return "ascii"
    try:
        payload.decode("utf-8")
        return "utf-8"  # non-ASCII legacy text is almost never valid UTF-8 by chance
    except UnicodeDecodeError:
        pass
    clean = [enc for enc in LEGACY_ENCODINGS if _plausible(payload, enc)]
    if len(clean) <= 1:
        return clean[0] if clean else "latin-1"
    chaos = {r.encoding: r.chaos for r in from_bytes(payload, cp_isolation=clean)}
    if not chaos:
        return clean[0]
    best = min(chaos.values())
    return next(enc for enc in clean if enc in chaos and chaos[enc] <= best + _TIE)


def _plausible(payload: bytes, encoding: str) -> bool:
    """Whether `payload` decodes in `encoding` to text a person wrote: no control or unassigned
    characters, no private-use ones, no half-width katakana (what Latin text read as Shift-JIS
    turns into)."""
    try:
        text = payload.decode(encoding)
    except UnicodeDecodeError:
        return False
    for ch in text:
        if 0xFF61 <= ord(ch) <= 0xFF9F:
            return False
        if unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") and ch not in "\t\n\r":
            return False
    return True
