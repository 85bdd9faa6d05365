"""What makes a refit of the learned ranking fast without changing the model (issue 17).

A star refits the model (papertrail.reading.learn.fit) on the labelled entries plus a
fresh random sample of the others: about 7,400 entries on a list with 2,000 stars, and
most of them (the labelled ones) the same as at the last refit. Three things here cut
what the refit costs; none changes what is fitted:

- **Prepared entries** (`prepared`): each entry's content words and features (whatever
  `learn.features` returns), kept per process and keyed by the entry's id, and reused
  only while its `Doc` (text, authors, date) is equal to the one they were made from:
  an entry whose text changed is prepared again. Features must therefore depend on the
  Doc alone (and the tokenizer, which never changes); anything else they come to depend
  on belongs in the Doc.
- **The design matrix** (`design`): the fitted entries' feature values as a sparse
  matrix, built with numpy from per-entry column arrays of a per-process vocabulary,
  instead of one Python dict per entry through scikit-learn's DictVectorizer (0.4 s of
  dicts + 0.3-1.6 s of DictVectorizer at 200,000 entries). The matrix is the one
  DictVectorizer makes: columns in the sorted order of the feature names, the same
  values (computed by the same division), sorted indices.
- **One BLAS thread** (`one_thread`) while scikit-learn fits: on two cores shared with
  other work, OpenBLAS's second thread made L-BFGS and the SVD 3-15x slower (it spins
  waiting for a core); the arithmetic is the same up to the order of float sums.

May import: as the reading package (see its docstring).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from papertrail.store import feedback as fb

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse

F = TypeVar("F", bound=Hashable)  # an entry's features (learn.Features)

ENTRIES_MAX = 20_000  # prepared entries kept (~3 refits' worth at 200,000 entries)
COLUMNS_MAX = 2_000_000  # feature names in the vocabulary before it starts again


@dataclass(frozen=True)
class Prepared(Generic[F]):
    doc: fb.Doc  # what they were made from
    words: set[str]  # the entry's content words
    features: F


@dataclass(frozen=True)
class Design:
    """The fitted entries' feature values, one row per entry, one column per name."""

    matrix: scipy.sparse.csr_matrix
    names: list[str]  # column -> feature name, sorted


_LOCK = threading.Lock()
_ENTRIES: OrderedDict[int, Prepared[Hashable]] = OrderedDict()
_NAMES: list[str] = []  # vocabulary: column id -> feature name
_INDEX: dict[str, int] = {}  # feature name -> column id
_COLUMNS: OrderedDict[Hashable, np.ndarray] = OrderedDict()  # features -> their column ids


def clear() -> None:
    """Forget everything (tests; a process that wants its memory back)."""
    with _LOCK:
        _ENTRIES.clear()
        _NAMES.clear()
        _INDEX.clear()
        _COLUMNS.clear()


def prepared(
    docs: Mapping[int, fb.Doc],
    prepare: Callable[[list[fb.Doc]], tuple[dict[int, set[str]], dict[int, F]]],
) -> tuple[dict[int, set[str]], dict[int, F]]:
    """(id -> content words, id -> features) of `docs`: kept ones where the doc is
    unchanged, `prepare(the others)` for the rest (kept for next time)."""
    words: dict[int, set[str]] = {}
    feats: dict[int, F] = {}
    missing: list[fb.Doc] = []
    with _LOCK:
        for entry_id, doc in docs.items():
            hit = _ENTRIES.get(entry_id)
            if hit is not None and hit.doc == doc:
                _ENTRIES.move_to_end(entry_id)
                words[entry_id] = hit.words
                feats[entry_id] = hit.features  # type: ignore[assignment]
            else:
                missing.append(doc)
    if not missing:
        return words, feats
    new_words, new_feats = prepare(missing)
    words.update(new_words)
    feats.update(new_feats)
    with _LOCK:
        for doc in missing:
            if doc.entry_id in new_feats:
                _ENTRIES[doc.entry_id] = Prepared(
                    doc, new_words[doc.entry_id], new_feats[doc.entry_id]
                )
                _ENTRIES.move_to_end(doc.entry_id)
        while len(_ENTRIES) > ENTRIES_MAX:
            _ENTRIES.popitem(last=False)
    return words, feats


