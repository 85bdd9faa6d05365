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
from papertrail.store.trending import MentionRow, SourcePair
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


def rank(pairs: Sequence[SourcePair], weights: dict[str, float], limit: int) -> list[TrendingPaper]:
    """Papers by weighted distinct sources, then distinct sources, posts, newest mention
    and id; papers whose sources all weigh 0 are left out. Posts are attached later
    (`attach_posts`), for the papers shown only."""
    by_paper: dict[str, list[SourcePair]] = {}
    for pair in pairs:
        by_paper.setdefault(pair.arxiv_id, []).append(pair)
    ranked = []
    for arxiv_id, cited in by_paper.items():
        score = sum(weights.get(c.source, 1.0) for c in cited)
        if score > 0:
            posts = sum(c.posts for c in cited)
            last = max(c.last_seen for c in cited)
            ranked.append((score, len(cited), posts, last, arxiv_id, cited))
    # Stable sorts, the last key first (ISO dates in UTC sort as text).
    ranked.sort(key=lambda r: r[4])
    ranked.sort(key=lambda r: r[3], reverse=True)
    ranked.sort(key=lambda r: (r[0], r[1], r[2]), reverse=True)
    return [
        TrendingPaper(
            arxiv_id, score,
            sorted((c.source for c in cited), key=lambda s: (-weights.get(s, 1.0), s)), [],
        )
        for score, _, _, _, arxiv_id, cited in ranked[:limit]
    ]  # fmt: skip


def attach_posts(papers: Sequence[TrendingPaper], rows: Sequence[MentionRow]) -> None:
    """Give each paper its posts (rows come newest first)."""
    by_paper: dict[str, list[TrendingPost]] = {}
    for m in rows:
        post: TrendingPost = {"id": m.post_id, "title": m.title, "url": m.url,
                              "source": m.source, "first_seen": m.first_seen}  # fmt: skip
        by_paper.setdefault(m.arxiv_id, []).append(post)
    for paper in papers:
        paper.posts = by_paper.get(paper.arxiv_id, [])


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
