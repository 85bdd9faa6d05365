"""Why an entry has its score: each part of `papertrail.reading.rank`'s score in numbers
and words (`show --why`, the reading page's *why* lines), adding up to the stored score.

May import: as the reading package (see its docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from papertrail.config import Config, Ranking
from papertrail.reading import learn
from papertrail.reading.rank import (
    DECIMALS,
    _author_needles,
    _names,
    _recency,
    build_profile,
)
from papertrail.reading.similar import Neighbour, most_like
from papertrail.reading.words import normalize_name, phrase_query
from papertrail.store import feedback as fb
from papertrail.store import ranking as q

if TYPE_CHECKING:
    import sqlite_utils

# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Part:
    """One part of an entry's score: `raw` x `weight` = `contribution`, and why, in words."""

    name: str
    raw: float
    weight: float
    contribution: float
    why: str  # the reason in words, e.g. "mentioned by 3 sources (hn, reddit, arxiv-cs-lg)"

    @property
    def sentence(self) -> str:
        """The reason with what it adds, e.g. "mentioned by 3 sources (…) (+1.10)"."""
        return f"{self.why} ({self.contribution:+.2f})"


@dataclass(frozen=True)
class Explanation:
    entry_id: int
    title: str
    total: float  # the score as computed now, rounded like the stored one
    parts: tuple[Part, ...]
    hidden_by: str | None  # the block rule that hides it now, if any
    stored_score: float
    stored_hidden_by: str | None
    as_of: str | None  # the date recency is measured from (the newest first_seen)
    pushes: tuple[learn.Push, ...] = ()  # learned ranking: the words/authors that moved it
    most_like: tuple[Neighbour, ...] = ()  # the labelled entries it is most like
    learned_note: str = ""  # what the learned model was fitted on, or why there is none

    @property
    def stale(self) -> bool:
        """True when the stored score predates a change (feeds.yml, stars, a fetch)."""
        return (
            round(self.stored_score, DECIMALS) != self.total
            or self.stored_hidden_by != self.hidden_by
        )


def explain(db: sqlite_utils.Database, config: Config, entry_id: int) -> Explanation:
    """Why an entry has its score: each part in numbers and words. Raises KeyError
    when there is no such entry."""
    r = config.ranking
    learned = learn.current(db, r) if r.weights.similarity > 0 else None
    model = learned.model if learned is not None else None
    rows = list(q.entry_rows(db, [entry_id], _author_needles(config, model)))
    if not rows:
        raise KeyError(f"no entry with short id {entry_id} — `papertrail list` shows the ids")
    _, day, starred, stored_score, stored_hidden, authors_json = rows[0]
    ref_day = q.reference_day(db)
    names = _names(authors_json)
    pushes: tuple[learn.Push, ...] = ()
    if model is not None:
        similarity, pushes = _learned_part(db, r, model, entry_id, names)
    else:
        similarity = _similarity_part(db, r, entry_id)
    parts = (
        _mentions_part(db, r, entry_id),
        _authors_part(r, names),
        _keywords_part(db, r, entry_id),
        _recency_part(r, ref_day, day),
        similarity,
    )
    labelled = model.labelled if model is not None else _labelled(db)
    return Explanation(
        entry_id=entry_id,
        title=q.entry_title(db, entry_id) or "",
        total=round(sum(p.contribution for p in parts), DECIMALS),
        parts=parts,
        hidden_by=None if starred else _block_rule(db, r, entry_id, names),
        stored_score=stored_score,
        stored_hidden_by=stored_hidden,
        as_of=_date(ref_day) if ref_day is not None else None,
        pushes=pushes,
        most_like=tuple(most_like(db, entry_id, labelled)),
        learned_note=_learned_note(learned),
    )


def _labelled(db: sqlite_utils.Database) -> dict[int, str]:
    return {lab.entry_id: lab.kind for lab in fb.labels(db, read_limit=0)}


