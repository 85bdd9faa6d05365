"""Entries like one entry (`papertrail similar`), and the labelled entries an entry is
most like (`show --why`).

Likeness is the summed rarity (idf, ln N/df over the whole reading list) of the
words two entries share, as the full-text index stores them (porter stems, stop
words left out): sharing "stylization" says more than sharing "network".

`similar` walks the index: it takes the entry's `QUERY_TERMS` most distinctive
words (those in at most `MAX_SHARE` of the list), and for each the newest
`MAX_POSTINGS` entries containing it, adding the word's idf to each; a word in
many entries is never walked at all. So its cost depends on how rare the words
are, not on the size of the list.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from papertrail.reading import learn
from papertrail.reading.words import content_words, normalize_name, phrase_query
from papertrail.store import feedback as fb
from papertrail.store import ranking as q

if TYPE_CHECKING:
    import sqlite_utils

QUERY_TERMS = 25
MAX_SHARE = 0.02  # words in more than 2 % of the entries are not walked
MAX_POSTINGS = 3000  # newest entries read per word
SHOWN_WORDS = 6


@dataclass(frozen=True)
class Neighbour:
    entry_id: int
    title: str
    score: float  # summed idf of the shared words (and authors)
    words: tuple[str, ...]  # shared words, most distinctive first
    authors: tuple[str, ...] = ()  # shared authors
    label: str | None = None  # starred / tagged / read / dismissed, for labelled entries

    @property
    def why(self) -> str:
        parts = []
        if self.words:
            parts.append("shares " + ", ".join(self.words[:SHOWN_WORDS]))
        if self.authors:
            parts.append("by " + ", ".join(self.authors))
        return "; ".join(parts) or "nothing distinctive in common"


@dataclass
class _Terms:
    idf: dict[str, float]  # index term -> idf (only distinctive ones)
    words: dict[str, str]  # index term -> word shown / queried


def _entry_terms(db: sqlite_utils.Database, doc: fb.Doc, max_share: float) -> _Terms:
    words = content_words(doc.text)
    stem_of = q.stems(db, sorted(words))
    surface: dict[str, str] = {}
    for w in sorted(words, key=lambda w: (len(w), w)):
        if w in stem_of:
            surface.setdefault(stem_of[w], w)
    n = max(q.count_all(db), 1)
    df = fb.term_frequencies(db, sorted(surface))
    idf = {
        t: math.log(n / d)
        for t, d in df.items()
        if d >= 2 and (n < 50 or d <= max(2.0, max_share * n))
    }
    return _Terms(idf, surface)


def similar(db: sqlite_utils.Database, entry_id: int, limit: int = 10) -> list[Neighbour]:
    """The entries most like `entry_id`, best first. Raises KeyError for no such entry."""
    docs = fb.docs(db, [entry_id])
    if entry_id not in docs:
        raise KeyError(f"no entry with short id {entry_id} — `papertrail list` shows the ids")
    terms = _entry_terms(db, docs[entry_id], MAX_SHARE)
    chosen = sorted(terms.idf, key=lambda t: (-terms.idf[t], t))[:QUERY_TERMS]
    scores: dict[int, float] = {}
    postings: dict[str, set[int]] = {}
    for term in chosen:
        found = fb.term_postings(db, phrase_query(terms.words[term]), MAX_POSTINGS)
        postings[term] = set(found)
        weight = terms.idf[term]
        for other in found:
            scores[other] = scores.get(other, 0.0) + weight
    scores.pop(entry_id, None)
    best = sorted(scores, key=lambda i: (-scores[i], -i))[: max(limit, 0)]
    others = fb.docs(db, best)
    mine = {normalize_name(a): a for a in docs[entry_id].authors}
    out = []
    for other in best:
        shared = [terms.words[t] for t in chosen if other in postings[t]]
        doc = others.get(other)
        authors = [mine[n] for n in mine if doc and n in {normalize_name(a) for a in doc.authors}]
        out.append(
            Neighbour(
                other, _title(db, other), round(scores[other], 3), tuple(shared), tuple(authors)
            )
        )
    return out


def _title(db: sqlite_utils.Database, entry_id: int) -> str:
    return " ".join((q.entry_title(db, entry_id) or "").split())


def most_like(
    db: sqlite_utils.Database, entry_id: int, labelled: dict[int, str], n: int = 3
) -> list[Neighbour]:
    """The labelled entries (id -> label) most like `entry_id`: shared distinctive words
    and authors (an author counts like the rarest word)."""
    others = [i for i in labelled if i != entry_id]
    docs = fb.docs(db, [entry_id, *others])
    if entry_id not in docs or not others:
        return []
    terms = _entry_terms(db, docs[entry_id], 1.0)
    feats = learn.features(db, list(docs.values()))
    mine = feats[entry_id]
    author_weight = max(terms.idf.values(), default=1.0)
    ranked: list[Neighbour] = []
    for other in others:
        if other not in feats:
            continue
        shared = sorted(
            mine.terms & feats[other].terms & terms.idf.keys(), key=lambda t: -terms.idf[t]
        )
        authors = sorted(mine.names & feats[other].names)
        score = sum(terms.idf[t] for t in shared) + author_weight * len(authors)
        if score <= 0:
            continue
        names = [a for a in docs[other].authors if normalize_name(a) in authors]
        ranked.append(
            Neighbour(
                other,
                _title(db, other),
                round(score, 3),
                tuple(terms.words[t] for t in shared),
                tuple(names),
                labelled[other],
            )
        )
    ranked.sort(key=lambda nb: (-nb.score, nb.entry_id))
    return ranked[:n]


def render(entry_id: int, title: str, found: Sequence[Neighbour]) -> str:
    """`papertrail similar` for the terminal."""
    lines = [f"Like #{entry_id} {title}:", ""]
    if not found:
        lines.append("  nothing in the reading list shares its distinctive words")
    for nb in found:
        lines.append(f"  #{nb.entry_id:<7} {nb.score:>6.2f}  {nb.title}")
        lines.append(f"  {'':<8} {'':>6}  {nb.why}")
    return "\n".join(lines) + "\n"
