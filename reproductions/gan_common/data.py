"""Real data for the GANs, as batches on the training device.

- 2-D mixtures (`toy.ring`, `toy.grid`): fresh samples every batch.
- MNIST from its real IDX files (LeCun et al.): gzip, big-endian header, magic
  0x00000803 for images and 0x00000801 for labels. Downloaded once into the
  cache (`PAPERTRAIL_CACHE`) and checked against its published SHA-256, or read
  from a local folder (`--data DIR`).
- any folder of images (PNG, JPEG …), scaled on the short side and centre-cropped.
- a small synthetic image set (bright strokes on black, MNIST-like) that the
  project draws itself for tests, demos and dry runs.

Images are kept as uint8 (N, C, S, S) and turned into floats in [-1, 1] (the
range of the generator's tanh) one batch at a time.
"""

from __future__ import annotations

import gzip
import math
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from reproductions.common.download import Checkpoint, cached_path, fetch_verified
from reproductions.common.images import ImageError, image_files, resize_crop
from reproductions.gan_common import toy

# torchvision's mirror of the MNIST files; the SHA-256 sums are the published
# ones (TensorFlow Datasets' checksums; the same bytes as yann.lecun.com's).
MNIST_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist"
MNIST = {
    "train-images": Checkpoint(
        f"{MNIST_MIRROR}/train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        9_912_422,
    ),
    "train-labels": Checkpoint(
        f"{MNIST_MIRROR}/train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        28_881,
    ),
    "t10k-images": Checkpoint(
        f"{MNIST_MIRROR}/t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        1_648_877,
    ),
    "t10k-labels": Checkpoint(
        f"{MNIST_MIRROR}/t10k-labels-idx1-ubyte.gz",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        4_542,
    ),
}
IDX_UBYTE = 0x08
GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "F"})


class DataError(ValueError):
    """Data that cannot be read; the message names the file and what to do."""


# ---------------------------------------------------------------- IDX files


