"""The reads behind the reading page (papertrail.browse) that no command needs: the
posts mentioning each of a page's papers, and the tags in use.

May import: as the store package (see its docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    import sqlite_utils


class PostLink(TypedDict):
    """A post that links a paper: its short id, title and URL (the feed's text)."""

    id: int
    title: str
    url: str | None


def posts_mentioning(
    db: sqlite_utils.Database, arxiv_ids: Sequence[str], per_paper: int = 5
) -> dict[str, list[PostLink]]:
    """arXiv id -> the posts that link it, newest first (at most `per_paper` each)."""
    out: dict[str, list[PostLink]] = {}
    ids = sorted({a for a in arxiv_ids if a})
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = db.execute(
            f"""SELECT m.arxiv_id, p.id, p.title, p.url FROM mentions m
                JOIN entries p ON p.id = m.post_id WHERE m.arxiv_id IN ({marks})
                ORDER BY m.first_seen DESC, p.id DESC""",
            chunk,
        )
        for arxiv_id, post_id, title, url in rows:
            posts = out.setdefault(arxiv_id, [])
            if len(posts) < per_paper:
                posts.append({"id": post_id, "title": title or "", "url": url})
    return out


def tag_counts(db: sqlite_utils.Database, limit: int = 40) -> list[tuple[str, int]]:
    """The tags in use, most used first (user tags and source tags alike)."""
    rows = db.execute(
        "SELECT tag, COUNT(*) AS n FROM entry_tags GROUP BY tag ORDER BY n DESC, tag LIMIT ?",
        [limit],
    )
    return [(str(tag), int(n)) for tag, n in rows]
