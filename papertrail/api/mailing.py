"""`papertrail digest --email`, `fetch --email`: send the digest over SMTP.

The message is built by papertrail.reading.mail; this module finds the password
(an environment variable named in feeds.yml, else the system keyring through the
optional `keyring` package; never the file), connects (STARTTLS, SSL, or plain
to a server on this machine) and sends. When anything fails the message is kept
as an .eml file in the outbox folder next to the database and `MailNotSent`
says where.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

from papertrail.config import ConfigError, Paths
from papertrail.config.check_email import KEYRING_SERVICE, EmailSettings
from papertrail.config.paths import write_atomic
from papertrail.reading.digest import Digest
from papertrail.reading.mail import build_message

OUTBOX = "outbox"  # next to the database: <db folder>/outbox/digest-<UTC time>.eml


class MailNotSent(Exception):
    """The digest could not be sent; str() says why and where the message was kept."""

    def __init__(self, message: str, saved_to: Path) -> None:
        super().__init__(message)
        self.saved_to = saved_to


@dataclass(frozen=True)
class MailSent:
    recipients: tuple[str, ...]
    message_id: str
    subject: str


def outbox_dir(paths: Paths) -> Path:
    return Path(paths.db).resolve().parent / OUTBOX


def send_digest(paths: Paths, digest: Digest) -> MailSent:
    """Mail `digest` as feeds.yml's `email:` section says. Raises ConfigError when there is
    no such section, MailNotSent (the message saved in `outbox_dir`) when sending fails."""
    config = paths.config()
    settings = config.email
    if settings is None:
        raise ConfigError(
            config.path,
            key="email",
            message="no 'email:' section: add one with host, from and to "
            "(see the README, 'E-mail') to send the digest",
        )
    msg = build_message(digest, settings)
    try:
        _send(settings, msg)
    except (OSError, smtplib.SMTPException, ssl.SSLError, _NoPassword) as e:
        saved = _keep(paths, msg)
        raise MailNotSent(
            f"the digest was not sent to {', '.join(settings.to)} via "
            f"{settings.host}:{settings.port}: {_why(e)}. It is saved in {saved}",
            saved,
        ) from None
    return MailSent(settings.to, str(msg["Message-ID"]), str(msg["Subject"]))


class _NoPassword(Exception):
    pass


def password(settings: EmailSettings) -> str | None:
    """The SMTP password: the environment variable `password_env`, else the keyring."""
    if settings.username is None:
        return None
    if settings.password_env and os.environ.get(settings.password_env):
        return os.environ[settings.password_env]
    try:
        import keyring  # type: ignore[import-not-found,unused-ignore]  # optional: not a dependency
    except ImportError:
        keyring = None
    found = keyring.get_password(KEYRING_SERVICE, settings.username) if keyring else None
    if found:
        return str(found)
    env = settings.password_env or "SMTP_PASSWORD"
    raise _NoPassword(
        f"no password for {settings.username}: export {env}=… (and set "
        f"'password_env: {env}' in the email: section), or store it with "
        f"`keyring set {KEYRING_SERVICE} {settings.username}` (pip install keyring)"
    )


def _send(settings: EmailSettings, msg: EmailMessage) -> None:
    secret = password(settings)
    context = ssl.create_default_context(cafile=settings.ca_file)
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username is not None and secret is not None:
            smtp.login(settings.username, secret)
        smtp.send_message(msg)


def _why(e: BaseException) -> str:
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return "the server refused the user name or password"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused (is the host and port right?)"
    if isinstance(e, socket.timeout | TimeoutError):
        return "the server did not answer in time"
    if isinstance(e, smtplib.SMTPNotSupportedError):
        return f"{e} (try security: ssl, or the server's STARTTLS port)"
    return str(e) or type(e).__name__


def _keep(paths: Paths, msg: EmailMessage) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = outbox_dir(paths) / f"digest-{stamp}.eml"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, msg.as_string())
    return path
