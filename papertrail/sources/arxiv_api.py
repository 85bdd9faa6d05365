"""arXiv API sources through the `arxiv` package.

Why a wrapper: the package's client has no request timeout, no way to see the
body of arXiv's HTTP 400 error feed, retries 4xx answers that can never
succeed, and sends its own User-Agent. We give it a `requests.Session` that
adds a timeout and our User-Agent, remembers the last response, and turns a
4xx (other than 429) into an exception the package does not retry.

arXiv's terms of use ask for at least 3 s between API calls. One `ArxivApi`
instance is shared by every API source in a run, so its client's built-in
delay spaces all of them, not just pages of one query.

`arxiv` and `requests` are imported where they are used, not here: they take
~0.15 s to load and `papertrail --help` must not pay for them.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from papertrail.models import Record
from papertrail.sources.parse import parse_arxiv_error, record_from_arxiv_result

if TYPE_CHECKING:
    import arxiv
    import requests

DEFAULT_API_URL = "https://export.arxiv.org/api/query"
# arXiv's API manual: at most 100 ids per `id_list` request is polite and reliable.
ID_LIST_MAX = 100


class ArxivRejected(Exception):
    """arXiv answered 4xx: the request is wrong and retrying will not help."""

    def __init__(self, status: int, message: str | None, url: str):
        self.status = status
        self.message = message
        self.url = url
        super().__init__(f"HTTP {status}: {message or 'no message'}")


@dataclass
class _Traffic:
    """What one `ArxivApi`'s session adds to every request, and what it saw of the answers."""

    timeout: float
    user_agent: str
    last_response: requests.Response | None = None
    bytes_read: int = 0
    calls: int = 0


@functools.cache
def _session_class() -> Callable[[_Traffic], requests.Session]:
    """The `requests.Session` subclass handed to the `arxiv` client, made on first use
    (subclassing needs `requests` loaded)."""
    import requests  # heavy (~120 ms): only an arXiv API call needs it, not `papertrail --help`

    class _Session(requests.Session):
        """Adds the timeout and our User-Agent, counts, and stops on a 4xx (see module doc)."""

        def __init__(self, traffic: _Traffic) -> None:
            super().__init__()
            self.traffic = traffic

        def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            traffic = self.traffic
            kwargs.setdefault("timeout", traffic.timeout)
            headers = dict(kwargs.pop("headers", None) or {})
            headers = {k: v for k, v in headers.items() if k.lower() != "user-agent"}
            headers["User-Agent"] = traffic.user_agent
            traffic.calls += 1
            resp = super().request(method, url, headers=headers, **kwargs)
            traffic.last_response = resp
            traffic.bytes_read += len(resp.content)
            if 400 <= resp.status_code < 500 and resp.status_code != 429:
                raise ArxivRejected(resp.status_code, parse_arxiv_error(resp.content), url)
            return resp

    return _Session


@dataclass
class ApiResult:
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    http_status: int | None = None
    bytes: int = 0
    duration_s: float = 0.0
    url: str | None = None
    rejection: str | None = None  # arXiv's own message when it answered 4xx


