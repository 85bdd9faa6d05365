"""The ranking score: a weighted sum of parts you can read off one by one.

Each entry's score is

    score = w_mentions   * ln(distinct sources that surfaced or mentioned it)
          + w_authors    * (number of followed authors among its authors)
          + w_keywords   * (sum of the `boost` weights of the keywords it matches)
          + w_recency    * 0.5 ** (age in days / recency_half_life_days)
          + w_similarity * (share of "what you starred" it contains)

with the weights and rules from the `ranking:` section of feeds.yml
(`papertrail.config.Ranking`). `papertrail show --why ID` prints the parts
(`papertrail.reading.explain`); they add up to the stored score.

Decisions:

- **Mentions** count distinct sources, whether a source listed the entry or a
  post from it linked the paper; `ln` so the second source matters most
  (1 source: 0, 2: 0.69, 3: 1.10, 10: 2.30). papertrail's own provenance names
  (`manual`, `mentioned`) are not sources.
- **Recency** is measured from the newest entry's `first_seen` (the last
  fetch), not the clock, so a stored score depends only on what is stored:
  recomputing it tomorrow gives the same number until the next fetch.
- **Similarity** ("like what you starred") is a term profile, not a model to
  train: the 40 stemmed terms that best characterise the starred entries
  (share of starred entries containing the term x idf over the whole list,
  leaving out stop words and terms in more than a tenth of all entries) each
  get a weight; an entry's similarity is the summed weight of the profile terms
  in its title or summary, so 0 (none) to 1 (all of them). Matching goes
  through the FTS5 index (one indexed query per term), which keeps a 200,000
  entry rescore fast, and the explanation can name the shared terms.
  Read entries count too, as a group weighted `read_weight` (default 0.25)
  next to the starred group: reading something is a weaker sign than starring
  it, and the groups are averaged separately so marking hundreds of entries read
  cannot drown a handful of stars.
- **Block rules** set `entries.hidden_by` ("keyword: crypto", "author: Jane
  Doe"); the entry stays in the reading list and the digest leaves it out.
  A starred entry is never hidden: starring it said more than a rule.
- Keywords (boosts and blocks) are words or phrases matched through the
  full-text index, ignoring case, accents and word endings (porter stemming);
  a final `*` matches word beginnings. Author names match whole names,
  ignoring case, accents and punctuation.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from papertrail.config import Config, Ranking
from papertrail.models import Entry
from papertrail.reading import learn, rankcache
from papertrail.reading.words import WORD, content_words, normalize_name, phrase_query
from papertrail.store import ranking as q
from papertrail.store.schema import max_entry_id

if TYPE_CHECKING:
    import numpy as np
    import sqlite_utils

PARTS = ("mentions", "authors", "keywords", "recency", "similarity")
PROFILE_TERMS = 40  # terms kept to describe what the reader starred
PROFILE_CANDIDATES = 400  # the terms most shared by the starred entries, weighed by rarity
READ_LIMIT = 500  # the most recently read entries considered
COMMON_SHARE = 0.1  # terms in more than this share of all entries say little...
COMMON_MIN_ENTRIES = 50  # ...once there are at least this many entries
LARGE_LIST = 300_000  # above this many entries routine rescoring covers recent ones only
RECENT_DAYS = 60  # ... those dated within this many days of the newest (8.6 half-lives)
DECIMALS = 3  # scores are stored rounded, so a rescore rewrites only rows that changed
# Profile weights are multiples of 2**-20: their sums are exact in any order, so the
# similarity summed by SQLite equals the one `explain` adds up term by term.
_QUANTUM = 2.0**20

_WORD = WORD


@dataclass
class Profile:
    """What the reader's starred (and read) entries have in common."""

    weights: dict[str, float] = field(default_factory=dict)  # stem -> weight, summing to ~1
    words: dict[str, str] = field(default_factory=dict)  # stem -> the word shown and queried
    starred: int = 0
    read: int = 0

    def queries(self) -> list[tuple[str, float]]:
        return [(phrase_query(self.words[stem]), w) for stem, w in self.weights.items()]


# ---------------------------------------------------------------- text helpers


def _needle(name: str) -> str:
    """The longest word of a name, for a LIKE prefilter (ASCII words preferred:
    SQLite's LIKE ignores case for ASCII only)."""
    words = sorted(_WORD.findall(name), key=len, reverse=True)
    ascii_words = [w for w in words if w.isascii()]
    return (ascii_words or words or [name])[0]


_words = content_words


# ---------------------------------------------------------------- the profile


