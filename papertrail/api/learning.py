"""The learned ranking as a library (issue 17): `similar`, `rank --evaluate`, and
`import bibtex|ris|csl-json` (your reference library as starred seeds).

Dismissing is `api.mark(paths, tokens, "dismissed", on)` (papertrail.api.reading), like
starring: every surface that triages shares that one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from papertrail import store
from papertrail.config import Paths
from papertrail.ingest import add as adding
from papertrail.ingest.library import LibraryImport, import_library
from papertrail.reading import evaluate as evaluating
from papertrail.reading import similar as similarity
from papertrail.reading.rank import rescore_recent
from papertrail.sources.domains import DomainTagger


@dataclass(frozen=True)
class SimilarResult:
    entry_id: int
    title: str
    neighbours: list[similarity.Neighbour]


def similar(paths: Paths, token: str, *, limit: int = 10) -> SimilarResult:
    """`papertrail similar ENTRY`: the entries most like it, with the words they share."""
    with store.connected(paths.db, create=False) as db:
        entry_id = store.resolve_entry(db, token)
        title = " ".join((store.entries_by_ids(db, [entry_id])[0]["title"]).split())
        return SimilarResult(entry_id, title, similarity.similar(db, entry_id, limit))


def evaluate(paths: Paths, *, before: str | None = None) -> evaluating.Evaluation:
    """`papertrail rank --evaluate`: each method scored on your own later feedback."""
    config = paths.config()
    cutoff = store.parse_since(before) if before else None
    with store.connected(paths.db, create=False) as db:
        return evaluating.evaluate(db, config.ranking, before=cutoff)


def import_library_file(paths: Paths, file: Path, fmt: str) -> LibraryImport:
    """`papertrail import bibtex|ris|csl-json FILE`: the library's arXiv papers, added and
    starred. Raises `LibraryError` (a ValueError) for a file it cannot read: nothing added."""
    config = paths.config()
    with store.connected(paths.db) as db:
        client = adding.arxiv_api_client(config.settings)
        result = import_library(db, client, DomainTagger(config.domains), file, fmt)
        if result.starred:
            rescore_recent(db, config)
    return result
