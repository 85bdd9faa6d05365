"""`papertrail digest --email` / `fetch --email` (issue 20) against a real SMTP server on
loopback (aiosmtpd): headers, both parts, escaping of hostile feed text (the hand-made
hostile blog feed), STARTTLS with the server's own certificate, the password rules, and a
failed send that keeps the message on disk."""

from __future__ import annotations

import email
import re
import shutil
import socket
import ssl
import subprocess
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import private_copy, serving, write_feeds
from test_fetch import serve_api

from papertrail.cli import cli

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd (test extra) is not installed")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

API = "arxiv-api/brevio__cat_cs.LG_OR_cat_cs.AI_2026-04-30.xml"
HOSTILE = Path(__file__).parent / "fixtures" / "handmade" / "hostile-blog_atom.xml"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Any:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def _hostile_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("mail")
    with serving() as fs:
        sources = [
            {"name": "arxiv-lg", "kind": "arxiv", "categories": ["cs.LG"], "max_results": 20},
            {"name": "hostile", "kind": "feed",
             "url": fs.serve("/h", HOSTILE.read_bytes(), "application/atom+xml")},
        ]  # fmt: skip
        feeds = write_feeds(base / "feeds.yml", sources, {"arxiv_api_url": serve_api(fs, API)})
        result = invoke(base / "reading.db", feeds, "fetch", "-q")
        assert result.exit_code == 0, result.output
    return base / "reading.db", feeds


