"""What is being discussed: papers ranked by the distinct sources that cited them in a window.

Each source counts once however many of its posts cite a paper (a feed repeating
itself is one voice), weighted by what kind of source it is (`source_weight`):

    community  (tag `community`; Reddit, Hacker News, Lobsters)   2.0
    newsletter (tag `newsletter`, or a `mailbox` source)           2.0
    any other feed (blogs, labs, …)                                1.0
    arXiv listings (`arxiv`, `arxiv-rss`)                          0   (a listing is not a mention)

Archive imports and papertrail's own provenance names never count (the store
leaves them out). Papers tie-break on the number of distinct sources, then of
posts, then on the newest mention. The window is when papertrail first saw each mention (a post's own
date is missing or wrong too often, and a paper is news to you when you see it).
Pure: rows in (papertrail.store.trending), ranked items out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from papertrail.config import Config
from papertrail.models import Entry
from papertrail.store.trending import MentionRow
from papertrail.text import clean

COMMUNITY_HOSTS = ("reddit.com", "news.ycombinator.com", "hnrss.org", "lobste.rs")
WEIGHTS = {"community": 2.0, "newsletter": 2.0, "feed": 1.0, "arxiv": 0.0}
MAX_POSTS_SHOWN = 5


class TrendingPost(TypedDict):
    id: int
    title: str
    url: str | None
    source: str
    first_seen: str


@dataclass
class TrendingPaper:
    """One paper of the trending view, and the posts that cited it in the window."""

    arxiv_id: str
    score: float  # the sum of the weights of the distinct sources that cited it
    sources: list[str]  # distinct, heaviest first
    posts: list[TrendingPost]  # newest first
    entry: Entry | None = None  # the paper, when it is in the reading list

    @property
    def title(self) -> str:
        return clean(self.entry["title"]) if self.entry else f"arXiv:{self.arxiv_id}"


@dataclass
class Trending:
    since: str
    until: str | None
    domains: list[str]
    papers: list[TrendingPaper] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)  # source name -> weight used


def source_class(config: Config | None, name: str) -> str:
    """community | newsletter | feed | arxiv, from the source's kind, tags and URL in feeds.yml."""
    source = next((s for s in config.sources if s.name == name), None) if config else None
    if source is None:
        return "feed"  # a source no longer in feeds.yml: its posts still count once
    tags = {t.lower() for t in source.tags}
    if source.kind in ("arxiv", "arxiv-rss"):
        return "arxiv"
    if source.kind == "mailbox" or "newsletter" in tags:
        return "newsletter"
    host = (source.url or "").lower()
    if "community" in tags or any(h in host for h in COMMUNITY_HOSTS):
        return "community"
    return "feed"


def source_weight(config: Config | None, name: str) -> float:
    return WEIGHTS[source_class(config, name)]


def rank(rows: Sequence[MentionRow], weights: dict[str, float], limit: int) -> list[TrendingPaper]:
    """Papers by weighted distinct sources, posts, newest mention; zero-weight ones left out."""
    by_paper: dict[str, list[MentionRow]] = {}
    for row in rows:
        by_paper.setdefault(row.arxiv_id, []).append(row)
    papers = []
    for arxiv_id, mentions in by_paper.items():
        sources = sorted({m.source for m in mentions}, key=lambda s: (-weights.get(s, 1.0), s))
        score = sum(weights.get(s, 1.0) for s in sources)
        if score <= 0:
            continue
        mentions.sort(key=lambda m: (m.first_seen, m.post_id), reverse=True)
        posts: list[TrendingPost] = [
            {"id": m.post_id, "title": m.title, "url": m.url, "source": m.source,
             "first_seen": m.first_seen}
            for m in mentions
        ]  # fmt: skip
        papers.append(TrendingPaper(arxiv_id, score, sources, posts))
    # Stable sorts, last key first: weight, distinct sources, posts, newest mention, id.
    papers.sort(key=lambda p: p.arxiv_id)
    papers.sort(key=lambda p: p.posts[0]["first_seen"], reverse=True)
    papers.sort(key=lambda p: (-p.score, -len(p.sources), -len(p.posts)))
    return papers[:limit]


# ---------------------------------------------------------------- rendering


def _score(paper: TrendingPaper) -> str:
    n = len(paper.sources)
    return f"{n} source{'s' if n != 1 else ''} · weight {paper.score:g}"


def paper_lines(paper: TrendingPaper) -> list[str]:
    """A paper of the view as plain lines: title, arXiv link, sources, then its posts."""
    url = f"https://arxiv.org/abs/{paper.arxiv_id}"
    if paper.entry:
        lines = [clean(paper.title), f"#{paper.entry['id']}  arXiv:{paper.arxiv_id}  {url}"]
    else:
        lines = [
            f"arXiv:{paper.arxiv_id}  {url}",
            f"not in the list: papertrail add {paper.arxiv_id}",
        ]
    lines.append(f"{_score(paper)}: {', '.join(clean(s) for s in paper.sources)}")
    for post in paper.posts[:MAX_POSTS_SHOWN]:
        lines.append(f"  [{clean(post['source'])}] {clean(post['title'])}")
    if len(paper.posts) > MAX_POSTS_SHOWN:
        lines.append(f"  … and {len(paper.posts) - MAX_POSTS_SHOWN} more posts")
    return lines


def render_text(trending: Trending) -> str:
    """`papertrail trending` as text for the terminal."""
    window = f"since {trending.since}" + (f" until {trending.until}" if trending.until else "")
    where = f" in {', '.join(trending.domains)}" if trending.domains else ""
    if not trending.papers:
        return (
            f"No paper was mentioned by a feed {window}{where}. Posts that link arXiv papers "
            "(blogs, Reddit, Hacker News, newsletters) fill this view after `papertrail fetch`.\n"
        )
    out = [f"Discussed {window}{where} — {len(trending.papers)} papers", ""]
    for n, paper in enumerate(trending.papers, 1):
        first, *rest = paper_lines(paper)
        out.append(f"{n:>3}. {first}")
        out += [f"     {line}" for line in rest]
        out.append("")
    return "\n".join(out)


def to_json(trending: Trending) -> dict[str, object]:
    """The view as JSON-shaped data (what `--json` prints and the reading page can use)."""
    return {
        "since": trending.since,
        "until": trending.until,
        "domains": trending.domains,
        "papers": [
            {
                "arxiv_id": p.arxiv_id,
                "title": p.title,
                "score": p.score,
                "sources": p.sources,
                "posts": p.posts,
                "entry": p.entry,
            }
            for p in trending.papers
        ],
    }
