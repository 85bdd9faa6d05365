"""A feed's bytes as UTF-8, decoded by its own declared encoding (issue 18).

feedparser, handed bytes that are not valid in their declared encoding, falls
back to decoding the *whole* document as windows-1252 (or worse): one bad byte
in a UTF-8 feed turns every non-ASCII character into mojibake, silently. So
`parse_feed` decodes first, here, and hands feedparser UTF-8 that says so:

* the encoding is, in order: a byte-order mark; the HTTP ``charset``; the XML
  declaration's ``encoding``; else UTF-8 (XML's default). Valid UTF-8 wins
  over a label that disagrees with it (a server's default ``charset=iso-8859-1``
  on a UTF-8 feed), since text that decodes as UTF-8 and is not ASCII is
  UTF-8 in practice;
* bytes that are invalid in that encoding become U+FFFD, each on its own, and
  a warning says how many and where: the rest of the feed keeps its encoding;
* one exception: a document labelled UTF-8 (or unlabelled) that holds not a
  single UTF-8 multi-byte sequence but does hold 8-bit bytes is a legacy 8-bit
  feed with a wrong label, not a UTF-8 feed with bad bytes: it is read as
  windows-1252, with a warning saying so.

Pure: bytes in, bytes out.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

__all__ = ["Decoded", "decode_feed_bytes"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECL_RE = re.compile(rb"\A\s*<\?xml\b[^>]*?\?>")
_DECL_ENCODING_RE = re.compile(rb"""(\bencoding\s*=\s*)(["'])([A-Za-z0-9._:-]+)\2""")
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
# A UTF-8 multi-byte sequence (well-formed lead + continuation bytes).
_ESCAPED_RE = re.compile("[\udc80-\udcff]")
_UTF8_MULTIBYTE_RE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


@dataclass
class Decoded:
    """The document re-encoded as UTF-8 (its XML declaration saying so), what it was
    read as, and what went wrong on the way."""

    body: bytes
    encoding: str
    warnings: list[str] = field(default_factory=list)


def _codec(label: str | None) -> str | None:
    """Python's name for an encoding label, None when unknown."""
    if not label:
        return None
    try:
        return codecs.lookup(label.strip()).name
    except LookupError:
        return None


def _labels(body: bytes, content_type: str) -> list[tuple[str, str]]:
    """(encoding, where it was said) candidates, most authoritative first."""
    for bom, bom_name in _BOMS:
        if body.startswith(bom):
            return [(bom_name, "its byte-order mark")]
    out: list[tuple[str, str]] = []
    m = _CHARSET_RE.search(content_type or "")
    if m and (http_name := _codec(m.group(1))):
        out.append((http_name, "the HTTP charset"))
    decl = _XML_DECL_RE.match(body[:1024])
    enc = _DECL_ENCODING_RE.search(decl.group(0)) if decl else None
    if enc and (decl_name := _codec(enc.group(3).decode("ascii"))):
        out.append((decl_name, "its XML declaration"))
    out.append(("utf-8", "XML's default"))
    return out


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except UnicodeDecodeError:
        return None


def _with_utf8_declaration(text: str) -> bytes:
    """`text` as UTF-8 bytes, without a BOM, its XML declaration (if any) saying utf-8."""
    data = text.lstrip("\ufeff").encode("utf-8")
    decl = _XML_DECL_RE.match(data)
    if decl and _DECL_ENCODING_RE.search(decl.group(0)):
        fixed = _DECL_ENCODING_RE.sub(rb"\1\2utf-8\2", decl.group(0), count=1)
        data = fixed + data[decl.end() :]
    return data


def decode_feed_bytes(body: bytes, content_type: str = "") -> Decoded:
    """`body` decoded by its declared encoding and handed back as UTF-8 (see the module
    docstring); `content_type` is the HTTP Content-Type header, if any."""
    labels = _labels(body, content_type)
    encoding, said_by = labels[0]
    if body.isascii() and encoding in ("utf-8", "ascii", "us-ascii"):
        return Decoded(body, "utf-8")  # the common case: nothing to decode
    if any(name == "utf-8" for name, _ in labels) and (text := _strict(body, "utf-8")) is not None:
        return Decoded(_with_utf8_declaration(text), "utf-8")
    for name, _ in labels:
        if (text := _strict(body, name)) is not None:
            return Decoded(_with_utf8_declaration(text), name)
    if encoding == "utf-8" and not _UTF8_MULTIBYTE_RE.search(body):
        text = body.decode("cp1252", errors="replace")
        warning = (
            f"the feed says it is UTF-8 ({said_by}) but holds no UTF-8 text at all: read it "
            f"as windows-1252 — ask the site to fix its encoding label if the text looks wrong"
        )
        return Decoded(_with_utf8_declaration(text), "cp1252", [warning])
    return _replace_bad_bytes(body, encoding, said_by)


def _replace_bad_bytes(body: bytes, encoding: str, said_by: str) -> Decoded:
    """Decode with every invalid byte as one U+FFFD, counting them."""
    text = body.decode(encoding, errors="surrogateescape")  # a bad byte -> U+DC80..U+DCFF
    first = _ESCAPED_RE.search(text)
    assert first is not None  # only called for bodies that did not decode strictly
    count = len(_ESCAPED_RE.findall(text))
    offset = len(text[: first.start()].encode(encoding, errors="surrogateescape"))
    text = _ESCAPED_RE.sub("\ufffd", text)
    shown = "UTF-8" if encoding == "utf-8" else encoding
    warning = (
        f"{count} byte{'s' if count != 1 else ''} not valid {shown} (the encoding "
        f"{said_by} gives) replaced with U+FFFD, first at byte {offset}; the rest of the "
        f"feed was read as {shown}"
    )
    return Decoded(_with_utf8_declaration(text), encoding, [warning])
