"""MemN2N on the six generated bAbI tasks: test error per task and wall time.

    python benchmarks/bench_memn2n.py                                  # 1k, PE LS RN joint, best of 10
    python benchmarks/bench_memn2n.py --train-size 10k --restarts 2 --json out.json
    python benchmarks/bench_memn2n.py --per-task --restarts 3            # one model per task

Generates tasks 1, 2, 3, 6, 11, 12 with the project's bAbI simulator (seeded),
trains as `papertrail repro memn2n --generate --ls --rn [--joint]` does, and
prints the test error table next to the paper's (Table 1, best of 10). Runs on
one CPU thread (the model is tiny); the machine is printed with the result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reproductions.common import RunContext  # noqa: E402
from reproductions.memn2n.run import Args, run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="1,2,3,6,11,12")
    parser.add_argument("--train-size", choices=["1k", "10k"], default="1k")
    parser.add_argument("--per-task", action="store_true", help="one model per task (d = 20)")
    parser.add_argument("--encoding", choices=["pe", "bow"], default="pe")
    parser.add_argument("--no-ls-rn", action="store_true", help="plain training (the BoW row)")
    parser.add_argument("--restarts", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the results here")
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    args = Args(
        tasks=opts.tasks,
        generate=True,
        train_size=opts.train_size,
        encoding=opts.encoding,
        ls=not opts.no_ls_rn,
        rn=not opts.no_ls_rn,
        joint=not opts.per_task,
        restarts=opts.restarts,
        show_attention=1,
    )
    with tempfile.TemporaryDirectory() as tmp:
        ctx = RunContext(
            artifacts=Path(tmp), seed=opts.seed, device="cpu",
            on_progress=lambda task, done, total, m: print(f"{task}: epoch {done}/{total} {m}", file=sys.stderr, flush=True),
        )  # fmt: skip
        start, cpu = time.perf_counter(), time.process_time()
        result = run(args, ctx)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{opts.threads} torch thread(s), torch {torch.__version__}, Python {platform.python_version()}"
    )
    print(f"\n{result.headline}\nwall time {wall:.0f} s, CPU time {cpu:.0f} s, on {machine}")
    if opts.json:
        out = {"args": vars(opts) | {"json": str(opts.json)}, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
               "machine": machine, "metrics": result.metrics}  # fmt: skip
        opts.json.write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
