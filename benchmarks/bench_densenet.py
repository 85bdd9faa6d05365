"""DenseNet training speed and memory: plain vs memory-efficient (Pleiss et al.), and fp32 eager
vs bf16 autocast / channels_last / torch.compile.

    python benchmarks/bench_densenet.py                 # CUDA when present, else a CPU run
    python benchmarks/bench_densenet.py --json out.json
    python benchmarks/bench_densenet.py --skip-deepest  # GPU: leave out the depth search

The model is the paper's DenseNet-BC L=100, k=12 on 32 px inputs at batch 64
(Huang et al. Table 2; Pleiss et al.'s benchmark). One training step = forward,
cross-entropy, backward, SGD (Nesterov) step; warm-up steps excluded, CUDA
synchronised. Random inputs: speed and memory do not depend on the pixels.

GPU: images/s, peak memory of a step (torch.cuda.max_memory_allocated) and
"activation memory" = that peak minus what was allocated before the forward
pass (parameters and momentum buffers; gradients are set to None between
steps). Then the deepest DenseNet-BC (k=12) whose training step at batch 64
peaks within 8 GiB allocated by PyTorch (the CUDA context, ~0.5 GiB, comes on top), in
each mode (fp32 eager), by doubling then bisection over depths 6n+4.

CPU: images/s of a few steps, and the bytes autograd holds for backward after
the forward pass (reproductions.densenet.measure: saved tensors outside
recomputed regions + the dense layers' inputs) — device independent, so the
plain/efficient ratio is the real one for this model and batch.

Targets (issue 8): efficient ≤ 40 % of the plain mode's peak activation memory
at ≤ 20 % extra time; the best optimised path ≥ 2× fp32 eager throughput.
Pleiss et al. report 2.86 GB (naive) vs 1.61 GB (efficient) for this model at
batch 64, with 15–20 % extra time.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reproductions.common.runtime import describe_device, select_device, sync  # noqa: E402
from reproductions.densenet.measure import held_for_backward  # noqa: E402
from reproductions.densenet.model import count_parameters, densenet  # noqa: E402

GIB = 2**30
MIB = 2**20


def make_step(model, opt, x, y, *, bf16: bool):
    def step() -> None:
        opt.zero_grad(set_to_none=True)
        ctx = torch.autocast(x.device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
        with ctx:
            logits = model(x)
        F.cross_entropy(logits.float(), y).backward()
        opt.step()

    return step


def bench_step(
    depth: int, growth: int, batch: int, device: torch.device, *, efficient: bool,
    bf16: bool = False, channels_last: bool = False, compile_: bool = False,
    iters: int = 20, warmup: int = 3,
) -> dict:  # fmt: skip
    torch.manual_seed(0)
    model = densenet(depth, growth, bc=True, efficient=efficient).to(device)
    x = torch.randn(batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(
        model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4
    )
    net = torch.compile(model) if compile_ else model
    step = make_step(net, opt, x, y, bf16=bf16)
    for _ in range(warmup):
        step()
    sync(device)
    row: dict = {}
    if device.type == "cuda":
        opt.zero_grad(set_to_none=True)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        step()
        sync(device)
        peak = torch.cuda.max_memory_allocated(device)
        row.update(peak_mib=round(peak / MIB, 1), activation_mib=round((peak - base) / MIB, 1))
    start = time.perf_counter()
    for _ in range(iters):
        step()
    sync(device)
    seconds = time.perf_counter() - start
    if iters:
        row.update(
            images_per_s=round(batch * iters / seconds, 1),
            ms_per_step=round(1000 * seconds / iters, 2),
        )
    del model, net, opt, x, y
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return row


def peak_gib(depth: int, efficient: bool, device: torch.device, batch: int) -> float:
    """Peak memory of one fp32 training step (after one warm-up step), GiB; inf when it runs out."""
    try:
        row = bench_step(depth, 12, batch, device, efficient=efficient, iters=0, warmup=1)
        return row["peak_mib"] / 1024
    except torch.OutOfMemoryError:
        torch.cuda.empty_cache()
        return float("inf")


def deepest_within(limit_gib: float, efficient: bool, device: torch.device, batch: int) -> dict:
    """Largest n (depth 6n+4) whose step peaks within limit_gib: doubling, then bisection."""
    probes: dict[int, float] = {}

    def fits(n: int) -> bool:
        probes[n] = peak_gib(6 * n + 4, efficient, device, batch)
        print(f"    depth {6 * n + 4:5d}: peak {probes[n]:.2f} GiB", file=sys.stderr)
        return probes[n] <= limit_gib

    lo, hi = 0, 16
    while fits(hi):
        lo, hi = hi, hi * 2
        if hi > 4096:
            break
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return {
        "mode": "efficient" if efficient else "plain",
        "deepest_depth": 6 * lo + 4 if lo else None,
        "peak_gib": round(probes.get(lo, float("nan")), 3),
        "next_depth": 6 * hi + 4,
        "next_peak_gib": round(probes[hi], 3)
        if probes.get(hi, float("inf")) < float("inf")
        else "OOM",
        "parameters": count_parameters(densenet(6 * lo + 4, 12, bc=True, device="meta"))
        if lo
        else None,
    }


def run_gpu(device: torch.device, args: argparse.Namespace) -> dict:
    variants = [
        ("fp32 eager", {}),
        ("bf16 autocast", {"bf16": True}),
        ("fp32 channels_last", {"channels_last": True}),
        ("bf16 + channels_last", {"bf16": True, "channels_last": True}),
        ("bf16 + channels_last + compile", {"bf16": True, "channels_last": True, "compile_": True}),
    ]
    rows = []
    for name, kw in variants:
        for efficient in (False, True):
            try:
                row = bench_step(
                    args.depth, args.growth, args.batch, device, efficient=efficient,
                    iters=args.iters, warmup=10 if kw.get("compile_") else 3, **kw,
                )  # fmt: skip
            except Exception as e:  # noqa: BLE001 - a variant that fails is reported, not fatal
                row = {"error": f"{type(e).__name__}: {str(e)[:200]}"}
            row = {"variant": name, "mode": "efficient" if efficient else "plain", **row}
            rows.append(row)
            print(f"  {name:32s} {row['mode']:9s} {row}", file=sys.stderr)
    out: dict = {"steps": rows}
    by = {(r["variant"], r["mode"]): r for r in rows if "error" not in r}
    plain, eff = by.get(("fp32 eager", "plain")), by.get(("fp32 eager", "efficient"))
    if plain and eff:
        out["efficient_vs_plain_fp32"] = {
            "activation_ratio": round(eff["activation_mib"] / plain["activation_mib"], 3),
            "extra_time": round(plain["images_per_s"] / eff["images_per_s"] - 1, 3),
        }
    for mode in ("plain", "efficient"):
        base = by.get(("fp32 eager", mode))
        best = max(
            (r for (v, m), r in by.items() if m == mode),
            key=lambda r: r["images_per_s"],
            default=None,
        )
        if base and best:
            out[f"best_{mode}"] = {
                "variant": best["variant"], "images_per_s": best["images_per_s"],
                "speedup_vs_fp32_eager": round(best["images_per_s"] / base["images_per_s"], 2),
            }  # fmt: skip
    if not args.skip_deepest:
        out["deepest_within_8gib"] = [
            deepest_within(8.0, eff_mode, device, args.batch) for eff_mode in (False, True)
        ]
    return out


def run_cpu(device: torch.device, args: argparse.Namespace) -> dict:
    torch.manual_seed(0)
    model = densenet(args.depth, args.growth, bc=True)
    x = torch.randn(args.batch, 3, 32, 32)
    held = {}
    for efficient in (False, True):
        model.set_efficient(efficient)
        held["efficient" if efficient else "plain"] = held_for_backward(model, x)
    rows = []
    for efficient in (False, True):
        row = bench_step(
            args.depth, args.growth, args.batch, device, efficient=efficient,
            iters=args.iters, warmup=1,
        )  # fmt: skip
        rows.append({"mode": "efficient" if efficient else "plain", **row})
        print(f"  {rows[-1]}", file=sys.stderr)
    return {
        "held_for_backward_mib": {k: round(v / MIB, 1) for k, v in held.items()},
        "activation_ratio": round(held["efficient"] / held["plain"], 3),
        "steps": rows,
        "extra_time": round(rows[0]["images_per_s"] / rows[1]["images_per_s"] - 1, 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--depth", type=int, default=100, help="DenseNet-BC depth (6n+4)")
    p.add_argument("--growth", type=int, default=12)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--iters", type=int, default=None, help="timed steps (GPU 50, CPU 2)")
    p.add_argument("--skip-deepest", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    device = select_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.iters is None:
        args.iters = 50 if device.type == "cuda" else 2
    print(
        f"DenseNet-BC L={args.depth} k={args.growth}, batch {args.batch}, on {describe_device(device)}",
        file=sys.stderr,
    )
    result = run_gpu(device, args) if device.type == "cuda" else run_cpu(device, args)
    report = {
        "device": describe_device(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "model": f"DenseNet-BC L={args.depth} k={args.growth}",
        "parameters": count_parameters(densenet(args.depth, args.growth, bc=True, device="meta")),
        "batch": args.batch,
        **result,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
