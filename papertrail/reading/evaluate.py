"""`papertrail rank --evaluate`: how good the ranking is for you, measured on your own feedback.

Your labels are split by time: the ones given before a cutoff train each method,
the ones given after it are what the methods must find. The cutoff is `--before
DATE`, else the moment 70 % of your stars, tags and dismissals had been given.
The candidates are the entries labelled after the cutoff (starred or tagged:
relevant; dismissed: not) and up to `SAMPLE` entries you never labelled (taken as
not relevant: most are not, a few would have been: every method pays that alike).
Each method orders the candidates and is scored on the relevant ones:

- nDCG@10: gain 1 per relevant entry, discounted by log2(rank + 1), over the best possible;
- P@10: the share of the first ten that are relevant;
- R@50: the share of the relevant entries among the first fifty.

Methods: the learned model (papertrail.reading.learn, fitted on the training labels
only), the old term profile of the training stars (papertrail.reading.rank), recency
alone (newest first) and a random order (seeded: the same every run).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from papertrail.config import Ranking
from papertrail.reading import learn
from papertrail.reading.rank import profile_from
from papertrail.store import feedback as fb

if TYPE_CHECKING:
    import sqlite_utils

SAMPLE = 1000
TRAIN_SHARE = 0.7
STRONG = ("starred", "tagged", "dismissed")
RELEVANT = ("starred", "tagged")


def ndcg_at(ranked: Sequence[int], relevant: set[int], k: int = 10) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, x in enumerate(ranked[:k]) if x in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def precision_at(ranked: Sequence[int], relevant: set[int], k: int = 10) -> float:
    return sum(1 for x in ranked[:k] if x in relevant) / k


def recall_at(ranked: Sequence[int], relevant: set[int], k: int = 50) -> float:
    return sum(1 for x in ranked[:k] if x in relevant) / len(relevant) if relevant else 0.0


@dataclass(frozen=True)
class MethodScore:
    name: str
    ndcg10: float
    p10: float
    r50: float


@dataclass
class Evaluation:
    cutoff: str | None
    train: dict[str, int] = field(default_factory=dict)  # label kind -> how many
    test: dict[str, int] = field(default_factory=dict)
    candidates: int = 0
    methods: list[MethodScore] = field(default_factory=list)
    note: str = ""  # why nothing could be measured, if so

    def render(self) -> str:
        return render(self)


def _order(scores: dict[int, float]) -> list[int]:
    return sorted(scores, key=lambda i: (-scores[i], i))


def _score(name: str, order: list[int], relevant: set[int]) -> MethodScore:
    return MethodScore(
        name,
        round(ndcg_at(order, relevant), 3),
        round(precision_at(order, relevant), 3),
        round(recall_at(order, relevant), 3),
    )


def split(labels: Sequence[fb.Label], before: str | None) -> tuple[str | None, list, list]:
    """(cutoff, training labels, test labels): test labels are the strong ones at or after it."""
    strong = [lab for lab in labels if lab.kind in STRONG]
    if before is not None:
        train = [lab for lab in labels if lab.at < before]
        return before, train, [lab for lab in strong if lab.at >= before]
    if len(strong) < 2:
        return None, list(labels), []
    # Labels in time order (equal times: by entry id); the first 70 % of the strong ones
    # and every read before the first test label train.
    first = strong[max(1, min(int(len(strong) * TRAIN_SHARE), len(strong) - 1))]
    key = (first.at, first.entry_id)
    train = [lab for lab in labels if (lab.at, lab.entry_id) < key]
    return first.at, train, [lab for lab in strong if (lab.at, lab.entry_id) >= key]


def evaluate(
    db: sqlite_utils.Database, ranking: Ranking, *, before: str | None = None, seed: int = 0
) -> Evaluation:
    """Train on the labels before the cutoff, rank what came after; see the module doc."""
    read_limit = learn.READ_LIMIT if ranking.read_weight > 0 else 0
    labels = fb.labels(db, read_limit=read_limit)
    cutoff, train, test = split(labels, before)
    out = Evaluation(
        cutoff, dict(Counter(x.kind for x in train)), dict(Counter(x.kind for x in test))
    )
    relevant = {x.entry_id for x in test if x.kind in RELEVANT}
    reason = learn.not_enough(out.train)
    if reason or not relevant:
        out.note = reason or (
            "no star or tag of yours is newer than the cutoff: nothing to find. "
            "Star or tag more entries, or pass an earlier --before DATE"
        )
        return out
    labelled = {x.entry_id for x in labels}
    others = fb.sample_ids(db, SAMPLE, labelled, seed)
    candidates = [*{x.entry_id for x in test}, *others]
    docs = fb.docs(db, candidates)
    feats = learn.features(db, list(docs.values()))
    out.candidates = len(docs)
    methods: dict[str, Callable[[], dict[int, float]]] = {
        "learned": lambda: _learned(db, ranking, train, feats, {x.entry_id for x in test}),
        "term profile": lambda: _profile(db, ranking, train, feats),
        "recency": lambda: {i: d.day or 0.0 for i, d in docs.items()},
        "random": lambda: _random(list(docs), seed),
    }
    out.methods = [_score(name, _order(fn()), relevant) for name, fn in methods.items()]
    return out


def _learned(
    db: sqlite_utils.Database,
    ranking: Ranking,
    train: list[fb.Label],
    feats: dict[int, learn.Features],
    test_ids: set[int],
) -> dict[int, float]:
    model = learn.fit(db, train, ranking, exclude=test_ids)
    return {i: model.similarity(f) for i, f in feats.items()}


def _profile(
    db: sqlite_utils.Database,
    ranking: Ranking,
    train: list[fb.Label],
    feats: dict[int, learn.Features],
) -> dict[int, float]:
    texts = fb.docs(db, [x.entry_id for x in train if x.kind != "dismissed"])
    starred = [
        (x.entry_id, texts[x.entry_id].text)
        for x in train
        if x.kind in RELEVANT and x.entry_id in texts
    ]
    read = [
        (x.entry_id, texts[x.entry_id].text)
        for x in train
        if x.kind == "read" and x.entry_id in texts
    ]
    profile = profile_from(db, ranking, starred, read)
    return {i: sum(profile.weights.get(t, 0.0) for t in f.terms) for i, f in feats.items()}


def _random(ids: list[int], seed: int) -> dict[int, float]:
    rng = random.Random(seed)
    return {i: rng.random() for i in ids}


def render(ev: Evaluation) -> str:
    """The table `rank --evaluate` prints (also `Evaluation.render()`)."""

    def counts(c: dict[str, int]) -> str:
        return ", ".join(f"{n} {k}" for k, n in sorted(c.items())) or "none"

    lines = [
        f"Cutoff: {ev.cutoff or '—'} (labels before it train, labels after it are to be found)",
        f"Training labels: {counts(ev.train)}",
        f"Test labels:     {counts(ev.test)}; candidates ranked: {ev.candidates:,} "
        f"(the test labels and entries you never labelled)",
    ]
    if ev.note:
        return "\n".join([*lines, "", f"Nothing measured: {ev.note}."]) + "\n"
    lines += ["", f"  {'method':<14}{'nDCG@10':>9}{'P@10':>8}{'R@50':>8}"]
    lines += [f"  {m.name:<14}{m.ndcg10:>9.3f}{m.p10:>8.3f}{m.r50:>8.3f}" for m in ev.methods]
    return "\n".join(lines) + "\n"