def _learned_note(learned: learn.Learned | None) -> str:
    if learned is None:
        return "The similarity part is switched off (ranking.weights.similarity: 0)."
    if learned.model is None:
        return f"Similarity uses the term profile of your stars: {learned.reason}."
    m = learned.model
    return (
        f"Similarity is learned from {m.describe()} entries and "
        f"{m.counts.get('sampled', 0):,} others sampled as likely not for you "
        f"(fitted {m.fitted_at[:16].replace('T', ' ')})."
    )


def _learned_part(
    db: sqlite_utils.Database,
    r: Ranking,
    model: learn.Model,
    entry_id: int,
    names: set[str],
) -> tuple[Part, tuple[learn.Push, ...]]:
    """The similarity part from the learned model: the kept words the entry matches in the
    index (as a rescore matches them) and its authors the model knows."""
    queries = model.queries()
    hits = set(q.matching_queries(db, [query for query, _ in queries], entry_id))
    terms = frozenset(
        t for t, (query, _) in zip(model.terms, queries, strict=True) if query in hits
    )
    feats = learn.Features(terms, frozenset(names))
    found = model.evidence(feats)
    raw = found.raw
    pushes = tuple(learn.pushes(model, feats))
    up = [p for p in pushes if p.weight > 0]
    down = [p for p in pushes if p.weight < 0]
    bits = []
    if up:
        bits.append("up by " + ", ".join(f"{p.what} ({p.weight:+.2f})" for p in up[:6]))
    if down:
        bits.append("down by " + ", ".join(f"{p.what} ({p.weight:+.2f})" for p in down[:6]))
    why = "learned from " + model.describe() + ": "
    why += "; ".join(bits) if bits else "has none of the words or authors it weighs"
    why += "; " + found.formula()
    return _part("similarity", raw, r.weights.similarity, why), pushes


def _mentions_part(db: sqlite_utils.Database, r: Ranking, entry_id: int) -> Part:
    sources = q.entry_source_names(db, entry_id)
    n = len(sources)
    listed = ", ".join(sources)
    if n > 1:
        why = f"surfaced or mentioned by {n} sources ({listed}); ln {n} = {math.log(n):.2f}"
    elif n == 1:
        why = f"from one source only ({listed})"
    else:
        why = "from no source (added by hand)"
    return _part("mentions", math.log(n) if n > 1 else 0.0, r.weights.mentions, why)


def _authors_part(r: Ranking, names: set[str]) -> Part:
    followed = [a for a in r.follow_authors if normalize_name(a) in names]
    followed = list({normalize_name(a): a for a in reversed(followed)}.values())[::-1]
    if followed:
        why = f"by followed author{'s' if len(followed) > 1 else ''} {', '.join(followed)}"
    elif r.follow_authors:
        why = "by none of the authors you follow"
    else:
        why = "no follow_authors in feeds.yml"
    return _part("authors", float(len(followed)), r.weights.authors, why)


def _keywords_part(db: sqlite_utils.Database, r: Ranking, entry_id: int) -> Part:
    hits = set(q.matching_queries(db, [phrase_query(p) for p, _ in r.boost], entry_id))
    matched = [(p, b) for p, b in r.boost if phrase_query(p) in hits]
    if matched:
        why = "matches boosted " + ", ".join(f"'{p}' ({b:+g})" for p, b in matched)
    elif r.boost:
        why = "matches none of the boosted keywords"
    else:
        why = "no boost keywords in feeds.yml"
    return _part("keywords", sum(b for _, b in matched), r.weights.keywords, why)


def _recency_part(r: Ranking, ref_day: float | None, day: float | None) -> Part:
    raw = _recency(ref_day, day, r.recency_half_life_days)
    if ref_day is not None and day is not None:
        age = max(ref_day - day, 0.0)
        why = (
            f"dated {_date(day)}, {age:.1f} days before the newest entry; "
            f"0.5^({age:.1f}/{r.recency_half_life_days:g}) = {raw:.2f}"
        )
    else:
        why = "no date"
    return _part("recency", raw, r.weights.recency, why)


