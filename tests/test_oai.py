"""`papertrail import oai`: harvesting arXiv's OAI-PMH interface (issue 9).

A real loopback HTTP server serves the recorded OAI-PMH answers in
tests/fixtures/feeds/arxiv-bulk/oai-pmh (the ListRecords page for
physics:hep-ex, its DERIVED two-page split with a resumption token, and a
GetRecord; see the MANIFEST). Error answers are derived in memory from the real
page. Pacing is checked with an injected clock and sleep: no test waits 3 s.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, REPO
from werkzeug import Request, Response

from papertrail import store
from papertrail.config import load_config
from papertrail.ingest.oai import check_day, check_set_spec, harvest, resolve_endpoint
from papertrail.models import ArxivMeta
from papertrail.sources.domains import DomainTagger
from papertrail.sources.oai_client import OaiClient
from papertrail.sources.oai_parse import OaiError, OaiProtocolError, parse_oai_page

OAI = FIXTURES / "arxiv-bulk" / "oai-pmh"
FULL = (OAI / "hepcrawl__ListRecords_arXiv_arxiv-physics-hep-ex.xml").read_bytes()
PAGE1 = (OAI / "DERIVED__ListRecords_arXiv_physics-hep-ex_page1.xml").read_bytes()
PAGE2 = (OAI / "DERIVED__ListRecords_arXiv_physics-hep-ex_page2.xml").read_bytes()
GET_RECORD = (OAI / "hepcrawl__GetRecord_arXiv_1401.2122.xml").read_bytes()
TOKEN = "2785912|3"
XML = "text/xml; charset=utf-8"  # what export.arxiv.org/oai2 sent


def oai_error(code: str, message: str) -> bytes:
    """The real page with its <ListRecords> replaced by an OAI-PMH <error> (§3.6)."""
    head, rest = FULL.split(b"<ListRecords>", 1)
    _, tail = rest.split(b"</ListRecords>", 1)
    return head + f'<error code="{code}">{message}</error>'.encode() + tail


class FakeClock:
    """time.monotonic + time.sleep for the client: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def tagger() -> DomainTagger:
    return DomainTagger(load_config(REPO / "feeds.yml").domains)


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = store.open_db(tmp_path / "reading.db")
    yield database
    database.close()


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


def serve_oai(feed_server: Any, answer: Callable[[dict[str, str]], Any]) -> str:
    """Route /oai to `answer(args)`: bytes (200), or a (status, body, headers) tuple."""
    calls: list[dict[str, str]] = []

    def handler(request: Request) -> Response:
        args = dict(request.args)
        calls.append(args)
        got = answer(args)
        status, body, headers = (200, got, {}) if isinstance(got, bytes) else got
        return Response(body, status=status, headers={"Content-Type": XML, **headers})

    url = feed_server.handle("/oai", handler)
    feed_server.oai_calls = calls
    return url


def two_pages(args: dict[str, str]) -> bytes:
    if args.get("resumptionToken") == TOKEN:
        return PAGE2
    return PAGE1


def client_for(url: str, fake: FakeClock, **kw: Any) -> OaiClient:
    kw.setdefault("interval", 3.0)
    return OaiClient(url, sleep=fake.sleep, clock=fake.clock, timeout=5, **kw)


def entries(db: Any) -> dict[str, dict[str, Any]]:
    rows = db.execute("SELECT * FROM entries ORDER BY arxiv_id").fetchall()
    cols = [d[0] for d in db.execute("SELECT * FROM entries LIMIT 0").description]
    return {r[cols.index("arxiv_id")]: dict(zip(cols, r, strict=True)) for r in rows}


def state_row(db: Any, url: str, set_spec: str | None = "physics:hep-ex") -> store.HarvestState:
    found = store.get_harvest_state(db, store.harvest_name("arxiv-oai", url, set_spec))
    assert found is not None
    return found


# ------------------------------------------------------------------ parsing