@pytest.fixture
def hostile_list(_hostile_template: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A reading list fetched from the recorded API answer and the hostile blog feed."""
    return private_copy(*_hostile_template, tmp_path)


def invoke(db: Path, feeds: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args], env=env)


def with_email(feeds: Path, **section: Any) -> Path:
    data = yaml.safe_load(feeds.read_text(encoding="utf-8"))
    data["email"] = section
    feeds.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return feeds


def plain_section(port: int, **more: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "security": "none",
            "from": "papertrail <digest@example.org>", "to": ["me@example.org"], **more}  # fmt: skip


def test_the_digest_arrives_with_headers_both_parts_and_escaped_text(
    smtp: Any, hostile_list: tuple[Path, Path]
) -> None:
    inbox, port = smtp
    db, feeds = hostile_list
    with_email(feeds, **plain_section(port))
    result = invoke(db, feeds, "digest", "--since", "1d", "--email")
    assert result.exit_code == 0, result.output
    (mail_from, rcpt, msg), *_ = inbox.messages
    assert (mail_from, rcpt) == ("digest@example.org", ["me@example.org"])
    assert msg["From"] == "papertrail <digest@example.org>"
    assert msg["To"] == "me@example.org"
    assert msg["Subject"].startswith("papertrail digest — ") and "papers" in msg["Subject"]
    assert msg["Date"] and msg["Message-ID"].endswith("@example.org>")
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Turning the TIDE" in text and "Turning the TIDE" in html
    assert "code: https://github.com/PKU-YuanGroup/TIDE (GitHub)" in text
    # hostile feed text: shown, never live markup
    assert "Hostile diffusion post" in html
    assert re.search(r"<(script|img|svg|b)\b", html, re.I) is None  # no live tag from a feed
    assert 'href="javascript' not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=" in html
    assert "\x1b" not in text
    assert "Sent “" in result.output


def test_fetch_email_sends_the_whole_digest_even_when_quiet(
    smtp: Any, feed_server: Any, make_feeds: Any, db_path: Path
) -> None:
    inbox, port = smtp
    url = feed_server.serve("/h", HOSTILE.read_bytes(), "application/atom+xml")
    feeds = make_feeds([{"name": "hostile", "kind": "feed", "url": url}])
    with_email(feeds, **plain_section(port, subject="Morning papers"))
    result = invoke(db_path, feeds, "fetch", "--quiet", "--email")
    assert result.exit_code == 0, result.output
    (_, _, msg), *_ = inbox.messages
    assert msg["Subject"].startswith("Morning papers (0 papers, 2 posts)")
    text = " ".join(msg.get_body(("plain",)).get_content().split())  # unwrapped
    assert (
        "1 source ok" in text and "Hostile diffusion post" in text
    )  # entries, not only the summary


def test_a_failed_send_exits_69_and_keeps_the_message(hostile_list: tuple[Path, Path]) -> None:
    db, feeds = hostile_list
    with_email(feeds, **plain_section(free_port()))  # nobody listens there
    result = invoke(db, feeds, "digest", "--since", "1d", "--email")
    assert result.exit_code == 69
    assert "was not sent" in result.output and "connection refused" in result.output
    (saved,) = (db.parent / "outbox").glob("digest-*.eml")
    assert str(saved) in result.output
    kept = email.message_from_bytes(saved.read_bytes(), policy=default_policy)
    assert "Turning the TIDE" in kept.get_body(("plain",)).get_content()


def test_a_password_in_the_file_is_refused(make_feeds: Any, db_path: Path) -> None:
    feeds = with_email(make_feeds([]), **plain_section(25, username="me", password="hunter2"))
    result = invoke(db_path, feeds, "digest", "--email")
    assert result.exit_code == 2
    assert "email.password" in result.output and "password_env" in result.output
    assert "keyring set papertrail" in result.output


def test_plain_smtp_to_another_host_and_bad_addresses_are_refused(
    make_feeds: Any, db_path: Path
) -> None:
    feeds = with_email(
        make_feeds([]), host="smtp.example.org", security="none", to="not-an-address",
        **{"from": "me@example.org"},
    )  # fmt: skip
    result = invoke(db_path, feeds, "config")
    assert result.exit_code == 2
    assert "email.to" in result.output and "not an e-mail address" in result.output
    with_email(feeds, host="smtp.example.org", security="none", to="me@example.org",
               **{"from": "me@example.org"})  # fmt: skip
    result = invoke(db_path, feeds, "config")
    assert result.exit_code == 2
    assert "email.security" in result.output and "unencrypted to smtp.example.org" in result.output


def test_no_email_section_says_what_to_add(make_feeds: Any, db_path: Path) -> None:
    feeds = make_feeds([])
    assert invoke(db_path, feeds, "fetch", "-q").exit_code == 0  # an empty reading list
    result = invoke(db_path, feeds, "digest", "--email")
    assert result.exit_code == 2 and "no 'email:' section" in result.output


def test_a_missing_password_is_a_failed_send_with_the_way_out(
    smtp: Any, hostile_list: tuple[Path, Path]
) -> None:
    _, port = smtp
    db, feeds = hostile_list
    with_email(feeds, **plain_section(port, username="me", password_env="PT_TEST_SMTP_PW"))
    result = invoke(db, feeds, "digest", "--since", "1d", "--email", env={"PT_TEST_SMTP_PW": ""})
    assert result.exit_code == 69
    assert "no password for me: export PT_TEST_SMTP_PW" in result.output


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.integration  # ~2.5 s: a new RSA key, TLS handshakes, a 1 s client timeout
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_starttls_and_login_with_the_password_from_the_environment(
    tmp_path: Path, hostile_list: tuple[Path, Path]
) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    seen: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        assert isinstance(auth, LoginPassword)
        seen.append((auth.login.decode(), auth.password.decode()))
        return AuthResult(success=auth.password == b"s3cret")

    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=authenticator, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        db, feeds = hostile_list
        section = plain_section(port, security="starttls", username="me",
                                password_env="PT_TEST_SMTP_PW", ca_file=str(cert))  # fmt: skip
        with_email(feeds, **section)
        ok = invoke(
            db, feeds, "digest", "--since", "1d", "--email", env={"PT_TEST_SMTP_PW": "s3cret"}
        )
        assert ok.exit_code == 0, ok.output
        assert seen == [("me", "s3cret")] and len(inbox.messages) == 1
        # a refused password: aiosmtpd answers a failed AUTH only after a long pause, so
        # the client's timeout ends it here; either way the send failed and says so
        with_email(feeds, **{**section, "timeout": 1})
        bad = invoke(
            db, feeds, "digest", "--since", "1d", "--email", env={"PT_TEST_SMTP_PW": "nope"}
        )
        assert bad.exit_code == 69 and "was not sent" in bad.output
    finally:
        controller.stop()


@pytest.mark.integration  # ~1.5 s: a new RSA key and a TLS handshake
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_implicit_tls_ssl(tmp_path: Path, hostile_list: tuple[Path, Path]) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    try:
        db, feeds = hostile_list
        with_email(feeds, **plain_section(port, security="ssl", ca_file=str(cert)))
        result = invoke(db, feeds, "digest", "--since", "1d", "--email")
        assert result.exit_code == 0, result.output
        assert len(inbox.messages) == 1
        # without trusting the server's own certificate, nothing is sent
        with_email(feeds, **plain_section(port, security="ssl"))
        refused = invoke(db, feeds, "digest", "--since", "1d", "--email")
        assert refused.exit_code == 69 and "CERTIFICATE_VERIFY_FAILED" in refused.output
        assert len(inbox.messages) == 1
    finally:
        controller.stop()