def _similarity_part(db: sqlite_utils.Database, r: Ranking, entry_id: int) -> Part:
    profile = build_profile(db, r)
    stems = list(profile.weights)
    hits = set(q.matching_queries(db, [query for query, _ in profile.queries()], entry_id))
    shared = [
        stem for stem, (query, _) in zip(stems, profile.queries(), strict=True) if query in hits
    ]
    raw = sum(profile.weights[stem] for stem in shared)
    basis = f"your {profile.starred} starred" + (
        f" and {profile.read} read" if profile.read else ""
    )
    basis += " entry" if profile.starred + profile.read == 1 else " entries"
    if not profile.weights:
        why = (
            "nothing starred yet"
            if not (profile.starred or profile.read)
            else f"{basis} share no distinctive terms yet"
        )
    elif shared:
        words = [profile.words[stem] for stem in shared]
        shown = ", ".join(words[:8]) + (", …" if len(words) > 8 else "")
        why = (
            f"shares {len(shared)} of the {len(stems)} terms typical of {basis} "
            f"({shown}), {raw:.0%} of their weight"
        )
    else:
        why = f"shares none of the {len(stems)} terms typical of {basis}"
    return _part("similarity", raw, r.weights.similarity, why)


def _block_rule(
    db: sqlite_utils.Database, r: Ranking, entry_id: int, names: set[str]
) -> str | None:
    """The block rule in feeds.yml that hides the entry now, if any (keywords first)."""
    block_hits = set(q.matching_queries(db, [phrase_query(p) for p in r.block.keywords], entry_id))
    keyword = next(
        (f"keyword: {p}" for p in r.block.keywords if phrase_query(p) in block_hits), None
    )
    if keyword is not None:
        return keyword
    return next((f"author: {a}" for a in r.block.authors if normalize_name(a) in names), None)


def _part(name: str, raw: float, weight: float, why: str) -> Part:
    return Part(name, raw, weight, weight * raw, why)


def _date(julian_day: float) -> str:
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(days=julian_day - 2440587.5)
    return f"{moment:%Y-%m-%d}"


def render_explanation(expl: Explanation) -> str:
    """The explanation for the terminal: one line per part, then the total."""
    title = " ".join(expl.title.split())
    lines = [f"#{expl.entry_id} {title}", ""]
    lines.append(f"  {'part':<11}{'value':>7}  {'weight':>6}  {'adds':>6}  why")
    for p in expl.parts:
        lines.append(
            f"  {p.name:<11}{p.raw:>7.3f}  {p.weight:>6g}  {p.contribution:>+6.2f}  {p.why}"
        )
    lines.append(f"  {'score':<11}{'':>7}  {'':>6}  {expl.total:>6.2f}")
    notes = []
    if expl.as_of:
        notes.append(f"Recency counts from {expl.as_of}, when the newest entry was first seen.")
    if expl.hidden_by:
        notes.append(f"Hidden from the digest by the block rule '{expl.hidden_by}' in feeds.yml.")
    if expl.stale:
        notes.append(
            f"The stored score ({expl.stored_score:.2f}"
            + (f", hidden by '{expl.stored_hidden_by}'" if expl.stored_hidden_by else "")
            + ") predates a change to feeds.yml, your stars or the list; "
            "`papertrail rank` brings it up to date."
        )
    if expl.pushes:
        lines += ["", "  Words and authors that moved it (learned weights):"]
        lines += [
            f"    {p.weight:>+6.2f}  {p.what}" + (" (author)" if p.kind == "author" else "")
            for p in expl.pushes[:12]
        ]
    if expl.most_like:
        lines += ["", "  Most like what you labelled:"]
        lines += [f"    #{nb.entry_id} ({nb.label}) {nb.title} — {nb.why}" for nb in expl.most_like]
    if expl.learned_note:
        notes.append(expl.learned_note)
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"
