"""E-mail newsletters from a local mbox file or Maildir folder (papertrail.sources.mailbox), and the
`mailbox` source kind in `papertrail fetch`.

The mailboxes are written by Python's own `mailbox` module, as mbsync/getmail/offlineimap
leave them; the messages are built here (multipart HTML+plain newsletters, non-UTF-8
charsets, broken ones)."""

from __future__ import annotations

import json
import mailbox
import sqlite3
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FeedServer

import papertrail.sources.mailbox as pmail
from papertrail.cli import cli
from papertrail.config import ConfigError, load_config
from papertrail.sources.mailbox import (
    MailboxError,
    MessageParseError,
    parse_message,
    read_mailbox,
)

# ------------------------------------------------------------------ messages

NEWSLETTER_HTML = """<!DOCTYPE html><html><head><title>Import AI 401</title>
<style>.btn { color: red }</style></head><body>
<div class="preheader">GANs, again</div>
<p><a href="https://importai.net/">Import AI</a> |
<a href="https://importai.substack.com/p/import-ai-401?utm_source=email&amp;utm_medium=x">View this email in your browser</a></p>
<h1>Import AI 401: GANs are back</h1>
<p>This week: <a href="https://arxiv.org/abs/2104.12255v1">a paper on fonts</a> &amp; a workshop
(<a href="https://email.mg.substack.com/c/click?u=https%3A%2F%2Farxiv.org%2Fabs%2F1707.08567">link</a>).</p>
<script>track()</script>
<p>Caf\u00e9 talk \u2014 \u201cquoted\u201d.</p>
</body></html>"""

NEWSLETTER_TEXT = """Import AI 401: GANs are back

View this email in your browser: https://importai.substack.com/p/import-ai-401

This week: a paper on fonts (arXiv:2104.12255) and cs/0112017 is not cited.
Also see arXiv:2604.26951.
"""


