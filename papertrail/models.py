"""Plain data passed between the ingest steps: fetch -> parse -> save.

Nothing here does I/O. Parsers return `ParsedFeed`s of `Record`s; the
fetch orchestrator hands them to `db.save_source_result` together with the
`FetchOutcome` that describes the HTTP side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

EntryKind = Literal["paper", "post"]

# Values of <arxiv:announce_type> in rss.arxiv.org feeds. "new" and "cross"
# are papers to add; "replace" and "replace-cross" announce a new version.
ANNOUNCE_NEW = frozenset({"new", "cross"})
ANNOUNCE_REPLACE = frozenset({"replace", "replace-cross"})


@dataclass
class Record:
    """One item parsed from a source: an arXiv paper or a post.

    Papers carry a version-less `arxiv_id` (e.g. "1508.06576" or
    "math.GT/0309136") and their `version` (int, None when unknown).
    Posts carry `guid` and `url`; `db` keys them per source by
    guid -> canonical url -> content hash.
    All datetimes are ISO 8601 strings in UTC ("2026-04-27T00:00:00+00:00").
    `summary` is plain text (HTML stripped, whitespace collapsed).
    """

    kind: EntryKind
    title: str
    url: str | None = None
    arxiv_id: str | None = None
    version: int | None = None
    authors: list[str] = field(default_factory=list)
    summary: str = ""
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    published: str | None = None
    updated: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    links: dict[str, str] = field(default_factory=dict)  # e.g. {"abs": ..., "pdf": ...}
    guid: str | None = None
    announce_type: str | None = None  # arxiv-rss only: new | cross | replace | replace-cross
    mentions: list[str] = field(default_factory=list)  # arXiv ids linked from a post


@dataclass
class ArxivMeta:
    """One paper as arXiv's metadata services describe it (the bulk snapshot, OAI-PMH):
    the `Record` the reading list stores, plus what only these services carry."""

    record: Record
    versions: list[tuple[int, str]] = field(default_factory=list)  # (n, submitted, ISO UTC)
    license: str | None = None
    submitter: str | None = None
    report_no: str | None = None


@dataclass
class ParsedFeed:
    """What a parser made of one document: the records, and what it had to skip."""

    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    title: str | None = None


# Provenance names that are not sources in feeds.yml: `papertrail add`, the
# mentions backfill at the end of a fetch, and papers added from a reproduction's
# constants. feeds.yml may not use them as source names.
PSEUDO_SOURCES = ("manual", "mentioned", "reproductions")
# Provenance names of the archive imports (`papertrail import arxiv-snapshot`,
# `import oai`). An import surfaces every paper at once: that is not a source
# recommending a paper, so rankings and "most mentioned" leave them out.
SNAPSHOT_SOURCE, OAI_SOURCE = "arxiv-snapshot", "arxiv-oai"
BULK_SOURCES = (SNAPSHOT_SOURCE, OAI_SOURCE)

# The catch-all domain: an entry that no rule made more specific (papertrail.sources.domains).
GENERAL = "ml-general"


class Tagger(Protocol):
    """What saving needs of the domain rules (`papertrail.sources.domains.DomainTagger`)."""

    def tag(self, record: Record) -> list[str]:
        """Domains of an entry from the feeds, primary first."""
        ...

    def tag_archive(self, record: Record) -> list[str]:
        """Domains of a paper known only from an archive import (may be none)."""
        ...
