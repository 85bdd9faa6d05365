"""`papertrail import bibtex|ris|csl-json`: the arXiv papers of your reference library,
added as starred seeds so the learned ranking knows you from day one.

The file is parsed whole first (papertrail.sources.library): a broken file adds
nothing. The papers are then added through `papertrail add`'s path (arXiv API
metadata, provenance "manual") and starred, those already in the reading list
too. Entries without an arXiv id, and ids arXiv does not know, are reported.
If arXiv cannot be reached, what was fetched is kept and starred and the rest is
reported: running the import again finishes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from papertrail.ingest.add import AddResult, PaperFetcher, add_papers
from papertrail.models import Tagger
from papertrail.sources.library import LibraryItem, read
from papertrail.store import triage

if TYPE_CHECKING:
    import sqlite_utils


@dataclass
class LibraryImport:
    path: Path
    entries: int = 0  # entries in the file
    added: AddResult = field(default_factory=AddResult)
    starred: int = 0  # newly starred
    without_id: list[LibraryItem] = field(default_factory=list)  # no arXiv id found

    @property
    def ok(self) -> bool:
        return self.added.ok


def import_library(
    db: sqlite_utils.Database, api: PaperFetcher, tagger: Tagger, path: Path, fmt: str
) -> LibraryImport:
    """Read the library `path` (format `fmt`), add its arXiv papers and star them."""
    library = read(path, fmt)
    out = LibraryImport(Path(path), len(library.items), without_id=library.without_id)
    ids = library.arxiv_ids
    if not ids:
        return out
    out.added = add_papers(db, api, tagger, ids)
    entry_ids = [p["id"] for p in (*out.added.added, *out.added.already)]
    if entry_ids:
        out.starred = triage.set_flag(db, entry_ids, "starred", True)
        triage.set_flag(db, entry_ids, "dismissed", False)
    return out