def read_idx(path: Path) -> torch.Tensor:
    """An IDX file of unsigned bytes (gzip or plain) as a uint8 tensor of its dimensions."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DataError(f"{path}: a damaged gzip file ({e}) — download it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: not an IDX file (its first bytes are {raw[:4].hex()})")
    kind, ndim = raw[2], raw[3]
    if kind != IDX_UBYTE:
        raise DataError(
            f"{path}: IDX data of type 0x{kind:02x}; only unsigned bytes (0x08) are read"
        )
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    count = math.prod(dims)
    if len(raw) - header != count:
        raise DataError(
            f"{path}: the header says {' × '.join(map(str, dims))} = {count:,} bytes of data, "
            f"the file has {len(raw) - header:,} — it is truncated or damaged"
        )
    data = torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8)
    return data.view(*dims)


def write_idx(data: torch.Tensor, path: Path) -> Path:
    """Write uint8 data as IDX (gzip when the name ends in .gz): magic 0x0000 08 <ndim>, big-endian dims."""
    path = Path(path)
    data = data.to(torch.uint8).contiguous().cpu()
    raw = struct.pack(">BBBB", 0, 0, IDX_UBYTE, data.dim())
    raw += struct.pack(f">{data.dim()}I", *data.shape) + bytes(data.flatten().numpy().tobytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw, mtime=0) if path.suffix == ".gz" else raw)
    return path


def _mnist_file(folder: Path, stem: str) -> Path | None:
    """`train-images-idx3-ubyte(.gz)` or the unpacked `train-images.idx3-ubyte` spelling."""
    ndim = 3 if stem.endswith("images") else 1
    names = [f"{stem}-idx{ndim}-ubyte.gz", f"{stem}-idx{ndim}-ubyte", f"{stem}.idx{ndim}-ubyte"]
    return next((folder / n for n in names if (folder / n).is_file()), None)


SPLIT_STEMS = {"train": "train", "test": "t10k"}


def mnist_splits(folder: Path) -> list[str]:
    """The splits ("train", "test") whose images and labels files are both in `folder`."""
    return [
        split
        for split, stem in SPLIT_STEMS.items()
        if _mnist_file(Path(folder), f"{stem}-images")
        and _mnist_file(Path(folder), f"{stem}-labels")
    ]


def choose_split(folder: Path | None, split: str | None) -> str:
    """The split to read: the one asked for, else train, else the only one `folder` holds.

    DataError, saying what the folder holds, when the asked-for split is not there."""
    if split is not None and split not in SPLIT_STEMS:
        raise DataError(f"--split {split!r}: use train or test")
    if folder is None:
        return split or "train"
    held = mnist_splits(folder)
    if split is None:
        if not held:
            raise DataError(
                f"{folder}: no MNIST IDX files (looked for train-images-idx3-ubyte[.gz] / "
                "t10k-images-idx3-ubyte[.gz] and their labels files) — point --data at the "
                "folder holding them"
            )
        return "train" if "train" in held else held[0]
    if split not in held:
        stem = SPLIT_STEMS[split]
        has = (
            f"it holds only the {held[0]} split ({SPLIT_STEMS[held[0]]}-*); pass --split {held[0]}"
            if held
            else "it holds no MNIST split"
        )
        raise DataError(
            f"{folder}: no {stem}-images / {stem}-labels IDX files for --split {split} — {has}"
        )
    return split


def load_mnist(
    folder: Path | None = None,
    *,
    split: str = "train",
    download: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images (N, 1, 28, 28) uint8 and labels (N,) of `split` from `folder`, else the cache.

    Without `folder` the files are downloaded into the cache on first use and
    checked against their SHA-256 (`download=False` only looks there)."""
    stem = SPLIT_STEMS.get(split, split)
    stems = (f"{stem}-images", f"{stem}-labels")
    paths: list[Path] = []
    for stem in stems:
        if folder is not None:
            found = _mnist_file(Path(folder), stem)
            if found is None:
                raise DataError(
                    f"{folder}: no {stem} IDX file (looked for {stem}-idx?-ubyte[.gz]) — "
                    "point --data at the folder holding the MNIST files"
                )
            paths.append(found)
            continue
        checkpoint = MNIST[stem]
        cached = cached_path(checkpoint, "datasets/mnist")
        if not cached.exists() and not download:
            raise DataError(
                f"MNIST is not in the cache ({cached.parent}) and downloading is off — "
                f"pass --data DIR with the IDX files, or run without --dry-run to download"
            )
        paths.append(fetch_verified(checkpoint, cached, on_progress=on_progress))
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.dim() != 3 or labels.dim() != 1 or len(images) != len(labels):
        raise DataError(
            f"{paths[0]} / {paths[1]}: expected N×H×W images and N labels, got "
            f"{tuple(images.shape)} and {tuple(labels.shape)} — the two files do not belong "
            "together, or one is damaged"
        )
    if len(labels) and int(labels.max()) > 9:
        raise DataError(f"{paths[1]}: a label of {int(labels.max())}; MNIST's are 0–9")
    return images.unsqueeze(1), labels


# ---------------------------------------------------------------- image folders


def load_image_folder(folder: Path, size: int, limit: int | None = None) -> torch.Tensor:
    """Every image under `folder` as uint8 (N, C, size, size); C = 1 when all are grayscale."""
    files = image_files([folder])
    if not files:
        raise DataError(f"{folder}: no images there (looked for .png, .jpg, … in all subfolders)")
    if limit:
        files = files[:limit]
    modes = set()
    for f in files:  # headers only: Pillow reads pixels on load()
        try:
            with Image.open(f) as img:
                modes.add(img.mode)
        except (OSError, ValueError) as e:
            raise ImageError(f"{f}: not an image Pillow can read ({e})") from None
    mode = "L" if modes <= GRAY_MODES else "RGB"
    out = torch.empty(len(files), 1 if mode == "L" else 3, size, size, dtype=torch.uint8)
    for i, f in enumerate(files):
        try:
            with Image.open(f) as img:
                pic = resize_crop(img.convert(mode), size)
        except (OSError, ValueError) as e:
            raise ImageError(f"{f}: not an image Pillow can read ({e})") from None
        data = torch.frombuffer(bytearray(pic.tobytes()), dtype=torch.uint8)
        out[i] = data.view(size, size, -1).permute(2, 0, 1)
    return out


