"""The learned part of the ranking: a linear classifier fitted on what you star and dismiss.

What it learns from (`papertrail.store.feedback.labels`):

- positives: starred entries and entries you tagged yourself (weight 1), the 500
  most recently read ones (weight `ranking.read_weight`, 0.25 by default: reading
  is a weaker sign than starring);
- negatives: dismissed entries (weight 1) and a random sample of up to 1,000 other
  entries (as a group they weigh as much as the positives, each at most 0.1: most
  of what arrives is not for you, but nobody said so for any one of them).

Features are the words of the title and abstract as the full-text index stores
them (porter stems, stop words and numbers left out), each worth its idf when
present (rarity estimated from the sample; words in more than a tenth of the list
left out, like arxiv-sanity's max_df 0.1), and the authors (whole names, ignoring
case and accents); an entry's values are divided by its `norm` (the square root of
its number of distinct words over REF_TERMS: tf-idf's length normalisation). The
classifier is scikit-learn's `LogisticRegression` (L2, lbfgs, C 1), fitted here, on
your machine, with no pretrained weights; its coefficients are then half smoothed
through a LATENT-dimension latent space of the fitted entries (a truncated SVD, as
in LSA), which gives the words that keep company with what you star weight of their
own, even where none of your starred entries has them: what lets 3 stars find the
rest of their field. Of what it learns, the words of the fitted entries (yours and
the sample) with the largest weights, up or down, are kept while the entries
containing them add up to at most `POSTINGS` (at most `MODEL_TERMS` words), and the
`MODEL_AUTHORS` strongest authors; they are stored in the `ranking_models` table
(weight = coefficient x idf). An entry's similarity is

    up   = sum of the positive weights of the kept words and authors it has
    down = sum of the negative ones, as a positive amount
    raw  = (up - down) / (up + down + EVIDENCE_FLOOR)

from -1 (like what you dismiss) to +1 (like what you star), near 0 with little evidence
either way. With EVIDENCE_FLOOR 3 (it was 1) the floor weighs more next to a typical
entry's up + down (about 2 at 200,000 entries), so the order moves towards that of the plain
sum up - down (the fit's length normalisation does the rest), and only entries with much
evidence are damped towards +-1. Nearer the plain sum ranked
better than the ratio with 1 on the development trials at 20 labels (docs/BENCHMARKS.md,
"Issue 17 Q"). Summing per-word weights is exactly what the FTS5 index answers with one
indexed query per word (two sums: the up words, the down words), so a rescore reads a
bounded number of postings, and `show --why` lists each word's push and the two sums.
(No bigrams, unlike arxiv-sanity's tf-idf: they ranked worse on the development trials.)
docs/BENCHMARKS.md ("Issue 17: ranking quality, second pass", and "Issue 17 Q") measures
what each choice brought.

Fewer than `MIN_POSITIVES` positives or `MIN_LABELS` labels: no model; the ranking
falls back to the term profile (papertrail.reading.rank.build_profile) and says so.

A fitted model is kept until the labels change (its `fingerprint`): a fetch reuses
it, a star or a dismissal refits it (about a second at 200,000 entries), `papertrail rank`
always refits. Each of your own tags with `TAG_MIN_ENTRIES` entries or more gets
its own profile (profile name: the tag), like arxiv-sanity's per-tag SVMs.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from papertrail.config import Ranking
from papertrail.reading import fitcache, rankcache
from papertrail.reading.words import content_words, normalize_name, phrase_query
from papertrail.store import feedback as fb
from papertrail.store import ranking as q
from papertrail.store.schema import max_entry_id

if TYPE_CHECKING:
    import sqlite_utils

MIN_POSITIVES = 2  # starred / tagged / read entries needed for a model...
MIN_LABELS = 4  # ... and labels in all (dismissed ones count)
TAG_MIN_ENTRIES = 3  # a tag of yours with this many entries gets its own profile
MODEL_TERMS = 2000  # words kept at most (each one indexed query per rescore)...
POSTINGS = 500_000  # ... and the entries containing them, added up: what a rescore reads
MODEL_AUTHORS = 6  # authors kept (each a LIKE prefilter over the authors column)
MIN_WEIGHT = 0.002  # smaller weights are noise
SAMPLE = 1000  # unlabelled entries sampled as likely negatives
UNLABELLED_MAX = 0.1  # the most one sampled entry weighs (a labelled one: 1)
READ_LIMIT = 500
C = 1.0  # inverse regularisation strength of the logistic regression
REF_TERMS = 60  # an entry with this many distinct words has norm 1 (a typical abstract)
LATENT = 10  # dimensions of the latent (LSA) space the weights are smoothed through...
LATENT_SHARE = 0.5  # ... and how much of each weight comes from there
EVIDENCE_FLOOR = 3.0  # (up - down) / (up + down + EVIDENCE_FLOOR): little evidence, near 0
COMMON_SHARE = 0.1  # words in more than this share of the list are left out...
COMMON_MIN_ENTRIES = 50  # ... once it has this many entries (arxiv-sanity: max_df 0.1)
MODEL_VERSION = 3  # bump when the features or the fitting change: stored models refit
POSITIVE = {"starred": 1.0, "tagged": 1.0}
_QUANTUM = 2.0**20  # weights as multiples of 2**-20: sums are exact in any order


@dataclass(frozen=True)
class Features:
    terms: frozenset[str]  # index terms (porter stems)
    names: frozenset[str]  # normalized author names


@dataclass
class Model:
    """A fitted profile: kept weights, and what it was fitted on."""

    profile: str  # '' (everything you star and dismiss) or a tag
    terms: dict[str, float] = field(default_factory=dict)  # index term -> weight
    words: dict[str, str] = field(default_factory=dict)  # index term -> word shown / queried
    authors: dict[str, float] = field(default_factory=dict)  # normalized name -> weight
    names: dict[str, str] = field(default_factory=dict)  # normalized name -> as written
    counts: dict[str, int] = field(default_factory=dict)  # label kind -> how many; 'sampled'
    labelled: dict[int, str] = field(default_factory=dict)  # entry id -> its label
    fitted_at: str = ""

    def queries(self, sign: int = 0) -> list[tuple[str, float]]:
        """(FTS5 query, weight) per kept word; `sign` +1: the words pushing up, -1: those
        pushing down (as positive amounts), 0: all (signed)."""
        return [
            (phrase_query(self.words[t]), abs(w) if sign else w)
            for t, w in self.terms.items()
            if sign == 0 or (w > 0) == (sign > 0)
        ]

    def evidence(self, features: Features) -> Evidence:
        """What the kept words and authors the entry has push, up and down."""
        return _evidence([self.terms[t] for t in sorted(features.terms & self.terms.keys())]).plus(
            self.author_evidence(features.names)
        )

    def similarity(self, features: Features) -> float:
        return self.evidence(features).raw

    def author_evidence(self, names: Iterable[str]) -> Evidence:
        return _evidence([self.authors[n] for n in sorted(set(names) & self.authors.keys())])

    def describe(self) -> str:
        """'3 starred, 2 dismissed' — the labels it learned from."""
        order = ("starred", "tagged", "read", "dismissed")
        return ", ".join(f"{self.counts[k]} {k}" for k in order if self.counts.get(k))

    def to_json(self) -> str:
        data = asdict(self)
        data["labelled"] = {str(k): v for k, v in self.labelled.items()}
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, fitted_at: str) -> Model:
        data = json.loads(text)
        data["labelled"] = {int(k): v for k, v in data.get("labelled", {}).items()}
        data["fitted_at"] = fitted_at
        return cls(**data)


class Evidence(NamedTuple):
    """An entry's kept words and authors, summed: those pushing it up, and (as a positive
    amount) those pushing it down. (A NamedTuple: a full rescore makes one per entry, and
    it is made 3x faster than a frozen dataclass.)"""

    up: float = 0.0
    down: float = 0.0

    def plus(self, other: Evidence) -> Evidence:
        return Evidence(self.up + other.up, self.down + other.down)

    @property
    def raw(self) -> float:
        """The similarity part's raw value, -1 .. 1: (up - down) / (up + down + 3), so it
        does not grow with the length of the entry (a long abstract has more words of
        every kind) and stays near 0 when there is little evidence either way."""
        total = self.up + self.down
        return (self.up - self.down) / (total + EVIDENCE_FLOOR) if total else 0.0

    def formula(self) -> str:
        """How `raw` comes out of the sums, for `show --why`."""
        return (
            f"up {self.up:.2f}, down {self.down:.2f}: ({self.up:.2f} - {self.down:.2f}) / "
            f"({self.up:.2f} + {self.down:.2f} + {EVIDENCE_FLOOR:g}) = {self.raw:+.2f}"
        )


NO_EVIDENCE = Evidence()


def _evidence(weights: Iterable[float]) -> Evidence:
    up = down = 0.0
    for w in weights:
        if w > 0:
            up += w
        else:
            down -= w
    return Evidence(up, down)


def evidence(
    db: sqlite_utils.Database, model: Model, ids: Sequence[int] | None = None
) -> dict[int, Evidence]:
    """id -> the kept words' evidence for every entry having one (`ids`: among those,
    and perhaps a few more), through the full-text index: one query per kept word."""
    up = dict(q.weighted_matches(db, model.queries(+1), ids))
    down = dict(q.weighted_matches(db, model.queries(-1), ids))
    out = {i: Evidence(v, down.pop(i, 0.0)) for i, v in up.items()}
    out.update((i, Evidence(0.0, v)) for i, v in down.items())
    return out


@dataclass(frozen=True)
class Learned:
    """A profile's model, or why there is none (then the term profile stands in)."""

    model: Model | None
    counts: dict[str, int]
    reason: str = ""  # set when model is None


