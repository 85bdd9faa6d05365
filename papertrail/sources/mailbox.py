"""E-mail newsletters from a local mailbox: an mbox file or a Maildir folder.

What mbsync, offlineimap, getmail or a mail client's export leave on disk. A
source ``{name: …, kind: mailbox, path: FILE_OR_DIR}`` reads it; each message
becomes a post:

    title      the Subject
    authors    the sender's display name (else the address)
    published  the Date header, in UTC
    url        the message's "view online" link, else its first http(s) link
    summary    the text of the HTML part (papertrail.sources.parse.html_to_text), else the plain part
    guid       the Message-ID, so the post's key is stable across fetches
    mentions   arXiv papers linked or cited (papertrail.ids.find_arxiv_ids)

Two halves, as elsewhere: `parse_message` (bytes -> `Record`, pure) and
`read_mailbox` (walks the file or folder). A message whose Message-ID the
reading list already holds is not parsed again: only its header block is
read. A message that cannot be read (no mail headers, broken MIME structure,
an undecodable body) becomes a warning and is skipped; the others go in.

Charsets: the declared one first (iso-8859-1 read as its superset
windows-1252, as mail clients do), then UTF-8, then windows-1252 with
replacement characters — so a wrong or unknown charset never loses a message.
"""

from __future__ import annotations

import codecs
import email.header
import email.utils
import hashlib
import html
import mailbox as _mailbox
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timezone
from email import errors as email_errors
from email import policy as email_policy
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path
from urllib.parse import unquote

from papertrail.ids import canonical_url, find_arxiv_ids
from papertrail.models import ParsedFeed, Record
from papertrail.sources.codelinks import post_code_links
from papertrail.sources.parse import SUMMARY_MAX_CHARS, html_to_text, truncate

__all__ = [
    "MailboxError",
    "MailboxResult",
    "MessageParseError",
    "mailbox_state",
    "message_guid",
    "parse_message",
    "parse_messages",
    "read_mailbox",
]

# Corrupt messages named one by one in the source's warnings; the rest are counted.
MAX_MESSAGE_WARNINGS = 20

# compat32 keeps raw header values (8-bit bytes as surrogates) so we decode them ourselves.
_POLICY = email_policy.compat32
_BROKEN_MIME = (
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
    email_errors.NoBoundaryInMultipartDefect,
)
_BAD_BASE64 = (email_errors.InvalidBase64CharactersDefect, email_errors.InvalidBase64LengthDefect)
# Declared charset -> the superset mail clients really mean by it.
_SUPERSETS = {
    "iso8859-1": "cp1252",
    "ascii": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
}

_HEAD_RE = re.compile(r"<head\b.*?</head\s*>", re.S | re.I)
_ANCHOR_RE = re.compile(
    r"""<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>(.*?)</a\s*>""",
    re.S | re.I,
)
_URL_RE = re.compile(r"https?://[^\s<>\"'\]\[(){}|\\^`]+", re.I)
# "View this email in your browser", "View online", "Read on the web", "Web version".
_ONLINE_RE = re.compile(
    r"\b(?:view|read|open|see)\b[^.\n]{0,40}?\b(?:online|in\s+(?:your|a|the)\s+browser"
    r"|on\s+the\s+web|on\s+our\s+(?:site|website))\b|\bweb\s+version\b|\bbrowser\s+version\b",
    re.I,
)


class MessageParseError(ValueError):
    """One message cannot be read as an e-mail (the reason is the message text)."""


class MailboxError(Exception):
    """The mailbox itself cannot be read: missing, not a mailbox, no permission."""


@dataclass
class MailboxResult:
    """What reading one mailbox gave: the new posts and what had to be skipped."""

    path: Path
    parsed: ParsedFeed = field(default_factory=ParsedFeed)
    messages: int = 0  # messages in the mailbox
    already_seen: int = 0  # skipped because the reading list has them
    state: str | None = None  # size/mtime marker: unchanged -> nothing to read
    not_modified: bool = False
    bytes_read: int = 0
    duration_s: float = 0.0


