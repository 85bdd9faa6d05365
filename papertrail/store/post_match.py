"""Which stored post a feed item is, when its own key is new (issue 18).

A post's key is per source (`post:<source>:<guid|url|sha1>`, see writer.py),
so on its own it cannot see that:

* the same article is listed by another feed (a blog's own feed and a
  planet/aggregator, a FeedBurner copy, an AMP or utm-tagged link): matched by
  the page's URL (`papertrail.ids.url_match_key`, over the item's link and a
  guid that is a URL), kept in `post_urls`, when the titles agree too; failing
  that, and only then, by the very same title (4+ words) published within
  `TITLE_WINDOW` of it.
  Only another source's posts are matched so: within one source the guid is the
  item's identity (two guids are two items, whatever their links);
* an item without guid and link was corrected: its key is a hash of its text, so
  the new text is a new key. It is matched to the entry of the same source with
  the same date and authors whose title or text is close (`CORRECTION_RATIO`)
  and which the source no longer lists under its old text.

A URL that several items of one document share (a feed linking every item to
one page) identifies none of them and is not used. Everything here runs inside
the caller's transaction.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from papertrail.ids import url_match_key
from papertrail.models import Record

TITLE_WINDOW = timedelta(hours=24)
TITLE_MIN_CHARS, TITLE_MIN_WORDS = 20, 4  # "Weekly update" names no one article
CORRECTION_RATIO = 0.75
TITLE_RATIO = 0.8  # a URL match needs titles this close (SequenceMatcher ratio)
_DIGITS_RE = re.compile(r"\d+")
CORRECTION_CANDIDATES = 500  # the newest text-keyed entries of a source looked at


@dataclass(frozen=True)
class PostMatch:
    entry_id: int
    how: str  # "url" | "title" | "correction"
    same_source: bool  # the entry is this source's own (its text may be corrected)


def url_keys(record: Record) -> list[str]:
    """The URL keys an item is known by: its link, and its guid when that is a URL."""
    keys = [url_match_key(record.url)]
    if record.guid and record.guid.lower().startswith(("http://", "https://")):
        keys.append(url_match_key(record.guid))
    return list(dict.fromkeys(k for k in keys if k))


def title_key(title: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", title.casefold()).split())


def _when(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


class PostMatcher:
    """Finds stored posts for one source's document (`records`, keyed by `keys`)."""

    def __init__(
        self, conn: sqlite3.Connection, source: str, records: Sequence[Record], keys: Sequence[str]
    ):
        self.conn, self.source = conn, source
        self.doc_keys = set(keys)
        per_key: dict[str, set[int]] = {}
        for i, record in enumerate(records):
            if record.kind == "post":
                for uk in url_keys(record):
                    per_key.setdefault(uk, set()).add(i)
        self.ambiguous = {uk for uk, items in per_key.items() if len(items) > 1}
        self._text_keyed: list[tuple[int, str, str, str | None, str, str]] | None = None
        self.claimed: set[int] = set()  # entries an item of this document was matched to

    def keys_of(self, record: Record) -> list[str]:
        return [k for k in url_keys(record) if k not in self.ambiguous]

    def find(self, record: Record) -> PostMatch | None:
        """The stored post `record` is, if any (its own key being unknown)."""
        if record.kind != "post":
            return None
        match = (
            self._by_url(record)
            or (self._correction(record) if not (record.guid or record.url) else None)
            or self._by_title(record)
        )
        if match is None or match.entry_id in self.claimed:
            return None  # one stored post per item of a document, never two items in one
        self.claimed.add(match.entry_id)
        return match

    def register(self, pairs: Iterable[tuple[int, Record]]) -> None:
        """Remember the URL keys of saved posts (the first entry to claim a key keeps it)."""
        rows = [(k, entry_id) for entry_id, r in pairs if r.kind == "post" for k in self.keys_of(r)]
        self.conn.executemany(
            "INSERT OR IGNORE INTO post_urls (url_key, entry_id) VALUES (?, ?)", rows
        )

    # ------------------------------------------------------------ the three ways

    def _by_url(self, record: Record) -> PostMatch | None:
        """Another source's post at the same page, under a similar title (a link that a
        feed gives every item, say an archive page, names none of them)."""
        for uk in self.keys_of(record):
            row = self.conn.execute(
                "SELECT e.id, e.title FROM post_urls u JOIN entries e ON e.id = u.entry_id "
                "WHERE u.url_key = ? AND e.kind = 'post' AND e.source IS NOT ?",
                [uk, self.source],
            ).fetchone()
            if row is not None and _similar_titles(row[1], record.title):
                return PostMatch(row[0], "url", False)
        return None

    def _by_title(self, record: Record) -> PostMatch | None:
        """Another source's post of the very same title, published within TITLE_WINDOW:
        for feeds whose links have nothing in common. Long titles only."""
        when, wanted = _when(record.published), title_key(record.title)
        if when is None or len(wanted) < TITLE_MIN_CHARS or len(wanted.split()) < TITLE_MIN_WORDS:
            return None
        lo = (when - TITLE_WINDOW).isoformat()
        hi = (when + TITLE_WINDOW).isoformat()
        rows = self.conn.execute(
            "SELECT id FROM entries WHERE kind = 'post' AND title = ? AND published BETWEEN ? AND ? "
            "AND source IS NOT ? LIMIT 2",  # on idx_entries_post_title (posts only)
            [record.title, lo, hi, self.source],
        ).fetchall()
        if len(rows) != 1:  # none, or several articles of that title: leave it
            return None
        return PostMatch(rows[0][0], "title", False)

    def _correction(self, record: Record) -> PostMatch | None:
        best: tuple[float, int] | None = None
        for entry_id, key, title, published, authors, summary in self._text_keyed_entries():
            if key in self.doc_keys or published != record.published:
                continue  # still listed as it was: another item, not this one corrected
            if authors != _authors_json(record):
                continue
            score = max(_ratio(title, record.title), _ratio(summary, record.summary))
            if score >= CORRECTION_RATIO and (best is None or score > best[0]):
                best = (score, entry_id)
        return PostMatch(best[1], "correction", True) if best else None

    def _text_keyed_entries(self) -> list[tuple[int, str, str, str | None, str, str]]:
        """This source's posts keyed by a hash of their text (no guid, no link), newest first."""
        if self._text_keyed is None:
            prefix = f"post:{self.source}:sha1:"
            self._text_keyed = self.conn.execute(
                "SELECT id, key, title, published, authors, summary FROM entries "
                "WHERE key >= ? AND key < ? ORDER BY id DESC LIMIT ?",
                [prefix, prefix[:-1] + ";", CORRECTION_CANDIDATES],
            ).fetchall()
        return self._text_keyed


