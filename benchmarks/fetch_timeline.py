"""Where the time of a whole `papertrail fetch -q` process goes (issue 19, rows 1-2).

The same setup as bench_fetch_process.py (200 feeds / 50 loopback hosts / 200 ms,
the BAIR feed); each run is a fresh process whose functions are wrapped (not
changed) to write down when each phase happens, in wall-clock seconds since the
parent started the process:

    interp      the interpreter is up (site imported), our wrapper starts
    cli         the `fetch` command starts (click has parsed the arguments)
    lane        the HTTP lane's thread starts
    sent1       the first request is handed to httpx
    pool0, pool the parse pool is started / its workers are up
    parsed_here a document parsed in this process (not in the pool), the first time
    resp1       the first response is complete
    respN       the last response is complete
    open        the writer's database open (sqlite-utils, migrations) begins / ends
    saved1      the first source is saved;  savedN  the last one
    finish      the run's `fetch_runs` row is finished
    after       rescore / codelinks / search index of `api.fetch`, then the summary
    exit        the interpreter's atexit
    wall, cpu   the whole process (cpu: user + sys of the process; its parse workers, the
                forkserver's children, are not counted)

    python benchmarks/fetch_timeline.py [--runs 3] [--tree DIR] [--profile-lane DIR]

--profile-lane DIR: also run the HTTP lane's thread under cProfile (one .prof per run).
For the main thread use `bench_fetch_process.py --profile`.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_fetch_process import ENV, FEED, LATENCY, N_FEEDS, N_HOSTS, feeds_file  # noqa: E402
from loopback_hosts import HostsProcess  # noqa: E402

# Runs in the measured process: wraps a few functions to record when they run.
WRAP = r"""
import atexit, json, os, sys, time, threading
T0 = float(os.environ["TIMELINE_T0"]); OUT = os.environ["TIMELINE_OUT"]
marks = {}
def mark(name, last=False):
    if last or name not in marks:
        marks[name] = time.time() - T0
mark("interp")
atexit.register(lambda: (mark("exit"), open(OUT, "w").write(json.dumps(marks))))
from papertrail import store
import papertrail.sources.http as h
import papertrail.ingest.http_lane as lane
import papertrail.ingest.fetch as fetch
import papertrail.api.fetching as af
def wrap(obj, name, before=None, after=None, last=False):
    fn = getattr(obj, name)
    def inner(*a, **k):
        if before: mark(before, last)
        try:
            return fn(*a, **k)
        finally:
            if after: mark(after, True)
    setattr(obj, name, inner)
orig_request = h._Fetcher._request
async def _request(self, *a, **k):
    mark("sent1")
    try:
        return await orig_request(self, *a, **k)
    finally:
        mark("resp1"); mark("respN", True)
h._Fetcher._request = _request
orig_lane = lane._fetch
def _fetch(*a, **k):
    mark("lane")
    prof_dir = os.environ.get("TIMELINE_PROFILE")
    if not prof_dir:
        return orig_lane(*a, **k)
    import cProfile
    p = cProfile.Profile()
    try:
        return p.runcall(orig_lane, *a, **k)
    finally:
        p.dump_stats(os.path.join(prof_dir, f"lane-{os.getpid()}.prof"))
lane._fetch = _fetch
wrap(af, "run_fetch", "cli")
orig_connected = store.connected
def connected(*a, **k):
    n = sum(1 for k in marks if k.startswith("open"))
    mark(f"open{n // 2 + 1}")
    cm = orig_connected(*a, **k)
    class CM:
        def __enter__(self):
            db = cm.__enter__(); mark(f"opened{n // 2 + 1}"); return db
        def __exit__(self, *e):
            return cm.__exit__(*e)
    return CM()
store.connected = connected
orig_save = store.save_source_result
def save(*a, **k):
    try:
        return orig_save(*a, **k)
    finally:
        mark("saved1"); mark("savedN", True)
store.save_source_result = save
wrap(store, "finish_run", None, "finish")
wrap(store, "maintain_search_index", "index", "indexed")
import papertrail.ingest.pool as pool
class Ready(threading.Event):
    def set(self):
        mark("pool"); super().set()
orig_pool_init = pool.ParsePool.__init__
def pool_init(self, *a, **k):
    mark("pool0")
    orig_pool_init(self, *a, **k)
    if self.ready.is_set(): mark("pool")
    else: self.ready.__class__ = Ready
pool.ParsePool.__init__ = pool_init
orig_parse_one = pool.parse_one
def parse_one(*a, **k):
    mark("parsed_here")
    return orig_parse_one(*a, **k)
pool.parse_one = parse_one
sys.argv = ["papertrail", *sys.argv[1:]]
from papertrail.cli import cli
cli(prog_name="papertrail")
"""

ORDER = ["interp", "cli", "lane", "sent1", "pool0", "open1", "opened1", "pool", "resp1",
         "parsed_here", "saved1", "respN",
         "savedN", "finish", "open2", "opened2", "index", "indexed", "exit"]  # fmt: skip


def one(tree: Path, db: Path, feeds: Path, tmp: Path, profile: Path | None) -> dict[str, float]:
    out = tmp / "marks.json"
    env = {**ENV, "PYTHONPATH": str(tree), "TIMELINE_OUT": str(out)}
    if profile:
        env["TIMELINE_PROFILE"] = str(profile)
    env["TIMELINE_T0"] = repr(time.time())
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", WRAP, "--db", str(db), "--feeds", str(feeds), "fetch", "-q"],
        env=env, cwd=tmp, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    marks = json.loads(out.read_text())
    marks["wall"] = time.time() - env_t0(env)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the process and its parse workers
    marks["cpu"] = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    return marks


def env_t0(env: dict[str, str]) -> float:
    return float(env["TIMELINE_T0"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--profile-lane", type=Path)
    args = parser.parse_args()
    if args.profile_lane:
        args.profile_lane.mkdir(parents=True, exist_ok=True)
    load = lambda: " ".join(Path("/proc/loadavg").read_text().split()[:3])  # noqa: E731
    print(f"{N_FEEDS} feeds / {N_HOSTS} hosts / {LATENCY * 1000:.0f} ms; load before {load()}")
    runs: dict[str, list[dict[str, float]]] = {"first": [], "again": []}
    with tempfile.TemporaryDirectory() as tmpdir, \
            HostsProcess(n_hosts=N_HOSTS, body=FEED.read_bytes(), latency=LATENCY) as hosts:  # fmt: skip
        tmp = Path(tmpdir)
        feeds = feeds_file(tmp, hosts.urls(N_FEEDS))
        one(args.tree, tmp / "warm.db", feeds, tmp, None)  # bytecode caches
        for r in range(args.runs):
            db = tmp / f"run{r}.db"
            for kind in ("first", "again"):
                runs[kind].append(one(args.tree, db, feeds, tmp, args.profile_lane))
    print(f"load after {load()}\nmedian seconds since the process was started:")
    keys = [k for k in [*ORDER, "wall", "cpu"] if any(k in m for ms in runs.values() for m in ms)]
    print(f"  {'phase':11}" + "".join(f"{k:>8}" for k in runs))
    for k in keys:
        cells = [[m[k] for m in ms if k in m] for ms in runs.values()]
        print(f"  {k:11}" + "".join(f"{statistics.median(c):8.3f}" if c else f"{'-':>8}"
                                    for c in cells))  # fmt: skip


if __name__ == "__main__":
    main()
