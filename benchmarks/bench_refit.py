"""The learned model's refit (issue 17: `learn.current(refit=True)`), this tree against
another (the anchor, e.g. the code before papertrail.reading.fitcache), interleaved, on
copies of one reading list; and whether both trees fit the same model.

A round is one process per tree (scikit-learn imported before timing: the reading page's
case). It stars `--fits` random entries one at a time (SQL, untimed) and after each times
`learn.current(db, ranking, refit=True)`: each new label set draws a new random sample,
as a real star does. The first fit of a process is reported apart (it fills the process's
caches). Every fit's weights are written out and the two trees' fits of the same labels
are compared: the kept words (same set?) and the largest weight difference.

    python benchmarks/bench_refit.py --db /work/bench/me/r200k.db --anchor /tmp/anchor
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAMP = "2026-12-01T00:00:00+00:00"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def one_process(db_path: Path, fits: int, seed: int) -> None:
    """Run inside a child process whose PYTHONPATH is the tree under test."""
    import sklearn.linear_model  # noqa: F401  (loaded before timing, as in a server)

    from papertrail import store
    from papertrail.config import Ranking
    from papertrail.reading import learn

    db = store.open_db(db_path)
    ids = [r[0] for r in db.execute("SELECT id FROM entries WHERE starred_at IS NULL")]
    targets = random.Random(seed).sample(ids, fits)
    out = []
    for n, entry in enumerate(targets):
        with db.atomic():
            db.execute("UPDATE entries SET starred_at = ? WHERE id = ?", [STAMP, entry])
        t0 = time.perf_counter()
        model = learn.current(db, Ranking(), refit=True).model
        seconds = time.perf_counter() - t0
        assert model is not None
        out.append({"n": n, "s": seconds, "terms": model.terms, "authors": model.authors})
    with db.atomic():
        db.conn.executemany(
            "UPDATE entries SET starred_at = NULL WHERE id = ?", [(i,) for i in targets]
        )
    print(json.dumps(out))


def child(tree: Path, db: Path, fits: int, seed: int) -> list[dict]:  # type: ignore[type-arg]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
        f"import bench_refit as b; from pathlib import Path; "
        f"b.one_process(Path({str(db)!r}), {fits}, {seed})"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tree
    )
    if out.returncode:
        raise SystemExit(f"{tree}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(a: list[dict], b: list[dict]) -> str:  # type: ignore[type-arg]
    """How the two trees' fits of the same labels differ."""
    same_words = sum(x["terms"].keys() == y["terms"].keys() for x, y in zip(a, b, strict=True))
    diff = max(
        (
            abs(x[kind][w] - y[kind][w])
            for x, y in zip(a, b, strict=True)
            for kind in ("terms", "authors")
            for w in x[kind].keys() & y[kind].keys()
        ),
        default=0.0,
    )
    top = max(abs(v) for x in a for v in x["terms"].values())
    return (
        f"same kept words in {same_words}/{len(a)} fits; largest weight difference "
        f"{diff:.2e} (largest weight {top:.3f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, required=True, help="a reading list (copied, not changed)")
    ap.add_argument("--anchor", type=Path, help="another tree to compare with")
    ap.add_argument("--rounds", type=int, default=3, help="processes per tree")
    ap.add_argument("--fits", type=int, default=4, help="stars (refits) per process")
    args = ap.parse_args()
    trees = {"this tree": ROOT, **({"anchor": args.anchor} if args.anchor else {})}
    results: dict[str, list[dict]] = {name: [] for name in trees}  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory(dir=args.db.parent) as tmp:
        copies = {name: Path(tmp) / f"{name.replace(' ', '_')}.db" for name in trees}
        for copy in copies.values():
            shutil.copy(args.db, copy)
        for r in range(args.rounds):
            for name, tree in trees.items():
                before = load()
                rows = child(tree, copies[name], args.fits, seed=r)
                results[name] += rows
                shown = ", ".join(f"{x['s']:.2f}" for x in rows)
                print(f"round {r} {name}: refits {shown} s (load {before} -> {load()})")
    print("\n| tree | first refit of a process p50 / max | later refits p50 / max |")
    print("|---|---|---|")
    for name, rows in results.items():
        first = sorted(x["s"] for x in rows if x["n"] == 0)
        later = sorted(x["s"] for x in rows if x["n"])
        print(
            f"| {name} | {statistics.median(first):.2f} / {first[-1]:.2f} s "
            f"| {statistics.median(later):.2f} / {later[-1]:.2f} s (n={len(later)}) |"
        )
    if args.anchor:
        print("\nthis tree vs anchor: " + compare(results["this tree"], results["anchor"]))


if __name__ == "__main__":
    main()
