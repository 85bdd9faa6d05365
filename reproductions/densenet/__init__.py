"""DenseNet: Huang et al. 2016 (the architecture) and Pleiss et al. 2017 (memory-efficient training)."""

from reproductions.common import Paper

NAME = "densenet"
TITLE = "DenseNet on CIFAR (Huang et al.; Pleiss et al. memory-efficient training)"

HUANG = Paper(
    arxiv_id="1608.06993",
    title="Densely Connected Convolutional Networks",
    authors=("Gao Huang", "Zhuang Liu", "Laurens van der Maaten", "Kilian Q. Weinberger"),
    year=2016,
    published="2016-08-25",  # v1 on arXiv
    categories=("cs.CV", "cs.LG"),
)
PLEISS = Paper(
    arxiv_id="1707.06990",
    title="Memory-Efficient Implementation of DenseNets",
    authors=(
        "Geoff Pleiss",
        "Danlu Chen",
        "Gao Huang",
        "Tongcheng Li",
        "Laurens van der Maaten",
        "Kilian Q. Weinberger",
    ),
    year=2017,
    published="2017-07-21",  # v1 on arXiv
    categories=("cs.CV", "cs.LG"),
)
PAPERS = (HUANG, PLEISS)
