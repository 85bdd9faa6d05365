"""MNIST-format IDX files the tests make themselves: digits 0–9 drawn with Pillow's font.

Each picture is one digit glyph (Pillow's built-in scalable font), at a random
size, place and slant, white on black at 28 × 28 — like MNIST, but printed,
not handwritten. Written as the four standard files (train-images-idx3-ubyte.gz,
train-labels-idx1-ubyte.gz, t10k-…), either split alone, or damaged.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from reproductions.gan_common.data import write_idx


def digits(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n digit pictures (N, 28, 28) uint8 and their labels (N,), labels cycling 0–9."""
    rng = random.Random(seed)
    images = torch.empty(n, 28, 28, dtype=torch.uint8)
    labels = torch.arange(n) % 10
    fonts = {size: ImageFont.load_default(size=size) for size in range(18, 25)}
    for i in range(n):
        img = Image.new("L", (28, 28), 0)
        draw = ImageDraw.Draw(img)
        x, y = 14 + rng.uniform(-2, 2), 14 + rng.uniform(-2, 2)
        draw.text((x, y), str(int(labels[i])), fill=255, font=fonts[rng.randint(18, 24)],
                  anchor="mm", stroke_width=rng.choice((0, 1)), stroke_fill=255)  # fmt: skip
        img = img.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR)
        images[i] = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(28, 28)
    return images, labels


def write_mnist(
    folder: Path, *, train: int = 0, test: int = 0, seed: int = 0, gz: bool = True
) -> Path:
    """The standard IDX files of the splits asked for (0: that split is left out)."""
    folder = Path(folder)
    ext = ".gz" if gz else ""
    for stem, n, s in (("train", train, seed), ("t10k", test, seed + 1)):
        if n:
            x, y = digits(n, s)
            write_idx(x, folder / f"{stem}-images-idx3-ubyte{ext}")
            write_idx(y, folder / f"{stem}-labels-idx1-ubyte{ext}")
    return folder
