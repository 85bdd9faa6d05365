"""VGG-16 / VGG-19 feature extractors (Simonyan & Zisserman, arXiv 1409.1556), written here.

The module layout matches torchvision's `VGG.features`, so the ImageNet
checkpoints torchvision publishes (`vgg19-dcbb9e9d.pth`, `vgg16-397923af.pth`)
load as they are: `features.<index>.weight` / `.bias`. Layers are named the
Caffe way (conv1_1, relu1_1, pool1, ...), which is how both papers name them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from reproductions.common.download import (
    Checkpoint,
    DownloadError,
    cached_path,
    fetch_verified,
    sha256_file,
)

# Channels per conv, "M" for a 2x2 max pool (torchvision's configurations "D" and "E").
CONFIGS: dict[str, list[int | str]] = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}  # fmt: skip

# The files torchvision downloads; SHA-256 of the whole file (the name carries its first 8 hex).
CHECKPOINTS = {
    "vgg19": Checkpoint(
        url="https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
        sha256="dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44",
        size=574_673_361,
    ),
    "vgg16": Checkpoint(
        url="https://download.pytorch.org/models/vgg16-397923af.pth",
        sha256="397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0",
        size=553_433_881,
    ),
}

# torchvision's VGG weights expect RGB in [0, 1] normalised by ImageNet statistics.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class WeightsError(ValueError):
    """No usable VGG weights; the message says how to get them."""


def layer_names(arch: str) -> list[str]:
    """conv1_1, relu1_1, conv1_2, ..., pool1, conv2_1, ... in `features` order."""
    names, block, conv = [], 1, 0
    for v in CONFIGS[arch]:
        if v == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 0
        else:
            conv += 1
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
    return names


class VGGFeatures(nn.Module):
    """`features` of VGG, cut after `last_layer`, returning the activations asked for.

    pooling="avg" swaps each max pool for an average pool (Gatys et al. §2:
    "replacing the max-pooling operation by average pooling improves the
    gradient flow"); no weights change, so the checkpoint keys stay valid."""

    def __init__(
        self,
        arch: Literal["vgg16", "vgg19"] = "vgg19",
        *,
        pooling: Literal["max", "avg"] = "max",
        last_layer: str | None = None,
    ):
        super().__init__()
        if arch not in CONFIGS:
            raise ValueError(f"unknown VGG {arch!r}: use one of {', '.join(CONFIGS)}")
        names = layer_names(arch)
        if last_layer is not None and last_layer not in names:
            raise ValueError(f"{arch} has no layer {last_layer!r}; it has {', '.join(names)}")
        layers: list[nn.Module] = []
        channels = 3
        for v in CONFIGS[arch]:
            if v == "M":
                pool = nn.AvgPool2d if pooling == "avg" else nn.MaxPool2d
                layers.append(pool(kernel_size=2, stride=2))
            else:
                # Not in place: a caller may ask for a conv output and its ReLU both.
                layers += [nn.Conv2d(channels, int(v), kernel_size=3, padding=1), nn.ReLU()]
                channels = int(v)
        end = names.index(last_layer) + 1 if last_layer else len(names)
        self.arch = arch
        self.names = names[:end]
        self.features = nn.Sequential(*layers[:end])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.init_random()
        self.requires_grad_(False)

    def init_random(self) -> None:
        """torchvision's initialisation (keeps activations at a sane scale through the depth)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, image: Tensor, layers: Iterable[str]) -> dict[str, Tensor]:
        """image (B, 3, H, W) RGB in [0, 1] -> {layer name: (B, C, H', W')}."""
        wanted = set(layers)
        unknown = wanted - set(self.names)
        if unknown:
            raise ValueError(
                f"layers {sorted(unknown)} are not in this {self.arch} (cut at {self.names[-1]})"
            )
        x = (image - self.mean) / self.std
        out: dict[str, Tensor] = {}
        for name, layer in zip(self.names, self.features, strict=True):
            x = layer(x)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out

    def load_torchvision_state_dict(
        self, state: dict[str, Tensor], source: str = "state dict"
    ) -> None:
        """Load `features.*` from a torchvision VGG state dict (classifier and the
        layers after the cut are ignored); every tensor this model has must be there."""
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        if missing:
            raise WeightsError(
                f"{source} is not a torchvision {self.arch} checkpoint: it lacks {', '.join(missing[:4])}"
                f"{' …' if len(missing) > 4 else ''} (keys look like {next(iter(state), 'nothing')!r})"
            )
        bad = [k for k in own if tuple(state[k].shape) != tuple(own[k].shape)]
        if bad:
            k = bad[0]
            raise WeightsError(
                f"{source}: {k} has shape {tuple(state[k].shape)}, {self.arch} needs {tuple(own[k].shape)} "
                f"— is it a checkpoint of another network?"
            )
        self.load_state_dict({k: state[k] for k in own})


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """A .pth (torch.load with weights_only=True: no code runs) or .safetensors file."""
    if not path.exists():
        raise WeightsError(f"{path}: no such file")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same advice
        raise WeightsError(
            f"{path}: cannot read it as a checkpoint ({type(e).__name__}: {e})"
        ) from None
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: holds a {type(state).__name__}, not a state dict")
    return state


def find_weights(arch: str) -> Path | None:
    """A verified checkpoint already on disk: our cache, else torch hub's (hash checked)."""
    checkpoint = CHECKPOINTS[arch]
    ours = cached_path(checkpoint)
    if ours.exists():
        return ours
    hub = Path(torch.hub.get_dir()) / "checkpoints" / checkpoint.filename
    if hub.exists() and sha256_file(hub) == checkpoint.sha256:
        return hub
    return None


def _mb(checkpoint: Checkpoint) -> str:
    return f"{checkpoint.size / 1e6:.0f} MB" if checkpoint.size else "size unknown"


def load_vgg(
    arch: Literal["vgg16", "vgg19"],
    *,
    weights: Path | None = None,
    download: bool = True,
    random: bool = False,
    pooling: Literal["max", "avg"] = "max",
    last_layer: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[VGGFeatures, str]:
    """The network and a line saying which weights it has.

    `random` asks for untrained weights (tests, dry runs). Otherwise: `weights`
    if given; else the cached ImageNet checkpoint; else download it (verified)
    when `download`; else WeightsError explaining the choices."""
    net = VGGFeatures(arch, pooling=pooling, last_layer=last_layer)
    if random:
        return net, f"{arch} with RANDOM weights (untrained: the picture means nothing)"
    checkpoint = CHECKPOINTS[arch]
    path = weights or find_weights(arch)
    if path is None and download:
        try:
            path = fetch_verified(checkpoint, on_progress=on_progress)
        except DownloadError as e:
            raise WeightsError(
                f"{e}\nThe ImageNet {arch.upper()} weights are needed ({_mb(checkpoint)}, once). Download {checkpoint.url} yourself and pass --weights PATH, or put it in "
                f"{cached_path(checkpoint).parent}."
            ) from None
    if path is None:
        raise WeightsError(
            f"no ImageNet {arch.upper()} weights here. Run once with network access to download "
            f"{checkpoint.filename} ({_mb(checkpoint)}) into {cached_path(checkpoint).parent}, "
            "or pass --weights PATH to a torchvision checkpoint. "
            "(--random-weights runs with untrained weights: for tests, not for pictures.)"
        )
    net.load_torchvision_state_dict(read_state_dict(Path(path)), source=str(path))
    return net, f"{arch} ImageNet weights from {path}"
