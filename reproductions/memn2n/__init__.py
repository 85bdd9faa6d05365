"""End-To-End Memory Networks (Sukhbaatar et al. 2015) on the bAbI question-answering tasks."""

from reproductions.common import Paper

NAME = "memn2n"
TITLE = "End-To-End Memory Networks on bAbI (Sukhbaatar et al.)"

MEMN2N = Paper(
    arxiv_id="1503.08895",
    title="End-To-End Memory Networks",
    authors=("Sainbayar Sukhbaatar", "Arthur Szlam", "Jason Weston", "Rob Fergus"),
    year=2015,
    published="2015-03-31",  # v1 on arXiv
    categories=("cs.NE", "cs.CL"),
)
PAPERS = (MEMN2N,)