def build_profile(db: sqlite_utils.Database, ranking: Ranking) -> Profile:
    """The starred (and read) entries' characteristic terms and their weights."""
    read_limit = READ_LIMIT if ranking.read_weight > 0 else 0
    starred, read = q.positive_texts(db, read_limit)
    return profile_from(db, ranking, starred, read)


def profile_from(
    db: sqlite_utils.Database,
    ranking: Ranking,
    starred: Sequence[tuple[int, str]],
    read: Sequence[tuple[int, str]],
) -> Profile:
    """The term profile of the given starred and read entries, as (id, title + summary)."""
    profile = Profile(starred=len(starred), read=len(read))
    groups = [
        ([_words(text) for _, text in docs], weight)
        for docs, weight in ((starred, 1.0), (read, ranking.read_weight))
        if docs and weight > 0
    ]
    if not groups:
        return profile
    word_counts: Counter[str] = Counter()
    for docs, _ in groups:
        for words in docs:
            word_counts.update(words)
    vocabulary = sorted(word_counts)
    stem_of = q.stems(db, vocabulary)
    # share: the weighted mean, over the groups, of the fraction of a group's entries
    # containing the term; each group counts by its weight whatever its size.
    share: dict[str, float] = {}
    total_weight = sum(weight for _, weight in groups)
    for docs, weight in groups:
        counts: Counter[str] = Counter()
        for words in docs:
            counts.update({stem_of[w] for w in words if w in stem_of})
        for stem, n in counts.items():
            share[stem] = share.get(stem, 0.0) + weight * n / len(docs) / total_weight
    # The word shown for a stem (and queried: the index stems it back): its most frequent.
    surface: dict[str, str] = {}
    for word in sorted(vocabulary, key=lambda w: (-word_counts[w], len(w), w)):
        term = stem_of.get(word)
        if term is not None:
            surface.setdefault(term, word)
    candidates = sorted(share, key=lambda t: (-share[t], t))[:PROFILE_CANDIDATES]
    n_entries, df = q.document_frequencies(db, candidates)
    scored = []
    for stem in candidates:
        d = df.get(stem)
        if not d or (n_entries >= COMMON_MIN_ENTRIES and d > COMMON_SHARE * n_entries):
            continue
        scored.append((share[stem] * math.log(1 + n_entries / d), stem))
    scored.sort(key=lambda t: (-t[0], t[1]))
    top = scored[:PROFILE_TERMS]
    total = sum(s for s, _ in top)
    if total > 0:
        profile.weights = {stem: round(s / total * _QUANTUM) / _QUANTUM for s, stem in top}
        profile.words = {stem: surface[stem] for _, stem in top}
    return profile


# ---------------------------------------------------------------- scoring


@dataclass
class _Inputs:
    """What one (re)scoring reads once, before going through the entries."""

    ref_day: float | None
    profile: Profile
    sources: dict[int, int]  # entries with 2+ sources -> how many
    boosts: dict[int, float]  # entries matching boost keywords -> summed boost
    similarity: Mapping[int, float]  # term profile: raw similarity (learned model: empty)
    blocked: dict[int, str]  # entries matching a block keyword -> the rule
    learned: learn.Learned | None = None  # the learned model, or why there is none
    evidence: Mapping[int, learn.Evidence] = field(default_factory=dict)  # learned model

    @property
    def model(self) -> learn.Model | None:
        return self.learned.model if self.learned is not None else None


class _DenseEvidence(Mapping[int, learn.Evidence]):
    """The kept words' evidence per entry id, read from rankcache's dense arrays of the
    summed weights pushing up and pushing down."""

    def __init__(self, up: np.ndarray, down: np.ndarray) -> None:
        self._up, self._down = up, down
        self._n = min(len(up), len(down))

    def __getitem__(self, entry_id: int) -> learn.Evidence:
        if 0 <= entry_id < self._n:
            return learn.Evidence(float(self._up[entry_id]), float(self._down[entry_id]))
        raise KeyError(entry_id)

    def get(  # type: ignore[override]
        self, entry_id: int, default: learn.Evidence = learn.NO_EVIDENCE
    ) -> learn.Evidence:
        return self[entry_id] if 0 <= entry_id < self._n else default

    def __iter__(self) -> Iterator[int]:
        either = (self._up[: self._n] != 0) | (self._down[: self._n] != 0)
        return iter(int(i) for i in either.nonzero()[0])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _evidence(
    db: sqlite_utils.Database, model: learn.Model, ids: Sequence[int] | None
) -> Mapping[int, learn.Evidence]:
    """The model's evidence per entry: from the cached dense arrays when this process
    keeps them (or scores everything), else one bounded index query per word."""
    up, down = model.queries(+1), model.queries(-1)
    dense = ids is None or (rankcache.has_sums(db, up) and rankcache.has_sums(db, down))
    # A dense array of a list of millions costs more than the window's bounded queries.
    if dense or (max_entry_id(db) <= LARGE_LIST and rankcache.warm(db)):
        return _DenseEvidence(rankcache.term_sums(db, up), rankcache.term_sums(db, down))
    return learn.evidence(db, model, ids)


