"""Wasserstein GAN: Arjovsky et al. 2017 (weight clipping) and Gulrajani et al. 2017 (gradient penalty)."""

from reproductions.common import Paper

NAME = "wgan"
TITLE = "Wasserstein GAN (Arjovsky et al.; WGAN-GP, Gulrajani et al.)"

WGAN = Paper(
    arxiv_id="1701.07875",
    title="Wasserstein GAN",
    authors=("Martin Arjovsky", "Soumith Chintala", "Léon Bottou"),
    year=2017,
    published="2017-01-26",  # v1 on arXiv
    categories=("stat.ML", "cs.LG"),
)
WGAN_GP = Paper(
    arxiv_id="1704.00028",
    title="Improved Training of Wasserstein GANs",
    authors=(
        "Ishaan Gulrajani",
        "Faruk Ahmed",
        "Martin Arjovsky",
        "Vincent Dumoulin",
        "Aaron Courville",
    ),
    year=2017,
    published="2017-03-31",  # v1 on arXiv
    categories=("cs.LG", "stat.ML"),
)
PAPERS = (WGAN, WGAN_GP)