def test_get_record_maps_every_field_like_the_api_path() -> None:
    page = parse_oai_page(GET_RECORD)
    assert page.token is None and page.datestamp == "2018-01-25" and not page.warnings
    [meta] = page.records
    assert isinstance(meta, ArxivMeta)
    r = meta.record
    assert r.kind == "paper" and r.arxiv_id == "1401.2122" and r.version is None
    assert r.title == "New integrable (3+1)-dimensional systems and contact geometry"
    assert r.authors == ["A. Sergyeyev"]
    assert r.categories == ["math.AP", "hep-th", "math-ph", "math.DG", "math.MP", "nlin.SI"]
    assert r.primary_category == "math.AP"
    assert r.published == "2014-01-09T00:00:00+00:00"
    assert r.updated == "2017-10-23T00:00:00+00:00"
    assert r.doi == "10.1007/s11005-017-1013-4"
    assert r.journal_ref == "Lett. Math. Phys. 108 (2018), no. 2, 359-376"
    assert r.comment == (
        "16 pages, LaTeX, no figures, revised and abridged, in this version (v5) the typos were "
        "fixed (including some that have unfortunately crept into the published version too), "
        "Letters in Mathematical Physics (2017)"
    )
    assert r.summary.startswith("We introduce a novel systematic construction for integrable")
    assert r.summary.endswith("polynomial and rational in the spectral parameter.")
    assert r.summary == " ".join(r.summary.split())
    assert r.url == "https://arxiv.org/abs/1401.2122"
    assert r.links == {
        "abs": "https://arxiv.org/abs/1401.2122",
        "pdf": "https://arxiv.org/pdf/1401.2122",
        "doi": "https://doi.org/10.1007/s11005-017-1013-4",
    }
    assert r.guid == "http://arxiv.org/abs/1401.2122"
    assert meta.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert meta.versions == [] and meta.submitter is None and meta.report_no is None


def test_list_records_page_and_its_derived_split() -> None:
    full = parse_oai_page(FULL)
    assert [m.record.arxiv_id for m in full.records] == ["1706.05371", "1706.09418", "1707.00874"]
    assert full.token is None and full.datestamp == "2017-12-14"
    assert full.response_date == "2017-12-14T13:00:41Z"
    by_id = {m.record.arxiv_id: m for m in full.records}
    assert by_id["1706.09418"].report_no == "BONN-TH-2017-03"
    assert by_id["1707.00874"].report_no == "IITH-PH-0001/17, IMSc/2017/07/05"
    assert by_id["1707.00874"].record.title == (
        "Implications of right-handed neutrinos in $B-L$ extended standard model with scalar "
        "dark matter"
    )
    assert by_id["1707.00874"].record.categories == ["hep-ph", "astro-ph.CO", "hep-ex"]

    first, last = parse_oai_page(PAGE1), parse_oai_page(PAGE2)
    assert (first.token, first.cursor, first.complete_list_size) == (TOKEN, 0, 3)
    assert (last.token, last.cursor, last.complete_list_size) == (None, 2, 3)
    assert [m.record for m in first.records + last.records] == [m.record for m in full.records]


def test_deleted_and_unreadable_records_are_counted_not_fatal() -> None:
    deleted = FULL.replace(
        b"<header>\n <identifier>oai:arXiv.org:1706.05371</identifier>",
        b'<header status="deleted">\n <identifier>oai:arXiv.org:1706.05371</identifier>',
    ).replace(b"<id>1706.09418</id>", b"<id>not-an-id</id>")
    page = parse_oai_page(deleted)
    assert page.deleted == ["oai:arXiv.org:1706.05371"]
    assert [m.record.arxiv_id for m in page.records] == ["1707.00874"]
    assert page.warnings == [
        "oai:arXiv.org:1706.09418: <id> 'not-an-id' is not an arXiv identifier; skipped"
    ]


