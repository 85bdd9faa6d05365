"""`papertrail add`: arXiv papers by hand, fetched in batched `id_list` calls from a real
loopback arXiv API.

The API answers are built from recorded arXiv API entries (tests/fixtures/feeds/arxiv-api,
2026 backend format; see its MANIFEST.md): an `id_list` request gets the recorded <entry>
elements of the ids it names, in a feed whose header is the recorded header of the
`id_0808.05394_1707.08567` answer with `totalResults` set to the number found — what arXiv
does, since it silently leaves out ids it does not know. An id of a malformed shape gets
arXiv's recorded HTTP 400 error feed (`id_abc…`)."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CONTENT_TYPES, FeedServer, fixture_bytes
from werkzeug import Request, Response

from papertrail import store
from papertrail.cli import EXIT_CONFIG, EXIT_FAILED, cli
from papertrail.ingest.add import (
    ID_LIST_MAX,
    MANUAL_SOURCE,
    NotAnArxivId,
    fetch_papers,
    parse_id_inputs,
    read_id_file,
)
from papertrail.sources.arxiv_api import ID_LIST_MAX as API_ID_LIST_MAX
from papertrail.sources.arxiv_api import ArxivApi

_RECORDED = [
    "arxiv-api/brevio__cat_cs.LG_OR_cat_cs.AI_2026-04-30.xml",
    "arxiv-api/arxiv-digest__all_nicotine_2026-07-17.xml",
    "arxiv-api/arxiv.py-recorded-2026/id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.body.xml",
    "arxiv-api/arxiv.py-recorded-2026/id_2104.12255v1_s0_m100_6ae69987ffe1.body.xml",
    "arxiv-api/arxiv.py-recorded-2026/id_astro-ph_0601001_s0_m100_3150dca9dc76.body.xml",
]
_HEADER_FROM = _RECORDED[2]
_ERROR_BODY = "arxiv-api/arxiv.py-recorded-2026/id_abc_s0_m100_b79c8dcf6bc3.body.xml"
_ENTRY_ID_RE = re.compile(r"<id>https?://arxiv\.org/abs/(.+?)(?:v\d+)?</id>")
_VALID_SHAPE = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z-]+/\d{7})(?:v\d+)?\Z")


def recorded_entries() -> dict[str, str]:
    """{version-less id: the recorded <entry> element} from the recorded API answers."""
    out: dict[str, str] = {}
    for rel in _RECORDED:
        text = fixture_bytes(rel).decode("utf-8")
        for m in re.finditer(r"<entry>.*?</entry>", text, re.S):
            ident = _ENTRY_ID_RE.search(m.group(0))
            assert ident, m.group(0)[:200]
            out[ident.group(1)] = m.group(0)
    return out


class ArxivIdApi:
    """A loopback arXiv API answering `id_list` queries from recorded entries.

    `calls` holds the ids of each request (and `times` when it came);
    set `status` to make it answer with an HTTP error instead."""

    def __init__(self, fs: FeedServer):
        self.entries = recorded_entries()
        header = fixture_bytes(_HEADER_FROM).decode("utf-8")
        self.header = header[: header.index("<entry>")]
        self.calls: list[list[str]] = []
        self.times: list[float] = []
        self.status = 200
        self.url = fs.handle("/api/query", self.answer)

    def answer(self, request: Request) -> Response:
        ids = [i for i in request.args.get("id_list", "").split(",") if i]
        self.calls.append(ids)
        self.times.append(time.monotonic())
        if self.status != 200:
            return Response("Service Unavailable", status=self.status)
        if any(not _VALID_SHAPE.match(i) for i in ids):
            return Response(fixture_bytes(_ERROR_BODY), status=400, headers=_ATOM)
        wanted = [re.sub(r"v\d+\Z", "", i) for i in ids]
        found = [self.entries[i] for i in wanted if i in self.entries]
        return Response(self.feed(found), headers=_ATOM)

    def feed(self, entries: list[str]) -> str:
        header = re.sub(
            r"<opensearch:totalResults>\d+</opensearch:totalResults>",
            f"<opensearch:totalResults>{len(entries)}</opensearch:totalResults>",
            self.header,
        )
        return header + "\n".join(entries) + "\n</feed>\n"


_ATOM = {"Content-Type": CONTENT_TYPES["api"]}


@pytest.fixture
def api(feed_server: FeedServer) -> ArxivIdApi:
    return ArxivIdApi(feed_server)


@pytest.fixture
def feeds(make_feeds: Any, api: ArxivIdApi) -> Path:
    return make_feeds([], {"arxiv_api_url": api.url})


def invoke(db: Path, feeds: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), "add", *args])


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def make_api(url: str) -> ArxivApi:
    return ArxivApi(endpoint=url, delay_seconds=0, timeout=3, user_agent="test", num_retries=0)


# ------------------------------------------------------------------ parsing input


def test_every_id_form_is_accepted_and_made_versionless() -> None:
    items = [
        ("a1", "1508.06576"),
        ("a2", "arXiv:1508.06576v2"),  # the same paper
        ("a3", "https://arxiv.org/abs/1701.07875v3"),
        ("a4", "https://arxiv.org/pdf/1511.06434v2.pdf"),
        ("a5", "http://export.arxiv.org/pdf/1603.08155"),
        ("a6", "math/0309136"),
        ("a7", "math.GT/0309136v1"),  # the same, with the subject class
        ("a8", "  2104.12255v1  "),
    ]
    assert parse_id_inputs(items) == [
        "1508.06576",
        "1701.07875",
        "1511.06434",
        "1603.08155",
        "math/0309136",
        "2104.12255",
    ]


def test_input_that_is_not_an_arxiv_id_is_named_and_nothing_is_added(
    feeds: Path, db_path: Path, api: ArxivIdApi
) -> None:
    with pytest.raises(NotAnArxivId) as err:
        parse_id_inputs([("argument 1", "2104.12255"), ("argument 2", "attention is all")])
    assert "argument 2: 'attention is all'" in str(err.value)
    assert "2104.12255" not in str(err.value)

    result = invoke(db_path, feeds, "2104.12255", "https://example.org/abs/1508.06576")
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "argument 2: 'https://example.org/abs/1508.06576'" in result.output
    assert "nothing was added" in result.output
    assert api.calls == []  # bad input loses nothing: no request, no write
    assert not db_path.exists() or rows(db_path, "SELECT COUNT(*) FROM entries") == [(0,)]


def test_id_file_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "to-read.txt"
    path.write_text(
        "# papers for the reading group\n\n2104.12255  # DCGAN follow-up\nastro-ph/0601001\n",
        encoding="utf-8",
    )
    assert read_id_file(path) == [(f"{path}:3", "2104.12255"), (f"{path}:4", "astro-ph/0601001")]
    with pytest.raises(NotAnArxivId, match="does not exist"):
        read_id_file(tmp_path / "missing.txt")


# ------------------------------------------------------------------ adding


def test_add_fetches_stores_and_prints_with_manual_provenance(
    feeds: Path, db_path: Path, api: ArxivIdApi
) -> None:
    result = invoke(
        db_path,
        feeds,
        "arXiv:2104.12255v1",
        "https://arxiv.org/abs/1707.08567v1",
        "https://arxiv.org/pdf/2604.26951v1",
        "astro-ph/0601001",
    )
    assert result.exit_code == 0, result.output
    assert "4 added, 0 already there." in result.output
    assert "2104.12255" in result.output and "astro-ph/0601001" in result.output
    stored = rows(
        db_path,
        "SELECT e.arxiv_id, e.title, p.source FROM entries e JOIN provenance p ON p.entry_id = e.id "
        "ORDER BY e.arxiv_id",
    )
    assert [(a, s) for a, _, s in stored] == [
        ("1707.08567", MANUAL_SOURCE),
        ("2104.12255", MANUAL_SOURCE),
        ("2604.26951", MANUAL_SOURCE),
        ("astro-ph/0601001", MANUAL_SOURCE),
    ]
    titles = dict((a, t) for a, t, _ in stored)
    assert titles["2604.26951"].startswith("Turning the TIDE")
    for arxiv_id, title, _ in stored:
        assert title in result.output, arxiv_id
    assert api.calls == [["2104.12255", "1707.08567", "2604.26951", "astro-ph/0601001"]]
    domains = rows(db_path, "SELECT COUNT(DISTINCT entry_id) FROM entry_domains")
    assert domains == [(4,)]  # tagged like every other paper


def test_ids_already_present_gain_manual_provenance_without_a_request(
    feeds: Path, db_path: Path, api: ArxivIdApi
) -> None:
    db = store.open_db(db_path)
    db.execute(
        "INSERT INTO entries (key, kind, arxiv_id, title, first_seen, last_seen) "
        "VALUES ('arxiv:2104.12255', 'paper', '2104.12255', 'Known', '2026-01-01', '2026-01-01')"
    )
    db.execute(
        "INSERT INTO provenance (entry_id, source, first_seen, last_seen) "
        "VALUES (1, 'arxiv-cs-lg', '2026-01-01', '2026-01-01')"
    )
    db.conn.commit()
    db.close()

    result = invoke(db_path, feeds, "2104.12255v1", "1707.08567")
    assert result.exit_code == 0, result.output
    assert "1 added, 1 already there." in result.output
    assert "#1  2104.12255  Known  (now marked manual)" in result.output
    assert api.calls == [["1707.08567"]]  # the present one is not fetched again
    sources = rows(db_path, "SELECT source FROM provenance WHERE entry_id = 1 ORDER BY source")
    assert sources == [("arxiv-cs-lg",), (MANUAL_SOURCE,)]
    assert rows(db_path, "SELECT title FROM entries WHERE id = 1") == [("Known",)]

    again = invoke(db_path, feeds, "2104.12255", "1707.08567")  # idempotent
    assert again.exit_code == 0 and "0 added, 2 already there." in again.output
    assert rows(db_path, "SELECT COUNT(*) FROM provenance WHERE source = 'manual'") == [(2,)]
    assert rows(db_path, "SELECT COUNT(*) FROM entries") == [(2,)]


def test_an_id_arxiv_does_not_know_is_listed_and_exits_1(
    feeds: Path, db_path: Path, api: ArxivIdApi
) -> None:
    result = invoke(db_path, feeds, "2104.12255", "1508.06576", "2612.99999")
    assert result.exit_code == EXIT_FAILED, result.output
    assert "unknown  1508.06576" in result.output
    assert "unknown  2612.99999" in result.output
    assert "1 added, 0 already there, 2 unknown to arXiv." in result.output
    assert rows(db_path, "SELECT arxiv_id FROM entries") == [("2104.12255",)]


def test_many_ids_go_in_batches_of_at_most_100(
    tmp_path: Path, feeds: Path, db_path: Path, api: ArxivIdApi
) -> None:
    known = sorted(api.entries)
    unknown = [f"2612.{n:05d}" for n in range(1, 251)]
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(known + unknown) + "\n", encoding="utf-8")

    result = invoke(db_path, feeds, "--file", str(path))
    assert result.exit_code == EXIT_FAILED, result.output  # 250 unknown
    total = len(known) + 250
    assert [len(c) for c in api.calls] == [100] * (total // 100) + [total % 100]
    assert all(len(c) <= ID_LIST_MAX == API_ID_LIST_MAX for c in api.calls)
    assert rows(db_path, "SELECT COUNT(*) FROM entries") == [(len(known),)]
    assert f"{len(known)} added, 0 already there, 250 unknown to arXiv." in result.output


def test_arxiv_down_reports_the_ids_not_fetched(
    feeds: Path, db_path: Path, api: ArxivIdApi
) -> None:
    api.status = 503
    result = invoke(db_path, feeds, "2104.12255", "1707.08567")
    assert result.exit_code == EXIT_FAILED
    assert "not fetched: 2104.12255, 1707.08567" in result.output
    assert "HTTP 503" in result.output
    assert "2 not fetched (try again later)" in result.output
    assert rows(db_path, "SELECT COUNT(*) FROM entries") == [(0,)]


def test_a_malformed_id_rejected_by_arxiv_does_not_sink_the_batch(api: ArxivIdApi) -> None:
    # Ids reach the API validated; this guards the library against arXiv's HTTP 400 anyway.
    got = fetch_papers(make_api(api.url), ["2104.12255", "abc", "1707.08567"], name="test")
    assert sorted(r.arxiv_id for r in got.records) == ["1707.08567", "2104.12255"]
    assert got.unknown == ["abc"] and got.failed == [] and got.errors == []
    assert api.calls == [["2104.12255", "abc", "1707.08567"], ["2104.12255", "1707.08567"]]
