"""The SQL behind `papertrail browse`: Datasette's canned queries on the reading list.

Read queries take no parameters, so each is one click from the database page.
Nothing here writes: triage goes through papertrail.api from the reading page
(papertrail.browse.page), never through SQL of its own. Timestamps use the format of
`papertrail.store.schema.utcnow` (`2026-04-27T09:30:00+00:00`), and marking an
entry twice keeps the first timestamp, as `papertrail.store.triage.set_flag` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from papertrail.store.schema import NOT_BULK

if TYPE_CHECKING:
    import sqlite_utils

# utcnow()'s format, computed by SQLite.
_NOW = "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')"


def _ago(modifier: str) -> str:
    return f"strftime('%Y-%m-%dT%H:%M:%S', 'now', '{modifier}')"


# Provenance of the archive imports: an import surfaces every paper at once,
# which is not news, so "this week" leaves it out; the partial index
# idx_provenance_recent (migration 008) is defined with this very predicate,
# so the query can use it.


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title: str
    description: str
    sql: str
    write: bool = False


READ_QUERIES: tuple[CannedQuery, ...] = (
    CannedQuery(
        "todays_digest",
        "Today's digest",
        "Entries first seen in the last 24 hours, most-discussed first, then newest "
        "(the order of `papertrail digest`).",
        f"""
SELECT r.primary_domain AS domain, r.id AS entry, r.title, r.arxiv_id, r.url,
       r.kind, r.sources, r.mentions, r.date
FROM reading_list r
WHERE r.first_seen >= {_ago("-1 day")} AND r.hidden_by IS NULL
ORDER BY json_array_length(r.sources) + r.mentions DESC, r.date DESC, r.id DESC
""",
    ),
    CannedQuery(
        "unread_by_domain",
        "Unread by domain",
        "Every unread entry under its primary domain, newest first within each domain.",
        """
SELECT r.primary_domain AS domain, r.id AS entry, r.title, r.arxiv_id, r.url, r.kind, r.date
FROM reading_list r
WHERE r.read_at IS NULL
ORDER BY r.primary_domain, r.date DESC, r.id DESC
""",
    ),
    CannedQuery(
        "starred",
        "Starred",
        "Starred entries, most recently starred first.",
        """
SELECT r.id AS entry, r.title, r.arxiv_id, r.url, r.kind, r.domains, r.tags,
       r.starred_at, r.read
FROM reading_list r
WHERE r.starred_at IS NOT NULL
ORDER BY r.starred_at DESC, r.id DESC
""",
    ),
    CannedQuery(
        "most_mentioned_this_week",
        "Most mentioned this week",
        "arXiv papers that posts linked or that more than one source surfaced in the last "
        "7 days, by how many sources did (papers only mentioned in posts, not yet in the "
        "reading list, have no entry; archive imports do not count as a source).",
        f"""
WITH hits AS (
    SELECT e.arxiv_id, p.source, 0 AS from_post
    FROM provenance p JOIN entries e ON e.id = p.entry_id
    WHERE e.arxiv_id IS NOT NULL AND p.{NOT_BULK} AND p.last_seen >= {_ago("-7 days")}
    UNION
    SELECT m.arxiv_id, pp.source, 1 AS from_post
    FROM mentions m JOIN provenance pp ON pp.entry_id = m.post_id
    WHERE m.first_seen >= {_ago("-7 days")}
)
SELECT h.arxiv_id, e.id AS entry, e.title,
       COUNT(DISTINCT h.source) AS sources_count,
       SUM(h.from_post) AS post_mentions,
       group_concat(DISTINCT h.source) AS mentioned_by
FROM hits h LEFT JOIN entries e ON e.arxiv_id = h.arxiv_id
GROUP BY h.arxiv_id
HAVING sources_count > 1 OR post_mentions > 0
ORDER BY sources_count DESC, post_mentions DESC, h.arxiv_id DESC
LIMIT 100
""",
    ),
    CannedQuery(
        "papers_with_reproductions",
        "Papers with reproductions",
        "Papers that a reproduction in reproductions/ implements, with its runs and the "
        "latest run's status and headline metric.",
        """
SELECT rp.arxiv_id, e.id AS entry, e.title, r.name AS reproduction,
       (SELECT COUNT(*) FROM repro_runs x WHERE x.reproduction = r.name) AS runs,
       last.status AS last_status, last.headline_metric, last.finished_at AS last_run_at
FROM reproduction_papers rp
JOIN reproductions r ON r.name = rp.reproduction
LEFT JOIN entries e ON e.arxiv_id = rp.arxiv_id
LEFT JOIN repro_runs last ON last.id =
    (SELECT MAX(id) FROM repro_runs x WHERE x.reproduction = r.name)
ORDER BY r.name, rp.arxiv_id
""",
    ),
    CannedQuery(
        "sources_last_fetch",
        "Sources and their last fetch",
        "Each source in feeds.yml with what its last fetch did (from the fetch log); "
        "failing and paused sources first.",
        """
SELECT s.name AS source, s.kind, s.paused, s.consecutive_failures,
       l.status AS last_status, l.http_status, l.started_at AS last_fetch,
       l.duration_ms, l.entries_seen, l.new_count, l.error,
       s.last_success_at, s.fetch_url AS url
FROM sources s
LEFT JOIN fetch_log l ON l.id = (SELECT MAX(id) FROM fetch_log f WHERE f.source = s.name)
WHERE s.in_config
ORDER BY s.paused DESC, s.consecutive_failures DESC, s.name
""",
    ),
)


def unread_by_domain_newest(per_domain: int = 100) -> CannedQuery:
    """`unread_by_domain` for a very large list: the newest `per_domain` unread
    entries of each primary domain (entries with no domain left out).

    Listing every unread entry sorts the whole list (millions of rows once arXiv
    is imported); this walks each domain's entries newest first on
    idx_entry_domains_domain_entry and stops, the domains found by index seeks."""
    return CannedQuery(
        "unread_by_domain",
        "Unread by domain",
        f"The newest {per_domain:,} unread entries of each domain, under their primary "
        "domain, newest first within each domain (the list is too large to show them all).",
        f"""
WITH RECURSIVE domains(domain) AS (
    SELECT MIN(domain) FROM entry_domains
    UNION ALL
    SELECT (SELECT MIN(x.domain) FROM entry_domains x WHERE x.domain > d.domain)
    FROM domains d WHERE d.domain IS NOT NULL
)
SELECT d.domain, e.id AS entry, e.title, e.arxiv_id, e.url, e.kind,
       COALESCE(e.published, e.first_seen) AS date
FROM domains d JOIN entries e ON e.id IN (
    SELECT x.entry_id FROM entry_domains x JOIN entries y ON y.id = x.entry_id
    WHERE x.domain = d.domain AND y.read_at IS NULL
      AND x.domain = (SELECT z.domain FROM entry_domains z WHERE z.entry_id = x.entry_id
                      ORDER BY z.rank, z.domain LIMIT 1)
    ORDER BY x.entry_id DESC LIMIT {int(per_domain)})
WHERE d.domain IS NOT NULL
ORDER BY d.domain, date DESC, e.id DESC
""",
    )


def entry_count(db: sqlite_utils.Database) -> int:
    """How many entries the reading list holds."""
    return int(db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