def test_oai_errors() -> None:
    empty = parse_oai_page(oai_error("noRecordsMatch", "No records match"))
    assert empty.records == [] and empty.token is None
    with pytest.raises(OaiProtocolError) as bad:
        parse_oai_page(oai_error("badArgument", "Illegal date format"), url="http://x/oai")
    assert bad.value.code == "badArgument"
    assert "badArgument: Illegal date format" in str(bad.value)
    assert "--from/--until (YYYY-MM-DD)" in str(bad.value)
    with pytest.raises(OaiError, match=r"not well-formed XML at line \d+"):
        parse_oai_page(PAGE2[: len(PAGE2) // 2])
    with pytest.raises(OaiError, match=r"root element is <html>"):
        parse_oai_page(b"<html><body>Service unavailable</body></html>")


def test_option_checks() -> None:
    assert check_set_spec("physics:hep-ex") == "physics:hep-ex"
    assert check_set_spec("cs:cs:LG") == "cs:cs:LG"
    assert check_set_spec("") is None
    with pytest.raises(ValueError, match="cs.LG is a category.*written cs:cs:LG"):
        check_set_spec("cs.LG")
    with pytest.raises(ValueError, match="not an OAI-PMH set"):
        check_set_spec("cs LG")
    assert check_day("2017-12-14", "--from") == "2017-12-14"
    with pytest.raises(ValueError, match="--until '14/12/2017' is not a date.*YYYY-MM-DD"):
        check_day("14/12/2017", "--until")
    with pytest.raises(ValueError, match="not a date"):
        check_day("2017-02-30", "--from")


def test_endpoint_default_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_endpoint() == "https://oaipmh.arxiv.org/oai"
    monkeypatch.setenv("PAPERTRAIL_OAI_ENDPOINT", "http://mirror.example/oai")
    assert resolve_endpoint() == "http://mirror.example/oai"
    assert resolve_endpoint("http://other.example/oai2") == "http://other.example/oai2"
    with pytest.raises(ValueError, match="query string"):
        resolve_endpoint("https://oaipmh.arxiv.org/oai?verb=Identify")


def test_arxiv_hosts_are_never_asked_faster_than_every_3_s() -> None:
    with OaiClient("https://oaipmh.arxiv.org/oai", interval=0.0) as client:
        assert client.interval == 3.0


# ------------------------------------------------------------------ harvesting


def test_two_pages_through_the_resumption_token_paced(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    url = serve_oai(feed_server, two_pages)
    progress: list[Any] = []
    with client_for(url, fake) as client:
        result = harvest(
            db,
            tagger,
            client,
            set_spec="physics:hep-ex",
            from_="2017-12-14",
            until="2017-12-14",
            on_progress=progress.append,
        )
    assert feed_server.oai_calls == [
        {"verb": "ListRecords", "metadataPrefix": "arXiv", "from": "2017-12-14",
         "until": "2017-12-14", "set": "physics:hep-ex"},
        {"verb": "ListRecords", "resumptionToken": TOKEN},
    ]  # fmt: skip
    # One wait, before the second request: the full interval (the fake clock
    # does not move while the loopback server answers).
    assert fake.sleeps == [3.0]
    assert (result.pages, result.records, result.new, result.updated) == (2, 3, 3, 0)
    assert [(p.event, p.page, p.records, p.cursor, p.complete_list_size) for p in progress] == [
        ("page", 1, 2, 0, 3),
        ("page", 2, 3, 2, 3),
    ]
    stored = entries(db)
    assert sorted(stored) == ["1706.05371", "1706.09418", "1707.00874"]
    rpv = stored["1706.09418"]
    assert rpv["kind"] == "paper" and rpv["key"] == "arxiv:1706.09418"
    assert rpv["title"] == "R-Parity Violation at the LHC"
    assert json.loads(rpv["authors"]) == [
        "Daniel Dercks", "Herbi Dreiner", "Manuel E. Krauss", "Toby Opferkuch", "Annika Reinert",
    ]  # fmt: skip
    assert json.loads(rpv["categories"]) == ["hep-ph", "hep-ex"]
    assert rpv["primary_category"] == "hep-ph"
    assert rpv["published"] == "2017-06-28T00:00:00+00:00"
    assert rpv["updated"] == "2017-11-26T00:00:00+00:00"
    assert rpv["doi"] == "10.1140/epjc/s10052-017-5414-4"
    assert rpv["journal_ref"] == "Eur. Phys. J. C (2017) 77:856"
    assert rpv["report_no"] == "BONN-TH-2017-03"
    assert rpv["license"] == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert rpv["comment"].startswith("43 pages, 13 tables, 17 figures; updated Figs. 11-17")
    assert rpv["summary"].startswith("We investigate the phenomenology of the MSSM extended")
    assert rpv["url"] == "https://arxiv.org/abs/1706.09418"
    assert rpv["version"] is None
    sources = db.execute("SELECT DISTINCT source FROM provenance").fetchall()
    assert sources == [("arxiv-oai",)]
    state = state_row(db, url)
    assert state.status == "done" and state.resumption_token is None and state.records == 3
    assert state.last_datestamp == "2017-12-14"  # the --until: where the next harvest starts
    assert result.next_from == "2017-12-14"


def test_503_with_retry_after_is_honoured(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    answers = [(503, b"<html>Retry later</html>", {"Retry-After": "7"}), FULL]
    url = serve_oai(feed_server, lambda args: answers.pop(0))
    waits: list[Any] = []
    with client_for(url, fake) as client:
        result = harvest(db, tagger, client, on_progress=waits.append)
    assert len(feed_server.oai_calls) == 2
    assert feed_server.oai_calls[0] == feed_server.oai_calls[1]  # the same request again
    assert fake.sleeps == [7.0]  # Retry-After, longer than the 3 s interval
    assert waits[0].event == "wait" and "HTTP 503, Retry-After 7" in waits[0].message
    assert result.records == 3 and len(entries(db)) == 3


def test_retry_after_below_the_interval_still_waits_the_interval(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    answers = [(503, b"", {"Retry-After": "1"}), FULL]
    url = serve_oai(feed_server, lambda args: answers.pop(0))
    with client_for(url, fake) as client:
        harvest(db, tagger, client)
    assert fake.sleeps == [3.0]


def test_503_gives_up_after_max_retries_or_too_long_a_wait(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    url = serve_oai(feed_server, lambda args: (503, b"", {"Retry-After": "10"}))
    with (
        client_for(url, fake, max_retries=2) as client,
        pytest.raises(OaiError, match="failed 3 times .HTTP 503, Retry-After 10.*saved"),
    ):
        harvest(db, tagger, client)
    assert fake.sleeps == [10.0, 10.0]
    assert state_row(db, url, None).status == "failed"

    feed_server.server.clear()
    url = serve_oai(feed_server, lambda args: (503, b"", {"Retry-After": "86400"}))
    with (
        client_for(url, fake, max_retry_after=600) as client,
        pytest.raises(OaiError, match="asked us to wait 86400 s, more than the 600 s"),
    ):
        harvest(db, tagger, client)


def test_second_harvest_starts_where_the_first_ended(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    url = serve_oai(feed_server, lambda args: FULL)
    with client_for(url, fake) as client:
        first = harvest(db, tagger, client, set_spec="physics:hep-ex", from_="2017-12-01")
        second = harvest(db, tagger, client, set_spec="physics:hep-ex")
    day_before_start = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    assert first.next_from == day_before_start
    assert feed_server.oai_calls[1] == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "from": day_before_start,
        "set": "physics:hep-ex",
    }
    assert (second.new, second.unchanged) == (0, 3)  # upserted, not duplicated
    assert len(entries(db)) == 3


def test_each_endpoint_and_set_has_its_own_state(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    url = serve_oai(feed_server, lambda args: FULL)
    with client_for(url, fake) as client:
        harvest(db, tagger, client, set_spec="physics:hep-ex", until="2017-12-14")
        harvest(db, tagger, client, set_spec="math")
    assert "from" not in feed_server.oai_calls[1]  # math was never harvested
    assert {s.set_spec for s in store.list_harvest_states(db, "arxiv-oai")} == {
        "physics:hep-ex",
        "math",
    }


def test_a_harvest_killed_after_page_one_resumes_from_its_token(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    url = serve_oai(feed_server, two_pages)

    def killed(progress: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C once page 1 is saved

    with client_for(url, fake) as client, pytest.raises(KeyboardInterrupt):
        harvest(db, tagger, client, set_spec="physics:hep-ex", on_progress=killed)
    state = state_row(db, url)
    assert (state.status, state.resumption_token, state.records) == ("interrupted", TOKEN, 2)
    assert sorted(entries(db)) == ["1706.05371", "1706.09418"]

    # A kill -9 leaves the row 'running': the next run goes on all the same.
    db.execute("UPDATE harvest_state SET status = 'running'")
    db.conn.commit()
    with client_for(url, fake) as client:
        result = harvest(db, tagger, client, set_spec="physics:hep-ex")
    assert feed_server.oai_calls[-1] == {"verb": "ListRecords", "resumptionToken": TOKEN}
    assert len(feed_server.oai_calls) == 2
    assert result.resumed and (result.pages, result.records, result.new) == (1, 1, 1)
    assert sorted(entries(db)) == ["1706.05371", "1706.09418", "1707.00874"]
    assert state_row(db, url).status == "done" and state_row(db, url).records == 3


def test_a_page_that_fails_to_save_leaves_the_position_before_it(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    class BreaksOn1707:
        """A tagger that fails inside page 2's transaction."""

        def __getattr__(self, name: str) -> Any:
            return getattr(tagger, name)

        def tag_archive(self, record: Any) -> list[str]:
            if record.arxiv_id == "1707.00874":
                raise RuntimeError("disk full")
            return tagger.tag_archive(record)

    url = serve_oai(feed_server, two_pages)
    with client_for(url, fake) as client, pytest.raises(RuntimeError, match="disk full"):
        harvest(db, BreaksOn1707(), client, set_spec="physics:hep-ex")
    state = state_row(db, url)
    # Page 2 was rolled back, so the state still points at it, not past it.
    assert (state.status, state.resumption_token, state.records) == ("failed", TOKEN, 2)
    assert state.error == "disk full"
    assert sorted(entries(db)) == ["1706.05371", "1706.09418"]


def test_one_harvest_at_a_time_per_database(tmp_path: Path, make_feeds: Any) -> None:
    from filelock import FileLock

    from papertrail.api import import_oai
    from papertrail.config import Paths
    from papertrail.store import HarvestLocked, oai_lock_path

    paths = Paths(db=tmp_path / "reading.db", feeds=make_feeds([]))
    with FileLock(str(oai_lock_path(paths.db))), pytest.raises(HarvestLocked, match="already"):
        import_oai(paths, endpoint="http://127.0.0.1:9/oai")


def test_an_expired_token_restarts_from_the_last_datestamp(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    expired = oai_error("badResumptionToken", "The value of the resumptionToken is invalid")

    def answer(args: dict[str, str]) -> bytes:
        if "resumptionToken" in args:
            return expired
        return FULL if args.get("from") == "2017-12-14" else PAGE1

    url = serve_oai(feed_server, answer)
    progress: list[Any] = []
    with client_for(url, fake) as client:
        result = harvest(
            db, tagger, client, set_spec="physics:hep-ex", from_="2017-12-01",
            on_progress=progress.append,
        )  # fmt: skip
    assert [c.get("from", c.get("resumptionToken")) for c in feed_server.oai_calls] == [
        "2017-12-01",
        TOKEN,
        "2017-12-14",  # the newest datestamp saved, not the harvest's --from
    ]
    assert feed_server.oai_calls[2]["set"] == "physics:hep-ex"
    assert result.restarts == 1
    assert [p.event for p in progress] == ["page", "restart", "page"]
    assert "restarting from 2017-12-14" in progress[1].message
    assert (result.new, result.unchanged) == (3, 2)
    assert len(entries(db)) == 3


def test_a_token_rejected_again_and_again_stops_with_a_clear_message(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    expired = oai_error("badResumptionToken", "expired")
    url = serve_oai(feed_server, lambda args: expired if "resumptionToken" in args else PAGE1)
    with client_for(url, fake) as client, pytest.raises(OaiError) as stopped:
        harvest(db, tagger, client, max_restarts=2)
    message = str(stopped.value)
    assert "rejected the resumption token 3 times in a row" in message
    assert "badResumptionToken: expired" in message
    assert "restarts from 2017-12-14" in message
    assert len(entries(db)) == 2  # page 1 stays saved
    state = state_row(db, url, None)
    assert (state.status, state.resumption_token, state.last_datestamp) == (
        "failed",
        None,
        "2017-12-14",
    )


def test_a_malformed_page_stops_the_harvest_without_losing_page_one(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    broken = {"on": True}

    def answer(args: dict[str, str]) -> bytes:
        if args.get("resumptionToken") == TOKEN:
            return PAGE2[: len(PAGE2) // 2] if broken["on"] else PAGE2
        return PAGE1

    url = serve_oai(feed_server, answer)
    with (
        client_for(url, fake) as client,
        pytest.raises(OaiError, match=r"is not well-formed XML at line \d+, column \d+"),
    ):
        harvest(db, tagger, client, set_spec="physics:hep-ex")
    assert sorted(entries(db)) == ["1706.05371", "1706.09418"]
    state = state_row(db, url)
    assert state.status == "failed" and state.resumption_token == TOKEN
    assert "not well-formed XML" in (state.error or "")

    broken["on"] = False
    with client_for(url, fake) as client:
        result = harvest(db, tagger, client, set_spec="physics:hep-ex")
    assert result.resumed and result.records == 1
    assert len(entries(db)) == 3


def test_no_records_match_is_an_empty_harvest(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    url = serve_oai(feed_server, lambda args: oai_error("noRecordsMatch", "No records"))
    with client_for(url, fake) as client:
        result = harvest(db, tagger, client, set_spec="physics:hep-ex", from_="2030-01-01")
    assert (result.pages, result.records) == (1, 0)
    assert entries(db) == {}
    assert state_row(db, url).status == "done"


def test_bad_argument_is_reported_and_nothing_is_saved(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    url = serve_oai(feed_server, lambda args: oai_error("badArgument", "Unknown set 'nope'"))
    with (
        client_for(url, fake) as client,
        pytest.raises(OaiProtocolError, match="badArgument: Unknown set 'nope' — check"),
    ):
        harvest(db, tagger, client, set_spec="nope")
    assert entries(db) == {}
    assert state_row(db, url, "nope").status == "failed"


def test_an_oai_error_sent_with_http_400_is_read(
    feed_server: Any, fake: FakeClock, db: Any, tagger: DomainTagger
) -> None:
    url = serve_oai(feed_server, lambda args: (400, oai_error("badArgument", "bad from"), {}))
    with (
        client_for(url, fake) as client,
        pytest.raises(OaiProtocolError, match="badArgument: bad from"),
    ):
        harvest(db, tagger, client, from_="2017-01-01")

    feed_server.server.clear()
    url = serve_oai(feed_server, lambda args: (404, oai_error("noRecordsMatch", "none"), {}))
    with client_for(url, fake) as client:
        assert harvest(db, tagger, client).records == 0
    feed_server.server.clear()
    url = serve_oai(feed_server, lambda args: (404, b"<html>Not Found</html>", {}))
    with client_for(url, fake) as client, pytest.raises(OaiError, match="HTTP 404 Not Found"):
        harvest(db, tagger, client)


# ------------------------------------------------------------------ command line


def test_cli_import_oai(feed_server: Any, tmp_path: Path, make_feeds: Any) -> None:
    pytest.importorskip("papertrail.cli.importing")  # the coordinator's `import` group
    from click.testing import CliRunner

    import papertrail.cli.importing_oai  # noqa: F401  (registers the command)
    from papertrail.cli import cli

    url = serve_oai(feed_server, two_pages)
    db_path, feeds = tmp_path / "reading.db", make_feeds([])
    args = ["--db", str(db_path), "--feeds", str(feeds), "import", "oai", "--endpoint", url]
    result = CliRunner().invoke(
        cli, [*args, "--set", "physics:hep-ex", "--from", "2017-12-14", "--delay", "0"]
    )
    assert result.exit_code == 0, result.output
    assert "page 2: 3 of 3 records (3 new, 0 updated" in result.stderr
    assert result.stdout.startswith(
        f"Harvested 3 records in 2 pages from {url}, set physics:hep-ex"
    )
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM entries").fetchone() == (3,)

    bad = CliRunner().invoke(cli, [*args, "--set", "cs.LG"])
    assert bad.exit_code == 2 and "written cs:cs:LG" in bad.output

    feed_server.server.clear()
    url = serve_oai(feed_server, lambda a: oai_error("badArgument", "nope"))
    args[-1] = url
    failed = CliRunner().invoke(cli, [*args, "--delay", "0"])
    assert failed.exit_code == 1
    assert "Error: the harvest stopped:" in failed.stderr and "badArgument: nope" in failed.stderr
