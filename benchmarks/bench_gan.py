"""DCGAN training speed: iterations/s of the 64 px model (Radford et al. Fig. 1) at batch 64 and 256.

    python benchmarks/bench_gan.py                      # CUDA when present, else a small CPU run
    python benchmarks/bench_gan.py --json out.json --width 128 --batches 64 256

One iteration is what `reproductions/dcgan/train.py` does per step: a
discriminator update on a real and a generated batch, then a generator update
(Adam 2e-4, β1 0.5). Variants, all in the same process on the same model:
fp32 eager (the reference), bf16 autocast, channels_last, both, and both plus
torch.compile of G and D. Warm-up excluded, CUDA synchronised; the speed-up
is each variant's iterations/s over fp32 eager's at the same batch size.
Target (issue 6): best variant ≥ 2× fp32 eager.
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
from reproductions.dcgan.model import discriminator_loss, generator_loss  # noqa: E402
from reproductions.gan_common.nets import (  # noqa: E402
    ConvDiscriminator,
    ConvGenerator,
    init_dcgan_weights,
)

VARIANTS = [
    # name, bf16, channels_last, compile
    ("fp32 eager", False, False, False),
    ("bf16 autocast", True, False, False),
    ("fp32 channels_last", False, True, False),
    ("bf16 + channels_last", True, True, False),
    ("bf16 + channels_last + compile", True, True, True),
]


def bench_variant(
    device: torch.device, size: int, width: int, batch: int, iters: int,
    bf16: bool, channels_last: bool, compile_: bool,
) -> float:  # fmt: skip
    """Training iterations per second."""
    torch.manual_seed(0)
    gen = ConvGenerator(100, 3, size, width).to(device)
    disc = ConvDiscriminator(3, size, width).to(device)
    gen.apply(init_dcgan_weights)
    disc.apply(init_dcgan_weights)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    gen, disc = gen.to(memory_format=fmt), disc.to(memory_format=fmt)
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    g, d = gen, disc
    if compile_:
        g, d = torch.compile(gen), torch.compile(disc)
    real = (torch.rand(batch, 3, size, size, device=device) * 2 - 1).contiguous(memory_format=fmt)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()

    def step() -> None:
        z = torch.randn(batch, 100, device=device)
        with autocast:
            fake = g(z)
            d_loss = discriminator_loss(d(real), d(fake.detach()))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        with autocast:
            g_loss = generator_loss(d(fake))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()

    for _ in range(5 if compile_ else 3):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        step()
    sync(device)
    return iters / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--size", type=int, help="image side (default 64; 32 on CPU)")
    p.add_argument(
        "--width", type=int, help="channels next to the image (default 128 = Fig. 1; 16 on CPU)"
    )
    p.add_argument("--batches", type=int, nargs="+", help="batch sizes (default 64 256; 8 on CPU)")
    p.add_argument("--iters", type=int, help="timed iterations per variant (default 50; 3 on CPU)")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile variant")
    p.add_argument("--json", type=Path)
    a = p.parse_args()
    device = select_device(a.device)
    cpu = device.type == "cpu"
    size = a.size or (32 if cpu else 64)
    width = a.width or (16 if cpu else 128)
    batches = a.batches or ([8] if cpu else [64, 256])
    iters = a.iters or (3 if cpu else 50)
    variants = [v for v in VARIANTS if not (v[3] and (a.no_compile or cpu))]
    if cpu:  # bf16 autocast on CPU is not what the GPU figure is about
        variants = [v for v in variants if not v[1]]
    rows = []
    for batch in batches:
        base = None
        for name, bf16, cl, comp in variants:
            its = bench_variant(device, size, width, batch, iters, bf16, cl, comp)
            base = base or its
            rows.append({"batch": batch, "variant": name, "iters_per_s": round(its, 2),
                         "images_per_s": round(its * batch, 1), "speedup": round(its / base, 2)})  # fmt: skip
            print(
                f"  batch {batch:4d}  {name:32s} {its:8.2f} it/s  ×{its / base:.2f}",
                file=sys.stderr,
            )
    out = {
        "device": describe_device(device), "torch": torch.__version__,
        "python": platform.python_version(), "size": size, "width": width, "iters": iters,
        "rows": rows,
    }  # fmt: skip
    print(json.dumps(out, indent=2))
    if a.json:
        a.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