# ---------------------------------------------------------------- features


def features(
    db: sqlite_utils.Database,
    docs: Sequence[fb.Doc],
    words: dict[int, set[str]] | None = None,
) -> dict[int, Features]:
    """Each doc's index terms and author names (one pass of its words through the
    index's tokenizer: `store.ranking.stems`). `words`: each doc's content words, when
    the caller has them already."""
    if words is None:
        words = {d.entry_id: content_words(d.text) for d in docs}
    stem_of = q.stems(db, sorted(set().union(*words.values()))) if words else {}
    return {
        d.entry_id: Features(
            frozenset(stem_of[w] for w in words[d.entry_id] if w in stem_of),
            frozenset(normalize_name(a) for a in d.authors if a.strip()),
        )
        for d in docs
    }


def surfaces(db: sqlite_utils.Database, words: Iterable[set[str]]) -> dict[str, str]:
    """index term -> the word most often written for it in docs of these `words` (shown
    and queried)."""
    counts: Counter[str] = Counter()
    for ws in words:
        counts.update(ws)
    stem_of = q.stems(db, sorted(counts))
    out: dict[str, str] = {}
    for word in sorted(counts, key=lambda w: (-counts[w], len(w), w)):
        if word in stem_of:
            out.setdefault(stem_of[word], word)
    return out