# ---------------------------------------------------------------- synthetic images


def synthetic_images(n: int, size: int = 28, seed: int = 0) -> torch.Tensor:
    """n MNIST-like pictures (N, 1, size, size) uint8: one or two bright strokes on black.

    Each is a ring, a bar or a cross at a random place and angle: a data set with
    a few clear modes, made here so tests and demos need no download."""
    rng = random.Random(seed)
    out = torch.empty(n, 1, size, size, dtype=torch.uint8)
    w = max(1, size // 9)
    for i in range(n):
        img = Image.new("L", (size, size), 0)
        draw = ImageDraw.Draw(img)
        cx, cy = (
            size / 2 + rng.uniform(-size / 8, size / 8),
            size / 2 + rng.uniform(-size / 8, size / 8),
        )
        r = rng.uniform(size / 5, size / 3)
        shape = i % 3
        if shape == 0:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=255, width=w)
        else:
            a = rng.uniform(0, math.pi)
            for angle in [a] if shape == 1 else [a, a + math.pi / 2]:
                dx, dy = r * math.cos(angle), r * math.sin(angle)
                draw.line((cx - dx, cy - dy, cx + dx, cy + dy), fill=255, width=w)
        out[i, 0] = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(size, size)
    return out


def write_synthetic_mnist(folder: Path, n: int = 64, seed: int = 0) -> Path:
    """The synthetic set as MNIST's real files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz)."""
    folder = Path(folder)
    images = synthetic_images(n, 28, seed)
    write_idx(images[:, 0], folder / "train-images-idx3-ubyte.gz")
    write_idx(torch.arange(n) % 3, folder / "train-labels-idx1-ubyte.gz")
    return folder


