"""Datasets of 32 px images, held in memory as uint8 tensors.

- CIFAR-10 / CIFAR-100 (Krizhevsky 2009), the python releases as published:
  a tar.gz of pickled batches (`cifar-10-batches-py/data_batch_1..5`,
  `test_batch`, `batches.meta`; `cifar-100-python/train`, `test`, `meta`),
  each a dict with b"data" (N × 3072 uint8, R then G then B planes, row-major)
  and b"labels" (CIFAR-100: b"fine_labels", b"coarse_labels"). Downloaded into
  the cache with their SHA-256 checked, or read from a folder or the archive
  you name. The pickles are read with an unpickler that can build only dicts,
  lists, strings, numbers and numpy uint8 arrays — never arbitrary objects.
- `synthetic`: colour gratings generated here, a learnable 10-class task
  (orientation × frequency; unchanged by flips and crops).
- `folder:PATH`: `PATH/train/<class>/*.png` and `PATH/test/<class>/*` (or `val/`).
"""

from __future__ import annotations

import codecs
import io
import math
import pickle
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from reproductions.common.download import Checkpoint, DownloadError, cache_dir, fetch_verified
from reproductions.common.images import IMAGE_SUFFIXES, open_rgb, resize_crop

# The archives on the CIFAR page; SHA-256 as published by Keras (`file_hash`) and
# torchvision's dataset prototypes; sizes in bytes. (torchvision's MD5s agree:
# c58f30108f718f92721af3b95e74349a, eb9058c3a382ffc7106e4002c42a8d85.)
CIFAR_ARCHIVES = {
    "cifar10": Checkpoint(
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        size=170_498_071,
    ),
    "cifar100": Checkpoint(
        url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        sha256="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
        size=169_001_437,
    ),
}
CIFAR_LAYOUT = {  # folder inside the archive, training files, test file, meta file, label key, names key
    "cifar10": (
        "cifar-10-batches-py",
        tuple(f"data_batch_{i}" for i in range(1, 6)),
        "test_batch",
        "batches.meta",
        b"labels",
        b"label_names",
    ),
    "cifar100": (
        "cifar-100-python",
        ("train",),
        "test",
        "meta",
        b"fine_labels",
        b"fine_label_names",
    ),
}


class DataError(ValueError):
    """A dataset that cannot be read; the message names the file and what to do."""


@dataclass
class ImageData:
    name: str
    train_x: Tensor  # (N, 3, 32, 32) uint8
    train_y: Tensor  # (N,) int64
    test_x: Tensor  # (M, 3, 32, 32) uint8
    test_y: Tensor  # (M,) int64
    classes: list[str]
    source: str  # where it was read from, for the run record

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def limit(self, train: int | None, test: int | None = None) -> ImageData:
        """The first `train` training and `test` test images (None keeps all)."""
        return ImageData(
            self.name, self.train_x[:train], self.train_y[:train], self.test_x[:test],
            self.test_y[:test], self.classes, self.source,
        )  # fmt: skip


# ---------------------------------------------------------------- CIFAR


class _CifarUnpickler(pickle.Unpickler):
    """Builds the few types a CIFAR batch holds: containers, numbers, bytes, numpy arrays.

    Any other global a pickle names (a function to call, a class to build) is refused."""

    _reconstruct = np.zeros(0).__reduce__()[0]  # numpy's array rebuild function
    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        # Bytes in a protocol-2 pickle written by Python 3 (the release itself was written by
        # Python 2, whose strings need nothing). Encoding text with a codec runs no code.
        ("_codecs", "encode"): codecs.encode,
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a CIFAR batch holds only numpy arrays"
            ) from None


def parse_batch(raw: bytes, where: str) -> dict[bytes, Any]:
    """One pickled CIFAR file → its dict (keys are bytes: the files were written by Python 2)."""
    try:
        value = _CifarUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
        raise DataError(f"{where}: not a CIFAR python batch ({e})") from None
    if not isinstance(value, dict):
        raise DataError(f"{where}: not a CIFAR python batch (a {type(value).__name__}, not a dict)")
    return value


