"""papertrail's library API: one function per thing a user does.

Every command of the CLI and every action of the reading page calls one of
these, so each action has one code path. Each function takes `Paths` (where the
reading list and feeds.yml are), opens what it needs, does one thing and
returns a dataclass, or `Entry` dicts (JSON-shaped records, typed key by key).
Errors are the library's own exceptions, documented on each function.
docs/ARCHITECTURE.md lists the whole API with examples.

    from papertrail import api
    from papertrail.config import Paths

    paths = Paths.resolve(db="reading.db", feeds="feeds.yml")
    outcome = api.fetch(paths)
    for entry in api.search(paths, "style transfer").entries:
        print(entry["id"], entry["title"])

May import: ingest, reading, repro, store, sources, config, models, ids (it sits
above every stage; only browse and cli import it).
"""

from papertrail.api.fetching import (
    FetchOutcome,
    SourceRow,
    build_digest,
    digest,
    enable_source,
    fetch,
    fetch_summary,
    rank,
    retag,
    sources,
)
from papertrail.api.importing import add, check_oai_options, import_oai, import_snapshot
from papertrail.api.reading import (
    MarkResult,
    SearchResult,
    add_note,
    clean_tags,
    delete_note,
    explain_entry,
    list_entries,
    make_filter,
    mark,
    notes,
    search,
    select,
    show,
    tag,
)
from papertrail.api.repro import (
    Refresh,
    RefreshNeedsConfig,
    ReproListing,
    ReproShown,
    list_reproductions,
    run_reproduction,
    show_reproduction,
)
from papertrail.api.subscriptions import export_sources, import_sources
from papertrail.config import Paths

__all__ = [
    "FetchOutcome",
    "MarkResult",
    "Paths",
    "Refresh",
    "RefreshNeedsConfig",
    "ReproListing",
    "ReproShown",
    "SearchResult",
    "SourceRow",
    "add",
    "add_note",
    "build_digest",
    "check_oai_options",
    "clean_tags",
    "delete_note",
    "digest",
    "enable_source",
    "explain_entry",
    "export_sources",
    "fetch",
    "fetch_summary",
    "import_oai",
    "import_snapshot",
    "import_sources",
    "list_entries",
    "list_reproductions",
    "make_filter",
    "mark",
    "notes",
    "rank",
    "retag",
    "run_reproduction",
    "search",
    "select",
    "show",
    "show_reproduction",
    "sources",
    "tag",
]
