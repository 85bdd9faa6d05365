"""What you read: the ranking score, the digest, the exports.

`rank` computes the explainable score (mentions, followed authors, keywords,
recency, likeness to what you starred) and the block rules and stores it;
`explain` says why an entry has its score; `digest` renders a `Digest` as text, Markdown, HTML, JSON or
Atom; `export` renders entries as BibTeX (arXiv's TeX kept by `bibtex_tex`), RIS,
Markdown, JSON or CSV. The
renderers are pure; `rank` reads and writes scores through `papertrail.store`.

The learned part: `learn` fits and stores the model (`fitcache` keeps what a refit
reuses); `rankfast` and `rankcache` score a whole list fast and keep what a
long-running process reuses; `refresh` rescores in the background after a star
(in a server, in `fitworker`'s worker process); `similar`, `profiles` and
`evaluate` build on the model.

May import: store, config, models, ids, text.
"""
