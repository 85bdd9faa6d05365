"""The reading list on disk: the one package that owns SQL (save, and every read).

Schema (created by the migrations at the bottom, each run once and recorded
in `_migrations`):

- `sources`      one row per source name: kind, the URL from feeds.yml
                 (`config_url`) and the URL actually fetched (`fetch_url`,
                 updated by permanent redirects), conditional-GET state
                 (etag, last_modified), last status, consecutive failures and
                 whether the source is paused after too many of them.
- `entries`      papers and posts. `key` is the natural key: papers are
                 `arxiv:<version-less id>`; posts are keyed per source by
                 guid -> canonical URL -> content hash
                 (`post:<source>:<guid|url|sha1>`). The integer `id` is the
                 short id users type.
- `post_urls`    the URL keys each post is known by, so one article listed by
                 several feeds is one entry with several sources; a source's
                 corrected item updates its entry (store/post_match.py).
- `entry_versions` every arXiv version seen of a paper, when, and from where.
- `provenance`   which sources surfaced each entry, first and last seen.
- `entry_domains` domain tags (origin: `rule` from feeds.yml, or `source`
                 from a source's tags); `rank` 0 is the primary domain.
- `entry_tags`   free tags (from a source's `tags`; users add theirs later).
- `mentions`     arXiv papers linked from posts; the fetch backfills their
                 metadata (provenance source "mentioned").
- `unknown_arxiv_ids`  ids the arXiv API did not know, so the backfill stops
                 asking (retried after a day, at most 3 times in all).
- `notes`        the user's notes, timestamped; `entries.notes_text` joins them
                 for the full-text index.
- `entries.score` / `entries.hidden_by`  the ranking score and the block rule
                 hiding an entry from the digest (papertrail.reading.rank).
- `reproductions` / `reproduction_papers` / `repro_runs`  the reproductions,
                 the papers each implements, one row per run.
- `fetch_runs` / `fetch_log`  one row per run, one row per source per run.
- `entries_fts`  FTS5 over title, summary and notes_text, kept in sync by triggers.
- `entries_fts_recent` / `search_recent`  on lists above 300k entries only: the
                 same index over the newest entries, for fast search ranking
                 (store/recent_fts.py).

Every write happens inside `Database.atomic()` so a killed process leaves
each source either fully saved or untouched. `lock` holds the writer locks
(one fetch or import at a time). sqlite-utils is imported where a database is
opened (`schema.open_db`); the rest only names its type.

May import: config, models, ids, text (never sources: records arrive as `models`
types, tagged through the `models.Tagger` protocol).
"""

from papertrail.store.filters import (
    EntryFilter,
    EntryNotFound,
    entries_by_ids,
    find_entries,
    resolve_entries,
    resolve_entry,
    select_ids,
)
from papertrail.store.harvest import (
    HarvestState,
    get_harvest_state,
    harvest_name,
    list_harvest_states,
    save_harvest_state,
)
from papertrail.store.ingest import (
    add_provenance,
    missing_mentioned_ids,
    papers_by_arxiv_id,
    post_guids,
    remember_unknown_ids,
    unknown_arxiv_ids,
)
from papertrail.store.lock import (
    DatabaseLocked,
    FetchLocked,
    HarvestLocked,
    database_lock,
    harvest_lock,
    lock_path,
    oai_lock_path,
)
from papertrail.store.names import (
    BadInput,
    check_filter_names,
    names_in_use,
    unknown_name_message,
)
from papertrail.store.queries import (
    count_entries,
    enable_source,
    entries_between,
    entries_since_run,
    fetch_log,
    finish_run,
    iter_duplicate_keys,
    list_sources,
    parse_since,
    previous_completed_run,
    query_entries,
    source_state,
    starred_updates_between,
    starred_updates_since_run,
    start_run,
    sync_sources,
)
from papertrail.store.ranking import (
    entry_source_names,
    ranking_counts,
    scores_of,
    source_counts,
    write_scores,
)
from papertrail.store.recent_fts import maintain as maintain_search_index
from papertrail.store.repro import (
    REPRO_SOURCE,
    finish_repro_run,
    latest_repro_runs,
    missing_papers,
    paper_entry_ids,
    register_reproduction,
    repro_run,
    repro_runs,
    reproductions_for_paper,
    save_paper_records,
    start_repro_run,
)
from papertrail.store.schema import (
    MIGRATIONS,
    SCHEMA_VERSION_TABLE,
    DatabaseError,
    DatabaseMissing,
    connected,
    max_entry_id,
    migrate,
    open_db,
    utcnow,
)
from papertrail.store.writer import (
    EntryWriter,
    SaveStats,
    SourceOutcome,
    content_hash,
    paper_key,
    post_key,
    retag_all,
    save_source_result,
)

__all__ = [
    "BadInput",
    "check_filter_names",
    "names_in_use",
    "unknown_name_message",
    "DatabaseLocked",
    "DatabaseMissing",
    "FetchLocked",
    "HarvestLocked",
    "connected",
    "database_lock",
    "harvest_lock",
    "lock_path",
    "max_entry_id",
    "oai_lock_path",
    "maintain_search_index",
    "HarvestState",
    "get_harvest_state",
    "harvest_name",
    "list_harvest_states",
    "save_harvest_state",
    "entry_source_names",
    "ranking_counts",
    "scores_of",
    "source_counts",
    "write_scores",
    "EntryFilter",
    "EntryNotFound",
    "entries_by_ids",
    "find_entries",
    "resolve_entries",
    "resolve_entry",
    "select_ids",
    "REPRO_SOURCE",
    "finish_repro_run",
    "latest_repro_runs",
    "missing_papers",
    "paper_entry_ids",
    "register_reproduction",
    "repro_run",
    "repro_runs",
    "reproductions_for_paper",
    "save_paper_records",
    "start_repro_run",
    "MIGRATIONS",
    "SCHEMA_VERSION_TABLE",
    "DatabaseError",
    "EntryWriter",
    "SaveStats",
    "SourceOutcome",
    "content_hash",
    "add_provenance",
    "missing_mentioned_ids",
    "papers_by_arxiv_id",
    "post_guids",
    "remember_unknown_ids",
    "unknown_arxiv_ids",
    "count_entries",
    "enable_source",
    "entries_between",
    "entries_since_run",
    "fetch_log",
    "finish_run",
    "iter_duplicate_keys",
    "list_sources",
    "migrate",
    "open_db",
    "paper_key",
    "parse_since",
    "post_key",
    "previous_completed_run",
    "query_entries",
    "retag_all",
    "save_source_result",
    "source_state",
    "starred_updates_between",
    "starred_updates_since_run",
    "start_run",
    "sync_sources",
    "utcnow",
]
