"""The fast refit (issue 17, papertrail.reading.fitcache) fits the model the straightforward
path fits: on a real reading list of the recorded arXiv documents, with stars, a tag and
dismissals, the design matrix is DictVectorizer's, bit for bit, and the model's weights
are the reference fit's (DictVectorizer, scikit-learn's default threads, nothing kept
between fits) within a float tolerance, with the process's caches cold and warm; an
entry whose text changes is prepared again."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from papertrail import store
from papertrail.config import Ranking
from papertrail.models import Record
from papertrail.reading import fitcache, learn
from papertrail.sources.arxiv_meta import from_snapshot
from papertrail.sources.parse import parse_arxiv_api
from papertrail.store import feedback as fb

FIX = Path(__file__).parent / "fixtures" / "feeds"
STAMP = "2026-01-02T00:00:00+00:00"


class _NoTags:
    domain_names = ()

    def tag(self, record: object) -> list[str]:
        return []

    def tag_archive(self, record: object) -> list[str]:
        return []


def recorded() -> list[Record]:
    """The recorded arXiv papers (the bulk snapshot's first 100 and the API answers)."""
    out: dict[str, Record] = {}
    snapshot = FIX / "arxiv-bulk" / "kaggle__arxiv-metadata-oai-snapshot_first100.jsonl"
    for line in snapshot.read_text(encoding="utf-8").splitlines():
        rec = from_snapshot(json.loads(line)).record
        out[rec.arxiv_id or ""] = rec
    for path in sorted((FIX / "arxiv-api").rglob("*.xml")):
        if "id_abc" not in path.name:  # not arXiv's recorded error answer
            for rec in parse_arxiv_api(path.read_bytes()).records:
                out.setdefault(rec.arxiv_id or "", rec)
    return [r for k, r in out.items() if k and len(r.summary) > 80]


@pytest.fixture
def labelled_db(tmp_path: Path) -> Any:
    """A real reading list of the recorded papers: math ones starred (and 3 tagged),
    some others dismissed."""
    db = store.open_db(tmp_path / "reading.db")
    records = recorded()
    with db.atomic():
        store.EntryWriter(db, _NoTags(), None).save("arxiv-api", records)
    ids = {r[1]: r[0] for r in db.execute("SELECT id, arxiv_id FROM entries")}
    math = [
        ids[r.arxiv_id or ""] for r in records if any(c.startswith("math") for c in r.categories)
    ]
    other = [
        ids[r.arxiv_id or ""] for r in records if not r.categories or r.categories[0][:2] == "cs"
    ]
    assert len(math) >= 8 and len(other) >= 8, (len(math), len(other))
    with db.atomic():
        for i in math[:6]:
            db.execute("UPDATE entries SET starred_at = ? WHERE id = ?", [STAMP, i])
        for i in other[:5]:
            db.execute("UPDATE entries SET dismissed_at = ? WHERE id = ?", [STAMP, i])
        for i in math[6:9]:
            db.execute(
                "INSERT INTO entry_tags (entry_id, tag, origin, created_at) "
                "VALUES (?, 'geometry', 'user', ?)",
                [i, STAMP],
            )
    fitcache.clear()
    yield db
    db.close()
    fitcache.clear()


def _reference_weights(
    rows: Sequence[tuple[learn.Features, float, int]], idf: dict[str, float], author_idf: float
) -> dict[str, float]:
    """learn._fit_weights as it was written before fitcache: one dict per entry through
    DictVectorizer, scikit-learn's own thread settings."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    dicts = []
    for f, _, _ in rows:
        n = learn.norm(f)
        dicts.append(
            {
                **{f"t:{t}": idf[t] / n for t in f.terms if t in idf},
                **{f"a:{a}": author_idf / n for a in f.names},
            }
        )
    vec = DictVectorizer()
    x = vec.fit_transform(dicts)
    clf = LogisticRegression(C=learn.C, solver="lbfgs", max_iter=1000)
    clf.fit(x, [y for _, _, y in rows], sample_weight=[w for _, w, _ in rows])
    coef = learn._smoothed(x, clf.coef_[0])
    return {
        n: float(c) * (idf[n[2:]] if n.startswith("t:") else author_idf)
        for n, c in zip(vec.get_feature_names_out(), coef, strict=True)
        if c
    }


def _prepare_directly(docs: Any, prepare: Any) -> Any:
    return prepare(list(docs.values()))


def _reference_fit(db: Any, ranking: Ranking, monkeypatch: pytest.MonkeyPatch) -> learn.Model:
    with monkeypatch.context() as m:
        m.setattr(learn, "_fit_weights", _reference_weights)
        m.setattr(fitcache, "prepared", _prepare_directly)
        return _fit(db, ranking)


def _fit(db: Any, ranking: Ranking) -> learn.Model:
    labels = fb.labels(db, read_limit=learn.READ_LIMIT)
    return learn.fit(db, labels, ranking, seed=7)


def _assert_same_model(got: learn.Model, want: learn.Model) -> None:
    assert want.terms and want.authors
    assert got.terms.keys() == want.terms.keys()
    assert got.words == want.words and got.names == want.names
    assert got.authors.keys() == want.authors.keys()
    quantum = 2.0**-20  # weights are stored as multiples of this
    for kind in ("terms", "authors"):
        g, w = getattr(got, kind), getattr(want, kind)
        diff = max(abs(g[k] - w[k]) for k in w)
        assert diff <= 2 * quantum + 1e-6 * max(abs(v) for v in w.values()), (kind, diff)


@pytest.mark.parametrize(
    "columns_max",
    [pytest.param(fitcache.COLUMNS_MAX, marks=pytest.mark.integration), 10],  # (the cap: seconds)
)
def test_the_design_matrix_is_dictvectorizers_bit_for_bit(
    labelled_db: Any, columns_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(columns_max 10: the vocabulary starts again at every call.)"""
    from sklearn.feature_extraction import DictVectorizer

    monkeypatch.setattr(fitcache, "COLUMNS_MAX", columns_max)

    docs = fb.docs(labelled_db, [r[0] for r in labelled_db.execute("SELECT id FROM entries")])
    feats = list(learn.features(labelled_db, list(docs.values())).values())
    rare = learn.rarity(feats[::2], len(feats), feats[1::2])
    feats.insert(5, learn.Features(frozenset(), frozenset()))  # an entry with no words
    dicts = [
        {
            **{f"t:{t}": rare.idf[t] / learn.norm(f) for t in f.terms if t in rare.idf},
            **{f"a:{a}": rare.author_idf / learn.norm(f) for a in f.names},
        }
        for f in feats
    ]
    vec = DictVectorizer()
    want = vec.fit_transform(dicts)
    for _ in range(3):  # the vocabulary and the per-entry columns cold, then kept
        got = fitcache.design(
            feats,
            learn.feature_names,
            lambda n: rare.idf.get(n[2:]) if n.startswith("t:") else rare.author_idf,
            [learn.norm(f) for f in feats],
        )
        assert got.names == list(vec.get_feature_names_out())
        assert got.matrix.shape == want.shape and want.nnz > 1000
        assert np.array_equal(got.matrix.indptr, want.indptr)
        assert np.array_equal(got.matrix.indices, want.indices)
        assert np.array_equal(got.matrix.data, want.data)


def test_the_fast_refit_fits_the_reference_model_cold_and_warm(
    labelled_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranking = Ranking()
    want = _reference_fit(labelled_db, ranking, monkeypatch)
    assert want.counts["starred"] == 6 and want.counts["dismissed"] == 5
    cold = _fit(labelled_db, ranking)
    warm = _fit(labelled_db, ranking)
    _assert_same_model(cold, want)
    _assert_same_model(warm, want)
    assert warm.terms == cold.terms  # kept features give the very same fit


def test_an_entry_whose_text_changed_is_prepared_again(labelled_db: Any) -> None:
    ids = [r[0] for r in labelled_db.execute("SELECT id FROM entries ORDER BY id LIMIT 20")]
    first = fitcache.prepared(fb.docs(labelled_db, ids), lambda d: learn._prepare(labelled_db, d))
    changed = ids[3]
    with labelled_db.atomic():
        labelled_db.execute(
            "UPDATE entries SET title = 'Quasicrystalline zeppelins' WHERE id = ?", [changed]
        )
    again = fitcache.prepared(fb.docs(labelled_db, ids), lambda d: learn._prepare(labelled_db, d))
    assert "zeppelins" in again[0][changed] and "zeppelins" not in first[0][changed]
    assert again[1][changed] != first[1][changed]
    assert any(t.startswith("zeppelin") for t in again[1][changed].terms)
    unchanged = [i for i in ids if i != changed]
    assert all(again[1][i] is first[1][i] for i in unchanged)  # kept, not made again
