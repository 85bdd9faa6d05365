"""Ranking quality (issue 17): the learned score against the old term profile, bm25, recency,
random, and arxiv-sanity-lite's own method as the anchor, in one run.

The documents are the real recorded arXiv documents in tests/fixtures/feeds (the first
100 lines of the arXiv metadata snapshot, the recorded arXiv API answers and the
rss.arxiv.org feeds; the three made-up entries of the zotero Atom file are left out):
titles, abstracts, authors, and the categories their authors chose. The categories
stand in for a reader's interest — a PROXY: a simulated reader "likes" every paper
with a category in their field (mathematics; computer science and statistics;
condensed matter; high-energy physics; astrophysics and gravitation) and nothing else.
A real reader's interest is narrower and not written down anywhere.

For each reader, label budget B (5, 20, 100) and trial (TRIALS seeds), the reader
labels B papers: half (rounded up; at most 60 % of their field) starred from their
field, the rest dismissed from outside it. Every method then ranks all the other
papers, and is scored on finding the reader's field among them (nDCG@10, P@10, R@50).

Methods:
- learned: papertrail's learned score as the product computes it (labels stored in a
  real reading list, `learn.current` fits and stores the model, the score goes through
  the FTS5 index: `profiles.profile_scores`);
- term profile: the old similarity (the 40-term profile of the starred papers, FTS5);
- bm25: FTS5's bm25 for an OR of those 40 terms;
- recency: newest first; random: a seeded shuffle;
- arxiv-sanity-lite (the anchor): tf-idf of title + abstract + authors, uni+bigrams,
  sublinear tf, max_df 0.1 (the issue's setting; the rest as in its compute.py:
  English stop words, its token pattern, l2 norm, smooth idf, min_df 1 here because
  its default 5 is meant for 100k+ papers — `anchor-min_df5` is that default too),
  `LinearSVC(C=0.01, class_weight="balanced")` fitted on all papers with the starred
  ones as positives, ranked by its decision function. It never sees the dismissals:
  arxiv-sanity has no negative feedback.

    python benchmarks/bench_rank_quality.py [--trials 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIX = ROOT / "tests" / "fixtures" / "feeds"

from papertrail import store  # noqa: E402
from papertrail.config.model import Ranking  # noqa: E402
from papertrail.models import Record  # noqa: E402
from papertrail.reading import evaluate as ev  # noqa: E402
from papertrail.reading import learn, profiles  # noqa: E402
from papertrail.reading.rank import profile_from  # noqa: E402
from papertrail.store import ranking as q  # noqa: E402

BUDGETS = (5, 20, 100)
MADE_UP = {"2508.13435", "2508.14001", "2508.14002"}  # see tests/fixtures/feeds/MANIFEST.md
FIELDS = {
    "math": ("math", "math-ph"),
    "cs+stat": ("cs", "stat", "eess"),
    "cond-mat": ("cond-mat",),
    "hep": ("hep-ph", "hep-th", "hep-ex", "hep-lat"),
    "astro+gr": ("astro-ph", "gr-qc"),
}
METHODS = (
    "learned",
    "term profile",
    "bm25",
    "recency",
    "random",
    "arxiv-sanity-lite",
    "anchor-min_df5",
)


class _NoTags:
    domain_names = ()

    def tag(self, record: object) -> list[str]:
        return []

    def tag_archive(self, record: object) -> list[str]:
        return []


def corpus() -> list[Record]:
    """The recorded arXiv papers, one per id, with their categories."""
    from papertrail.sources.arxiv_meta import from_snapshot
    from papertrail.sources.parse import parse_arxiv_api, parse_feed

    out: dict[str, Record] = {}
    snapshot = FIX / "arxiv-bulk" / "kaggle__arxiv-metadata-oai-snapshot_first100.jsonl"
    for line in snapshot.read_text(encoding="utf-8").splitlines():
        rec = from_snapshot(json.loads(line)).record
        out[rec.arxiv_id or ""] = rec
    for path in sorted((FIX / "arxiv-api").rglob("*.xml")):
        if "id_abc" in path.name:  # arXiv's recorded error answer
            continue
        for rec in parse_arxiv_api(path.read_bytes()).records:
            out.setdefault(rec.arxiv_id or "", rec)
    for path in sorted((FIX / "arxiv-rss").rglob("*.xml")):
        parsed = parse_feed(
            path.read_bytes(), {}, base_url="http://x.invalid/", source_kind="arxiv-rss"
        )
        for rec in parsed.records:
            out.setdefault(rec.arxiv_id or "", rec)
    return [
        r for k, r in out.items() if k and k not in MADE_UP and r.categories and len(r.summary) > 80
    ]


def field_of(rec: Record) -> set[str]:
    archives = {c.split(".")[0] for c in rec.categories}
    return {name for name, prefixes in FIELDS.items() if archives & set(prefixes)}


def build(records: list[Record], path: Path) -> tuple[object, dict[str, int]]:
    db = store.open_db(path)
    with db.atomic():
        store.EntryWriter(db, _NoTags(), None).save("arxiv-bench", records)
    ids = {r[1]: r[0] for r in db.execute("SELECT id, arxiv_id FROM entries")}
    return db, ids


def anchor_matrix(records: list[Record], min_df: int) -> object:
    from sklearn.feature_extraction.text import TfidfVectorizer

    v = TfidfVectorizer(
        input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode",
        lowercase=True, analyzer="word", stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2), max_features=10000,
        norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True, max_df=0.1, min_df=min_df,
    )  # fmt: skip
    docs = [" ".join([r.title, r.summary, " ".join(r.authors)]) for r in records]
    return v.fit_transform(docs)


def anchor_scores(x: object, positives: list[int]) -> list[float]:
    import numpy as np
    from sklearn import svm

    y = np.zeros(x.shape[0], dtype=np.float32)  # type: ignore[attr-defined]
    y[positives] = 1.0
    clf = svm.LinearSVC(class_weight="balanced", verbose=False, max_iter=10000, tol=1e-6, C=0.01)
    clf.fit(x, y)
    return list(clf.decision_function(x))


def bm25_scores(db: object, words: list[str]) -> dict[int, float]:
    if not words:
        return {}
    match = "{title summary} : (" + " OR ".join(f'"{w}"' for w in words) + ")"
    rows = db.execute(  # type: ignore[attr-defined]
        "SELECT rowid, -bm25(entries_fts) FROM entries_fts WHERE entries_fts MATCH ?", [match]
    )
    return dict(rows)


def trial(
    db: object,
    records: list[Record],
    ids: dict[str, int],
    anchors: dict[str, object],
    reader: str,
    budget: int,
    seed: int,
) -> dict[str, tuple[float, float, float]] | None:
    rng = random.Random(seed)
    eid = [ids[r.arxiv_id or ""] for r in records]
    relevant_rows = [i for i, r in enumerate(records) if reader in field_of(r)]
    other_rows = [i for i, r in enumerate(records) if reader not in field_of(r)]
    n_pos = min(math.ceil(budget / 2), int(0.6 * len(relevant_rows)))
    n_neg = min(budget - n_pos, len(other_rows) - 10)
    pos = rng.sample(relevant_rows, n_pos)
    neg = rng.sample(other_rows, n_neg)
    labelled = set(pos) | set(neg)
    test_rows = [i for i in range(len(records)) if i not in labelled]
    relevant = {eid[i] for i in test_rows if i in set(relevant_rows)}
    if not relevant:
        return None
    with db.atomic():  # type: ignore[attr-defined]
        db.execute("UPDATE entries SET starred_at = NULL, dismissed_at = NULL")  # type: ignore[attr-defined]
        db.execute("DELETE FROM ranking_models")  # type: ignore[attr-defined]
        for n, i in enumerate(pos):
            db.execute(
                "UPDATE entries SET starred_at = ? WHERE id = ?",
                [f"2026-01-01T00:{n:02d}:00+00:00", eid[i]],
            )  # type: ignore[attr-defined]
        for n, i in enumerate(neg):
            db.execute(
                "UPDATE entries SET dismissed_at = ? WHERE id = ?",
                [f"2026-01-01T01:{n:02d}:00+00:00", eid[i]],
            )  # type: ignore[attr-defined]
    ranking = Ranking(read_weight=0.0)
    scores: dict[str, dict[int, float]] = {}
    learned = learn.current(db, ranking, refit=True)  # type: ignore[arg-type]
    scores["learned"] = profiles.profile_scores(db, learned.model) if learned.model else {}  # type: ignore[arg-type]
    texts = {eid[i]: records[i].title + " " + records[i].summary for i in pos}
    profile = profile_from(db, ranking, list(texts.items()), [])  # type: ignore[arg-type]
    scores["term profile"] = dict(q.weighted_matches(db, profile.queries()))  # type: ignore[arg-type]
    scores["bm25"] = bm25_scores(db, list(profile.words.values()))
    scores["recency"] = {eid[i]: _day(records[i]) for i in range(len(records))}
    scores["random"] = {eid[i]: rng.random() for i in range(len(records))}
    for name, x in anchors.items():
        s = anchor_scores(x, pos)
        scores[name] = {eid[i]: s[i] for i in range(len(records))}
    out = {}
    test_ids = [eid[i] for i in test_rows]
    for name in METHODS:
        got = scores[name]
        order = sorted(test_ids, key=lambda i: (-got.get(i, 0.0), i))
        out[name] = (
            ev.ndcg_at(order, relevant, 10),
            ev.precision_at(order, relevant, 10),
            ev.recall_at(order, relevant, 50),
        )
    out["_labels"] = (float(n_pos), float(n_neg), float(len(relevant)))
    return out


def _day(rec: Record) -> float:
    return time.mktime(time.strptime((rec.published or "1990-01-01")[:10], "%Y-%m-%d"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--first-trial", type=int, default=0,
        help="seeds of other trials (100: the development trials the choices were made on)",
    )  # fmt: skip
    args = ap.parse_args()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    start = time.perf_counter()
    records = corpus()
    per_field = {f: sum(f in field_of(r) for r in records) for f in FIELDS}
    print(f"{len(records)} recorded arXiv papers; papers per simulated reader's field: {per_field}")
    with tempfile.TemporaryDirectory() as tmp:
        db, ids = build(records, Path(tmp) / "quality.db")
        records = [r for r in records if r.arxiv_id in ids]  # what the reading list stored
        anchors = {
            "arxiv-sanity-lite": anchor_matrix(records, 1),
            "anchor-min_df5": anchor_matrix(records, 5),
        }
        results: dict[int, dict[str, list[tuple[float, float, float]]]] = {}
        labels: dict[int, list[tuple[float, float, float]]] = {}
        for budget in BUDGETS:
            results[budget] = {m: [] for m in METHODS}
            labels[budget] = []
            for k, reader in enumerate(FIELDS):
                for t in range(args.first_trial, args.first_trial + args.trials):
                    got = trial(
                        db, records, ids, anchors, reader, budget, seed=1000 * budget + 17 * t + k
                    )
                    if got is None:
                        continue
                    labels[budget].append(got.pop("_labels"))
                    for m in METHODS:
                        results[budget][m].append(got[m])
        db.close()  # type: ignore[attr-defined]
    report(results, labels, args.trials, per_field)
    print(f"\ntrials {args.first_trial}..{args.first_trial + args.trials - 1}")
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"\n{platform.processor() or platform.machine()}, Python {platform.python_version()}; "
        f"{time.perf_counter() - start:.0f} s; load average before {' '.join(load_before)}, "
        f"after {' '.join(load_after)} (machine shared with other agents)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    str(b): {m: [list(x) for x in v] for m, v in r.items()}
                    for b, r in results.items()
                }
            )
        )


def report(results: dict, labels: dict, trials: int, per_field: dict) -> None:
    for budget, by_method in results.items():
        lab = labels[budget]
        pos = statistics.mean(x[0] for x in lab)
        neg = statistics.mean(x[1] for x in lab)
        print(
            f"\n## {budget} labels (mean {pos:.1f} starred + {neg:.1f} dismissed; "
            f"{len(lab)} reader-trials = {len(per_field)} readers x {trials})"
        )
        print("| method | nDCG@10 | P@10 | R@50 |")
        print("|---|---:|---:|---:|")
        means = {}
        for m, rows in by_method.items():
            means[m] = tuple(statistics.mean(r[k] for r in rows) for k in range(3))
            print(f"| {m} | {means[m][0]:.3f} | {means[m][1]:.3f} | {means[m][2]:.3f} |")
        anchor = max(means["arxiv-sanity-lite"][0], means["anchor-min_df5"][0])
        learned = means["learned"][0]
        print(
            f"learned / term profile nDCG@10: {learned / max(means['term profile'][0], 1e-9):.2f}x (goal >= 1.25x); "
            f"learned / best anchor: {learned / max(anchor, 1e-9):.2f}x (goal >= 1.1x)"
        )


if __name__ == "__main__":
    main()
