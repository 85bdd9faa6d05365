"""Image files <-> tensors through Pillow (no torchvision, no numpy).

Tensors are float32 RGB in [0, 1], shaped (1, 3, H, W) for one image.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"})


class ImageError(ValueError):
    """An image that cannot be read or written; the message names the file."""


def open_rgb(path: Path) -> Image.Image:
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError) as e:
        raise ImageError(f"{path}: not an image Pillow can read ({e})") from None


def resize_longest(img: Image.Image, size: int | None) -> Image.Image:
    """Scale so the longer side is `size` pixels (aspect kept); None keeps the size."""
    if not size or max(img.size) == size:
        return img
    w, h = img.size
    scale = size / max(w, h)
    return img.resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS
    )


def resize_crop(img: Image.Image, size: int) -> Image.Image:
    """Scale the shorter side to `size`, then centre-crop to size x size."""
    w, h = img.size
    scale = size / min(w, h)
    img = img.resize(
        (max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BILINEAR
    )
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    return img.crop((left, top, left + size, top + size))


def to_tensor(img: Image.Image) -> torch.Tensor:
    """Pillow RGB image -> (3, H, W) float in [0, 1]."""
    w, h = img.size
    data = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
    return data.view(h, w, 3).permute(2, 0, 1).float().div_(255).contiguous()


def to_pil(tensor: torch.Tensor) -> Image.Image:
    """(3, H, W) or (1, 3, H, W) float in [0, 1] -> Pillow RGB image (clamped)."""
    if tensor.dim() == 4:
        if tensor.shape[0] != 1:
            raise ValueError(f"to_pil takes one image, got a batch of {tensor.shape[0]}")
        tensor = tensor[0]
    pixels = tensor.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    hwc = pixels.permute(1, 2, 0).contiguous().cpu()
    return Image.frombytes("RGB", (hwc.shape[1], hwc.shape[0]), bytes(hwc.untyped_storage()))


def load_image(path: Path | str, size: int | None = None) -> torch.Tensor:
    """Read an image as (1, 3, H, W), its longer side scaled to `size` when given."""
    return to_tensor(resize_longest(open_rgb(Path(path)), size)).unsqueeze(0)


def save_image(tensor: torch.Tensor, path: Path | str) -> Path:
    """Write one image atomically (a half-written file never replaces a good one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"{path}: unknown image type {path.suffix!r} — use .png or .jpg")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        to_pil(tensor).save(tmp, format=fmt)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def image_files(paths: Iterable[Path | str]) -> list[Path]:
    """Files named, and the images inside folders named (sorted, so video frames keep order)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(
                f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()
            )
        elif p.exists():
            out.append(p)
        else:
            raise ImageError(f"{p}: no such file or folder")
    return out