def newsletter(n: int = 401, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.get("From", '"Jack Clark" <jack@importai.net>')
    msg["To"] = "reader@example.org"
    msg["Subject"] = headers.get("Subject", f"Import AI {n}: GANs are back")
    msg["Date"] = headers.get("Date", "Mon, 20 Apr 2026 10:00:00 -0400")
    msg["Message-ID"] = headers.get("Message-ID", f"<import-ai-{n}@mail.substack.com>")
    msg.set_content(NEWSLETTER_TEXT)
    msg.add_alternative(NEWSLETTER_HTML, subtype="html")
    return msg


def plain(body: str, *, charset: str, subject: bytes = b"Plain", mid: str = "<p@x>") -> bytes:
    """A single-part text message with raw 8-bit `body` bytes in `charset`."""
    head = b"From: Andr\xe9 <andre@example.fr>\n" if charset == "iso-8859-1" else b"From: a@b.org\n"
    return (
        head
        + b"Subject: "
        + subject
        + b"\nDate: Tue, 21 Apr 2026 08:30:00 +0200\nMessage-ID: "
        + mid.encode()
        + b"\nMIME-Version: 1.0\nContent-Type: text/plain; charset="
        + charset.encode()
        + b"\nContent-Transfer-Encoding: 8bit\n\n"
        + body.encode(charset if charset in ("iso-8859-1", "shift_jis", "utf-8") else "cp1252")
        + b"\n"
    )


BROKEN_MIME = (
    b"From: Broken <b@x.org>\nSubject: Half a newsletter\nMessage-ID: <broken@x>\n"
    b'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="zzz"\n\n'
    b"the boundary never comes\n"
)
NO_HEADERS = b"\x00\xff\xfe this is not an e-mail at all\nsecond line\n"
BROKEN_BASE64 = (
    b"From: c@x.org\nSubject: Encoded\nMessage-ID: <b64@x>\nMIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
    b"!!!! not base64 at all \xff\xfe ####\n"
)


# ------------------------------------------------------------------ parse_message (pure)


def test_a_multipart_newsletter_becomes_a_post() -> None:
    record = parse_message(bytes(newsletter()))
    assert record.kind == "post"
    assert record.title == "Import AI 401: GANs are back"
    assert record.authors == ["Jack Clark"]
    assert record.published == "2026-04-20T14:00:00+00:00"  # the Date header, in UTC
    assert record.guid == "<import-ai-401@mail.substack.com>"
    # the "view online" link, not the first one (the logo), without tracking parameters
    assert record.url == "https://importai.substack.com/p/import-ai-401"
    assert record.links == {"online": record.url}
    # summary: the HTML part's text, sanitised (no head/title, style, script or tags)
    assert record.summary.startswith("GANs, again Import AI |")
    assert "Café talk — “quoted”." in record.summary
    assert "a paper on fonts & a workshop" in record.summary
    for leaked in ("track()", "color: red", "<", "Import AI 401 GANs"):
        assert leaked not in record.summary
    # arXiv links in the HTML (one behind a click-tracking redirect) and citations in the text
    assert record.mentions == ["2104.12255", "2604.26951", "1707.08567"]


def test_plain_text_only_uses_the_first_link_and_the_text() -> None:
    msg = EmailMessage()
    msg["From"] = "weekly@papers.example"
    msg["Subject"] = "Papers of the week"
    msg["Message-ID"] = "<w1@papers.example>"
    msg.set_content(
        "Hello,\n\nthe best one: https://arxiv.org/abs/1707.08567v1, then\n"
        "https://example.org/more.\n"
    )
    record = parse_message(bytes(msg))
    assert record.url == "https://arxiv.org/abs/1707.08567v1"
    assert record.links == {}
    assert record.authors == ["weekly@papers.example"]  # no display name: the address
    assert record.published is None
    assert record.summary.startswith("Hello, the best one: https://arxiv.org/abs/1707.08567v1")
    assert record.mentions == ["1707.08567"]


def test_a_message_without_links_has_no_url() -> None:
    msg = EmailMessage()
    msg["From"] = "A <a@b.org>"
    msg["Subject"] = "Just words"
    msg["Message-ID"] = "<w@b>"
    msg.set_content("No links here.")
    record = parse_message(bytes(msg))
    assert record.url is None and record.mentions == [] and record.summary == "No links here."


@pytest.mark.parametrize(
    "raw,title,author,text",
    [
        (  # ISO-8859-1 body and raw 8-bit sender name
            plain(
                "Grüße aus Köln, café", charset="iso-8859-1", subject=b"=?iso-8859-1?q?Gr=FC=DFe?="
            ),
            "Grüße",
            "André",
            "Grüße aus Köln, café",
        ),
        (  # declared iso-8859-1, really windows-1252 (curly quotes, em dash): read as 1252
            plain("“smart” — quotes", charset="windows-1252").replace(
                b"charset=windows-1252", b"charset=iso-8859-1"
            ),
            "Plain",
            "a@b.org",
            "“smart” — quotes",
        ),
        (  # Shift_JIS body, RFC 2047 subject in ISO-2022-JP
            plain(
                "敵対的生成ネットワークの論文です",
                charset="shift_jis",
                subject=b"=?iso-2022-jp?b?GyRCT0BKOBsoQg==?=",
            ),
            "論文",
            "a@b.org",
            "敵対的生成ネットワークの論文です",
        ),
        (  # raw 8-bit Shift_JIS subject, no RFC 2047: decoded with the body's charset
            plain("本文", charset="shift_jis", subject="論文の紹介".encode("shift_jis")),
            "論文の紹介",
            "a@b.org",
            "本文",
        ),
        (  # an unknown charset name: UTF-8 first
            plain("naïve Bayes", charset="utf-8").replace(b"charset=utf-8", b"charset=x-no-such"),
            "Plain",
            "a@b.org",
            "naïve Bayes",
        ),
        (  # declared UTF-8 but Latin-1 bytes: falls back to windows-1252, no exception
            plain("déjà vu", charset="iso-8859-1").replace(b"charset=iso-8859-1", b"charset=utf-8"),
            "Plain",
            "André",
            "déjà vu",
        ),
    ],
    ids=["latin-1", "cp1252-as-latin-1", "shift_jis", "8bit-header", "unknown", "wrong"],
)
def test_charsets_decode(raw: bytes, title: str, author: str, text: str) -> None:
    record = parse_message(raw)
    assert record.title == title
    assert record.authors == [author]
    assert record.summary == text


@pytest.mark.parametrize(
    "raw,reason",
    [
        (BROKEN_MIME, "broken MIME structure"),
        (NO_HEADERS, "no mail headers"),
        (BROKEN_BASE64, "not decodable"),
    ],
)
def test_corrupt_messages_raise(raw: bytes, reason: str) -> None:
    with pytest.raises(MessageParseError, match=reason):
        parse_message(raw)


def test_a_message_without_message_id_gets_a_stable_guid() -> None:
    raw = bytes(newsletter()).replace(b"Message-ID: <import-ai-401@mail.substack.com>\n", b"")
    first, second = parse_message(raw), parse_message(raw + b"\n")
    assert first.guid and first.guid.startswith("no-message-id:")
    assert first.guid == second.guid == pmail.message_guid(raw)


# ------------------------------------------------------------------ files


def write_mbox(path: Path, messages: list[bytes | EmailMessage]) -> Path:
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        for m in messages:
            box.add(m if isinstance(m, bytes) else bytes(m))
        box.flush()
    finally:
        box.unlock()
        box.close()
    return path


def write_maildir(path: Path, messages: list[bytes | EmailMessage]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(str(path), create=True)
    for m in messages:
        box.add(m if isinstance(m, bytes) else bytes(m))
    box.close()
    return path


MIXED = [
    newsletter(401),
    plain("Grüße", charset="iso-8859-1", mid="<latin@x>"),
    BROKEN_MIME,
    newsletter(402),
]


@pytest.mark.parametrize("writer", [write_mbox, write_maildir], ids=["mbox", "maildir"])
def test_read_mailbox_skips_corrupt_and_seen_messages(tmp_path: Path, writer: Any) -> None:
    path = writer(tmp_path / "news", MIXED)
    res = read_mailbox(path, seen={"<import-ai-402@mail.substack.com>"})
    assert res.messages == 4 and res.already_seen == 1
    assert sorted(r.guid for r in res.parsed.records) == [
        "<import-ai-401@mail.substack.com>",
        "<latin@x>",
    ]
    (warning,) = res.parsed.warnings
    assert "('Half a newsletter') skipped: broken MIME structure" in warning
    assert res.state and not res.not_modified
    again = read_mailbox(path, previous_state=res.state)
    assert again.not_modified and again.parsed.records == []


def test_a_message_stored_twice_is_read_once(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "dup.mbox", [newsletter(401), newsletter(401)])
    res = read_mailbox(path)
    assert len(res.parsed.records) == 1 and res.already_seen == 1


def test_mailbox_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(MailboxError, match="does not exist"):
        read_mailbox(tmp_path / "nope.mbox")
    (tmp_path / "folder").mkdir()
    with pytest.raises(MailboxError, match="not a Maildir .*cur/ or new/"):
        read_mailbox(tmp_path / "folder")
    (tmp_path / "notes.txt").write_text("just some notes\n", encoding="utf-8")
    with pytest.raises(MailboxError, match="not an mbox file"):
        read_mailbox(tmp_path / "notes.txt")
    (tmp_path / "empty.mbox").write_bytes(b"")
    assert read_mailbox(tmp_path / "empty.mbox").messages == 0


def test_many_corrupt_messages_are_summed_up(tmp_path: Path) -> None:
    path = write_maildir(
        tmp_path / "bad",
        [BROKEN_MIME.replace(b"<broken@x>", f"<b{n}@x>".encode()) for n in range(25)],
    )
    res = read_mailbox(path)
    assert len(res.parsed.warnings) == pmail.MAX_MESSAGE_WARNINGS + 1
    assert res.parsed.warnings[-1] == "5 more unreadable messages skipped"


# ------------------------------------------------------------------ config


def test_config_accepts_a_mailbox_source_and_resolves_its_path(tmp_path: Path) -> None:
    feeds = tmp_path / "conf" / "feeds.yml"
    feeds.parent.mkdir()
    feeds.write_text(
        "sources:\n"
        "  - {name: newsletters, kind: mailbox, path: mail/news.mbox}\n"
        "  - {name: maildir, kind: mailbox, path: ~/Mail/ml}\n",
        encoding="utf-8",
    )
    rel, home = load_config(feeds).sources
    assert rel.kind == "mailbox" and rel.path == "mail/news.mbox"
    assert rel.mailbox_path(feeds.parent) == tmp_path / "conf" / "mail" / "news.mbox"
    assert home.mailbox_path(feeds.parent) == Path.home() / "Mail" / "ml"


@pytest.mark.parametrize(
    "source,message",
    [
        ("{name: n, kind: mailbox}", "a 'mailbox' source needs a 'path'"),
        ("{name: n, kind: mailbox, url: 'https://x.org/'}", "'url' is not used by kind 'mailbox'"),
        ("{name: n, kind: feed, path: x.mbox}", "'path' is not used by kind 'feed'"),
        ("{name: manual, kind: mailbox, path: x}", "source name 'manual' is reserved"),
        (
            "{name: arxiv-snapshot, kind: feed, url: 'https://x.org/'}",
            "source name 'arxiv-snapshot' is reserved",
        ),
    ],
)
def test_config_errors_for_mailbox_sources(tmp_path: Path, source: str, message: str) -> None:
    feeds = tmp_path / "feeds.yml"
    feeds.write_text(f"sources:\n  - {source}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(feeds)
    assert message in str(err.value)
    assert err.value.line == 2


# ------------------------------------------------------------------ papertrail fetch


def invoke(db: Path, feeds: Path, *args: str) -> Any:
    return CliRunner().invoke(
        cli, ["--db", str(db), "--feeds", str(feeds), *args], catch_exceptions=False
    )


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def counted_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every message `parse_message` reads, by guid (to show seen ones are not re-parsed)."""
    parsed: list[str] = []
    real = pmail.parse_message

    def counting(raw: bytes) -> Any:
        parsed.append(pmail.message_guid(raw) or "?")
        return real(raw)

    monkeypatch.setattr(pmail, "parse_message", counting)
    return parsed


def test_fetch_reads_mailboxes_beside_feeds_and_skips_seen_messages(
    tmp_path: Path,
    make_feeds: Any,
    db_path: Path,
    feed_server: FeedServer,
    counted_parses: list[str],
) -> None:
    (tmp_path / "mail").mkdir()
    mbox = write_mbox(tmp_path / "mail" / "news.mbox", MIXED)
    home_maildir = write_maildir(Path.home() / "Maildir" / "ml", [newsletter(500)])
    feeds = make_feeds(
        [
            {"name": "newsletters", "kind": "mailbox", "path": "mail/news.mbox", "tags": ["email"]},
            {"name": "ml-list", "kind": "mailbox", "path": "~/Maildir/ml"},
            {
                "name": "openai",
                "kind": "feed",
                "url": feed_server.serve_fixture(
                    "/openai", "ml-blogs/jmamath-distill__openai_blog.xml"
                ),
            },
        ]
    )
    result = invoke(db_path, feeds, "fetch", "--format", "json")
    assert result.exit_code == 0, result.output
    digest = json.loads(result.stdout)
    assert digest["summary"]["sources_ok"] == 3
    titles = {e["title"] for e in digest["entries"]}
    assert {"Import AI 401: GANs are back", "Import AI 402: GANs are back"} <= titles
    assert "Import AI 500: GANs are back" in titles
    posts = rows(
        db_path,
        "SELECT key, url, published FROM entries WHERE source = 'newsletters' ORDER BY key",
    )
    assert [k for k, _, _ in posts] == [
        "post:newsletters:<import-ai-401@mail.substack.com>",
        "post:newsletters:<import-ai-402@mail.substack.com>",
        "post:newsletters:<latin@x>",
    ]
    mentions = rows(
        db_path,
        "SELECT DISTINCT m.arxiv_id FROM mentions m JOIN entries e ON e.id = m.post_id "
        "WHERE e.source = 'newsletters' ORDER BY 1",
    )
    assert mentions == [("1707.08567",), ("2104.12255",), ("2604.26951",)]
    log = dict(rows(db_path, "SELECT source, warnings FROM fetch_log"))
    assert "broken MIME structure" in log["newsletters"]
    assert json.loads(log["openai"]) == []
    assert rows(db_path, "SELECT tag FROM entry_tags GROUP BY tag") == [("email",)]
    assert len(counted_parses) == 5  # 4 in the mbox (one corrupt) + 1 in the Maildir
    assert str(home_maildir) in dict(rows(db_path, "SELECT source, url FROM fetch_log"))["ml-list"]

    # Unchanged mailboxes are not even opened; a new message is the only one parsed.
    counted_parses.clear()
    again = invoke(db_path, feeds, "fetch", "--format", "json")
    assert json.loads(again.stdout)["entries"] == []
    assert counted_parses == []
    status = dict(rows(db_path, "SELECT name, last_status FROM sources"))
    assert status["newsletters"] == status["ml-list"] == "not-modified"

    write_mbox(mbox, [newsletter(403)])  # mailbox.mbox appends
    third = json.loads(invoke(db_path, feeds, "fetch", "--format", "json").stdout)
    assert [e["title"] for e in third["entries"]] == ["Import AI 403: GANs are back"]
    # the corrupt one is tried again (it might have been fixed), the stored ones are not
    assert counted_parses == ["<broken@x>", "<import-ai-403@mail.substack.com>"]
    assert rows(db_path, "SELECT COUNT(*) FROM entries WHERE source = 'newsletters'") == [(4,)]


def test_a_missing_mailbox_fails_that_source_only(
    tmp_path: Path, make_feeds: Any, db_path: Path, feed_server: FeedServer
) -> None:
    write_maildir(tmp_path / "ok", [newsletter(1)])
    feeds = make_feeds(
        [
            {"name": "gone", "kind": "mailbox", "path": "no/such.mbox"},
            {"name": "fine", "kind": "mailbox", "path": str(tmp_path / "ok")},
            {
                "name": "openai",
                "kind": "feed",
                "url": feed_server.serve_fixture(
                    "/openai", "ml-blogs/jmamath-distill__openai_blog.xml"
                ),
            },
        ]
    )
    result = invoke(db_path, feeds, "fetch", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert summary["sources_ok"] == 2 and summary["sources_failed"] == 1
    errors = dict(rows(db_path, "SELECT name, last_error FROM sources"))
    assert errors["gone"] == (
        f"mailbox {tmp_path / 'no' / 'such.mbox'} does not exist — check `path` in feeds.yml "
        "(a relative path starts at the folder of feeds.yml), or that your mail sync has run"
    )
    assert errors["fine"] is None and errors["openai"] is None
    assert rows(db_path, "SELECT COUNT(*) FROM entries WHERE source = 'fine'") == [(1,)]
