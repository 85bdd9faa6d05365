"""Serve the recorded feeds in tests/fixtures/feeds on loopback and write a
feeds file pointing at them, so papertrail can be tried with no internet:

    python scripts/serve_fixtures.py --write demo-feeds.yml &
    papertrail --db demo.db --feeds demo-feeds.yml fetch

The server answers with ETag / Last-Modified (so a second fetch gets 304s) and
serves the recorded arXiv API answer (a cs.LG OR cs.AI search; provenance in
tests/fixtures/feeds/MANIFEST.md) for the feeds file's one API search.

The recorded posts mention 48 arXiv papers that no recording here describes,
and the real API cannot be asked offline, so the feeds file turns the mentions
backfill off (`mentions_backfill: false`): the mentions are recorded, no paper
is made up, and the first fetch does not warn that arXiv "does not know" them.
"""

from __future__ import annotations

import argparse
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "feeds"

# (source name, kind, fixture, content type, tags / categories)
ROUTES = [
    (
        "arxiv-cs-lg",
        "arxiv-rss",
        "arxiv-rss/jmamath-distill__arxiv_cs_lg_rss_2026-04-27.xml",
        ["cs.LG"],
    ),
    (
        "arxiv-cs-cl",
        "arxiv-rss",
        "arxiv-rss/jmamath-distill__arxiv_cs_cl_rss_2026-04-27.xml",
        ["cs.CL"],
    ),
    (
        "arxiv-cs-ai",
        "arxiv-rss",
        "arxiv-rss/zotero-arxiv-daily__cs.AI_atom_2025-08-20.xml",
        ["cs.AI"],
    ),
    ("bair", "feed", "ml-blogs/jmamath-distill__bair_blog.xml", ["blog"]),
    ("openai", "feed", "ml-blogs/jmamath-distill__openai_blog.xml", ["blog"]),
    ("huggingface", "feed", "ml-blogs/jmamath-distill__huggingface_blog.xml", ["blog"]),
    ("the-gradient", "feed", "ml-blogs/jmamath-distill__gradient_blog.xml", ["blog"]),
    (
        "hacker-news",
        "feed",
        "community/hackernews__news.ycombinator.com_rss_2025-12-13.xml",
        ["community"],
    ),
    (
        "interconnects",
        "feed",
        "newsletters/substack__interconnects.ai_feed_2026-08-02.xml",
        ["newsletter"],
    ),
    ("zenn", "feed", "japanese/aion__zenn.dev_trend_feed_2026-07-27.xml", ["japanese"]),
]
API_FIXTURE = "arxiv-api/brevio__cat_cs.LG_OR_cat_cs.AI_2026-04-30.xml"


class Handler(BaseHTTPRequestHandler):
    files: dict[str, Path] = {}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        file = FIX / API_FIXTURE if path == "/api/query" else self.files.get(path)
        if file is None:
            self.send_error(404)
            return
        body = file.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        ctype = "application/atom+xml" if b"<feed" in body[:2000] else "application/rss+xml"
        self.send_header("Content-Type", ctype + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def feeds_yml(base: str) -> dict:
    data = yaml.safe_load((ROOT / "feeds.yml").read_text(encoding="utf-8"))
    sources = []
    for name, kind, _, extra in ROUTES:
        src = {"name": name, "kind": kind, "url": f"{base}/{name}"}
        src["categories" if kind == "arxiv-rss" else "tags"] = extra
        sources.append(src)
    sources.append(
        {
            "name": "arxiv-lg-api",
            "kind": "arxiv",
            "categories": ["cs.LG", "cs.AI"],
            "max_results": 20,
        }
    )
    data["sources"] = sources
    data["settings"] = {
        "arxiv_api_url": f"{base}/api/query",
        "arxiv_delay_seconds": 0,
        # nothing recorded answers for the papers the posts mention (see the docstring)
        "mentions_backfill": False,
    }
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument(
        "--write", type=Path, default=Path("demo-feeds.yml"), help="feeds file to write"
    )
    args = ap.parse_args()
    Handler.files = {f"/{name}": FIX / rel for name, _, rel, _ in ROUTES}
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    args.write.write_text(
        yaml.safe_dump(feeds_yml(base), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    print(
        f"serving {len(ROUTES)} recorded feeds + the arXiv API at {base}; feeds file: {args.write}",
        flush=True,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
