"""What the GAN reproductions (`dcgan`, `wgan`) share; not a reproduction itself.

It declares no NAME / TITLE / PAPERS, so `papertrail.repro.discover()` skips it.

- `toy`     the 2-D mixtures (ring of 8, grid of 25), their MLP generator and
            critic, and the mode-coverage metric of VEEGAN / PacGAN.
- `nets`    the DCGAN all-convolutional generator and discriminator (32 or
            64 px), which the WGAN papers reuse, and the N(0, 0.02) init.
- `data`    real data as batches: 2-D mixtures, MNIST from its IDX files,
            any folder of images, and a small synthetic image set.
- `report`  what a run leaves behind: losses as CSV and a PNG line plot
            (Pillow only), sample grids, 2-D scatter plots.
- `loop`    the bookkeeping around a training loop (noise, sampling, the loss
            log, snapshots every N steps, the final metrics).

Every module here imports torch; `reproductions.dcgan.run` and
`reproductions.wgan.run` import them only when a run starts.
"""