# --------------------------------------------------------------------- parsing


def parse_message(raw: bytes) -> Record:
    """A post `Record` from one message's bytes (RFC 5322, MIME). Pure.

    Raises `MessageParseError` for a message that has no mail headers, whose
    MIME structure is broken, or whose text cannot be decoded."""
    try:
        msg = BytesParser(policy=_POLICY).parsebytes(raw)
        return _record(msg)
    except MessageParseError:
        raise
    except Exception as e:  # noqa: BLE001 - the email package raises many kinds on bad input
        raise MessageParseError(f"unreadable message ({type(e).__name__}: {e})") from None


def message_guid(raw: bytes) -> str | None:
    """The guid `parse_message` gives this message, from its header block alone
    (cheap: used to skip messages already stored). None without mail headers."""
    try:
        msg = BytesHeaderParser(policy=_POLICY).parsebytes(_head(raw))
    except Exception:  # noqa: BLE001 - parse_message will say what is wrong
        return None
    return _guid(msg)


def parse_messages(
    messages: Iterable[tuple[str, bytes]], seen: set[str] | None = None
) -> tuple[ParsedFeed, int]:
    """Records for `(label, bytes)` messages whose guid is not in `seen` (updated as
    it goes, so a message stored twice in one mailbox is read once), with a
    warning per unreadable message. Returns the feed and how many were skipped
    as already seen."""
    seen = set() if seen is None else seen
    out = ParsedFeed()
    bad: list[str] = []
    skipped = 0
    for label, raw in messages:
        guid = message_guid(raw)
        if guid is not None and guid in seen:
            skipped += 1
            continue
        try:
            record = parse_message(raw)
        except MessageParseError as e:
            bad.append(f"{label}{_subject_hint(raw)} skipped: {e}")
            continue
        assert record.guid is not None
        seen.add(record.guid)
        out.records.append(record)
    out.warnings += bad[:MAX_MESSAGE_WARNINGS]
    if len(bad) > MAX_MESSAGE_WARNINGS:
        out.warnings.append(f"{len(bad) - MAX_MESSAGE_WARNINGS} more unreadable messages skipped")
    return out, skipped


def _record(msg: Message) -> Record:
    headers = {k.lower(): v for k, v in reversed(list(msg.raw_items()))}  # first occurrence wins
    if not any(h in headers for h in ("from", "subject", "date", "message-id")):
        raise MessageParseError("no mail headers (From, Subject, Date, Message-ID)")
    charset = _first_charset(msg)
    html_src, plain = _bodies(msg)

    subject = _decode_header(headers.get("subject"), charset)
    sender = _decode_header(headers.get("from"), charset)
    name, address = email.utils.parseaddr(sender)
    author = " ".join((name or address or sender).split())
    published = _date(headers.get("date"))

    links: list[tuple[str, str]] = []  # (href, link text)
    if html_src:
        html_src = _HEAD_RE.sub(" ", html_src)
        for m in _ANCHOR_RE.finditer(html_src):
            href = html.unescape(next(g for g in m.groups()[:3] if g is not None)).strip()
            links.append((href, html_to_text(m.group(4), 200)))
    if plain:
        links += _plain_links(plain)
    url, online = _main_link(links)

    text = html_to_text(html_src, SUMMARY_MAX_CHARS) if html_src else ""
    if not text and plain:
        text = truncate(" ".join(plain.split()), SUMMARY_MAX_CHARS)
    title = " ".join(subject.split()) or (truncate(text, 100) if text else "(no subject)")

    mentions: list[str] = []
    for chunk in [html_src or "", plain or "", *(unquote(h) for h, _ in links if "%" in h)]:
        for ident in find_arxiv_ids(chunk):
            if ident not in mentions:
                mentions.append(ident)
    guid = _guid(msg)
    assert guid is not None
    return Record(
        kind="post",
        title=title,
        url=url,
        authors=[author] if author else [],
        summary=text,
        published=published,
        links={"online": url} if online and url else {},
        guid=guid,
        mentions=mentions,
        code_links=post_code_links((html_src or "", plain or "")),
    )