def norm(f: Features) -> float:
    """An entry's length, as what its feature values are divided by in the fit: the
    square root of its distinct words over a typical abstract's (REF_TERMS), so a long
    abstract does not win on its length (arxiv-sanity divides by the l2 norm)."""
    return math.sqrt(max(len(f.terms), 1) / REF_TERMS)


def _fit_weights(
    rows: Sequence[tuple[Features, float, int]], idf: dict[str, float], author_idf: float
) -> dict[str, float]:
    """Feature -> weight of a weighted logistic regression ('t:' terms, 'a:' authors).

    A feature's value is its idf when present (rare words count more, as in tf-idf),
    divided by the entry's `norm`, so the weight an entry gets for having it is
    coefficient x idf, which is returned. Words missing from `idf` (too common) are
    left out. The coefficients are then half smoothed through a LATENT-dimension latent
    space of the fitted entries (LSA: a truncated SVD): a word that keeps company with
    the words of what you star gets some weight of its own, though none of your
    starred entries has it (what carries 3 stars to the rest of their field)."""
    from sklearn.linear_model import LogisticRegression  # heavy: fitting only

    # The matrix is DictVectorizer's of the dicts {feature name: value} (fitcache.design).
    x = fitcache.design(
        [f for f, _, _ in rows],
        feature_names,
        lambda n: idf.get(n[2:]) if n.startswith("t:") else author_idf,
        [norm(f) for f, _, _ in rows],
    )
    # lbfgs leaves the intercept unregularised, so common words do not stand in for it.
    clf = LogisticRegression(C=C, solver="lbfgs", max_iter=1000)
    with fitcache.one_thread():
        clf.fit(x.matrix, [y for _, _, y in rows], sample_weight=[w for _, w, _ in rows])
        coef = _smoothed(x.matrix, clf.coef_[0])
    return {
        n: float(c) * (idf[n[2:]] if n.startswith("t:") else author_idf)
        for n, c in zip(x.names, coef, strict=True)
        if c
    }


