"""What feeds.yml becomes: frozen dataclasses, and the error that says what is wrong where."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from papertrail.config.locate import (  # noqa: F401  (defined there, named here too)
    APP_NAME,
    FEEDS_FILENAME,
    PACKAGED_FEEDS_FILENAME,
)

if TYPE_CHECKING:
    from papertrail.config.check_email import EmailSettings


# arXiv's API terms of use: no more than one request every three seconds.
ARXIV_MIN_DELAY_SECONDS = 3.0
# The arXiv API returns at most 2000 results per request.
ARXIV_MAX_RESULTS = 2000


# --------------------------------------------------------------------------- errors


class ConfigError(Exception):
    """A problem with a configuration file: where it is and what to do about it.

    ``path``, ``line`` (1-based or None), ``key`` (dotted, e.g. ``sources[3].url``,
    or None) and ``message`` describe the first problem found; ``problems`` holds
    every problem (each itself a single-problem `ConfigError`), sorted by line.
    ``str(error)`` is ``"{path}:{line}: {key}: {message}"`` (missing parts
    omitted), one line per problem.
    """

    def __init__(
        self,
        path: Path | str,
        line: int | None = None,
        key: str | None = None,
        message: str = "",
        *,
        problems: Sequence[ConfigError] | None = None,
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.key = key
        self.message = message
        self.problems: tuple[ConfigError, ...] = tuple(problems) if problems else (self,)
        super().__init__(str(self))

    @classmethod
    def from_problems(cls, problems: Sequence[ConfigError]) -> ConfigError:
        """One error for several problems, ordered by line (problems without a line first)."""
        if not problems:
            raise ValueError("from_problems() needs at least one problem")
        ordered = sorted(problems, key=lambda p: p.line or 0)
        if len(ordered) == 1:
            return ordered[0]
        first = ordered[0]
        return cls(first.path, first.line, first.key, first.message, problems=ordered)

    def location(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
        return where

    def _one_line(self) -> str:
        text = self.location() + ": "
        if self.key:
            text += f"{self.key}: "
        return text + self.message

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return self._one_line()
        return "\n".join(p._one_line() for p in self.problems)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Settings:
    """Fetch settings (the optional ``settings:`` mapping)."""

    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_rss_url: str = "https://rss.arxiv.org/rss"
    # arXiv terms of use: >= 3 s between API calls. Smaller values are rejected
    # when arxiv_api_url's host is arxiv.org or a subdomain (allowed for mirrors
    # and local test servers).
    arxiv_delay_seconds: float = ARXIV_MIN_DELAY_SECONDS
    concurrency: int = 64
    per_host_limit: int = 2
    timeout: float = 30.0
    max_body_bytes: int = 20_000_000
    max_retries: int = 2
    max_retry_after: float = 120.0
    # consecutive failed fetches before a source is paused until
    # `papertrail sources enable NAME`
    max_failures: int = 5
    # fetch (arXiv API) the papers that posts mention but the reading list lacks;
    # false: record the mentions only (offline demos, no arXiv API at hand)
    mentions_backfill: bool = True


@dataclass(frozen=True)
class Source:
    """One entry of ``sources:``."""

    name: str
    kind: str  # "arxiv" | "arxiv-rss" | "feed" | "mailbox"
    url: str | None = None
    categories: tuple[str, ...] = ()
    query: str | None = None
    max_results: int | None = None
    tags: tuple[str, ...] = ()
    enabled: bool = True
    line: int = 0  # 1-based line of the source in the file; 0 when built in code
    path: str | None = None  # mailbox: an mbox file or Maildir folder, as written

    def mailbox_path(self, config_dir: Path) -> Path:
        """A mailbox source's `path`: `~` expanded, relative to feeds.yml's folder."""
        if not self.path:
            raise ValueError(f"source {self.name!r} has no 'path'")
        path = Path(self.path).expanduser()
        return path if path.is_absolute() else Path(config_dir) / path

    def fetch_url(self, settings: Settings) -> str | None:
        """The URL to GET for this source; None for arXiv API sources (see `api_query`)."""
        if self.kind == "arxiv-rss":
            if self.url:
                return self.url
            return f"{settings.arxiv_rss_url.rstrip('/')}/{'+'.join(self.categories)}"
        if self.kind == "arxiv":
            return None
        if self.kind == "mailbox":  # not fetched over HTTP; stored so a changed path is noticed
            return self.path
        return self.url

    def api_query(self) -> str:
        """The arXiv API ``search_query`` for an ``arxiv`` source.

        A plain ``query`` (no field prefix such as ``ti:``/``abs:``/``all:``, no
        AND/OR/ANDNOT, no quotes) is searched as an exact phrase in all fields:
        ``style transfer`` -> ``all:"style transfer"``. Anything else is passed
        through as arXiv query syntax. Categories are OR-ed and AND-ed with the
        query: ``(all:"style transfer") AND (cat:cs.CV OR cat:cs.GR)``.
        """
        if self.kind != "arxiv":
            raise ValueError(f"source {self.name!r} is kind {self.kind!r}, not 'arxiv'")
        query = _arxiv_query_clause(self.query) if self.query else ""
        cats = " OR ".join(f"cat:{c}" for c in self.categories)
        if query and cats:
            return f"({query}) AND ({cats})"
        return query or cats


_ARXIV_QUERY_SYNTAX = re.compile(
    r'\b(?:ti|au|abs|co|jr|cat|rn|id|all):|\b(?:AND|OR|ANDNOT)\b|["()]'
)


def _arxiv_query_clause(query: str) -> str:
    query = " ".join(query.split())
    if _ARXIV_QUERY_SYNTAX.search(query):
        return query
    return f'all:"{query}"'


@dataclass(frozen=True)
class DomainRule:
    """One entry of ``domains:``: arXiv categories and keyword regexes for a domain."""

    name: str
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # regexes, matched case-insensitively
    description: str = ""


@dataclass(frozen=True)
class RankingWeights:
    """``ranking.weights``: how much each part of the score counts (papertrail.reading.rank)."""

    mentions: float = 1.0  # x ln(distinct sources that surfaced or mentioned it)
    authors: float = 1.0  # x number of followed authors
    keywords: float = 1.0  # x sum of the matching `boost` weights
    recency: float = 1.0  # x 0.5 ** (age in days / recency_half_life_days)
    similarity: float = 2.0  # x share of the starred entries' typical terms it contains


@dataclass(frozen=True)
class BlockRules:
    """``ranking.block``: entries matching any of these are left out of the digest."""

    keywords: tuple[str, ...] = ()  # words or phrases, matched in title and summary
    authors: tuple[str, ...] = ()  # full names, ignoring case and accents


@dataclass(frozen=True)
class Ranking:
    """The optional ``ranking:`` mapping (see papertrail.reading.rank)."""

    weights: RankingWeights = RankingWeights()
    follow_authors: tuple[str, ...] = ()
    boost: tuple[tuple[str, float], ...] = ()  # (word or phrase, weight; negative demotes)
    block: BlockRules = BlockRules()
    recency_half_life_days: float = 7.0
    # How much read entries count next to starred ones when learning what you like (0-1).
    read_weight: float = 0.25
    # Your tags whose own learned profile gets a section in the digest (issue 17).
    follow_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    path: Path
    sources: tuple[Source, ...]
    domains: tuple[DomainRule, ...]
    settings: Settings
    ranking: Ranking = Ranking()
    email: EmailSettings | None = None  # the `email:` section (papertrail digest --email)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)