def _bodies(msg: Message) -> tuple[str | None, str | None]:
    """The first HTML and first plain-text body parts (attachments left out), decoded."""
    for part in msg.walk():
        if any(isinstance(d, _BROKEN_MIME) for d in part.defects):
            raise MessageParseError("broken MIME structure (multipart boundary not found)")
    found: dict[str, str] = {}
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype not in ("text/html", "text/plain") or ctype in found:
            continue
        if part.get_content_disposition() == "attachment":
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        charset = part.get_content_charset()
        # Broken base64: keep the part only if what came out is real text.
        bad_base64 = any(isinstance(d, _BAD_BASE64) for d in part.defects)
        if bad_base64 and _strict_decode(data, charset) is None:
            raise MessageParseError(f"the {ctype} part is not decodable (broken base64)")
        found[ctype] = decode_bytes(data, charset)
    return found.get("text/html"), found.get("text/plain")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of `data` in its declared charset, else UTF-8, else windows-1252 (never fails)."""
    text = _strict_decode(data, charset)
    if text is None:
        text = data.decode("cp1252", errors="replace")
    return text


def _strict_decode(data: bytes, charset: str | None) -> str | None:
    tried = []
    if charset:
        try:
            name = codecs.lookup(charset.strip().strip('"')).name
        except LookupError:
            name = None
        if name:
            tried += [_SUPERSETS.get(name, name), name]
    tried.append("utf-8")
    for name in dict.fromkeys(tried):
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def _decode_header(raw: str | None, charset: str | None) -> str:
    """A header value: RFC 2047 encoded words decoded; raw 8-bit bytes decoded like a body."""
    if not raw:
        return ""
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        raw = decode_bytes(raw.encode("ascii", "surrogateescape"), charset)
    try:
        chunks = email.header.decode_header(raw)
    except Exception:  # noqa: BLE001 - a malformed encoded word: keep the text as is
        return " ".join(raw.split())
    out = []
    for chunk, cs in chunks:
        out.append(decode_bytes(chunk, cs) if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(out).split())


def _first_charset(msg: Message) -> str | None:
    for part in msg.walk():
        cs = part.get_content_charset()
        if cs:
            return cs
    return None


def _date(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        dt = email.utils.parsedate_to_datetime(" ".join(raw.split()))
    except (TypeError, ValueError, IndexError):
        return None
    if dt.tzinfo is None:  # "-0000": the time is UTC, the zone unknown
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def _plain_links(text: str) -> list[tuple[str, str]]:
    """(url, the text before it on its line, or the previous line's) for each URL."""
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for m in _URL_RE.finditer(line):
            label = line[: m.start()].strip() or (lines[i - 1].strip() if i else "")
            out.append((m.group(0).rstrip(".,;:!?*>"), label))
    return out


def _main_link(links: list[tuple[str, str]]) -> tuple[str | None, bool]:
    """The "view online" link if there is one (True), else the first http(s) link."""
    web = [(h, t) for h, t in links if h.lower().startswith(("http://", "https://"))]
    for href, text in web:
        if _ONLINE_RE.search(text):
            return canonical_url(href), True
    return (canonical_url(web[0][0]), False) if web else (None, False)


def _guid(msg: Message) -> str | None:
    """The Message-ID; without one, a hash of From/Date/Subject (stable across fetches)."""
    headers = {k.lower(): v for k, v in reversed(list(msg.raw_items()))}
    mid = " ".join((headers.get("message-id") or "").split())
    if mid:
        return mid
    basis = [headers.get(h) for h in ("from", "date", "subject")]
    if not any(basis):
        return None
    digest = hashlib.sha1(
        "\x00".join(" ".join((b or "").split()) for b in basis).encode("utf-8", "surrogateescape")
    )
    return f"no-message-id:{digest.hexdigest()}"


def _head(raw: bytes) -> bytes:
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n")) if i != -1]
    return raw[: min(ends) + 2] if ends else raw


def _subject_hint(raw: bytes) -> str:
    try:
        msg = BytesHeaderParser(policy=_POLICY).parsebytes(_head(raw))
        subject = _decode_header(
            dict((k.lower(), v) for k, v in msg.raw_items()).get("subject"), None
        )
    except Exception:  # noqa: BLE001 - only a hint for the warning
        return ""
    return f" ({truncate(subject, 60)!r})" if subject else ""


# ------------------------------------------------------------------ the files


def mailbox_state(path: Path) -> str:
    """A marker that changes when messages are added, removed or moved: the mbox
    file's size and mtime, or the mtimes of a Maildir's new/ and cur/."""
    parts = [str(path)]
    if path.is_dir():
        for sub in ("new", "cur"):
            try:
                parts.append(str((path / sub).stat().st_mtime_ns))
            except OSError:
                parts.append("-")
    else:
        st = path.stat()
        parts += [str(st.st_size), str(st.st_mtime_ns)]
    return "mailbox:" + ":".join(parts)


def read_mailbox(
    path: Path, *, seen: set[str] | None = None, previous_state: str | None = None
) -> MailboxResult:
    """Read the new messages of an mbox file or Maildir folder.

    `seen` holds the guids already stored (not parsed again); when
    `previous_state` equals the mailbox's current `mailbox_state`, nothing is
    read (`not_modified`). Raises `MailboxError` when the mailbox cannot be read."""
    start = time.monotonic()
    path = Path(path)
    out = MailboxResult(path=path)
    if not path.exists():
        raise MailboxError(
            f"mailbox {path} does not exist — check `path` in feeds.yml (a relative path "
            "starts at the folder of feeds.yml), or that your mail sync has run"
        )
    try:
        out.state = mailbox_state(path)
        if previous_state is not None and previous_state == out.state:
            out.not_modified = True
            return out
        box = _open(path)
        try:
            keys = list(box.keys())
            out.messages = len(keys)
            if path.is_file() and not keys and path.stat().st_size:
                raise MailboxError(
                    f"{path} is not an mbox file: it has no 'From ' line separating messages "
                    "(point `path` at an mbox file or a Maildir folder with cur/ and new/)"
                )
            out.parsed, out.already_seen = parse_messages(
                _messages(box, keys, path.is_dir(), out), seen
            )
        finally:
            box.close()
    except PermissionError as e:
        raise MailboxError(
            f"cannot read mailbox {path}: permission denied ({e.filename})"
        ) from None
    except OSError as e:
        raise MailboxError(f"cannot read mailbox {path}: {e.strerror or e}") from None
    finally:
        out.duration_s = time.monotonic() - start
    return out


def _open(path: Path) -> _mailbox.Mailbox:
    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise MailboxError(
                f"{path} is a folder but not a Maildir (it has no cur/ or new/ inside) — "
                "point `path` at the Maildir folder itself, or at an mbox file"
            )
        return _mailbox.Maildir(path, factory=None, create=False)
    return _mailbox.mbox(path, factory=None, create=False)


def _messages(
    box: _mailbox.Mailbox, keys: list[str], maildir: bool, out: MailboxResult
) -> Iterable[tuple[str, bytes]]:
    for n, key in enumerate(keys, 1):
        try:
            raw = box.get_bytes(key)
        except (KeyError, FileNotFoundError):
            continue  # moved or deleted by the mail client while we read
        out.bytes_read += len(raw)
        yield (f"message {os.path.basename(str(key))}" if maildir else f"message {n}"), raw
