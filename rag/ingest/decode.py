"""Text from bytes in any common encoding (:func:`decode_text`), for every reader of text, HTML and JSON.

What the text says is the readers' business (``readers.py``, ``records.py``).
"""

from __future__ import annotations

import codecs
import re

from rag.ingest.articles import BadSource
from rag.ingest.clean import MAX_NOT_TEXT_SHARE, not_text_share

# Byte-order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A well-formed multi-byte UTF-8 sequence: its presence in a file that is not valid UTF-8 means
# mixed encodings (UTF-8 text with some Latin-1/Windows-1252 bytes pasted in), not a legacy charset.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    # Hand-written because no library decodes *mixed* encodings: charset-normalizer picks one
    # charset for the whole file, which would turn every correct UTF-8 "é" into "Ã©".
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


codecs.register_error("newsdesk-cp1252", _cp1252_fallback)


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Text from bytes in any common encoding; ``BadSource`` for a binary file.

    In order: a byte-order mark (UTF-8/16/32), the ``declared`` charset (an HTTP Content-Type), UTF-8,
    UTF-8 with stray Windows-1252 bytes (mixed files), then charset-normalizer's detection (Latin-1,
    Windows-1251, Shift-JIS...). NUL bytes are dropped wherever they are.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding).replace("\x00", "")
            except UnicodeDecodeError:
                raise BadSource(f"damaged {encoding.upper()} text (byte order mark, then invalid bytes)") from None
    head = data[:8192]
    utf16 = _utf16_without_bom(head)
    if utf16:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            text = ""
        if text and not_text_share(text) <= MAX_NOT_TEXT_SHARE:
            return text.replace("\x00", "")
    # A few NULs happen in text (a bad export); many mean a binary file (image, archive, office file).
    if head.count(0) > max(2, len(head) // 100):
        raise BadSource("binary file, not text")
    if declared:
        try:
            return data.decode(declared).replace("\x00", "")
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong or unknown declared charset: detect instead
    try:
        return data.decode("utf-8").replace("\x00", "")
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(data):
        return data.decode("utf-8", errors="newsdesk-cp1252").replace("\x00", "")
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise BadSource("not text in any known encoding (binary file?); save it as UTF-8 text")
    # Western text fits several single-byte code pages equally well (cp1250 reads "à" as "ŕ"); on a
    # tie prefer Windows-1252, the superset of Latin-1 that browsers use for every "latin-1" label.
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    best = next((m for m in tied if m.encoding == "cp1252"), best)
    return str(best).replace("\x00", "")


def _utf16_without_bom(head: bytes) -> str:
    """"utf-16-le"/"utf-16-be" when ``head`` looks like UTF-16 without a byte-order mark (text in a
    Latin script has a NUL in every other byte, on one side), else ""."""
    if len(head) < 4 or head.count(0) < len(head) // 4:
        return ""
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd > 0.6 * (len(head) // 2) and even < 0.05 * (len(head) // 2):
        return "utf-16-le"
    if even > 0.6 * (len(head) // 2) and odd < 0.05 * (len(head) // 2):
        return "utf-16-be"
    return ""

