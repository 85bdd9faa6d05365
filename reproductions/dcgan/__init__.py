"""DCGAN: Radford, Metz & Chintala 2015, deep convolutional generative adversarial networks."""

from reproductions.common import Paper

NAME = "dcgan"
TITLE = "DCGAN: deep convolutional GANs (Radford et al.)"

DCGAN = Paper(
    arxiv_id="1511.06434",
    title=(
        "Unsupervised Representation Learning with Deep Convolutional "
        "Generative Adversarial Networks"
    ),
    authors=("Alec Radford", "Luke Metz", "Soumith Chintala"),
    year=2015,
    published="2015-11-19",  # v1 on arXiv
    categories=("cs.LG", "cs.CV"),
)
PAPERS = (DCGAN,)