def warm(db: sqlite_utils.Database, config: Config) -> None:
    """A server, when a refit landed in its worker process: read the stored model back
    and compute here what its pages' scores need of it (the kept words' dense sums, as
    `_evidence` would at the next view), so no page pays for it. Never fits here."""
    if config.ranking.weights.similarity <= 0 or max_entry_id(db) > LARGE_LIST:
        return
    model = learn.stored(db, config.ranking)  # (labels changed meanwhile: None, no fit)
    if model is not None:  # what `_evidence` reads, stepping aside for pages
        for sign in (+1, -1):
            rankcache.term_sums(db, model.queries(sign), background=True)


def _gather(
    db: sqlite_utils.Database, config: Config, ids: Sequence[int] | None, *, reads: bool = False
) -> _Inputs:
    r = config.ranking
    w = r.weights
    rankcache.wait(rankcache.db_file(db), "fitted")  # a star's refit under way: its model
    learned = learn.current(db, r, reads=reads) if w.similarity > 0 else None
    evidence: Mapping[int, learn.Evidence] = {}
    similarity: Mapping[int, float] = {}
    if learned is not None and learned.model is not None:
        profile = Profile()
        evidence = _evidence(db, learned.model, ids)
    else:
        profile = build_profile(db, r) if w.similarity > 0 else Profile()
        similarity = dict(q.weighted_matches(db, profile.queries(), ids))
    inputs = gather_static(db, config, ids)
    inputs.profile, inputs.similarity, inputs.learned = profile, similarity, learned
    inputs.evidence = evidence
    return inputs


def gather_static(db: sqlite_utils.Database, config: Config, ids: Sequence[int] | None) -> _Inputs:
    """The inputs of every part of the score but similarity (they do not depend on what
    you star)."""
    r = config.ranking
    w = r.weights
    boosts: dict[int, float] = {}
    if w.keywords:
        for phrase, boost in r.boost:
            for entry_id in q.fts_matches(db, phrase_query(phrase), ids):
                boosts[entry_id] = boosts.get(entry_id, 0.0) + boost
    blocked: dict[int, str] = {}
    for phrase in r.block.keywords:
        for entry_id in q.fts_matches(db, phrase_query(phrase), ids):
            blocked.setdefault(entry_id, f"keyword: {phrase}")
    return _Inputs(
        ref_day=q.reference_day(db),
        profile=Profile(),
        sources=q.source_counts(db, ids) if w.mentions else {},
        boosts=boosts,
        similarity={},
        blocked=blocked,
    )


def _recency(ref_day: float | None, day: float | None, half_life: float) -> float:
    if ref_day is None or day is None:
        return 0.0
    return 0.5 ** (max(ref_day - day, 0.0) / half_life)


def _names(authors_json: str | None) -> set[str]:
    return {normalize_name(a) for a in json.loads(authors_json)} if authors_json else set()


def _author_needles(config: Config, model: learn.Model | None = None) -> list[str]:
    r = config.ranking
    learned = list(model.names.values()) if model is not None else []
    return [_needle(n) for n in (*r.follow_authors, *r.block.authors, *learned)]


Row = tuple[int, float, "str | None", float, "str | None"]  # id, score, hidden_by, stored ones
_RowIn = tuple[int, "float | None", bool, float, "str | None", "str | None"]


# id, base (every part but similarity, added in explain's order), the block rule that
# hides it (starred or not), starred, stored score, stored hidden_by, its author names
# (None unless an author needle matched)
Parts = tuple[int, float, "str | None", bool, float, "str | None", "set[str] | None"]


