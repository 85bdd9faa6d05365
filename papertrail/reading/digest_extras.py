"""The digest's additions of issue 20: the "Discussed this week" section it opens with,
and a paper's code line. Pure helpers that papertrail.reading.digest calls from each
renderer, kept here so that the digest's own module changes little.

Feed text is untrusted here as everywhere: text is cleaned (`papertrail.text.clean`),
HTML escaped; links are only the normalised https URLs of papertrail.sources.codelinks
and arXiv abs pages.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from papertrail.models import Entry
from papertrail.reading.trending import MAX_POSTS_SHOWN, TrendingPaper, paper_lines
from papertrail.text import clean

TRENDING_TITLE = "Discussed this week"


def trending_title(since: str | None) -> str:
    """The section's heading: a fetch's digest looks back a week, `digest --since` its window."""
    return TRENDING_TITLE if since is None else f"Discussed since {clean(since)[:10]}"


KIND_LABELS = {
    "github": "GitHub",
    "gitlab": "GitLab",
    "codeberg": "Codeberg",
    "hf-model": "HF model",
    "hf-dataset": "HF dataset",
    "hf-space": "HF Space",
    "project": "project page",
}
MAX_CODE_LINKS = 3


def _links(entry: Entry) -> list[tuple[str, str]]:
    """(label, https URL) of a paper's first code links."""
    out = []
    for link in (entry.get("code_links") or [])[:MAX_CODE_LINKS]:
        url = clean(link.get("url"))
        if url.startswith("https://") or url.startswith("http://"):
            out.append((KIND_LABELS.get(link.get("kind", ""), "code"), url))
    return out


def code_text(entry: Entry) -> str:
    """ "code: https://github.com/o/r (GitHub) · …", or "" when the paper has none."""
    links = _links(entry)
    return ("code: " + " · ".join(f"{url} ({label})" for label, url in links)) if links else ""


def code_markdown(entry: Entry) -> str:
    links = _links(entry)
    return ("code: " + ", ".join(f"[{label}](<{url}>)" for label, url in links)) if links else ""


def code_html(entry: Entry) -> str:
    links = _links(entry)
    if not links:
        return ""
    anchors = [
        f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">{html.escape(label)}</a>'
        for label, url in links
    ]
    return '<span class="code">code: ' + " · ".join(anchors) + "</span>"


def trending_text(papers: Sequence[TrendingPaper]) -> list[tuple[str, int, str]]:
    """(text, indent, mark) lines of the section, for the text digest."""
    lines: list[tuple[str, int, str]] = []
    for paper in papers:
        first, *rest = paper_lines(paper)
        lines.append((first, 4, "• "))
        lines += [(line, 4, "") for line in rest]
    return lines


def trending_markdown(
    papers: Sequence[TrendingPaper], md: Callable[[Any], str], title: str = TRENDING_TITLE
) -> list[str]:
    """Markdown lines of the section; `md` is the digest's Markdown escaper."""
    out = [f"## {md(title)}", ""]
    for paper in papers:
        url = f"https://arxiv.org/abs/{paper.arxiv_id}"
        sources = ", ".join(md(s) for s in paper.sources)
        out.append(f"- [**{md(paper.title)}**](<{url}>) — {_n_sources(paper)}: {sources}")
        for post in paper.posts[:MAX_POSTS_SHOWN]:
            out.append(f"  - \\[{md(post['source'])}\\] {md(post['title'])}")
    return out


def trending_html(papers: Sequence[TrendingPaper], title: str = TRENDING_TITLE) -> str:
    items = []
    for paper in papers:
        url = html.escape(f"https://arxiv.org/abs/{paper.arxiv_id}", quote=True)
        sources = ", ".join(html.escape(clean(s)) for s in paper.sources)
        posts = "".join(
            f"<li>[{html.escape(clean(p['source']))}] {html.escape(clean(p['title']))}</li>"
            for p in paper.posts[:MAX_POSTS_SHOWN]
        )
        items.append(
            f'<li><a href="{url}" rel="noopener noreferrer"><strong>'
            f"{html.escape(clean(paper.title))}</strong></a><br>\n"
            f'<span class="mentions">{_n_sources(paper)}: {sources}</span>'
            f"<ul>{posts}</ul></li>"
        )
    return (
        f'<section class="trending">\n<h2>{html.escape(title)}</h2>\n<ul>\n'
        + "\n".join(items)
        + "\n</ul>\n</section>"
    )


def trending_json(papers: Sequence[TrendingPaper]) -> list[dict[str, object]]:
    return [
        {"arxiv_id": p.arxiv_id, "title": p.title, "score": p.score, "sources": p.sources,
         "posts": p.posts[:MAX_POSTS_SHOWN], "entry_id": p.entry["id"] if p.entry else None}
        for p in papers
    ]  # fmt: skip


def _n_sources(paper: TrendingPaper) -> str:
    n = len(paper.sources)
    return f"{n} source{'s' if n != 1 else ''}"
