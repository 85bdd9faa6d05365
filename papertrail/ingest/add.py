"""Papers by arXiv id: added by hand (`papertrail add`), or backfilled from mentions.

Both fetch metadata in batched arXiv API `id_list` calls (at most 100 ids a
call, spaced by the client's polite delay) and store the papers through
`papertrail.store.EntryWriter` with a provenance naming why they are there:

- ``manual``     the user asked for it (`add_papers`); an id already in the
                 reading list just gains this provenance, without an API call.
- ``mentioned``  a post linked or cited it (`backfill_mentions`, run at the end
                 of every fetch, inside its lock). Ids the API does not know
                 are remembered (`unknown_arxiv_ids`) and asked for again after a
                 day, at most three times, so they are not retried forever.

arXiv answers an `id_list` call with the papers it knows and silently leaves
out the others; a malformed id makes it reject the whole call (HTTP 400 naming
the id). A failed call (arXiv down) stops the remaining calls: the ids stay
missing and the next run tries them again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from papertrail import store
from papertrail.config import Settings
from papertrail.ids import parse_arxiv_id
from papertrail.models import Record, Tagger
from papertrail.sources.arxiv_api import ID_LIST_MAX, ApiResult, ArxivApi
from papertrail.sources.http import USER_AGENT
from papertrail.store.ingest import PaperRef

if TYPE_CHECKING:
    import sqlite_utils

MANUAL_SOURCE = "manual"
MENTIONED_SOURCE = "mentioned"

_REJECTED_ID_RE = re.compile(r"incorrect id format for\s+(\S+)", re.I)


# ------------------------------------------------------------------ fetching


@dataclass
class IdFetch:
    """What a batched id fetch gave."""

    records: list[Record] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # arXiv answered without them
    failed: list[str] = field(default_factory=list)  # not fetched (error): try again later
    errors: list[str] = field(default_factory=list)
    calls: int = 0


class PaperFetcher(Protocol):
    """What fetching papers by id needs of the arXiv API (`ArxivApi`; tests use fakes)."""

    def fetch_ids(self, name: str, ids: list[str]) -> ApiResult: ...


def fetch_papers(
    api: PaperFetcher, ids: Sequence[str], *, name: str, batch: int = ID_LIST_MAX
) -> IdFetch:
    """Fetch version-less arXiv ids with `api.fetch_ids` (`papertrail.sources.arxiv_api.ArxivApi`),
    `batch` ids a call. Stops at the first failed call (the rest go to `failed`)."""
    out = IdFetch()
    pending = [list(ids[i : i + batch]) for i in range(0, len(ids), batch)]
    while pending:
        chunk = pending.pop(0)
        res = api.fetch_ids(name, chunk)
        out.calls += 1
        wanted = set(chunk)
        got = {r.arxiv_id: r for r in res.records if r.arxiv_id in wanted}
        out.records += got.values()
        if res.error is None:
            out.unknown += [i for i in chunk if i not in got]
            continue
        rest = [i for i in chunk if i not in got]
        if res.rejection is not None and res.http_status == 400:
            # A malformed id makes arXiv reject the whole call: drop it, ask again for the rest.
            m = _REJECTED_ID_RE.search(res.rejection)
            bad = m.group(1).strip(".,;") if m else None
            if bad in rest or len(rest) == 1:
                bad = bad if bad in rest else rest[0]
                out.unknown.append(bad)
                rest = [i for i in rest if i != bad]
                if rest:
                    pending.insert(0, rest)
                continue
            if len(rest) > 1:  # not named: halve until the bad one is alone
                half = len(rest) // 2
                pending[:0] = [rest[:half], rest[half:]]
                continue
        out.errors.append(res.error)
        out.failed += rest + [i for c in pending for i in c]
        break
    return out


def arxiv_api_client(settings: Settings) -> ArxivApi:
    """An `ArxivApi` configured by feeds.yml's settings (endpoint, delay, timeout, retries)."""
    return ArxivApi(
        endpoint=settings.arxiv_api_url,
        delay_seconds=settings.arxiv_delay_seconds,
        timeout=settings.timeout,
        user_agent=USER_AGENT,
        num_retries=settings.max_retries,
    )


# ------------------------------------------------------------------ backfill


@dataclass
class BackfillResult:
    missing: int = 0  # mentioned ids without an entry, asked for
    new_papers: int = 0
    unknown: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    calls: int = 0