def _column_ids(features: F, names: Callable[[F], Iterable[str]]) -> np.ndarray:
    """The vocabulary's column ids of an entry's feature names (kept per features)."""
    import numpy as np  # heavy: fitting only

    ids = _COLUMNS.get(features)
    if ids is not None:
        _COLUMNS.move_to_end(features)
        return ids
    out = []
    for name in names(features):
        column = _INDEX.get(name)
        if column is None:
            column = _INDEX[name] = len(_NAMES)
            _NAMES.append(name)
        out.append(column)
    ids = np.array(out, dtype=np.int64)
    _COLUMNS[features] = ids
    while len(_COLUMNS) > ENTRIES_MAX:
        _COLUMNS.popitem(last=False)
    return ids


def design(
    rows: Sequence[F],
    names: Callable[[F], Iterable[str]],
    weight: Callable[[str], float | None],
    divisor: Sequence[float],
) -> Design:
    """The matrix DictVectorizer makes of the dicts {name: weight(name) / divisor[i]
    for name in names(rows[i]) if weight(name) is not None}, without making them."""
    import numpy as np  # heavy: fitting only

    with _LOCK:
        if len(_NAMES) > COLUMNS_MAX:  # start again here, never between two rows' ids
            _NAMES.clear()
            _INDEX.clear()
            _COLUMNS.clear()
        per_row = [_column_ids(f, names) for f in rows]
        vocabulary = _NAMES[:]  # the ids below index this (a reset cannot move them)
    lengths = np.fromiter((len(a) for a in per_row), dtype=np.int64, count=len(per_row))
    ids = np.concatenate(per_row) if per_row else np.zeros(0, dtype=np.int64)
    used = np.zeros(len(vocabulary), dtype=bool)
    used[ids] = True
    weighed = [(vocabulary[i], i, weight(vocabulary[i])) for i in np.flatnonzero(used).tolist()]
    kept = sorted((n, i, w) for n, i, w in weighed if w is not None)
    column_of = np.full(len(vocabulary), -1, dtype=np.int64)  # vocabulary id -> column
    value_of = np.zeros(len(vocabulary), dtype=np.float64)
    column_of[[i for _, i, _ in kept]] = np.arange(len(kept))
    value_of[[i for _, i, _ in kept]] = [w for _, _, w in kept]
    columns = column_of[ids]
    values = value_of[ids] / np.repeat(np.asarray(divisor, dtype=np.float64), lengths)
    keep = columns >= 0
    row_of = np.repeat(np.arange(len(per_row)), lengths)
    indptr = np.zeros(len(per_row) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of[keep], minlength=len(per_row)), out=indptr[1:])
    return Design(
        _csr(indptr, columns[keep], values[keep], (len(per_row), len(kept))),
        [n for n, _, _ in kept],
    )


def _csr(
    indptr: np.ndarray, columns: np.ndarray, values: np.ndarray, shape: tuple[int, int]
) -> scipy.sparse.csr_matrix:
    """A CSR matrix with sorted indices (as DictVectorizer's)."""
    import numpy as np  # heavy: fitting only
    import scipy.sparse  # heavy: fitting only

    matrix = scipy.sparse.csr_matrix(
        (values, columns.astype(np.int32), indptr.astype(np.int32)), shape=shape
    )
    matrix.sort_indices()
    return matrix


@contextmanager
def one_thread() -> Iterator[None]:
    """BLAS and OpenMP limited to one thread while scikit-learn fits (see the docstring)."""
    from threadpoolctl import threadpool_limits  # heavy-ish: fitting only

    with threadpool_limits(1):
        yield
