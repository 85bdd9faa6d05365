"""`papertrail fetch` as a whole process against a bare 64-thread fetch (issue 19, rows 1-2).

200 feeds on 50 loopback hosts (127.0.0.2 ... 127.0.0.51, in a child process),
200 ms latency, each serving the recorded BAIR blog feed (61 KB, full-content
posts: 12 MB of XML in all). Every round runs, each as a fresh process
(interpreter start included), in an order that rotates between rounds:

- bare:   a 64-thread urllib fetch of the same 200 URLs, bodies read and dropped
          (the anchor: what the network and the interpreter cost, nothing else);
- first:  `papertrail fetch -q` into a fresh database;
- again:  `papertrail fetch -q` once more on that database: every feed answers
          304 to the stored ETag / Last-Modified, so 0 bodies.

Goals: first <= 2.0 s and <= 1.5x bare; again <= 1.2x bare, 0 bodies.
Reported: min and median of each over the rounds, the ratios of the medians
(and of the minima), the bodies the hosts sent, the load average before/after.

    python benchmarks/bench_fetch_process.py [--rounds 5] [--anchor TREE]
        [--again-only]    # row 2 alone: each tree's first fetch once, unmeasured; rounds
                          # of bare + `again` (every round on the same, unchanged database)
        [--profile DIR]   # also write cProfile + -X importtime of one first/again run

--anchor TREE (repeatable): run the same `papertrail fetch` from another checkout
too (e.g. `git archive main papertrail | tar -x -C /tmp/main`), interleaved.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import yaml  # noqa: E402
from loopback_hosts import HostsProcess  # noqa: E402

FEED = ROOT / "tests" / "fixtures" / "feeds" / "ml-blogs" / "jmamath-distill__bair_blog.xml"
N_FEEDS, N_HOSTS, LATENCY = 200, 50, 0.2
# The processes measured cache their bytecode (__pycache__), as an installed papertrail
# does: with PYTHONDONTWRITEBYTECODE set (as some shells here set it) every run would
# compile our ~80 modules from source, ~0.15 s that no user pays. A warm-up run per tree
# writes the caches before the rounds.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# The anchor: the plainest fetch Python can do, 64 threads, bodies read and dropped.
BARE = """
import sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return len(r.read())
urls = sys.stdin.read().split()
with ThreadPoolExecutor(64) as pool:
    n = sum(pool.map(get, urls))