def _parts_rows(config: Config, inputs: _Inputs, rows: Iterable[_RowIn]) -> Iterator[Parts]:
    """Every part of the score but similarity, per row of `q.entry_rows`."""
    r = config.ranking
    w = r.weights
    follow = {normalize_name(n) for n in r.follow_authors}
    block_authors = {normalize_name(n): n for n in r.block.authors}
    ref, half_life, w_rec, blocked = (
        inputs.ref_day,
        r.recency_half_life_days,
        w.recency,
        inputs.blocked,
    )
    sources, boosts = inputs.sources.get, inputs.boosts.get
    for entry_id, day, starred, old_score, old_hidden, authors_json in rows:
        authors = 0.0
        hidden = blocked.get(entry_id)
        names = None
        if authors_json is not None:
            names = _names(authors_json)
            authors = w.authors * len(follow & names)
            if hidden is None:
                hidden = next(
                    (f"author: {n}" for k, n in block_authors.items() if k in names), None
                )
        n = sources(entry_id)
        # `_recency` inlined (this loop runs once per entry).
        recency = 0.0 if ref is None or day is None else 0.5 ** (max(ref - day, 0.0) / half_life)
        # The order of addition `explain` uses, so its parts add up to the stored score.
        base = (
            0.0
            + (w.mentions * math.log(n) if n else 0.0)
            + authors
            + w.keywords * boosts(entry_id, 0.0)
            + w_rec * recency
        )
        yield (entry_id, base, hidden, starred, old_score, old_hidden, names)


def _score_rows(config: Config, inputs: _Inputs, rows: Iterable[_RowIn]) -> Iterator[Row]:
    """(id, score, hidden_by, stored score, stored hidden_by) per row of `q.entry_rows`."""
    model = inputs.model
    w_sim = config.ranking.weights.similarity
    profile, found = inputs.similarity.get, inputs.evidence.get
    no_evidence = learn.NO_EVIDENCE
    for entry_id, base, hidden, starred, old_score, old_hidden, names in _parts_rows(
        config, inputs, rows
    ):
        if model is None:
            sim = w_sim * profile(entry_id, 0.0)
        else:  # the words' evidence, and the learned authors' -> the similarity
            e = found(entry_id, no_evidence)
            if names is not None and not names.isdisjoint(model.authors):
                e = e.plus(model.author_evidence(names))
            sim = w_sim * e.raw
        score = round(base + sim, DECIMALS)
        yield (entry_id, score, None if starred else hidden, old_score, old_hidden)


def _scores(
    db: sqlite_utils.Database, config: Config, ids: Sequence[int] | None
) -> tuple[list[Row], _Inputs]:
    """(id, score, hidden_by, stored score, stored hidden_by) for `ids` (None: all),
    and the inputs they were computed from."""
    inputs = _gather(db, config, ids)
    rows = q.entry_rows(db, ids, _author_needles(config, inputs.model))
    return list(_score_rows(config, inputs, rows)), inputs


# ---------------------------------------------------------------- public API

_STREAM = 50_000  # ids per pass of a whole-list rescore: memory stays flat at any size


def rescore(db: sqlite_utils.Database, config: Config, ids: Sequence[int] | None = None) -> int:
    """Recompute the score and block state of every entry (or just `ids`) and store
    the ones that changed. Returns how many entries were scored."""
    if ids is None:
        claim(db)
    scored = _rescore(db, config, ids)[0]
    if ids is None:
        mark_fresh(db, config)
    return scored


def _rescore(
    db: sqlite_utils.Database,
    config: Config,
    ids: Sequence[int] | None = None,
    *,
    reads: bool = False,
) -> tuple[int, _Inputs]:
    """Score `ids` (None: every entry, streamed `_STREAM` ids at a time so a list of
    millions never sits in memory) and write the scores that moved."""
    ids = list(ids) if ids is not None else None
    inputs = _gather(db, config, ids, reads=reads)
    needles = _author_needles(config, inputs.model)
    if ids is not None:
        parts: Iterable[Iterable[_RowIn]] = [q.entry_rows(db, ids, needles)]
    else:
        top = max_entry_id(db)
        parts = (
            q.entry_rows(db, None, needles, between=(lo, lo + _STREAM - 1))
            for lo in range(0, top + 1, _STREAM)
        )
    scored = 0
    for rows in parts:
        changed = []
        for entry_id, score, hidden, old_score, old_hidden in _score_rows(config, inputs, rows):
            scored += 1
            if score != old_score or hidden != old_hidden:
                changed.append((score, hidden, entry_id))
        if changed:
            q.write_scores(db, changed)
    return scored, inputs


def rescore_recent(db: sqlite_utils.Database, config: Config) -> int:
    """The routine rescore after a fetch, an import or feedback (the model refits when
    any label changed since it was fitted, reads included).

    A reading list of up to `LARGE_LIST` entries is rescored whole (about a
    second). A larger one (the whole of arXiv imported) would take tens of
    seconds, so there only the entries dated within `RECENT_DAYS` of the
    newest one, and the starred ones, are rescored: older entries' recency is
    below 0.3 % of its weight, and `papertrail rank` rescores everything."""
    claim(db)
    scored = _rescore(db, config, recent_scope(db), reads=True)[0]
    mark_fresh(db, config)
    return scored