def _similar_titles(a: str, b: str) -> bool:
    """Titles of one article as two feeds give it: equal, one inside the other ("[Blog]
    …", "… | Site"), or close (TITLE_RATIO) with the same numbers ("Import AI 403" and
    "Import AI 500" are two issues of one newsletter)."""
    a, b = title_key(a), title_key(b)
    if not a or not b:
        return True  # an item without a title (named by its link or text) has nothing to contradict
    if f" {a} " in f" {b} " or f" {b} " in f" {a} ":
        return True
    return _DIGITS_RE.findall(a) == _DIGITS_RE.findall(b) and _ratio(a, b) >= TITLE_RATIO


def _ratio(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a.casefold(), b.casefold(), autojunk=False).ratio()


def _authors_json(record: Record) -> str:
    """As writer.py stores a list (compact JSON, UTF-8 kept)."""
    if not record.authors:
        return "[]"
    return json.dumps(record.authors, ensure_ascii=False, separators=(",", ":"))


def url_key_rows(rows: Iterable[tuple[int, str | None, str | None]]) -> list[tuple[str, int]]:
    """(url_key, entry_id) for stored posts given as (id, url, guid): the migration's backfill."""
    out: list[tuple[str, int]] = []
    for entry_id, url, guid in rows:
        keys = url_keys(Record(kind="post", title="", url=url, guid=guid))
        out += [(k, entry_id) for k in keys]
    return out