print(n)
"""


def feeds_file(tmp: Path, urls: list[str]) -> Path:
    data = yaml.safe_load((ROOT / "feeds.yml").read_text(encoding="utf-8"))
    data["sources"] = [
        {"name": f"feed-{i:03d}", "kind": "feed", "url": u} for i, u in enumerate(urls)
    ]
    # No arXiv API here: the backfill of the mentioned papers would fail (and retry) on
    # every run; with internet a re-run finds none missing and makes no call.
    data["settings"] = {"timeout": 10, "mentions_backfill": False}
    path = tmp / "feeds.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def bare(urls: list[str]) -> float:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", BARE], input=" ".join(urls), capture_output=True, text=True,
        check=True, timeout=300, env=ENV,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    assert int(out.stdout) == len(urls) * FEED.stat().st_size, out.stdout
    return elapsed


def fetch(tree: Path, db: Path, feeds: Path, tmp: Path, prefix: list[str] | None = None) -> float:
    env = {**ENV, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, *(prefix or []), "-m", "papertrail"]
    started = time.perf_counter()
    done = subprocess.run(
        [*cmd, "--db", str(db), "--feeds", str(feeds), "fetch", "-q"],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )  # fmt: skip  (cwd: not the checkout, or `-m` would import the package found there)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or f"{N_FEEDS} sources ok" not in done.stdout + done.stderr:
        raise SystemExit(f"fetch failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def profile(tree: Path, urls: list[str], tmp: Path, hosts: HostsProcess, out: Path) -> None:
    """One first and one unchanged run under cProfile, and under -X importtime."""
    out.mkdir(parents=True, exist_ok=True)
    feeds = feeds_file(tmp, urls)
    for tag, extra in (
        ("cprofile", ["-m", "cProfile", "-o"]),
        ("importtime", ["-X", "importtime"]),
    ):
        db = tmp / f"profile-{tag}.db"
        for run in ("first", "again"):
            if tag == "cprofile":
                prefix = [*extra, str(out / f"{run}.prof")]
                # `-m cProfile -o F -m papertrail`: cProfile runs the module.
                fetch(tree, db, feeds, tmp, prefix)
            else:
                env = {**ENV, "PYTHONPATH": str(tree)}
                done = subprocess.run(
                    [sys.executable, "-X", "importtime", "-m", "papertrail", "--db", str(db),
                     "--feeds", str(feeds), "fetch", "-q"],
                    env=env, cwd=tmp, capture_output=True, text=True, check=False, timeout=300,
                )  # fmt: skip
                (out / f"importtime-{run}.txt").write_text(done.stderr, encoding="utf-8")
    print(f"profiles written to {out} (bodies sent: {hosts.stats.bodies_sent})")


def summary(label: str, xs: list[float], anchor: list[float] | None) -> str:
    text = f"  {label:14} min {min(xs):5.2f} s  median {statistics.median(xs):5.2f} s"
    if anchor:
        r_med = statistics.median(xs) / statistics.median(anchor)
        r_min = min(xs) / min(anchor)
        text += f"   = {r_med:4.2f}x bare (median)  {r_min:4.2f}x (min)"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--anchor", type=Path, action="append", default=[],
        help="another checkout to run alongside (repeatable; labelled by its folder name)",
    )  # fmt: skip
    parser.add_argument("--profile", type=Path, help="write profiles of one run here")
    parser.add_argument(
        "--again-only", action="store_true",
        help="measure only the unchanged re-fetch (each tree's first fetch once, unmeasured)",
    )  # fmt: skip
    args = parser.parse_args()
    trees = {"this": ROOT} | {p.resolve().name: p.resolve() for p in args.anchor}
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{N_FEEDS} feeds / {N_HOSTS} hosts / {LATENCY * 1000:.0f} ms, {FEED.name} "
          f"({FEED.stat().st_size / 1000:.0f} KB each)")  # fmt: skip
    print(f"load average before: {load()}")
    times: dict[str, list[float]] = {}
    bodies: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmpdir, \
            HostsProcess(n_hosts=N_HOSTS, body=FEED.read_bytes(), latency=LATENCY) as hosts:  # fmt: skip
        tmp = Path(tmpdir)
        urls = hosts.urls(N_FEEDS)
        feeds = feeds_file(tmp, urls)
        bare(urls)  # warm the page cache and the hosts once, unmeasured
        for label, tree in trees.items():  # unmeasured: writes the bytecode caches, and
            fetch(tree, tmp / f"{label}-again.db", feeds, tmp)  # --again-only's database
        for r in range(args.rounds):
            steps: list[tuple[str, Path | None]] = [("bare", None)]
            steps += [(label, tree) for label, tree in trees.items()]
            steps = steps[r % len(steps) :] + steps[: r % len(steps)]
            for label, tree in steps:
                if tree is None:
                    hosts.reset_stats()
                    times.setdefault("bare", []).append(bare(urls))
                    continue
                db = tmp / (f"{label}-again.db" if args.again_only else f"{label}-{r}.db")
                for run in ("again",) if args.again_only else ("first", "again"):
                    hosts.reset_stats()
                    times.setdefault(f"{label} {run}", []).append(fetch(tree, db, feeds, tmp))
                    bodies.setdefault(f"{label} {run}", []).append(hosts.stats.bodies_sent)
                if not args.again_only:
                    db.unlink()
            print(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in times.items()),
                  f"(load {load()})", flush=True)  # fmt: skip
        if args.profile:
            profile(ROOT, urls, tmp, hosts, args.profile)
    print(f"load average after:  {load()}")
    print(f"\nwall time over {args.rounds} rounds, whole processes (`papertrail fetch -q`):")
    print(summary("bare 64-thread", times["bare"], None))
    for key, xs in times.items():
        if key != "bare":
            print(summary(key, xs, times["bare"]) + f"   bodies {sorted(set(bodies[key]))}")


if __name__ == "__main__":
    main()
