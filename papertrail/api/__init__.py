"""papertrail's library API: one function per thing a user does.

Every command of the CLI and every action of the reading page calls one of
these, so each action has one code path. Each function takes `Paths` (where the
reading list and feeds.yml are), opens what it needs, does one thing and
returns a dataclass, or `Entry` dicts (JSON-shaped records, typed key by key).
Errors are the library's own exceptions, exported here too; so are the
renderers the CLI prints with. docs/ARCHITECTURE.md lists the whole API.

    from papertrail import api

    paths = api.Paths.resolve(db="reading.db", feeds="feeds.yml")
    outcome = api.fetch(paths)
    for entry in api.search(paths, "style transfer").entries:
        print(entry["id"], entry["title"])

Names load on first use (PEP 562 module `__getattr__`, as SPEC 1 of the
Scientific Python ecosystem describes): `papertrail --help` and a quick
`papertrail star` must not import the fetch machinery (asyncio, httpx,
feedparser, email) or sqlite-utils. The `TYPE_CHECKING` block below is the
same list as real imports, for type checkers, editors and the layout test;
`_WHERE` must match it (tests/test_layout.py checks both ways).

May import: ingest, reading, repro, store, sources, config, models, ids, text (it sits
above every stage; only browse and cli import it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papertrail.api.digests import build_digest, digest
    from papertrail.api.discussed import build_trending, trending
    from papertrail.api.fetching import FetchOutcome, fetch, fetch_summary
    from papertrail.api.importing import add, check_oai_options, import_oai, import_snapshot
    from papertrail.api.learning import SimilarResult, evaluate, import_library_file, similar
    from papertrail.api.mailing import MailNotSent, MailSent, send_digest
    from papertrail.api.managing import SourceRow, enable_source, rank, retag, sources
    from papertrail.api.page import (
        CardExtras,
        Ranking,
        TagCount,
        card_extras,
        previous_order,
        ranking_busy,
        tag_counts,
        triage_flags,
    )
    from papertrail.api.reading import (
        MarkResult,
        add_note,
        clean_tags,
        delete_note,
        explain_entry,
        list_entries,
        mark,
        notes,
        select,
        show,
        tag,
    )
    from papertrail.api.repro import (
        Refresh,
        RefreshNeedsConfig,
        ReproListing,
        ReproShown,
        discover_reproductions,
        list_reproductions,
        run_reproduction,
        show_reproduction,
    )
    from papertrail.api.schedule import ScheduleError
    from papertrail.api.schedule import install as install_schedule
    from papertrail.api.schedule import remove as remove_schedule
    from papertrail.api.schedule import status as schedule_status
    from papertrail.api.searching import SearchResult, make_filter, search
    from papertrail.api.subscriptions import export_sources, import_sources
    from papertrail.config import ConfigError, Paths, write_atomic
    from papertrail.ingest.add import NotAnArxivId
    from papertrail.ingest.snapshot import SnapshotError
    from papertrail.models import Entry, EntryDetail, Note
    from papertrail.reading.digest import render as render_digest
    from papertrail.reading.digest import render_summary as render_summary
    from papertrail.reading.explain import render_explanation as render_explanation
    from papertrail.reading.export import render as render_export
    from papertrail.reading.export import render_csv as render_csv
    from papertrail.reading.export import render_json as render_json
    from papertrail.reading.trending import Trending
    from papertrail.reading.trending import render_text as render_trending
    from papertrail.reading.trending import to_json as trending_json
    from papertrail.repro import Reproduction, ReproError
    from papertrail.sources.library import LibraryError
    from papertrail.sources.oai_parse import OaiError
    from papertrail.store import (
        BadInput,
        DatabaseError,
        DatabaseLocked,
        DatabaseMissing,
        FetchLocked,
        HarvestLocked,
    )
    from papertrail.store.triage import SearchSyntaxError

# name -> the module that defines it
_WHERE: dict[str, str] = {
    "FetchOutcome": "papertrail.api.fetching",
    "fetch": "papertrail.api.fetching",
    "fetch_summary": "papertrail.api.fetching",
    "build_digest": "papertrail.api.digests",
    "digest": "papertrail.api.digests",
    "SourceRow": "papertrail.api.managing",
    "enable_source": "papertrail.api.managing",
    "rank": "papertrail.api.managing",
    "retag": "papertrail.api.managing",
    "sources": "papertrail.api.managing",
    "CardExtras": "papertrail.api.page",
    "TagCount": "papertrail.api.page",
    "card_extras": "papertrail.api.page",
    "previous_order": "papertrail.api.page",
    "ranking_busy": "papertrail.api.page",
    "Ranking": "papertrail.api.page",
    "tag_counts": "papertrail.api.page",
    "triage_flags": "papertrail.api.page",
    "add": "papertrail.api.importing",
    "check_oai_options": "papertrail.api.importing",
    "import_oai": "papertrail.api.importing",
    "import_snapshot": "papertrail.api.importing",
    "MailNotSent": "papertrail.api.mailing",
    "MailSent": "papertrail.api.mailing",
    "send_digest": "papertrail.api.mailing",
    "SimilarResult": "papertrail.api.learning",
    "evaluate": "papertrail.api.learning",
    "import_library_file": "papertrail.api.learning",
    "similar": "papertrail.api.learning",
    "MarkResult": "papertrail.api.reading",
    "SearchResult": "papertrail.api.searching",
    "add_note": "papertrail.api.reading",
    "clean_tags": "papertrail.api.reading",
    "delete_note": "papertrail.api.reading",
    "explain_entry": "papertrail.api.reading",
    "list_entries": "papertrail.api.reading",
    "make_filter": "papertrail.api.searching",
    "mark": "papertrail.api.reading",
    "notes": "papertrail.api.reading",
    "search": "papertrail.api.searching",
    "select": "papertrail.api.reading",
    "show": "papertrail.api.reading",
    "tag": "papertrail.api.reading",
    "Refresh": "papertrail.api.repro",
    "RefreshNeedsConfig": "papertrail.api.repro",
    "ReproListing": "papertrail.api.repro",
    "ReproShown": "papertrail.api.repro",
    "discover_reproductions": "papertrail.api.repro",
    "list_reproductions": "papertrail.api.repro",
    "run_reproduction": "papertrail.api.repro",
    "show_reproduction": "papertrail.api.repro",
    "ScheduleError": "papertrail.api.schedule",
    "export_sources": "papertrail.api.subscriptions",
    "import_sources": "papertrail.api.subscriptions",
    "build_trending": "papertrail.api.discussed",
    "trending": "papertrail.api.discussed",
    "Trending": "papertrail.reading.trending",
    "ConfigError": "papertrail.config",
    "Paths": "papertrail.config",
    "write_atomic": "papertrail.config",
    "BadInput": "papertrail.store",
    "DatabaseError": "papertrail.store",
    "DatabaseLocked": "papertrail.store",
    "DatabaseMissing": "papertrail.store",
    "FetchLocked": "papertrail.store",
    "HarvestLocked": "papertrail.store",
    "SearchSyntaxError": "papertrail.store.triage",
    "NotAnArxivId": "papertrail.ingest.add",
    "SnapshotError": "papertrail.ingest.snapshot",
    "LibraryError": "papertrail.sources.library",
    "OaiError": "papertrail.sources.oai_parse",
    "ReproError": "papertrail.repro",
    "Reproduction": "papertrail.repro",
    "Entry": "papertrail.models",
    "EntryDetail": "papertrail.models",
    "Note": "papertrail.models",
}
# exported under another name: name -> (module, attribute)
_RENAMED: dict[str, tuple[str, str]] = {
    "render_digest": ("papertrail.reading.digest", "render"),
    "render_summary": ("papertrail.reading.digest", "render_summary"),
    "render_export": ("papertrail.reading.export", "render"),
    "render_csv": ("papertrail.reading.export", "render_csv"),
    "render_json": ("papertrail.reading.export", "render_json"),
    "render_explanation": ("papertrail.reading.explain", "render_explanation"),
    "render_trending": ("papertrail.reading.trending", "render_text"),
    "install_schedule": ("papertrail.api.schedule", "install"),
    "remove_schedule": ("papertrail.api.schedule", "remove"),
    "schedule_status": ("papertrail.api.schedule", "status"),
    "trending_json": ("papertrail.reading.trending", "to_json"),
}

__all__ = [
    "BadInput",
    "CardExtras",
    "ConfigError",
    "DatabaseError",
    "DatabaseLocked",
    "DatabaseMissing",
    "Entry",
    "EntryDetail",
    "FetchLocked",
    "FetchOutcome",
    "HarvestLocked",
    "MailNotSent",
    "MailSent",
    "LibraryError",
    "MarkResult",
    "NotAnArxivId",
    "Note",
    "OaiError",
    "Paths",
    "Ranking",
    "Refresh",
    "RefreshNeedsConfig",
    "ReproError",
    "ReproListing",
    "ReproShown",
    "Reproduction",
    "ScheduleError",
    "SearchResult",
    "SearchSyntaxError",
    "SimilarResult",
    "SnapshotError",
    "SourceRow",
    "TagCount",
    "Trending",
    "add",
    "add_note",
    "build_digest",
    "build_trending",
    "card_extras",
    "check_oai_options",
    "clean_tags",
    "delete_note",
    "digest",
    "discover_reproductions",
    "enable_source",
    "evaluate",
    "explain_entry",
    "export_sources",
    "fetch",
    "fetch_summary",
    "import_library_file",
    "import_oai",
    "import_snapshot",
    "import_sources",
    "install_schedule",
    "list_entries",
    "list_reproductions",
    "make_filter",
    "mark",
    "notes",
    "previous_order",
    "rank",
    "ranking_busy",
    "render_csv",
    "render_digest",
    "render_explanation",
    "render_export",
    "render_json",
    "render_summary",
    "remove_schedule",
    "render_trending",
    "retag",
    "run_reproduction",
    "schedule_status",
    "search",
    "select",
    "send_digest",
    "show",
    "show_reproduction",
    "similar",
    "sources",
    "tag",
    "tag_counts",
    "trending",
    "trending_json",
    "triage_flags",
    "write_atomic",
]


def __getattr__(name: str) -> object:
    """Import the module that defines `name` the first time it is asked for."""
    if name in _WHERE:
        module, attribute = _WHERE[name], name
    elif name in _RENAMED:
        module, attribute = _RENAMED[name]
    else:
        raise AttributeError(f"module 'papertrail.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