def _images(batch: dict[bytes, Any], label_key: bytes, where: str) -> tuple[Tensor, Tensor]:
    if b"data" not in batch or label_key not in batch:
        raise DataError(
            f"{where}: a CIFAR batch needs b'data' and {label_key!r}; it has "
            f"{', '.join(map(repr, batch))}"
        )
    data = np.asarray(batch[b"data"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{where}: b'data' is {data.dtype} {data.shape}, expected uint8 N × 3072")
    labels = np.asarray(batch[label_key], dtype=np.int64)
    if labels.shape != (data.shape[0],):
        raise DataError(f"{where}: {len(labels)} labels for {data.shape[0]} images")
    x = torch.from_numpy(data.reshape(-1, 3, 32, 32).copy())  # planes R, G, B; rows top to bottom
    return x, torch.from_numpy(labels)


class _Files:
    """Read files of the release from the archive (no extraction) or from a folder."""

    def __init__(self, path: Path, folder: str):
        self.path, self.folder = path, folder
        self.tar: tarfile.TarFile | None = None
        if path.is_file():
            try:
                self.tar = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by close()
            except (tarfile.TarError, OSError) as e:
                raise DataError(f"{path}: not a readable tar archive ({e})") from None
        elif (path / folder).is_dir():
            self.path = path / folder
        elif not path.is_dir():
            raise DataError(f"{path}: no such file or folder")

    def read(self, name: str) -> tuple[bytes, str]:
        if self.tar is not None:
            member = f"{self.folder}/{name}"
            where = f"{self.path}:{member}"
            try:
                f = self.tar.extractfile(member)
            except KeyError:
                raise DataError(
                    f"{self.path}: the archive has no {member} — is it the python release?"
                ) from None
            if f is None:
                raise DataError(f"{where}: not a regular file")
            return f.read(), where
        file = self.path / name
        if not file.is_file():
            raise DataError(
                f"{self.path}: no {name} here — point --data-dir at the folder holding "
                f"{self.folder}/ (or at the .tar.gz)"
            )
        return file.read_bytes(), str(file)

    def close(self) -> None:
        if self.tar is not None:
            self.tar.close()


def find_cifar(name: str, data_dir: Path | None) -> Path | None:
    """The archive or folder to read: in data_dir when given, else the cache; None if absent."""
    archive = CIFAR_ARCHIVES[name]
    folder = CIFAR_LAYOUT[name][0]
    if data_dir is not None:
        data_dir = Path(data_dir)
        for candidate in (data_dir / archive.filename, data_dir / folder):
            if candidate.exists():
                return candidate
        if data_dir.is_file() or (data_dir / CIFAR_LAYOUT[name][2]).exists():
            return data_dir  # the archive itself, or the extracted folder itself
        raise DataError(
            f"--data-dir {data_dir}: neither {archive.filename} nor {folder}/ is there — "
            f"download {archive.url} into it, or leave --data-dir out to download into the cache"
        )
    cached = cache_dir() / "datasets" / archive.filename
    return cached if cached.exists() else None


def load_cifar(
    name: str,
    data_dir: Path | None = None,
    *,
    download: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImageData:
    """CIFAR-10 or CIFAR-100 (fine labels), from data_dir, the cache, or downloaded (SHA-256 checked)."""
    if name not in CIFAR_ARCHIVES:
        raise DataError(f"unknown CIFAR {name!r}: use cifar10 or cifar100")
    path = find_cifar(name, data_dir)
    if path is None:
        archive = CIFAR_ARCHIVES[name]
        if not download:
            raise DataError(
                f"{name} is not in the cache ({cache_dir() / 'datasets'}) and downloads are off — "
                f"get {archive.url} and pass --data-dir FOLDER"
            )
        try:
            path = fetch_verified(
                archive, cache_dir() / "datasets" / archive.filename, on_progress=on_progress
            )
        except DownloadError as e:
            raise DataError(f"{e} (then pass --data-dir FOLDER)") from None
    folder, train_files, test_file, meta_file, label_key, names_key = CIFAR_LAYOUT[name]
    files = _Files(path, folder)
    try:
        xs, ys = [], []
        for fname in train_files:
            x, y = _images(parse_batch(*files.read(fname)), label_key, fname)
            xs.append(x)
            ys.append(y)
        raw, where = files.read(test_file)
        test_x, test_y = _images(parse_batch(raw, where), label_key, where)
        raw, where = files.read(meta_file)
        meta = parse_batch(raw, where)
    finally:
        files.close()
    classes = [n.decode() if isinstance(n, bytes) else str(n) for n in meta.get(names_key, [])]
    train_y = torch.cat(ys)
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    if len(classes) < n_classes:
        classes = [str(i) for i in range(n_classes)]
    return ImageData(name, torch.cat(xs), train_y, test_x, test_y, classes, str(path))


# ---------------------------------------------------------------- synthetic


def make_synthetic(
    n_train: int = 10_000, n_test: int = 2_000, *, classes: int = 10, seed: int = 0
) -> ImageData:
    """Colour gratings; a class is an orientation magnitude and a frequency band.

    Class c has orientation ±(c // 2)·90°/(classes/2 − 1) from vertical (sign at
    random, so a horizontal flip keeps the class) and low (1.5–2.5 cycles per
    image) or high (3.5–5) frequency for even / odd c. Phase, the two colours,
    brightness and pixel noise are random, and random crops keep all of it, so
    the standard augmentation applies. Neighbouring orientations are 22.5°
    apart: accuracy grows over epochs rather than being perfect at once.
    Chance is 1/classes."""
    if classes % 2 or classes < 4:
        raise ValueError("synthetic data needs an even number of classes, at least 4")
    g = torch.Generator().manual_seed(seed)
    n = n_train + n_test
    labels = torch.randint(0, classes, (n,), generator=g)
    angles = classes // 2
    sign = torch.randint(0, 2, (n,), generator=g).float() * 2 - 1
    theta = sign * (labels // 2).float() * (math.pi / 2) / (angles - 1)
    theta = theta + (torch.rand(n, generator=g) - 0.5) * 0.08
    low = 1.5 + torch.rand(n, generator=g)
    freq = torch.where(labels % 2 == 0, low, low + 2)  # cycles per image
    phase = 2 * math.pi * torch.rand(n, generator=g)
    coords = torch.linspace(-0.5, 0.5, 32)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")  # (32, 32)
    along = xx * theta.cos()[:, None, None] + yy * theta.sin()[:, None, None]  # (N, 32, 32)
    wave = 0.5 + 0.5 * torch.sin(2 * math.pi * freq[:, None, None] * along + phase[:, None, None])
    c1 = torch.rand(n, 3, generator=g)
    c2 = (c1 + 0.35 + 0.3 * torch.rand(n, 3, generator=g)) % 1  # a colour clearly unlike c1
    img = c1[:, :, None, None] * wave[:, None] + c2[:, :, None, None] * (1 - wave[:, None])
    img = img * (0.6 + 0.4 * torch.rand(n, 1, 1, 1, generator=g))
    img = img + 0.1 * torch.randn(n, 3, 32, 32, generator=g)
    pixels = img.clamp(0, 1).mul(255).round().to(torch.uint8)  # (N, 3, 32, 32)
    step = 90 / (angles - 1)
    names = [
        f"{round(step * (c // 2))}deg-{'low' if c % 2 == 0 else 'high'}" for c in range(classes)
    ]
    return ImageData(
        "synthetic", pixels[:n_train], labels[:n_train], pixels[n_train:], labels[n_train:],
        names, f"synthetic gratings (seed {seed})",
    )  # fmt: skip


# ---------------------------------------------------------------- a folder of images


def load_folder(root: Path) -> ImageData:
    """`root/train/<class>/<image>` and `root/test/<class>/<image>` (or `val/`), scaled to 32 px."""
    root = Path(root)
    train_dir = root / "train"
    test_dir = next((root / d for d in ("test", "val") if (root / d).is_dir()), None)
    if not train_dir.is_dir() or test_dir is None:
        raise DataError(
            f"folder:{root}: expected {root}/train/<class>/… and {root}/test/<class>/… (or val/)"
        )
    classes = sorted(d.name for d in train_dir.iterdir() if d.is_dir())
    if len(classes) < 2:
        raise DataError(f"{train_dir}: needs at least two class folders, found {len(classes)}")
    index = {c: i for i, c in enumerate(classes)}

    def read(split: Path) -> tuple[Tensor, Tensor]:
        xs, ys = [], []
        for cls_dir in sorted(d for d in split.iterdir() if d.is_dir()):
            if cls_dir.name not in index:
                raise DataError(f"{cls_dir}: class {cls_dir.name!r} is not in {train_dir}")
            for f in sorted(cls_dir.iterdir()):
                if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file():
                    img = resize_crop(open_rgb(f), 32)
                    data = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
                    xs.append(data.view(32, 32, 3).permute(2, 0, 1))
                    ys.append(index[cls_dir.name])
        if not xs:
            raise DataError(f"{split}: no images in its class folders")
        return torch.stack(xs), torch.tensor(ys, dtype=torch.int64)

    train_x, train_y = read(train_dir)
    test_x, test_y = read(test_dir)
    return ImageData(f"folder:{root}", train_x, train_y, test_x, test_y, classes, str(root))


def load_dataset(
    spec: str, data_dir: Path | None = None, *, download: bool = True,
    on_progress: Callable[[int, int], None] | None = None, seed: int = 0,
) -> ImageData:  # fmt: skip
    """`cifar10`, `cifar100`, `synthetic` or `folder:PATH`."""
    if spec in CIFAR_ARCHIVES:
        return load_cifar(spec, data_dir, download=download, on_progress=on_progress)
    if spec == "synthetic":
        return make_synthetic(seed=seed)
    if spec.startswith("folder:"):
        return load_folder(Path(spec.removeprefix("folder:")).expanduser())
    raise DataError(f"--dataset {spec}: use cifar10, cifar100, synthetic or folder:PATH")
