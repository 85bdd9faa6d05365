"""The 2-D mode-coverage table: modes captured / % high-quality samples, mean over seeds.

    python benchmarks/bench_gan_2d.py                                   # all methods, ring + grid, 5 seeds
    python benchmarks/bench_gan_2d.py --methods wgan-gp --datasets ring --seeds 2 --steps 1000
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_gan_2d.py --json /tmp/gan2d.json

Methods: `wgan-gp` and `wgan-clip` (`reproductions/wgan`), `gan` (the
DCGAN-style GAN of `reproductions/dcgan`: batch-norm MLPs, Adam 2e-4, β1 0.5,
non-saturating loss). Each run uses the reproduction's own 2-D configuration
(`papertrail repro show wgan|dcgan`, Toy2DConfig) unless --steps / --width /
--batch-size / --lr / --ema-decay override it; metric on 2,500 samples (VEEGAN /
PacGAN). The wgan methods are scored on the moving average of the generator's
weights (Toy2DConfig.ema_decay); the raw generator's figures are kept next to
them (`modes_raw`, `high_quality_pct_raw`).
Published bar (PacGAN 1712.04086, Table 2 there): GAN 6.3 / 98.2 (ring),
17.3 / 94.8 (grid); PacGAN4 7.8 / 95.9, 24.8 / 93.6.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reproductions.common.runtime import describe_device, seed_everything, select_device  # noqa: E402
from reproductions.dcgan import run as dcgan_run  # noqa: E402
from reproductions.dcgan import train as dcgan_train  # noqa: E402
from reproductions.gan_common.data import open_dataset  # noqa: E402
from reproductions.gan_common.loop import Monitor  # noqa: E402
from reproductions.wgan import run as wgan_run  # noqa: E402
from reproductions.wgan import train as wgan_train  # noqa: E402

METHODS = ("wgan-gp", "wgan-clip", "gan")
PUBLISHED = {
    "GAN (PacGAN Table 2)": {"ring": (6.3, 98.2), "grid": (17.3, 94.8)},
    "PacGAN4 (PacGAN Table 2)": {"ring": (7.8, 95.9), "grid": (24.8, 93.6)},
}


def one_run(method: str, dataset: str, seed: int, device: torch.device, overrides: dict) -> dict:
    if method == "gan":
        cfg = dcgan_run.resolve(dcgan_run.Args(dataset=dataset))
        module = dcgan_train
    else:
        mode = "gp" if method == "wgan-gp" else "clip"
        cfg = wgan_run.resolve(wgan_run.Args(mode=mode, dataset=dataset))
        module = wgan_train
    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    seed_everything(seed)
    with tempfile.TemporaryDirectory() as tmp:
        data = open_dataset(
            dataset, data_dir=None, image_size=32, device=device, seed=seed,
            dry_run=False, scratch=Path(tmp),
        )  # fmt: skip
        gen, critic = module.build(cfg, data)
        monitor = Monitor(Path(tmp), data, ["a", "b", "c", "d"], log_every=10**9)
        timing = module.train(
            cfg, gen, critic, data, device, monitor, torch.Generator().manual_seed(seed)
        )
        metrics, _ = monitor.finish(gen, device, [])
    row = {
        "method": method, "dataset": dataset, "seed": seed, "steps": cfg.steps,
        "width": cfg.width, "batch_size": cfg.batch_size, "lr": cfg.lr,
        "mlp_init": getattr(cfg, "mlp_init", "torch"), "ema_decay": getattr(cfg, "ema_decay", 0.0),
        "modes": metrics["modes"], "high_quality_pct": metrics["high_quality_pct"],
        "seconds": timing["seconds"],
    }  # fmt: skip
    if "modes_raw" in metrics:  # evaluated on the weight average: the raw weights' figures too
        row.update(
            modes_raw=metrics["modes_raw"], high_quality_pct_raw=metrics["high_quality_pct_raw"]
        )
    return row


def summarise(rows: list[dict]) -> dict:
    table: dict = {}
    for r in rows:
        table.setdefault(r["method"], {}).setdefault(r["dataset"], []).append(r)
    out: dict = {}
    for method, by_ds in table.items():
        for ds, rs in by_ds.items():
            modes = [r["modes"] for r in rs]
            hq = [r["high_quality_pct"] for r in rs]
            raw = [r["high_quality_pct_raw"] for r in rs if "high_quality_pct_raw" in r]
            out.setdefault(method, {})[ds] = {
                "seeds": len(rs),
                "modes_mean": round(statistics.mean(modes), 2),
                "modes_sd": round(statistics.pstdev(modes), 2),
                "high_quality_mean": round(statistics.mean(hq), 2),
                "high_quality_sd": round(statistics.pstdev(hq), 2),
                "steps": rs[0]["steps"],
                "ema_decay": rs[0]["ema_decay"],
                "seconds_mean": round(statistics.mean(r["seconds"] for r in rs), 1),
            }
            if len(raw) == len(rs):  # the raw (not averaged) generator's figures
                out[method][ds]["modes_raw_mean"] = round(
                    statistics.mean(r["modes_raw"] for r in rs), 2
                )
                out[method][ds]["high_quality_raw_mean"] = round(statistics.mean(raw), 2)
                out[method][ds]["high_quality_raw_sd"] = round(statistics.pstdev(raw), 2)
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--datasets", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--steps", type=int)
    p.add_argument("--width", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--ema-decay", type=float, help="wgan: β of G's weight average (0: off)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--json", type=Path, help="write the runs and the table here (rewritten after each run)"
    )
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    device = select_device(a.device)
    overrides = {"steps": a.steps, "width": a.width, "batch_size": a.batch_size, "lr": a.lr}
    if a.ema_decay is not None:
        if "gan" in a.methods:
            p.error("--ema-decay applies to the wgan methods only")
        overrides["ema_decay"] = a.ema_decay
    info = {
        "device": describe_device(device), "torch": torch.__version__,
        "python": platform.python_version(), "machine": platform.processor() or platform.machine(),
        "overrides": overrides, "published": PUBLISHED,
    }  # fmt: skip
    rows: list[dict] = []
    start = time.perf_counter()
    for method in a.methods:
        for dataset in a.datasets:
            for seed in range(a.first_seed, a.first_seed + a.seeds):
                r = one_run(method, dataset, seed, device, overrides)
                rows.append(r)
                raw = (
                    f" [raw G: {r['modes_raw']} / {r['high_quality_pct_raw']:.1f}%]"
                    if "modes_raw" in r
                    else ""
                )
                print(
                    f"{method:9s} {dataset:4s} seed {seed}: {r['modes']:2d} modes, "
                    f"{r['high_quality_pct']:5.1f}% high quality{raw}  ({r['steps']} steps, {r['seconds']:.0f} s)",
                    file=sys.stderr, flush=True,
                )  # fmt: skip
                if a.json:
                    a.json.write_text(
                        json.dumps({**info, "runs": rows, "table": summarise(rows)}, indent=2)
                    )
    table = summarise(rows)
    print(f"\n{info['device']}, {time.perf_counter() - start:.0f} s in all")
    print("| method | ring: modes / HQ % | grid: modes / HQ % |\n|---|---|---|")
    for method, by_ds in table.items():
        cells = []
        for ds in ("ring", "grid"):
            t = by_ds.get(ds)
            cells.append(
                f"{t['modes_mean']:.1f} ± {t['modes_sd']:.1f} / {t['high_quality_mean']:.1f} ± "
                f"{t['high_quality_sd']:.1f} ({t['seeds']} seeds, {t['steps']} steps)"
                if t
                else "—"
            )
        print(f"| {method} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