def backfill_mentions(
    db: sqlite_utils.Database,
    get_api: Callable[[], PaperFetcher],
    tagger: Tagger,
    *,
    run_id: int | None,
) -> BackfillResult:
    """Store every mentioned arXiv paper that has no entry yet (provenance "mentioned").

    `get_api` gives the run's `ArxivApi` (called only when there is something to
    fetch), so the polite delay spans the API sources and the backfill."""
    out = BackfillResult()
    ids = store.missing_mentioned_ids(db)
    out.missing = len(ids)
    if not ids:
        return out
    api = get_api()
    if getattr(api, "unreachable", False):
        out.warnings.append(
            f"{len(ids)} mentioned arXiv paper(s) not fetched: the arXiv API was unreachable "
            "in this run; the next fetch tries again"
        )
        return out
    got = fetch_papers(api, ids, name=MENTIONED_SOURCE)
    out.calls = got.calls
    with db.atomic():
        if got.records:
            stats = store.EntryWriter(db, tagger, run_id).save(MENTIONED_SOURCE, got.records)
            out.new_papers = stats.new_papers
        if got.unknown:
            store.remember_unknown_ids(db, got.unknown)
    out.unknown = got.unknown
    if got.unknown:
        shown = ", ".join(got.unknown[:5]) + (" …" if len(got.unknown) > 5 else "")
        out.warnings.append(
            f"arXiv does not know {len(got.unknown)} mentioned id(s) ({shown}); "
            "asked again after a day, at most 3 times"
        )
    if got.errors:
        out.warnings.append(
            f"{len(got.failed)} mentioned arXiv paper(s) not fetched: {got.errors[0]} "
            "(the next fetch tries again)"
        )
    return out


# ------------------------------------------------------------------ by hand


class NotAnArxivId(Exception):
    """Input that is not an arXiv id or URL (or an unreadable id file); the message
    names each one. Not a ValueError: the CLI reports it as a usage error."""


@dataclass
class AddResult:
    added: list[PaperRef] = field(default_factory=list)  # new entries
    already: list[PaperRef] = field(default_factory=list)  # were there; now also "manual"
    unknown: list[str] = field(default_factory=list)  # arXiv does not know them
    failed: list[str] = field(default_factory=list)  # not fetched (arXiv unreachable, …)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.unknown or self.failed)


def parse_id_inputs(items: Iterable[tuple[str, str]]) -> list[str]:
    """Version-less arXiv ids from `(where, text)` pairs, in order, without repeats.

    Any form `papertrail.ids.parse_arxiv_id` reads (1508.06576, arXiv:1508.06576v2,
    abs/pdf URLs, math/0309136). Raises `NotAnArxivId` naming every bad input."""
    ids: list[str] = []
    bad: list[str] = []
    for where, text in items:
        parsed = parse_arxiv_id(text)
        if parsed is None:
            bad.append(f"{where}: {text!r}")
        elif parsed[0] not in ids:
            ids.append(parsed[0])
    if bad:
        raise NotAnArxivId(
            "not an arXiv id or arXiv URL: "
            + "; ".join(bad)
            + " — give ids like 1508.06576, arXiv:1508.06576v2, math/0309136 or "
            "https://arxiv.org/abs/1508.06576; nothing was added"
        )
    return ids


def read_id_file(path: Path) -> list[tuple[str, str]]:
    """`(file:line, text)` for each id line of `path` (blank lines and `#` comments skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotAnArxivId(f"id file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise NotAnArxivId(f"cannot read id file {path}: {e}") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            out.append((f"{path}:{n}", line))
    return out


def add_papers(
    db: sqlite_utils.Database, api: PaperFetcher, tagger: Tagger, ids: Sequence[str]
) -> AddResult:
    """Add papers by version-less id with provenance "manual"; see the module docstring."""
    out = AddResult()
    present = store.papers_by_arxiv_id(db, ids)
    if present:
        store.add_provenance(db, [p["id"] for p in present.values()], MANUAL_SOURCE)
        out.already = [present[i] for i in ids if i in present]
    wanted = [i for i in ids if i not in present]
    if not wanted:
        return out
    got = fetch_papers(api, wanted, name=MANUAL_SOURCE)
    if got.records:
        with db.atomic():
            store.EntryWriter(db, tagger, None).save(MANUAL_SOURCE, got.records)
    stored = store.papers_by_arxiv_id(db, [r.arxiv_id for r in got.records if r.arxiv_id])
    out.added = [stored[i] for i in wanted if i in stored]
    out.unknown, out.failed, out.errors = got.unknown, got.failed, got.errors
    return out
