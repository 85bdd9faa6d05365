"""TLS in the fetcher (issue 19 D): the CA bundle is loaded only when the first https
request comes, and certificates are verified all the same. A real HTTPS server on
loopback with a self-signed certificate made by the openssl command."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from papertrail.sources import http as ptx
from papertrail.sources.http import FetchRequest, fetch_all_sync

BODY = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 and the path of its self-signed certificate."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/feed", cert
    finally:
        server.shutdown()
        server.server_close()


def _fetch(url: str) -> ptx.FetchResult:
    [result] = fetch_all_sync([FetchRequest(key="s", url=url)], timeout=5, max_retries=0)
    return result


def test_an_untrusted_certificate_is_refused(
    https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    result = _fetch(https[0])
    assert result.body is None and result.error
    assert "CERTIFICATE_VERIFY_FAILED" in result.error or "certificate" in result.error.lower()


def test_the_bundle_is_loaded_before_the_first_https_request(
    https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lazily loaded bundle is the one verifying: here it is the server's own
    certificate (certifi.where() pointed at it), so the fetch succeeds."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setattr(ptx.certifi, "where", lambda: str(https[1]))
    result = _fetch(https[0])
    assert result.error is None and result.body == BODY


def test_ssl_cert_file_is_honoured_as_httpx_does(
    https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(https[1]))
    result = _fetch(https[0])
    assert result.error is None and result.body == BODY
