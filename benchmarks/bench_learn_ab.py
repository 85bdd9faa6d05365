"""The learned ranking's model-side speed, two revisions of papertrail interleaved (issue 17).

On bench_learn_speed.py's 200,000-entry list (built here if missing, with its 50 dismissed
entries): refit the model, a full rescore with the stored model, and a day's 800 new entries
(refit + rescore them), each in a fresh process per revision per round, the revisions
alternating, the load average written next to every figure.

    git archive <rev> papertrail | tar -x -C /tmp/before
    python benchmarks/bench_learn_ab.py --keep /tmp/b200k.db --before /tmp/before [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, random, sys, tempfile, time
from pathlib import Path
import papertrail  # from PYTHONPATH (the revision measured), before bench_rank puts ROOT first
sys.path.insert(0, sys.argv[2])
import bench_rank
from papertrail import store
from papertrail.reading import learn, rank
db_path = Path(sys.argv[1])
authors = db_path.with_suffix(".authors").read_text().splitlines()
config = bench_rank._config(Path(tempfile.mkdtemp()), authors)
db = store.open_db(db_path)
ids = [r[0] for r in db.execute("SELECT id FROM entries ORDER BY id")]
out = {"code": papertrail.__file__}
t = time.perf_counter(); learn.current(db, config.ranking, refit=True)
out["refit"] = time.perf_counter() - t
model = learn.current(db, config.ranking).model
out["words"] = len(model.terms)
rank.rescore(db, config)  # the first rescore writes every changed row (the other revision's)
t = time.perf_counter(); rank.rescore(db, config); out["rescore"] = time.perf_counter() - t
t = time.perf_counter()
learn.current(db, config.ranking, refit=True); rank.rescore(db, config, ids[-800:])
out["day"] = time.perf_counter() - t
print(json.dumps(out))
"""


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(code: Path, db: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    cmd = [sys.executable, "-c", CHILD, str(db), str(ROOT / "benchmarks")]
    # cwd: `python -c` puts the working directory first on sys.path, ahead of PYTHONPATH.
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, cwd=code)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res.pop("code").startswith(str(code)), res  # the revision asked for
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, required=True)
    ap.add_argument("--before", type=Path, required=True, help="the older revision's tree")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not args.keep.exists():
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import bench_rank

        info = bench_rank.build(args.keep, 200_000)
        args.keep.with_suffix(".authors").write_text("\n".join(info["authors"]) + "\n")
        _dismiss(args.keep)
    print(f"load average at start: {load()}")
    got: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for r in range(args.rounds):
        for name, code in (("before", args.before), ("after", ROOT)):
            t0 = time.perf_counter()
            res = measure(code, args.keep)
            got[name].append(res)
            print(f"round {r + 1} {name}: {json.dumps(res)} ({time.perf_counter() - t0:.0f} s; "
                  f"load {load()})", flush=True)  # fmt: skip
    print("| what | before (median) | after (median) | after / before |\n|---|---:|---:|---:|")
    for key in ("refit", "rescore", "day"):
        b = statistics.median(x[key] for x in got["before"])
        a = statistics.median(x[key] for x in got["after"])
        print(f"| {key} | {b:.2f} s | {a:.2f} s | {a / b:.2f}x |")
    print(f"model words: before {got['before'][0]['words']}, after {got['after'][0]['words']}")
    print(f"load average at end: {load()}")


def _dismiss(path: Path) -> None:
    import random

    from papertrail import store

    db = store.open_db(path)
    ids = [r[0] for r in db.execute("SELECT id FROM entries ORDER BY id")]
    with db.atomic():
        db.conn.executemany(
            "UPDATE entries SET dismissed_at = '2026-01-02T00:00:00+00:00' WHERE id = ?",
            [(i,) for i in random.Random(3).sample(ids, 50)],
        )
    db.close()


if __name__ == "__main__":
    main()