def feature_names(f: Features) -> list[str]:
    """The fit's feature names of an entry: 't:' + each term, 'a:' + each author."""
    return [*(f"t:{t}" for t in f.terms), *(f"a:{a}" for a in f.names)]


def _smoothed(x: object, coef: object) -> list[float]:
    """(1 - LATENT_SHARE) x coef + LATENT_SHARE x its projection on the top LATENT
    right singular vectors of `x` (the fitted entries' feature matrix)."""
    from sklearn.utils.extmath import randomized_svd  # heavy: fitting only

    k = min(LATENT, min(x.shape) - 1)  # type: ignore[attr-defined]
    if k < 1:
        return list(coef)  # type: ignore[call-overload]
    _, _, vt = randomized_svd(x, k, random_state=0)
    projected = vt.T @ (vt @ coef)
    return list((1 - LATENT_SHARE) * coef + LATENT_SHARE * projected)  # type: ignore[operator]


@dataclass(frozen=True)
class Rarity:
    idf: dict[str, float]  # term -> idf over the reading list (terms in <= COMMON_SHARE)
    df: dict[str, int]  # term -> entries containing it
    author_idf: float  # what an author counts: a word in two entries


def rarity(sample: Sequence[Features], size: int, others: Iterable[Features] = ()) -> Rarity:
    """How rare each word of `sample` and `others` is in the reading list (`size`
    entries), estimated from the random `sample` of it (asking the index word by word
    costs seconds at 200,000 entries)."""
    counts: Counter[str] = Counter()
    for f in sample:
        counts.update(f.terms)
    n = len(sample)
    common = COMMON_SHARE * n if n >= COMMON_MIN_ENTRIES else n + 1
    words = set().union(*(f.terms for f in sample), *(f.terms for f in others))
    idf = {t: math.log(1 + (n + 1) / (counts[t] + 1)) for t in words if counts[t] <= common}
    df = {t: round((counts[t] + 1) / (n + 1) * size) for t in words}
    return Rarity(idf, df, math.log(1 + (n + 1) / 2))


def _quantize(value: float) -> float:
    return round(value * _QUANTUM) / _QUANTUM


def select(
    weights: dict[str, float], df: dict[str, int]
) -> tuple[dict[str, float], dict[str, float]]:
    """The kept (terms, authors): the largest weights up or down, words while the
    entries containing them (`df`) add up to at most POSTINGS (what a rescore reads)."""

    def top(prefix: str) -> list[tuple[str, float]]:
        items = [(k[2:], v) for k, v in weights.items() if k.startswith(prefix)]
        items = [kv for kv in items if abs(kv[1]) >= MIN_WEIGHT]
        return sorted(items, key=lambda kv: (-abs(kv[1]), kv[0]))

    terms: dict[str, float] = {}
    postings = 0
    for term, weight in top("t:"):
        if len(terms) >= MODEL_TERMS:
            break
        if postings + df.get(term, 0) > POSTINGS:
            continue
        postings += df.get(term, 0)
        terms[term] = _quantize(weight)
    authors = {k: _quantize(v) for k, v in top("a:")[:MODEL_AUTHORS]}
    return terms, authors


# ---------------------------------------------------------------- fitting


def label_weight(kind: str, ranking: Ranking) -> tuple[float, int]:
    """(sample weight, class) of a label."""
    if kind == "dismissed":
        return 1.0, 0
    if kind == "read":
        return ranking.read_weight, 1
    return POSITIVE[kind], 1


