"""One dead host in a fetch (issue 18 item 11): the whole `papertrail fetch`, as a
process, with and without a host that accepts connections and never answers.

40 healthy feeds on 20 loopback hosts (127.0.0.2 … 127.0.0.21, 200 ms latency,
the recorded OpenAI blog feed) and, in the "dead" runs, 4 more feeds on
127.0.0.250, which accepts and never answers. `timeout: 2` s, `max_retries: 2`
(the default), at the default concurrency (64) and at `concurrency: 4` (the
case where sources queued behind the dead host held the slots). Each round runs
every case once, interleaved, each with a fresh database; this tree and, with
--anchor, another one (the revision before the fix) alike.

    git archive 7879852 papertrail | tar -x -C /tmp/anchor   # the revision before
    python benchmarks/bench_dead_host.py --anchor /tmp/anchor [--rounds 3]

Reported: the median wall time per tree and case, and "dead - alive": what the
dead host adds to the fetch (the goal: about one timeout, 2 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import yaml  # noqa: E402
from loopback_hosts import HostsProcess  # noqa: E402

FEED = ROOT / "tests" / "fixtures" / "feeds" / "ml-blogs" / "jmamath-distill__openai_blog.xml"
TIMEOUT = 2.0
DEAD_HOST = "127.0.0.250"


class Silent:
    """Accepts every connection on DEAD_HOST and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((DEAD_HOST, 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)


def feeds_file(tmp: Path, urls: list[str], concurrency: int) -> Path:
    data = yaml.safe_load((ROOT / "feeds.yml").read_text(encoding="utf-8"))
    data["sources"] = [{"name": f"f{i:02d}", "kind": "feed", "url": u} for i, u in enumerate(urls)]
    data["settings"] = {"timeout": TIMEOUT, "max_retries": 2, "concurrency": concurrency}
    path = tmp / f"feeds-{len(urls)}-{concurrency}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run(tree: Path, feeds: Path, tmp: Path) -> float:
    db = tmp / f"r{time.monotonic_ns()}.db"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "papertrail", "--db", str(db), "--feeds", str(feeds), "fetch", "-q"],
        env=env,
        cwd=tmp,  # not the checkout: `-m` would import the package in the cwd
        capture_output=True,
        check=False,
        timeout=300,
    )  # fmt: skip  (exit code 1 = some sources failed: expected with the dead host)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchor", type=Path, help="another tree to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = {"this tree": ROOT} | ({"anchor": args.anchor} if args.anchor else {})
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    silent = Silent()
    dead_urls = [f"http://{DEAD_HOST}:{silent.port}/feed/{i}.xml" for i in range(4)]
    times: dict[tuple[str, str], list[float]] = {}
    with HostsProcess(n_hosts=20, body=FEED.read_bytes(), latency=0.2) as hosts, \
            tempfile.TemporaryDirectory() as tmpdir:  # fmt: skip
        tmp = Path(tmpdir)
        alive = hosts.urls(40)
        cases = {
            f"{kind} c={c}": feeds_file(tmp, (dead_urls if kind == "dead" else []) + alive, c)
            for c in (64, 4)
            for kind in ("alive", "dead")
        }
        for r in range(args.rounds):
            order = list(trees.items()) if r % 2 == 0 else list(trees.items())[::-1]
            for label, tree in order:
                for case, feeds in cases.items():
                    times.setdefault((label, case), []).append(run(tree, feeds, tmp))
    print(f"load average after:  {Path('/proc/loadavg').read_text().strip()}")
    print(
        f"\nmedian wall time of `papertrail fetch` over {args.rounds} rounds (timeout {TIMEOUT:g} s)"
    )
    for label in trees:
        for c in (64, 4):
            a = statistics.median(times[(label, f"alive c={c}")])
            d = statistics.median(times[(label, f"dead c={c}")])
            print(f"  {label:9}  concurrency {c:2}: alive {a:5.2f} s  dead {d:5.2f} s  "
                  f"dead - alive {d - a:+5.2f} s ({(d - a) / TIMEOUT:.1f} x timeout)")  # fmt: skip


if __name__ == "__main__":
    main()