def write_synthetic_folder(folder: Path, n: int = 64, size: int = 28, seed: int = 0) -> Path:
    """The synthetic set as a folder of grayscale PNGs (like MNIST exported to images)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, pic in enumerate(synthetic_images(n, size, seed)):
        Image.frombytes("L", (size, size), bytes(pic[0].numpy().tobytes())).save(
            folder / f"{i:05d}.png"
        )
    return folder


# ---------------------------------------------------------------- batches


@dataclass
class RealData:
    """Where real batches come from: a 2-D mixture or a set of images on `device`."""

    name: str
    mixture: toy.Mixture | None = None
    images: torch.Tensor | None = None  # (N, C, S, S) uint8, on the device
    generator: torch.Generator | None = None
    split: str | None = None  # MNIST: the split trained on (train | test)

    @property
    def is_2d(self) -> bool:
        return self.mixture is not None

    @property
    def shape(self) -> tuple[int, ...]:
        return (2,) if self.images is None else tuple(self.images.shape[1:])

    def batch(self, n: int, device: torch.device) -> torch.Tensor:
        if self.mixture is not None:
            return self.mixture.sample(n, self.generator).to(device)  # (n, 2)
        assert self.images is not None
        idx = torch.randint(len(self.images), (n,), generator=self.generator).to(self.images.device)
        return self.images[idx].float().div_(127.5).sub_(1.0)  # (n, C, S, S) in [-1, 1]


def parse_dataset(text: str) -> tuple[str, Path | None]:
    """'ring' | 'grid' | 'mnist' | 'synthetic' | 'folder:PATH' -> (kind, path)."""
    if text.startswith("folder:"):
        path = Path(text.removeprefix("folder:")).expanduser()
        if not str(path) or text == "folder:":
            raise ValueError("--dataset folder:PATH needs a path after 'folder:'")
        return "folder", path
    if text in ("ring", "grid", "mnist", "synthetic"):
        return text, None
    raise ValueError(
        f"--dataset {text!r}: use ring, grid, mnist, synthetic or folder:PATH (a folder of images)"
    )


def resize_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (N, C, H, W) -> uint8 (N, C, size, size), bilinear with antialiasing, in chunks."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = torch.empty(*images.shape[:2], size, size, dtype=torch.uint8)
    for start in range(0, len(images), 4096):
        chunk = images[start : start + 4096].float()
        out[start : start + 4096] = (
            F.interpolate(
                chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False
            )
            .round_()
            .clamp_(0, 255)
            .to(torch.uint8)
        )
    return out


def open_dataset(
    spec: str,
    *,
    data_dir: Path | None,
    image_size: int,
    device: torch.device,
    seed: int,
    dry_run: bool,
    scratch: Path,
    log: Callable[[str], None] = print,
    on_progress: Callable[[int, int], None] | None = None,
    split: str | None = None,
) -> RealData:
    """The data a `--dataset` names, on `device`.

    A dry run never downloads: `mnist` without --data then reads a few synthetic
    pictures written to `scratch` as MNIST's real IDX files."""
    kind, path = parse_dataset(spec)
    generator = torch.Generator().manual_seed(seed)
    if kind in toy.MIXTURES:
        return RealData(kind, mixture=toy.MIXTURES[kind](), generator=generator)
    if kind == "mnist":
        folder = data_dir
        if folder is None and dry_run:
            folder = write_synthetic_mnist(scratch / "mnist-format", 64, seed)
            log(f"dry run: no download; wrote 64 synthetic pictures as MNIST IDX files in {folder}")
        chosen = choose_split(folder, split)
        if split is None and chosen != "train":
            log(f"{folder} holds only MNIST's {chosen} split: training on it")
        images, _ = load_mnist(folder, split=chosen, on_progress=on_progress)
        log(f"MNIST: {len(images):,} images of the {chosen} split from {folder or 'the cache'}")
        return RealData(
            kind, images=resize_images(images, image_size).to(device), generator=generator,
            split=chosen,
        )  # fmt: skip
    elif kind == "synthetic":
        images = synthetic_images(64 if dry_run else 4096, 28, seed)
    else:
        assert path is not None
        if not path.is_dir():
            raise DataError(f"--dataset folder:{path}: no such folder")
        images = load_image_folder(path, image_size, limit=64 if dry_run else None)
        log(f"{path}: {len(images):,} images, {images.shape[1]} channel(s)")
    return RealData(kind, images=resize_images(images, image_size).to(device), generator=generator)


def check_common(args: Any, counts: tuple[str, ...], positives: tuple[str, ...]) -> None:
    """The checks `papertrail repro dcgan` and `wgan` share; ValueError names the option.
    `counts` must be at least 1, `positives` above 0; --sample-every may be 0 (never)."""
    kind, _ = parse_dataset(args.dataset)
    if args.data is not None and kind != "mnist":
        raise ValueError(
            "--data DIR goes with --dataset mnist (for other folders: --dataset folder:PATH)"
        )
    if getattr(args, "split", None) is not None and kind != "mnist":
        raise ValueError("--split train|test goes with --dataset mnist")
    for name in ("sample", "judge_samples", "checkpoint_every"):
        value = getattr(args, name, None)
        if value is not None and value < (0 if name == "checkpoint_every" else 1):
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1 (got {value})")
    for name in counts:
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1 (got {value})")
    if args.sample_every is not None and args.sample_every < 0:
        raise ValueError(f"--sample-every must be 0 (never) or more (got {args.sample_every})")
    for name in positives:
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive (got {value})")
    if args.image_size is not None:
        size = args.image_size
        if size < 8 or size & (size - 1):
            raise ValueError(
                f"--image-size must be 4·2^k pixels: 8, 16, 32, 64, 128 … (got {size})"
            )
