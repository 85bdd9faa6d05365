"""The records that flow between the stages, and the reading list's entries as returned.

Nothing here does I/O, and this module imports nothing of papertrail's: every
stage may use it. Ingest is fetch -> parse -> save: parsers return
`ParsedFeed`s of `Record`s (or `ArxivMeta` for arXiv's bulk metadata) and the
store saves them, tagged by a `Tagger`. Reads return `Entry` dicts: JSON-shaped
records (what `--json` prints), typed key by key.

May import: nothing of papertrail's (every stage uses it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypedDict

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
    Posts carry `guid` and `url`; the store keys them per source by
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
    code_links: list[CodeLink] = field(default_factory=list)  # posts: code of the papers cited


@dataclass(frozen=True)
class CodeLink:
    """A repository or artifact link found for a paper (papertrail.sources.codelinks).

    `kind`: github | gitlab | codeberg | hf-model | hf-dataset | hf-space | project.
    `found_in`: abstract | comment (the paper's own text) | post (a post citing it,
    `arxiv_id` then names the paper)."""

    url: str
    kind: str
    found_in: str
    arxiv_id: str | None = None


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


# ---------------------------------------------------------------- entries as read back


class _EntryFields(TypedDict):
    id: int  # the short id users type
    kind: EntryKind
    title: str
    url: str | None
    arxiv_id: str | None  # version-less
    version: int | None
    previous_version: int | None
    authors: list[str]
    summary: str
    categories: list[str]
    primary_category: str | None
    published: str | None  # ISO 8601 UTC, like every date here
    updated: str | None
    doi: str | None
    journal_ref: str | None
    comment: str | None
    links: dict[str, str]
    first_seen: str
    last_seen: str
    version_updated_at: str | None
    score: float  # the ranking score (papertrail.reading.rank)
    hidden_by: str | None  # the block rule hiding it from the digest
    domains: list[str]  # primary first
    sources: list[str]  # provenance names, first seen first
    tags: list[str]
    mentioned_by: int  # distinct sources that listed or mentioned it
    starred: bool
    read: bool


class CodeLinkRef(TypedDict):
    """A paper's code or artifact link as entries carry it (`Entry["code_links"]`)."""

    url: str
    kind: str  # github | gitlab | codeberg | hf-model | hf-dataset | hf-space | project
    found_in: str  # comment | abstract | post (the paper's own text first)


class Entry(_EntryFields, total=False):
    """One reading-list entry (`store.find_entries`, `api.list_entries`, the digest)."""

    dismissed: bool  # "not relevant" (`papertrail dismiss`): never in a digest again
    dismissed_at: str | None  # when

    # search hits only
    relevance: float  # -bm25: higher is better
    snippet: str  # the passage that matched, hits between HIT_START / HIT_END
    title_highlighted: str | None
    # papers: repository / artifact links (papertrail.sources.codelinks), best place first
    code_links: list[CodeLinkRef]


class ReproRun(TypedDict):
    """A row of `repro_runs`, config and metrics decoded."""

    id: int
    reproduction: str
    arxiv_id: str | None
    started_at: str
    finished_at: str | None
    duration_s: float | None
    status: str  # running | ok | failed | interrupted
    config: dict[str, Any]  # dry_run, seed, device, args, resolved
    metrics: dict[str, Any]
    headline_metric: str | None
    artifacts_dir: str | None
    code_version: str | None
    device: str | None
    error: str | None
    weights_path: str | None  # the trained weights (.safetensors), when the run kept them
    config_path: str | None  # the run's exact config (config.json in its folder)
    from_run: int | None  # the run it sampled from / evaluated / continued (--from-run)


class ReproductionLink(TypedDict):
    """A reproduction implementing a paper, as `papertrail show` lists it."""

    name: str
    title: str
    module: str
    registered_at: str
    runs: list[ReproRun]  # the latest few, newest first
    run_count: int


class Note(TypedDict):
    id: int
    text: str
    created_at: str


class EntryDetail(Entry, total=False):
    """Everything `papertrail show` prints about one entry (`store.entry_detail`)."""

    versions: list[dict[str, str | int | None]]  # version, first_seen, source
    provenance: list[dict[str, str | None]]  # source, first_seen, last_seen, announce_type
    notes: list[Note]
    tag_details: list[dict[str, str | None]]  # tag, origin, created_at
    mentioned_in: list[dict[str, str | int | None]]  # posts: id, title, url, source, first_seen
    mentions: list[dict[str, str | int | None]]  # papers a post links: arxiv_id, id, title
    reproductions: list[ReproductionLink]
