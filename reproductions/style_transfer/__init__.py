"""Neural style transfer: Gatys et al. 2015 (optimisation) and Johnson et al. 2016 (fast network)."""

from reproductions.common import Paper

NAME = "style-transfer"
TITLE = "Neural style transfer (Gatys et al.; Johnson et al. fast network)"

GATYS = Paper(
    arxiv_id="1508.06576",
    title="A Neural Algorithm of Artistic Style",
    authors=("Leon A. Gatys", "Alexander S. Ecker", "Matthias Bethge"),
    year=2015,
    published="2015-08-26",  # v1 on arXiv
    categories=("cs.CV", "cs.NE", "q-bio.NC"),
)
JOHNSON = Paper(
    arxiv_id="1603.08155",
    title="Perceptual Losses for Real-Time Style Transfer and Super-Resolution",
    authors=("Justin Johnson", "Alexandre Alahi", "Li Fei-Fei"),
    year=2016,
    published="2016-03-27",  # v1 on arXiv
    categories=("cs.CV", "cs.LG"),
)
PAPERS = (GATYS, JOHNSON)
