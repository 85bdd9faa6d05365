"""Style transfer speed: Gatys et al. (L-BFGS over pixels) and Johnson et al.'s fast network.

    python benchmarks/bench_style_transfer.py                # CUDA when present, else a small CPU run
    python benchmarks/bench_style_transfer.py --json out.json

Gatys: wall time of N L-BFGS steps at one size (VGG-19, average pooling, the
paper's layers). Fast: milliseconds per image of the transformation network at
each size, batch 1 and batched, for fp32 eager, bf16 autocast, channels_last
and torch.compile; warm-up excluded, CUDA synchronised, mean over many calls.
Weights are random: speed does not depend on their values. Johnson et al. (§4.1,
Table 2) report 15 / 50 / 210 ms per image at 256 / 512 / 1024 px on a GTX Titan X.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reproductions.common.runtime import describe_device, select_device, sync  # noqa: E402
from reproductions.style_transfer.fast import TransformerNet  # noqa: E402
from reproductions.style_transfer.model import GatysObjective, stylize  # noqa: E402
from reproductions.style_transfer.run import GatysConfig  # noqa: E402
from reproductions.style_transfer.vgg import VGGFeatures  # noqa: E402

PAPER_MS = {256: 15.0, 512: 50.0, 1024: 210.0}  # Johnson et al. Table 2, GTX Titan X


def bench_gatys(device: torch.device, size: int, steps: int) -> dict:
    torch.manual_seed(0)
    cfg = GatysConfig(size=size, steps=steps)
    net = VGGFeatures("vgg19", pooling="avg", last_layer="relu5_1").to(device)
    content = torch.rand(1, 3, size, size, device=device)
    style = torch.rand(1, 3, size, size, device=device)
    objective = GatysObjective(net, content, style, cfg)
    stylize(objective, torch.rand_like(content), steps=2)  # warm-up (kernels, allocator)
    sync(device)
    start = time.perf_counter()
    stylize(objective, torch.rand_like(content), steps=steps, optimizer="lbfgs")
    sync(device)
    seconds = time.perf_counter() - start
    return {
        "size": size,
        "steps": steps,
        "seconds": round(seconds, 3),
        "ms_per_step": round(1000 * seconds / steps, 2),
    }


def time_net(net, x: torch.Tensor, *, bf16: bool, iters: int, warmup: int) -> float:
    """Mean milliseconds per call."""
    device = x.device
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
    with torch.inference_mode(), autocast:
        for _ in range(warmup):
            net(x)
        sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            net(x)
        sync(device)
    return 1000 * (time.perf_counter() - start) / iters


def bench_fast(
    device: torch.device, sizes: list[int], batch: int, iters: int, compile_: bool
) -> list[dict]:
    torch.manual_seed(0)
    base = TransformerNet().to(device).eval()
    variants = [("fp32", False, False, False), ("bf16", True, False, False),
                ("fp32+channels_last", False, True, False), ("bf16+channels_last", True, True, False)]  # fmt: skip
    if compile_:
        variants += [("bf16+channels_last+compile", True, True, True)]
    rows = []
    for size in sizes:
        for b in sorted({1, batch}):
            x = torch.rand(b, 3, size, size, device=device)
            for name, bf16, cl, comp in variants:
                net = base
                xi = x
                if cl:
                    net = TransformerNet().to(device).eval()
                    net.load_state_dict(base.state_dict())
                    net = net.to(memory_format=torch.channels_last)
                    xi = x.contiguous(memory_format=torch.channels_last)
                if comp:
                    net = torch.compile(
                        net,
                        mode="max-autotune-no-cudagraphs" if device.type == "cuda" else "default",
                    )
                n = (
                    max(3, iters // b)
                    if device.type == "cuda"
                    else max(2, iters // (b * max(1, size // 128)))
                )
                ms = time_net(net, xi, bf16=bf16, iters=n, warmup=3 if not comp else 5)
                rows.append({"size": size, "batch": b, "variant": name, "ms_per_call": round(ms, 3),
                             "ms_per_image": round(ms / b, 3), "iters": n})  # fmt: skip
                print(
                    f"  {size:5d} px  batch {b:3d}  {name:28s} {ms / b:9.3f} ms/image",
                    file=sys.stderr,
                )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        help="fast-network sizes (CUDA 256 512 1024; CPU 64 128 256)",
    )
    p.add_argument("--batch", type=int, help="batched run size (CUDA 16, CPU 4)")
    p.add_argument("--iters", type=int, help="calls per measurement (CUDA 100, CPU 8)")
    p.add_argument("--gatys-size", type=int, help="Gatys image size (CUDA 512, CPU 64)")
    p.add_argument("--gatys-steps", type=int, help="Gatys L-BFGS steps (CUDA 300, CPU 20)")
    p.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add torch.compile (default: on CUDA)",
    )
    p.add_argument("--json", type=Path, help="also write the results here")
    a = p.parse_args()
    device = select_device(a.device)
    gpu = device.type == "cuda"
    if gpu:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    sizes = a.sizes or ([256, 512, 1024] if gpu else [64, 128, 256])
    batch = a.batch or (16 if gpu else 4)
    iters = a.iters or (100 if gpu else 8)
    compile_ = gpu if a.compile is None else a.compile
    print(f"device: {describe_device(device)}; torch {torch.__version__}", file=sys.stderr)

    gatys = bench_gatys(
        device, a.gatys_size or (512 if gpu else 64), a.gatys_steps or (300 if gpu else 20)
    )
    print(f"Gatys: {gatys}", file=sys.stderr)
    fast_rows = bench_fast(device, sizes, batch, iters, compile_)

    print(f"\n## Style transfer on {describe_device(device)}\n")
    print(f"Gatys et al., {gatys['size']} px, {gatys['steps']} L-BFGS steps: **{gatys['seconds']:.2f} s** "
          f"({gatys['ms_per_step']:.1f} ms/step)\n")  # fmt: skip
    print(
        "| size | batch | fp32 eager ms/image | best ms/image | best variant | paper (Titan X) | × faster than paper |"
    )
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        for b in sorted({1, batch}):
            group = [r for r in fast_rows if r["size"] == size and r["batch"] == b]
            eager = next(r for r in group if r["variant"] == "fp32")
            best = min(group, key=lambda r: r["ms_per_image"])
            paper = PAPER_MS.get(size)
            speedup = f"{paper / best['ms_per_image']:.3g}×" if paper else "—"
            print(f"| {size} | {b} | {eager['ms_per_image']:.2f} | {best['ms_per_image']:.2f} | {best['variant']} | "
                  f"{paper if paper else '—'} | {speedup} |")  # fmt: skip
    result = {
        "device": describe_device(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "gatys": gatys,
        "fast": fast_rows,
        "paper_ms": PAPER_MS,
    }
    print("\n" + json.dumps(result))
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
