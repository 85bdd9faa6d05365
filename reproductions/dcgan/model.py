"""The GAN objective DCGAN trains with: Radford, Metz & Chintala 2015 (arXiv 1511.06434),
after Goodfellow et al. 2014 (arXiv 1406.2661).

    min_G max_D  E_x[log D(x)] + E_z[log(1 − D(G(z)))]

D outputs a logit s; D(x) = σ(s). The discriminator minimises the binary
cross-entropy −log σ(s_real) − log(1 − σ(s_fake)); the generator the
"non-saturating" −log σ(s_fake) (Goodfellow et al. §3: the gradients are
stronger early in training), as DCGAN's code and every reimplementation do.
log σ(s) is computed as −softplus(−s), which does not overflow.

The networks (all-convolutional, batch norm, ReLU / LeakyReLU 0.2, tanh,
N(0, 0.02) init) are in `reproductions.gan_common.nets`; the 2-D runs use
MLPs built to the same rules (`gan_common.toy`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """−E[log D(x)] − E[log(1 − D(G(z)))], with D = σ(logit)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """−E[log D(G(z))]: the non-saturating generator loss."""
    return F.softplus(-fake_logits).mean()
