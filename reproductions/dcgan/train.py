"""The DCGAN training loop: one discriminator step, then one generator step (§4)."""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from reproductions.dcgan import model
from reproductions.gan_common import nets, toy
from reproductions.gan_common.data import RealData
from reproductions.gan_common.loop import Monitor, noise


def build(cfg: Any, data: RealData) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator): the DCGAN pair for images, MLPs on DCGAN's rules for 2-D."""
    if data.is_2d:
        gen = toy.MLPGenerator(cfg.noise_dim, cfg.width, cfg.depth, norm="batch")
        disc = toy.MLPCritic(cfg.width, cfg.depth, norm="batch", activation="leaky")
    else:
        channels, size = data.shape[0], data.shape[-1]
        gen = nets.ConvGenerator(cfg.noise_dim, channels, size, cfg.width)
        disc = nets.ConvDiscriminator(channels, size, cfg.width, norm="batch")
    gen.apply(nets.init_dcgan_weights)
    disc.apply(nets.init_dcgan_weights)
    return gen, disc


def train(
    cfg: Any,
    gen: nn.Module,
    disc: nn.Module,
    data: RealData,
    device: torch.device,
    monitor: Monitor,
    generator: torch.Generator | None = None,
) -> dict[str, Any]:
    """`cfg.steps` updates of each network; returns timing figures. Losses go to `monitor`."""
    gen.to(device).train()
    disc.to(device).train()
    betas = (cfg.beta1, cfg.beta2)
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=betas)
    nets = {"generator": gen, "discriminator": disc}
    opts = {"generator": opt_g, "discriminator": opt_d}
    gens = {"noise": generator, "data": data.generator}
    keeper = monitor.keeper
    first = keeper.restore(nets, opts, gens) if keeper is not None else 1
    b = cfg.batch_size
    start = time.perf_counter()
    for step in range(first, cfg.steps + 1):
        real = data.batch(b, device)
        fake = gen(noise(b, cfg.noise_dim, device, generator))
        real_logits, fake_logits = disc(real), disc(fake.detach())
        d_loss = model.discriminator_loss(real_logits, fake_logits)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = model.generator_loss(disc(fake))  # the updated D judges the same fakes
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        monitor.step(
            step, gen, device,
            discriminator_loss=d_loss.item(), generator_loss=g_loss.item(),
            d_real=torch.sigmoid(real_logits).mean().item(),
            d_fake=torch.sigmoid(fake_logits).mean().item(),
        )  # fmt: skip
        if keeper is not None and keeper.due(step, cfg.steps):
            keeper.checkpoint(step, nets, opts, gens)
    seconds = time.perf_counter() - start
    ran = cfg.steps - first + 1
    return {
        "steps": cfg.steps,
        "steps_this_run": ran,
        "seconds": round(seconds, 3),
        "steps_per_s": round(ran / seconds, 3) if seconds else None,
        "discriminator_loss_final": round(d_loss.item(), 6),
        "generator_loss_final": round(g_loss.item(), 6),
    }
