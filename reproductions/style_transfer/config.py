"""The papers' hyperparameters, each default cited. Importing this module does not import torch.

Here rather than in run.py so that model.py and train.py can use the
configurations without importing the command's entry point (which imports
them): the imports run one way, run → model/train → config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reproductions.common import option

# torchvision's VGG sees RGB in [0, 1] divided by σ ≈ 0.226; the authors' Caffe
# VGG saw 0–255. A ReLU network is (bias aside) positively homogeneous, so its
# responses here are ≈ 1/57.6 of Caffe's: the content loss (F²) shrinks by
# 57.6², the style loss (F⁴) by 57.6⁴. Multiplying β by 57.6² keeps the
# paper's α/β balance. (README: deviations.)
CAFFE_SCALE = 255 * 0.226


@dataclass
class GatysConfig:
    """Gatys et al. 2015 (arXiv 1508.06576). "Methods" is the paper's final section."""

    content_layer: str = option("relu4_2", "layer matching the photo", paper="Methods: conv4_2")
    style_layers: tuple[str, ...] = option(
        ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        "layers matching the artwork, weighted equally (w_l = 1/5)",
        paper="Methods, Fig. 2: conv1_1 … conv5_1, w_l = 1/5",
    )
    content_weight: float = option(1.0, "α", paper="Methods: α/β = 1e-3 (Fig. 2 B–D), 1e-4 (E, F)")
    style_weight: float = option(
        1e3 * CAFFE_SCALE**2,
        "β: the paper's 1e3 (α/β = 1e-3) × 57.6² for torchvision's input scale",
        paper="Methods: α/β = 1e-3",
    )
    tv_weight: float = option(
        0.0, "total-variation weight (0: off, as in the paper)", paper="not in the paper"
    )
    pooling: Literal["avg", "max"] = option(
        "avg", "VGG pooling", paper="Methods: average pooling 'slightly more appealing results'"
    )
    init: Literal["noise", "content"] = option(
        "noise", "start image", paper="Methods: 'gradient descent on a white noise image'"
    )
    optimizer: Literal["lbfgs", "adam"] = option(
        "lbfgs", "optimiser", paper="L-BFGS: the authors' CVPR 2016 version ('works best')"
    )
    steps: int = option(300, "optimisation steps (one loss evaluation each)", paper="not given")
    size: int = option(
        512, "longer side of the images, px", paper="not given (512: the usual choice)"
    )
    lr: float | None = option(None, "step size (L-BFGS 1.0, Adam 0.02)", paper="not given")


@dataclass
class FastTrainConfig:
    """Johnson et al. 2016 (arXiv 1603.08155), §4.1 "Style Transfer: Training details"."""

    image_size: int = option(
        256, "training crops, px", paper="§4.1: COCO images resized to 256×256"
    )
    batch_size: int = option(4, "images per batch", paper="§4.1: batch size 4")
    iterations: int = option(
        40_000, "training steps", paper="§4.1: 40,000 iterations (≈2 epochs of 80k)"
    )
    lr: float = option(1e-3, "Adam learning rate", paper="§4.1: Adam, learning rate 1e-3")
    content_layer: str = option(
        "relu2_2", "VGG-16 layer of the feature loss", paper="§4.1: relu2_2"
    )
    style_layers: tuple[str, ...] = option(
        ("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
        "VGG-16 layers of the style loss",
        paper="§4.1: relu1_2, relu2_2, relu3_3, relu4_3",
    )
    content_weight: float = option(1.0, "λ_c", paper="not given (1.0 in the authors' code)")
    style_weight: float = option(
        5.0, "λ_s", paper="not given (5.0 in the authors' code); untuned here"
    )
    tv_weight: float = option(
        2e-5,
        "λ_TV: 1e-6 on 0–255 pixels and Caffe features, rescaled (× 255² / 57.6²)",
        paper="§4.1: cross-validated in [1e-6, 1e-4]",
    )
    style_size: int = option(
        256, "longer side of the style image, px", paper="not given (256 in the authors' code)"
    )
    workers: int = option(4, "data-loading processes", paper="—")
    save_every: int = option(2000, "write the model every N iterations", paper="—")
