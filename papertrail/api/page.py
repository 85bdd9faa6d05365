"""What the reading page (papertrail.browse) shows beside the entries the other API
functions return: each card's one-line *why*, the posts mentioning its paper, the
tags in use, and which triage flags the store knows (so the page offers "not
relevant" exactly when `mark(..., "dismissed", ...)` exists).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from papertrail import store
from papertrail.config import Config, Paths
from papertrail.models import Entry
from papertrail.reading import rankcache, refresh
from papertrail.reading.explain import Explanation, explain
from papertrail.store import page, triage
from papertrail.store.page import PostLink

if TYPE_CHECKING:
    import sqlite_utils

WHY_PARTS = 2  # the parts a card names: the ones adding most to the score
WHY_BUDGET_S = 0.08  # explanations stop after this long; the rest link to the paper page


@dataclass(frozen=True)
class CardExtras:
    """Per entry id: the one-line why of its score, and the posts linking its paper."""

    why: dict[int, str] = field(default_factory=dict)
    posts: dict[int, list[PostLink]] = field(default_factory=dict)


@dataclass(frozen=True)
class TagCount:
    tag: str
    entries: int


def triage_flags() -> list[str]:
    """The flags `mark` accepts ("read", "starred", and any the store adds later)."""
    return list(triage.FLAGS)


def why_line(expl: Explanation) -> str:
    """The parts that add most to the score, in words, e.g. "surfaced or mentioned by
    3 sources (…) · matches boosted 'diffusion' (+2)"."""
    parts = sorted(
        (p for p in expl.parts if p.contribution >= 0.005), key=lambda p: -p.contribution
    )
    words = [p.why.split("; ")[0] for p in parts[:WHY_PARTS]]
    return " · ".join(words) or "nothing in feeds.yml's ranking speaks for it"


def why_lines(
    db: sqlite_utils.Database, config: Config, ids: Sequence[int], budget_s: float | None = None
) -> dict[int, str]:
    """id -> the one-line why of its score, in the order of `ids`, until `budget_s`
    seconds are spent (None: all of them)."""
    out: dict[int, str] = {}
    deadline = None if budget_s is None else time.perf_counter() + budget_s
    for entry_id in ids:
        if deadline is not None and time.perf_counter() > deadline:
            break
        try:
            out[entry_id] = why_line(explain(db, config, entry_id))
        except KeyError:
            continue
    return out


def card_extras(
    paths: Paths, entries: Sequence[Entry], *, budget_s: float = WHY_BUDGET_S
) -> CardExtras:
    """The why and the mentioning posts of `entries`, in their order; explanations
    stop after `budget_s` seconds (a card without one links to its paper page,
    which explains the score in full)."""
    config = paths.config()
    out = CardExtras()
    with store.connected(paths.db) as db:
        out.why.update(why_lines(db, config, [e["id"] for e in entries], budget_s))
        by_arxiv = page.posts_mentioning(db, [e["arxiv_id"] or "" for e in entries])
    for entry in entries:
        if entry.get("arxiv_id") in by_arxiv:
            out.posts[entry["id"]] = by_arxiv[entry["arxiv_id"] or ""]
    return out


def tag_counts(paths: Paths) -> list[TagCount]:
    """The tags in use, most used first."""
    with store.connected(paths.db) as db:
        return [TagCount(tag, n) for tag, n in page.tag_counts(db)]


@dataclass
class Ranking:
    """What a page rendered inside `previous_order` learned: `previous` when a model
    older than the labels scored it (a refit is under way: the order from before it)."""

    previous: bool = False


@contextmanager
def previous_order(paths: Paths) -> Iterator[Ranking]:
    """The reading page's views run inside: nothing waits for a refresh, and a model
    older than the labels scores as it is (see rankcache.previous_order). When it did
    and this process has no refit under way (the labels changed in another process,
    or its refit was killed), one starts in the background, so a later view is current."""
    out = Ranking()
    with rankcache.previous_order() as seen:
        yield out
    out.previous = seen.used
    if seen.used and not ranking_busy(paths):
        with store.connected(paths.db, create=False) as db:
            refresh.after_feedback(db, paths.config(), [])


def ranking_busy(paths: Paths) -> bool:
    """Whether this process is refitting the ranking of `paths.db` (a star's refresh
    that has no new model yet): the page asks, and offers the new order when it is not."""
    with store.connected(paths.db, create=False) as db:
        return not rankcache.settled(rankcache.db_file(db))
