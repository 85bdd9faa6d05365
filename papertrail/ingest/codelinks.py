"""The code-link scan: papers whose abstract or arXiv comment names their code.

Runs after every fetch (papertrail.api.fetch). It reads the papers added since
the last scan (everything, the first time: that is the backfill of a reading
list made before code links existed) and the papers that moved to a new version
since then (a v2 comment often adds "Code: https://github.com/…"). Posts'
code links are found when the post is parsed (papertrail.sources.codelinks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from papertrail.sources.codelinks import paper_code_links
from papertrail.store import codelinks as store
from papertrail.store import max_entry_id, utcnow

if TYPE_CHECKING:
    import sqlite_utils

BATCH = 5000


def scan_papers(db: sqlite_utils.Database) -> int:
    """Find and store code links of the papers not scanned yet; returns the links stored.
    Each batch is its own transaction, so a killed scan resumes where it stopped."""
    started = utcnow()
    last, scanned_at = store.scan_mark(db)
    top = max_entry_id(db)
    added = 0
    if scanned_at is not None:
        with db.atomic():
            papers = store.papers_updated_since(db, scanned_at, last)
            added += store.save_paper_links(
                db, [(p, paper_code_links(p.summary, p.comment)) for p in papers]
            )
    while last < top:
        batch = [p for p in store.papers_after(db, last, BATCH) if p.id <= top]
        last = batch[-1].id if len(batch) == BATCH else top
        with db.atomic():
            added += store.save_paper_links(
                db, [(p, paper_code_links(p.summary, p.comment)) for p in batch]
            )
            store.set_scan_mark(db, last, started)
    if scanned_at is None or last == top:
        with db.atomic():
            store.set_scan_mark(db, top, started)
    return added
