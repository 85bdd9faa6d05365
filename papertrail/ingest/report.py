"""What a fetch run reports: progress events for a progress bar, and per source what it did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class FetchEvent:
    """Progress of a run, for a progress bar (`run_fetch(on_event=...)`)."""

    kind: Literal["start", "skipped", "source", "backfill", "done"]
    source: str = ""  # the source's name ("mentioned" for the backfill)
    total: int = 0  # start: how many sources will be fetched
    status: str = ""  # source: ok | not-modified | error
    error: str | None = None
    new: int = 0  # source, backfill: new entries
    seconds: float = 0.0  # source: time to save it; backfill: time it took


EventHandler = Callable[[FetchEvent], None]


@dataclass
class SourceReport:
    name: str
    status: str  # ok | not-modified | error | skipped; "backfill" for the mentions backfill
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    new_papers: int = 0
    new_posts: int = 0
    updated_versions: int = 0
    moved_to: str | None = None


@dataclass
class FetchReport:
    run_id: int
    previous_run: int
    sources: list[SourceReport] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.sources if s.status in statuses)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "sources_ok": self.count("ok", "not-modified"),
            "sources_failed": self.count("error"),
            "sources_not_modified": self.count("not-modified"),
            "sources_skipped": self.count("skipped"),
            "new_papers": sum(s.new_papers for s in self.sources),
            "new_posts": sum(s.new_posts for s in self.sources),
            "updated_versions": sum(s.updated_versions for s in self.sources),
        }
