"""Perceptual Losses for Real-Time Style Transfer and Super-Resolution — Johnson, Alahi & Fei-Fei (2016).

arXiv: https://arxiv.org/abs/1603.08155

A feed-forward transformation network ŷ = f_W(x) is trained on many photos x
to minimise, for one style image y_s (§3, eqs. 2, 5, 6 and §3.3):

    λ_c ℓ_feat(ŷ, x) + λ_s Σ_j ℓ_style^j(ŷ, y_s) + λ_TV ℓ_TV(ŷ)

    ℓ_feat^j  = ‖φ_j(ŷ) − φ_j(x)‖²₂ / (C_j H_j W_j)        eq. 2, j = relu2_2
    G_j(x)    = ψ ψᵀ / (C_j H_j W_j), ψ = φ_j(x) as C_j × H_j W_j   eq. 3
    ℓ_style^j = ‖G_j(ŷ) − G_j(y_s)‖²_F                      eq. 5, j = relu1_2, relu2_2, relu3_3, relu4_3

with φ a VGG-16 pretrained on ImageNet and frozen. Once trained, one forward
pass stylises an image: that is the speed-up over Gatys et al.

The network (supplementary material, Table 1): 9×9 conv (32), 3×3 stride-2
convs (64, 128), five residual blocks (128), two stride-½ (transposed) convs
(64, 32), 9×9 conv (3), scaled tanh. Deviations (README): instance norm
(Ulyanov et al., arXiv 1607.08022) instead of batch norm, and reflection
padding in every conv instead of 40 px on the input and unpadded residual convs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from reproductions.style_transfer.vgg import VGGFeatures


class ConvLayer(nn.Sequential):
    """Reflection pad, conv, instance norm, ReLU (no norm/ReLU on the output layer)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, *, last: bool = False):
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(kernel // 2),
            nn.Conv2d(c_in, c_out, kernel, stride),
        ]
        if not last:
            layers += [nn.InstanceNorm2d(c_out, affine=True), nn.ReLU(inplace=True)]
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    """Two 3×3 convs with a skip connection (He et al.; Johnson et al. supp. Fig. 1)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            ConvLayer(channels, channels, 3),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class UpsampleLayer(nn.Sequential):
    """A stride-½ convolution (3×3 transposed conv, stride 2): doubles H and W exactly."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(
            nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
            nn.InstanceNorm2d(c_out, affine=True),
            nn.ReLU(inplace=True),
        )


class TransformerNet(nn.Module):
    """The image transformation network f_W: (B, 3, H, W) in [0, 1] -> same shape in [0, 1].

    H and W should be multiples of 4 (two stride-2 stages down, two up)."""

    def __init__(self, residual_blocks: int = 5):
        super().__init__()
        self.net = nn.Sequential(
            ConvLayer(3, 32, 9),  # (B, 32, H, W)
            ConvLayer(32, 64, 3, stride=2),  # (B, 64, H/2, W/2)
            ConvLayer(64, 128, 3, stride=2),  # (B, 128, H/4, W/4)
            *[ResidualBlock(128) for _ in range(residual_blocks)],
            UpsampleLayer(128, 64),  # (B, 64, H/2, W/2)
            UpsampleLayer(64, 32),  # (B, 32, H, W)
            ConvLayer(32, 3, 9, last=True),  # (B, 3, H, W)
        )

    def forward(self, x: Tensor) -> Tensor:
        # The paper's "scaled tanh" maps to [0, 255]; our images live in [0, 1].
        return (torch.tanh(self.net(x)) + 1) / 2


def normalized_gram(features: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, C, C): G = ψ ψᵀ / (C H W) (eq. 3)."""
    b, c, h, w = features.shape
    psi = features.reshape(b, c, h * w)
    return psi @ psi.transpose(1, 2) / (c * h * w)


def feature_loss(features: Tensor, target: Tensor) -> Tensor:
    """‖φ(ŷ) − φ(y)‖²₂ / (C H W) per image, averaged over the batch (eq. 2)."""
    b = features.shape[0]
    return (features - target).pow(2).sum() / features[0].numel() / b


def style_loss(features: Tensor, target_gram: Tensor) -> Tensor:
    """‖G(ŷ) − G(y_s)‖²_F per image, averaged over the batch (eq. 5); target (1, C, C)."""
    b = features.shape[0]
    return (normalized_gram(features) - target_gram).pow(2).sum() / b


def total_variation(images: Tensor) -> Tensor:
    """Squared differences between neighbouring pixels, summed per image, averaged over the batch."""
    dh = images[..., 1:, :] - images[..., :-1, :]
    dw = images[..., :, 1:] - images[..., :, :-1]
    return (dh.pow(2).sum() + dw.pow(2).sum()) / images.shape[0]


class PerceptualLoss(nn.Module):
    """λ_c ℓ_feat + λ_s Σ_j ℓ_style^j + λ_TV ℓ_TV against one style image."""

    def __init__(
        self,
        vgg: VGGFeatures,
        style: Tensor,
        *,
        content_layer: str,
        style_layers: Sequence[str],
        content_weight: float,
        style_weight: float,
        tv_weight: float,
    ):
        super().__init__()
        self.vgg = vgg
        self.content_layer = content_layer
        self.style_layers = list(style_layers)
        self.weights = (content_weight, style_weight, tv_weight)
        with torch.no_grad():
            feats = vgg(style, self.style_layers)
            self.style_grams = [normalized_gram(feats[name]) for name in self.style_layers]

    def forward(self, output: Tensor, content: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        with torch.no_grad():
            target = self.vgg(content, [self.content_layer])[self.content_layer]
        feats = self.vgg(output, [self.content_layer, *self.style_layers])
        l_feat = feature_loss(feats[self.content_layer], target)
        l_style = sum(
            style_loss(feats[name], gram)
            for name, gram in zip(self.style_layers, self.style_grams, strict=True)
        )
        l_tv = total_variation(output)
        wc, ws, wtv = self.weights
        total = wc * l_feat + ws * l_style + wtv * l_tv
        return total, {"content": l_feat.detach(), "style": l_style.detach(), "tv": l_tv.detach()}