class ArxivApi:
    """Runs arXiv API searches for sources; never raises for a per-source problem."""

    def __init__(
        self,
        *,
        endpoint: str,
        delay_seconds: float,
        timeout: float,
        user_agent: str,
        num_retries: int = 2,
    ):
        import arxiv  # heavy (~140 ms): only an arXiv API call needs it, not `papertrail --help`

        self.endpoint = endpoint
        self.traffic = _Traffic(timeout, user_agent)
        self.session = _session_class()(self.traffic)
        self.client = arxiv.Client(
            page_size=100, delay_seconds=delay_seconds, num_retries=num_retries
        )
        # Instance attribute shadows the class default: a mirror or a local test server.
        self.client.query_url_format = endpoint.rstrip("?") + "?{}"
        self.client._session = self.session  # the package's documented extension point is a Session
        # Set when a call could not reach the API at all (connection refused, timeout):
        # later optional calls in the same run (the mentions backfill) are skipped.
        self.unreachable = False

    def search(self, name: str, query: str, max_results: int) -> ApiResult:
        import arxiv  # heavy: loaded by __init__ already; kept off `papertrail --help`

        search = arxiv.Search(
            query=query,
            max_results=max_results,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Descending,
        )
        self.client.page_size = max(1, min(100, max_results))
        return self._run(
            name,
            lambda: self.client.results(search),
            f"query {query!r}",
            f"check `query` / `categories` of source {name!r} in feeds.yml",
        )

    def fetch_ids(self, name: str, ids: list[str]) -> ApiResult:
        """Metadata for up to 100 ids in one `id_list` call. arXiv leaves out ids it
        does not know (no warning here: the caller compares what came back)."""
        import arxiv  # heavy: loaded by __init__ already; kept off `papertrail --help`

        if not 1 <= len(ids) <= ID_LIST_MAX:
            raise ValueError(f"fetch_ids takes 1 to {ID_LIST_MAX} ids, got {len(ids)}")
        search = arxiv.Search(id_list=ids, max_results=len(ids))
        self.client.page_size = len(ids)
        shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        return self._run(
            name,
            lambda: self.client.results(search),
            f"ids {shown}",
            "check the ids",
            empty_warning=False,
        )

    def _run(
        self,
        name: str,
        results: Callable[[], Iterator[arxiv.Result]],
        what: str,
        hint: str,
        *,
        empty_warning: bool = True,
    ) -> ApiResult:
        import arxiv  # heavy: loaded by __init__ already; its errors are caught here
        import requests  # heavy: loaded by __init__ already; its errors are caught here

        out = ApiResult(url=self.endpoint)
        start = time.monotonic()
        bytes_before = self.traffic.bytes_read
        try:
            for result in results():
                out.records.append(record_from_arxiv_result(result))
            if not out.records and empty_warning:
                out.warnings.append(f"arXiv returned no results for {what}")
            out.http_status = 200
        except ArxivRejected as e:
            out.http_status = e.status
            out.rejection = e.message
            out.error = self._rejected(e, what, hint)
        except arxiv.UnexpectedEmptyPageError:
            out.http_status = 200
            out.error = (
                f"arXiv returned an empty page in the middle of the results for {what} "
                "(a known intermittent arXiv API fault) — the next fetch will try again"
            )
        except arxiv.HTTPError as e:
            out.http_status = e.status
            out.error = (
                f"arXiv API answered HTTP {e.status} for {what} after retries — try again later"
            )
        except requests.Timeout:
            self.unreachable = True
            out.error = f"arXiv API at {self.endpoint} timed out for {what} — try again later"
        except requests.ConnectionError as e:
            self.unreachable = True
            out.error = (
                f"could not connect to the arXiv API at {self.endpoint}: {_connection_reason(e)} "
                "— check your network connection, or `arxiv_api_url` in feeds.yml"
            )
        except Exception as e:  # noqa: BLE001 - one bad source never stops the others
            out.error = f"arXiv API failed for {what}: {type(e).__name__}: {_short(e)}"
        out.bytes = self.traffic.bytes_read - bytes_before
        out.duration_s = time.monotonic() - start
        if out.error and out.records:
            out.warnings.append(f"kept {len(out.records)} results fetched before the error")
        return out

    def _rejected(self, e: ArxivRejected, what: str, hint: str) -> str:
        """arXiv refuses a bad query with HTTP 400 and its own error feed; any other
        4xx (404 from a mistyped path, 405, 410, a web page) means the URL does not
        lead to the API at all, so the URL is blamed, not the query."""
        if e.message is not None:
            return f"arXiv rejected {what} (HTTP {e.status}: {e.message}) — {hint}"
        try:
            phrase = f" {HTTPStatus(e.status).phrase}"
        except ValueError:
            phrase = ""
        return (
            f"{self.endpoint} answered HTTP {e.status}{phrase}, not an arXiv API answer, "
            f"for {what} — check `arxiv_api_url` in feeds.yml (arXiv's own is {DEFAULT_API_URL})"
        )


def _connection_reason(e: requests.ConnectionError) -> str:
    """The root cause of a requests connection error, without urllib3's object reprs."""
    reason = getattr(e.args[0], "reason", None) if e.args else None
    text = str(reason or e)
    text = re.sub(r"<[^>]* object at 0x[0-9a-f]+>:?\s*", "", text)
    return _short(text.strip() or type(e).__name__)


def _short(e: BaseException | str, limit: int = 200) -> str:
    text = str(e)
    return text if len(text) <= limit else text[: limit - 1] + "…"