def fit(
    db: sqlite_utils.Database,
    labels: Sequence[fb.Label],
    ranking: Ranking,
    *,
    profile: str = "",
    seed: int = 0,
    exclude: Iterable[int] = (),
) -> Model:
    """Fit a model on `labels` plus a random sample of the other entries (never one
    of `exclude`)."""
    labelled = {lab.entry_id: lab.kind for lab in labels if label_weight(lab.kind, ranking)[0] > 0}
    sampled = fb.sample_ids(db, SAMPLE, {*labelled, *exclude}, seed)
    docs = fb.docs(db, [*labelled, *sampled])
    words, feats = fitcache.prepared(docs, lambda new: _prepare(db, new))
    rows: list[tuple[Features, float, int]] = []
    for entry_id, kind in labelled.items():
        if entry_id in feats:
            weight, y = label_weight(kind, ranking)
            rows.append((feats[entry_id], weight, y))
    positive_weight = sum(w for _, w, y in rows if y == 1)
    present = [i for i in sampled if i in feats]
    # As a group the sampled entries weigh as much as the positives, each at most
    # UNLABELLED_MAX: in a small list a sampled entry may well be one you would like.
    each = min(max(positive_weight, 1.0) / max(len(present), 1), UNLABELLED_MAX)
    rows += [(feats[i], each, 0) for i in present]
    counts = dict(Counter(labelled.values()))
    counts["sampled"] = len(present)
    model = Model(profile=profile, counts=counts, labelled=labelled)
    if len({y for _, _, y in rows}) < 2:
        return model
    # Words of sampled entries are kept too: the latent smoothing gives a word that keeps
    # company with your starred ones weight of its own.
    shown = surfaces(db, [words[i] for i in [*labelled, *present] if i in words])
    rare = rarity(
        [feats[i] for i in present], max_entry_id(db), [feats[i] for i in labelled if i in feats]
    )
    weights = _fit_weights(rows, rare.idf, rare.author_idf)
    weights = {k: v for k, v in weights.items() if not k.startswith("t:") or k[2:] in shown}
    model.terms, model.authors = select(weights, rare.df)
    model.words = {t: shown[t] for t in model.terms}
    model.names = _display_names(docs.values(), model.authors)
    return model


def _prepare(
    db: sqlite_utils.Database, docs: list[fb.Doc]
) -> tuple[dict[int, set[str]], dict[int, Features]]:
    """Content words and features of docs fitcache has not kept."""
    words = {d.entry_id: content_words(d.text) for d in docs}
    return words, features(db, docs, words)


def _display_names(docs: Iterable[fb.Doc], wanted: dict[str, float]) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in docs:
        for a in d.authors:
            key = normalize_name(a)
            if key in wanted:
                out.setdefault(key, a)
    return out


def fingerprint(labels: Sequence[fb.Label], ranking: Ranking, profile: str) -> str:
    text = json.dumps(
        [MODEL_VERSION, profile, ranking.read_weight, sorted((x.entry_id, x.kind) for x in labels)]
    )
    return hashlib.sha1(text.encode()).hexdigest()


def not_enough(counts: dict[str, int]) -> str:
    """Why there is no model yet, or '' when the labels suffice."""
    positives = sum(n for k, n in counts.items() if k in ("starred", "tagged", "read"))
    labelled = positives + counts.get("dismissed", 0)
    if positives >= MIN_POSITIVES and labelled >= MIN_LABELS:
        return ""
    return (
        f"the learned ranking needs at least {MIN_POSITIVES} starred (or tagged, or read) "
        f"and {MIN_LABELS} labelled entries in all, dismissed ones included; "
        f"it has {positives} and {labelled}"
    )


def current(
    db: sqlite_utils.Database,
    ranking: Ranking,
    *,
    tag: str | None = None,
    refit: bool = False,
    reads: bool = False,
) -> Learned:
    """The profile's model: the stored one while the labels are unchanged, else a new
    fit (stored). `tag`: that tag's own profile.

    Reading is a weak label: marking entries read does not refit by itself (the page would
    refit on every `r`); the reads are folded in at the next fit, which a star, a dismissal,
    a tag or `reads=True` (a fetch, an import) triggers, and `refit` (`papertrail rank`)."""
    profile = tag or ""
    labels, counts, strong, full = _labels(db, ranking, profile)
    reason = not_enough(counts)
    if reason:
        return Learned(None, counts, reason)
    stamp = fb.model_stamp(db, profile)
    if stamp is not None and not refit and _still_fits(stamp[0], strong, full, reads):
        model = _stored_model(db, profile, stamp)
        if model is not None:
            return Learned(model, counts)
    previous = rankcache.previous_allowed()
    if previous is not None and stamp is not None and not refit:
        model = _stored_model(db, profile, stamp)  # the reading page: the order from before
        if model is not None:
            previous.used = True
            return Learned(model, counts)
    model = fit(db, labels, ranking, profile=profile, seed=int(full[:8], 16))
    model.fitted_at = fb.save_model(db, profile, f"{strong}/{full}", model.to_json())
    _remember(db, profile, (f"{strong}/{full}", model.fitted_at), model)
    return Learned(model, counts)


