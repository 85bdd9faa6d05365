"""Images in: any folder of photos for training, and generated pictures for the demo.

Johnson et al. train on the 80k images of MS-COCO 2014 train (§4.1); any
folder of photos works the same way here. Nothing is downloaded.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from reproductions.common.images import (
    ImageError,
    image_files,
    open_rgb,
    resize_crop,
    save_image,
    to_tensor,
)


class ImageFolder(Dataset):
    """Every image under `root` (recursively), scaled and centre-cropped to size × size.

    A file Pillow cannot read is skipped with a warning (one bad file does not
    end a long training run); a folder with no images at all is an error."""

    def __init__(self, root: Path, size: int):
        self.root = Path(root)
        if not self.root.is_dir():
            raise ImageError(f"{self.root}: not a folder — --images takes a folder of photos")
        self.files = image_files([self.root])
        if not self.files:
            raise ImageError(f"{self.root}: no images (.jpg, .png, …) found in it or below it")
        self.size = size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> Tensor:
        for attempt in range(len(self.files)):
            path = self.files[(index + attempt) % len(self.files)]
            try:
                return to_tensor(resize_crop(open_rgb(path), self.size))  # (3, size, size)
            except ImageError as e:
                warnings.warn(f"skipping {e}", stacklevel=2)
        raise ImageError(f"{self.root}: none of the {len(self.files)} images could be read")


def _grid(h: int, w: int) -> tuple[Tensor, Tensor]:
    ys = torch.linspace(0, 1, h).view(h, 1).expand(h, w)
    xs = torch.linspace(0, 1, w).view(1, w).expand(h, w)
    return ys, xs


def demo_content(size: int = 512, seed: int = 0) -> Tensor:
    """A small landscape: sky, sun, two ranges of hills, a lake with a reflection. (1, 3, H, W)."""
    g = torch.Generator().manual_seed(seed)
    h, w = size * 3 // 4, size
    y, x = _grid(h, w)
    phase = float(torch.rand((), generator=g)) * math.tau
    sky = torch.stack([0.35 + 0.4 * y, 0.55 + 0.3 * y, 0.95 - 0.2 * y])  # (3, H, W)
    img = sky.clone()
    sun = ((x - 0.72) ** 2 + ((y - 0.22) * 0.75) ** 2).sqrt() < 0.08
    img[:, sun] = torch.tensor([1.0, 0.85, 0.35]).view(3, 1)
    far = 0.45 + 0.06 * torch.sin(x * 9 + phase) + 0.03 * torch.sin(x * 23)
    near = 0.58 + 0.08 * torch.sin(x * 5 + 2 * phase) + 0.02 * torch.sin(x * 31)
    img[:, y > far] = torch.tensor([0.35, 0.45, 0.6]).view(3, 1)
    img[:, y > near] = torch.tensor([0.2, 0.5, 0.22]).view(3, 1)
    lake = y > 0.78
    img[:, lake] = torch.tensor([0.2, 0.35, 0.6]).view(3, 1) + 0.08 * torch.sin(y[lake] * 180)
    tree_x = 0.15 + 0.7 * torch.rand(5, generator=g)
    for tx in tree_x:  # triangles of dark green on the near hills
        trunk_top = 0.55
        body = (y > trunk_top) & (y < 0.75) & ((x - tx).abs() < (y - trunk_top) * 0.25)
        img[:, body] = torch.tensor([0.08, 0.3, 0.12]).view(3, 1)
    noise = 0.03 * torch.randn(3, h, w, generator=g)
    return (img + noise).clamp(0, 1).unsqueeze(0)


def demo_style(size: int = 512, seed: int = 1) -> Tensor:
    """Swirling brush-stroke colour bands on a dark ground, like a night sky painting. (1, 3, H, W)."""
    g = torch.Generator().manual_seed(seed)
    h = w = size
    y, x = _grid(h, w)
    img = torch.zeros(3, h, w)
    palette = torch.tensor([[0.1, 0.2, 0.55], [0.95, 0.8, 0.2], [0.3, 0.6, 0.9], [0.05, 0.1, 0.3]])
    for _ in range(6):
        cx, cy = torch.rand(2, generator=g).tolist()
        r = ((x - cx) ** 2 + (y - cy) ** 2).sqrt()
        theta = torch.atan2(y - cy, x - cx)
        swirl = torch.sin(theta * 3 + r * 40 + 5 * torch.sin(r * 8))
        img += (
            swirl.unsqueeze(0) * palette[int(torch.randint(4, (), generator=g))].view(3, 1, 1) / 3
        )
    strokes = torch.sin(x * 120 + 10 * torch.sin(y * 14)) * torch.sin(
        y * 90 + 8 * torch.sin(x * 11)
    )
    img = 0.45 + 0.5 * img + 0.12 * strokes.unsqueeze(0)
    return img.clamp(0, 1).unsqueeze(0)


def write_demo_images(folder: Path, size: int) -> tuple[Path, Path]:
    """Save the demo content and style pictures as PNGs; returns their paths."""
    content = save_image(demo_content(size), Path(folder) / "demo-content.png")
    style = save_image(demo_style(size), Path(folder) / "demo-style.png")
    return content, style


def write_demo_photos(folder: Path, count: int, size: int) -> Path:
    """A folder of `count` generated landscapes, for a dry run of training."""
    for i in range(count):
        save_image(demo_content(size, seed=i), Path(folder) / f"photo-{i:03d}.png")
    return Path(folder)