def recent_scope(db: sqlite_utils.Database) -> list[int] | None:
    """What a routine rescore covers: None (everything) or the recent ids of a large list."""
    return None if max_entry_id(db) <= LARGE_LIST else q.recent_ids(db, RECENT_DAYS)


def scores_key(config: Config, model: learn.Model | None) -> str:
    """What the stored scores were computed with: the ranking rules and the learned
    model ('' when the term profile scored: no fast path then)."""
    if model is None:
        return ""
    data = json.dumps([model.terms, model.words, model.authors], sort_keys=True)
    return f"{hash_text(data)}:{hash_text(repr(config.ranking))}"


def hash_text(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def mark_fresh(db: sqlite_utils.Database, config: Config) -> None:
    """Record that the stored scores are exact for the current model (after a rescore of
    the routine scope or more)."""
    learned = learn.current(db, config.ranking) if config.ranking.weights.similarity > 0 else None
    model = learned.model if learned is not None else None
    q.set_state(db, {"scores_key": scores_key(config, model), "exact_above": None, "pending": None})


def claim(db: sqlite_utils.Database) -> None:
    """Before a rescore of the routine scope or more: a background writer still at work
    for an older label set (papertrail.reading.refresh) stops writing."""
    q.set_state(db, {"pending": uuid.uuid4().hex})


def live_scores(
    db: sqlite_utils.Database, config: Config, ids: Sequence[int]
) -> dict[int, tuple[float, str | None]]:
    """id -> (score, hidden_by) computed now from feeds.yml, without storing anything
    (the digest uses this, so an edited `ranking:` applies at once)."""
    if not ids:
        return {}
    rows, _ = _scores(db, config, ids)
    return {entry_id: (score, hidden) for entry_id, score, hidden, _, _ in rows}


def rank_digest_entries(
    db: sqlite_utils.Database, config: Config, entries: list[Entry]
) -> tuple[list[Entry], int]:
    """The digest's entries best first (newest first among equals), each with its
    `score`, leaving out the ones a block rule hides (and how many those were) and
    the ones you dismissed (an entry is a paper, whatever its version or source)."""
    entries = [e for e in entries if not e.get("dismissed")]
    scores = live_scores(db, config, [e["id"] for e in entries if e.get("id") is not None])
    visible = []
    for entry in entries:
        score, hidden = scores.get(entry.get("id"), (0.0, None))
        if hidden:
            continue
        entry["score"] = score
        visible.append(entry)
    visible.sort(key=lambda e: e.get("id") or 0, reverse=True)
    visible.sort(key=lambda e: e.get("published") or e.get("first_seen") or "", reverse=True)
    visible.sort(key=lambda e: -e["score"])
    return visible, len(entries) - len(visible)


@dataclass(frozen=True)
class RankReport:
    scored: int
    hidden: int
    starred: int
    read: int
    profile_terms: int
    seconds: float
    learned: str = ""  # "3 starred, 2 dismissed" when the learned model scored
    learned_terms: int = 0
    fallback: str = ""  # why there is no learned model yet

    def summary(self) -> str:
        text = f"Scored {self.scored:,} entries in {self.seconds:.2f} s; "
        text += f"{self.hidden:,} hidden by block rules; "
        if self.learned:
            text += (
                f"similarity learned from {self.learned} entries "
                f"({self.learned_terms} words and authors weigh in)."
            )
        elif self.profile_terms:
            read = f" and {self.read:,} read" if self.read else ""
            text += f"similarity from {self.starred:,} starred{read} entries ({self.profile_terms} terms)."
        else:
            text += "star entries to lift similar ones."
        if self.fallback:
            text += f"\nNo learned ranking yet: {self.fallback}; the term profile stands in."
        return text


def rank_all(db: sqlite_utils.Database, config: Config) -> RankReport:
    """Rescore everything and say what came of it (`papertrail rank`)."""
    start = time.perf_counter()
    if config.ranking.weights.similarity > 0:
        learn.current(db, config.ranking, refit=True)  # `papertrail rank` always refits
    claim(db)
    scored, inputs = _rescore(db, config)
    mark_fresh(db, config)
    seconds = time.perf_counter() - start
    model, learned = inputs.model, inputs.learned
    return RankReport(
        scored=scored,
        hidden=q.ranking_counts(db)["hidden"],
        starred=inputs.profile.starred,
        read=inputs.profile.read,
        profile_terms=len(inputs.profile.weights),
        seconds=seconds,
        learned=model.describe() if model is not None else "",
        learned_terms=len(model.terms) + len(model.authors) if model is not None else 0,
        fallback=learned.reason if learned is not None else "",
    )