class _Labelled(NamedTuple):
    labels: list[fb.Label]
    counts: dict[str, int]
    strong: str  # fingerprint of the labels but reads
    full: str  # of all of them


def _labels(db: sqlite_utils.Database, ranking: Ranking, profile: str) -> _Labelled:
    """The profile's labels, their counts and fingerprints: read once per change of a
    label in this process (`fb.label_stamp`; a page view need not hash thousands)."""
    read_limit = READ_LIMIT if ranking.read_weight > 0 else 0
    key = (_db_file(db), profile, read_limit, ranking.read_weight, fb.label_stamp(db))
    with _STORED_LOCK:
        known = _LABELLED.get(key) if key[0] else None  # (not a database in memory)
    if known is not None:
        return known._replace(counts=dict(known.counts))
    labels = fb.labels(db, read_limit=read_limit, tag=profile or None)
    strong = fingerprint([x for x in labels if x.kind != "read"], ranking, profile)
    full = fingerprint(labels, ranking, profile)
    out = _Labelled(labels, dict(Counter(lab.kind for lab in labels)), strong, full)
    with _STORED_LOCK:
        _LABELLED[key] = out
        while len(_LABELLED) > 8:
            _LABELLED.popitem(last=False)
    return out


_LABELLED: OrderedDict[tuple[str, str, int, float, int], _Labelled] = OrderedDict()


def stored(db: sqlite_utils.Database, ranking: Ranking) -> Model | None:
    """The main profile's stored model when it fits the labels as they are, else None
    (never fits: a server's thread warming its caches after its worker's refit)."""
    found = _labels(db, ranking, "")
    if not_enough(found.counts):
        return None
    stamp = fb.model_stamp(db, "")
    if stamp is None or not _still_fits(stamp[0], found.strong, found.full, False):
        return None
    return _stored_model(db, "", stamp)


def _still_fits(stored: str, strong: str, full: str, reads: bool) -> bool:
    """Whether a stored model's fingerprint ('strong/full') still fits the labels."""
    stored_strong, _, stored_full = stored.partition("/")
    return stored_strong == strong and (not reads or stored_full == full)


def _stored_model(db: sqlite_utils.Database, profile: str, stamp: tuple[str, str]) -> Model | None:
    """The stored model of `profile` (parsed once per process: rankcache)."""
    key = (_db_file(db), profile, stamp)
    with _STORED_LOCK:
        model = _STORED.get(key)
    if model is not None:
        return model
    row = fb.load_model(db, profile)
    if row is None or (row[0], row[1]) != stamp:
        return None
    model = Model.from_json(row[2], row[1])
    _remember(db, profile, stamp, model)
    return model


# Stored models already parsed in this process (a page view need not parse the JSON of
# 2,000 weights again): (database file, profile, (fingerprint, fitted_at)) -> model.
_STORED: OrderedDict[tuple[str, str, tuple[str, str]], Model] = OrderedDict()
_STORED_LOCK = threading.Lock()


def _db_file(db: sqlite_utils.Database) -> str:
    return next((str(p) for _, n, p in db.execute("PRAGMA database_list") if n == "main"), "")


def _remember(
    db: sqlite_utils.Database, profile: str, stamp: tuple[str, str], model: Model
) -> None:
    with _STORED_LOCK:
        _STORED[(_db_file(db), profile, stamp)] = model
        while len(_STORED) > 16:
            _STORED.popitem(last=False)


def tag_profiles(db: sqlite_utils.Database) -> dict[str, int]:
    """Your tags with enough entries for a profile of their own -> how many entries."""
    return {t: n for t, n in fb.user_tags(db).items() if n >= TAG_MIN_ENTRIES}


# ---------------------------------------------------------------- explaining


@dataclass(frozen=True)
class Push:
    """A word or author and how much it moved an entry (+ up, - down)."""

    what: str  # the word, or the author's name
    kind: str  # 'word' | 'author'
    weight: float


def pushes(model: Model, feats: Features) -> list[Push]:
    """The kept words and authors an entry has, largest push first."""
    out = [
        Push(model.words.get(t, t), "word", model.terms[t])
        for t in feats.terms & model.terms.keys()
    ]
    out += [
        Push(model.names.get(n, n), "author", model.authors[n])
        for n in feats.names & model.authors.keys()
    ]
    return sorted(out, key=lambda p: (-abs(p.weight), p.what))
