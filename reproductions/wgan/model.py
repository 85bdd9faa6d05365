"""The WGAN objectives: Arjovsky, Chintala & Bottou 2017 (arXiv 1701.07875) and
Gulrajani et al. 2017 (arXiv 1704.00028).

The critic f estimates the Wasserstein-1 distance between the data and the
generator's distribution by the Kantorovich-Rubinstein duality (WGAN eq. 2-3):

    W(P_r, P_θ) ≈ max_{‖f‖_L ≤ K}  E_{x~P_r}[f(x)] − E_{z~p(z)}[f(g_θ(z))]

The critic maximises it, the generator minimises its second term (WGAN
Algorithm 1, lines 5 and 10). The critic has no sigmoid: its output is a
score, not a probability.

Keeping f Lipschitz:
- WGAN: clip every critic weight to [−c, c] after each update (Algorithm 1, line 7, c = 0.01);
- WGAN-GP: add λ E_x̂[(‖∇_x̂ f(x̂)‖₂ − 1)²] on points x̂ = ε x + (1 − ε) x̃,
  ε ~ U[0, 1], between real and generated samples (eq. 3, Algorithm 1, λ = 10);
  the norm is taken over all of a sample's axes (every pixel of every channel).

The networks are the DCGAN pair (`reproductions.gan_common.nets`) for images and
MLPs (`gan_common.toy`) for the 2-D mixtures.
"""

from __future__ import annotations

import torch
from torch import nn


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """What the critic minimises: −(E[f(x)] − E[f(g(z))]) (WGAN Algorithm 1, line 5, as descent)."""
    return fake_scores.mean() - real_scores.mean()


def generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """What the generator minimises: −E[f(g(z))] (WGAN Algorithm 1, line 10)."""
    return -fake_scores.mean()


def wasserstein_estimate(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[f(x)] − E[f(g(z))]: the critic's estimate of W(P_r, P_θ) (up to the Lipschitz constant)."""
    return real_scores.mean() - fake_scores.mean()


@torch.no_grad()
def clip_weights(critic: nn.Module, c: float) -> None:
    """Clamp every critic parameter to [−c, c] (WGAN Algorithm 1, line 7)."""
    for p in critic.parameters():
        p.clamp_(-c, c)


def interpolates(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """x̂ = ε x + (1 − ε) x̃ with one ε ~ U[0, 1] per sample (WGAN-GP Algorithm 1, lines 4-6)."""
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    return eps * real + (1 - eps) * fake  # (B, …)


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, points: torch.Tensor | None = None
) -> torch.Tensor:
    """E_x̂[(‖∇_x̂ f(x̂)‖₂ − 1)²] (WGAN-GP eq. 3), the norm over all non-batch axes.

    `points` overrides the random interpolates (tests)."""
    x_hat = (interpolates(real, fake.detach()) if points is None else points).requires_grad_(True)
    scores = critic(x_hat)  # (B,)
    (grads,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (B, …)
    norms = grads.flatten(1).norm(2, dim=1)  # (B,)
    return ((norms - 1) ** 2).mean()
