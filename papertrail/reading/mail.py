"""The digest as an e-mail: a multipart/alternative message, plain text then HTML.

Pure: a `Digest` and the `email:` settings in, an `email.message.EmailMessage`
out (papertrail.api.mailing sends it). Every feed string reaches the message
through the digest's own renderers (text: control characters stripped; HTML:
escaped, no scripts); the headers carry only papertrail's words, the digest's
date and the addresses from feeds.yml.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from papertrail.config.check_email import EmailSettings
from papertrail.reading.digest import Digest, render

TEXT_WIDTH = 78  # mail clients show plain text in a narrow column


def subject(digest: Digest, settings: EmailSettings) -> str:
    papers = sum(1 for e in digest.entries if e.get("kind") == "paper")
    posts = len(digest.entries) - papers
    counts = f"{papers} paper{'s' if papers != 1 else ''}, {posts} post{'s' if posts != 1 else ''}"
    head = settings.subject or digest.title
    return " ".join(f"{head} ({counts})".split())  # one line, whatever the config says


def build_message(
    digest: Digest, settings: EmailSettings, now: datetime | None = None
) -> EmailMessage:
    """The digest as a message from `settings.sender` to `settings.to`."""
    now = now or datetime.now(timezone.utc)
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "papertrail.invalid"
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = ", ".join(settings.to)
    msg["Subject"] = subject(digest, settings)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid("papertrail", domain=domain)
    msg["X-Mailer"] = "papertrail"
    msg.set_content(render(digest, "text", color=False, width=TEXT_WIDTH))
    msg.add_alternative(render(digest, "html"), subtype="html")
    return msg
