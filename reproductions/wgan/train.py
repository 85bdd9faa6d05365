"""The WGAN training loop (Arjovsky et al. Algorithm 1; Gulrajani et al. Algorithm 1)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from reproductions.gan_common import nets, toy
from reproductions.gan_common.data import RealData
from reproductions.gan_common.loop import EMA, Monitor, noise
from reproductions.wgan import model


def build(cfg: Any, data: RealData) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for the data: MLPs for 2-D points, the DCGAN pair for images."""
    if data.is_2d:
        gen = toy.MLPGenerator(cfg.noise_dim, cfg.width, cfg.depth)
        critic = toy.MLPCritic(cfg.width, cfg.depth, norm=cfg.critic_norm)
        if cfg.mlp_init == "he":
            toy.init_he_uniform(gen)
            toy.init_he_uniform(critic)
        return gen, critic
    channels, size = data.shape[0], data.shape[-1]
    gen = nets.ConvGenerator(cfg.noise_dim, channels, size, cfg.width)
    critic = nets.ConvDiscriminator(channels, size, cfg.width, norm=cfg.critic_norm)
    gen.apply(nets.init_dcgan_weights)
    critic.apply(nets.init_dcgan_weights)
    return gen, critic


def critic_iterations(cfg: Any, step: int) -> int:
    """n_critic before generator update `step` (1-based).

    With cfg.warmup (WGAN, the authors' code): 100 for the first 25 generator
    updates and for every 500th, so the critic is near its optimum then."""
    k = step - 1  # generator updates done so far
    if cfg.warmup and (k < 25 or k % 500 == 0):
        return cfg.warmup_critic_iters
    return cfg.n_critic


def lr_factor(cfg: Any, done: int) -> float:
    """The learning rate's multiplier after `done` generator updates: with
    `cfg.lr_decay` a linear decay to 0 at `cfg.steps` (WGAN-GP's CIFAR-10 code), else 1."""
    return max(0.0, 1 - done / cfg.steps) if cfg.lr_decay else 1.0


def optimizers(cfg: Any, gen: nn.Module, critic: nn.Module) -> tuple[Any, Any]:
    if cfg.optimizer == "rmsprop":  # WGAN Algorithm 1: RMSProp, α = 5e-5
        make = lambda p: torch.optim.RMSprop(p, lr=cfg.lr)  # noqa: E731
    else:  # WGAN-GP Algorithm 1: Adam(α = 1e-4, β1 = 0, β2 = 0.9)
        make = lambda p: torch.optim.Adam(p, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))  # noqa: E731
    return make(gen.parameters()), make(critic.parameters())


def train(
    cfg: Any,
    gen: nn.Module,
    critic: nn.Module,
    data: RealData,
    device: torch.device,
    monitor: Monitor,
    generator: torch.Generator | None = None,
) -> dict[str, Any]:
    """`cfg.steps` generator updates; returns timing figures. Losses go to `monitor`."""
    gen.to(device).train()
    critic.to(device).train()
    opt_g, opt_c = optimizers(cfg, gen, critic)
    scheds = [
        torch.optim.lr_scheduler.LambdaLR(o, lambda s: lr_factor(cfg, s)) for o in (opt_g, opt_c)
    ]
    ema = EMA(gen, cfg.ema_decay) if cfg.ema_decay else None
    if ema is not None:  # snapshots and the final metrics use the average
        monitor.averaged = ema.module
    if cfg.objective == "clip":
        model.clip_weights(critic, cfg.clip)
    nets = {"generator": gen, "discriminator": critic}
    if ema is not None:
        nets["generator_ema"] = ema.module
    opts = {"generator": opt_g, "discriminator": opt_c, "lr_generator": scheds[0],
            "lr_discriminator": scheds[1]}  # fmt: skip
    gens = {"noise": generator, "data": data.generator}
    keeper = monitor.keeper
    first = keeper.restore(nets, opts, gens) if keeper is not None else 1
    critic_updates = 0
    start = time.perf_counter()
    for step in range(first, cfg.steps + 1):
        _trainable(critic, True)
        for _ in range(critic_iterations(cfg, step)):
            c = _critic_update(cfg, gen, critic, opt_c, data, device, generator)
            critic_updates += 1
        _trainable(critic, False)  # no critic gradients during the generator's update
        g_loss = _generator_update(cfg, gen, critic, opt_g, device, generator)
        for s in scheds:
            s.step()
        if ema is not None:
            ema.update(gen)
        w = model.wasserstein_estimate(c.real_scores, c.fake_scores).item()
        losses = {"critic_loss": c.loss.item(), "generator_loss": g_loss.item(), "wasserstein": w}
        if c.penalty is not None:
            losses["gradient_penalty"] = c.penalty.item()
        monitor.step(step, gen, device, **losses)
        if keeper is not None and keeper.due(step, cfg.steps):
            keeper.checkpoint(step, nets, opts, gens)
    _trainable(critic, True)
    seconds = time.perf_counter() - start
    ran = cfg.steps - first + 1
    return {
        "steps": cfg.steps,
        "steps_this_run": ran,
        "critic_updates": critic_updates,
        "seconds": round(seconds, 3),
        "steps_per_s": round(ran / seconds, 3) if seconds else None,
        "wasserstein_final": round(w, 6),
    }


def _trainable(net: nn.Module, on: bool) -> None:
    """Switch the gradients of all of `net`'s parameters on or off."""
    for p in net.parameters():
        p.requires_grad_(on)


@dataclass
class _CriticStep:
    """One critic update's loss (penalty included), its penalty (None when clipping), scores."""

    loss: torch.Tensor  # ()
    penalty: torch.Tensor | None  # ()
    real_scores: torch.Tensor  # (B,) f(x) of the real batch
    fake_scores: torch.Tensor  # (B,) f(g(z))


def _critic_update(
    cfg: Any,
    gen: nn.Module,
    critic: nn.Module,
    opt_c: torch.optim.Optimizer,
    data: RealData,
    device: torch.device,
    generator: torch.Generator | None,
) -> _CriticStep:
    """One critic step on a real and a generated batch: Algorithm 1's inner loop body
    (WGAN: then clip the weights to [−c, c]; WGAN-GP: the gradient penalty instead)."""
    b = cfg.batch_size
    clip = cfg.objective == "clip"
    real = data.batch(b, device)
    with torch.no_grad():
        fake = gen(noise(b, cfg.noise_dim, device, generator))
    real_scores, fake_scores = critic(real), critic(fake)
    loss = model.critic_loss(real_scores, fake_scores)
    penalty = None
    if not clip:
        penalty = model.gradient_penalty(critic, real, fake)
        loss = loss + cfg.gp_weight * penalty
    opt_c.zero_grad(set_to_none=True)
    loss.backward()
    opt_c.step()
    if clip:
        model.clip_weights(critic, cfg.clip)
    return _CriticStep(loss, penalty, real_scores, fake_scores)


def _generator_update(
    cfg: Any,
    gen: nn.Module,
    critic: nn.Module,
    opt_g: torch.optim.Optimizer,
    device: torch.device,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """One generator step against the critic's current weights; returns its loss."""
    g_loss = model.generator_loss(
        critic(gen(noise(cfg.batch_size, cfg.noise_dim, device, generator)))
    )
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return g_loss
