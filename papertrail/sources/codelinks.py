"""Code and artifact links in a paper's abstract, its arXiv comment or a post: pure functions.

A code link is a repository (GitHub, GitLab, Codeberg), a Hugging Face model,
dataset or Space, or a project page that the text calls one ("Project page:
https://…"). Everything else is left out, and so is anything that only looks
like one of these: the host must be exactly one of the known hosts (so
`github.com.evil.io`, `gìthub.com` and `https://github.com@evil.io/` are not),
the scheme http(s) (never `javascript:` or `data:`), link shorteners are never
followed or stored, and tracking parameters (`utm_*`, `fbclid`, …) are
stripped. Repository links are stored as the repository itself
(`https://github.com/owner/repo`, not a file inside it).

In a post, a code link belongs to the paper whose arXiv link or citation is
nearest to it in the same paragraph (or list item, heading, table cell) and
within `POST_WINDOW` characters of the post's HTML; links far from any paper
(a newsletter links dozens of repositories) belong to none.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from papertrail.ids import find_arxiv_ids
from papertrail.models import CodeLink

# Kinds, in the order a card shows them.
KINDS = ("github", "gitlab", "codeberg", "hf-model", "hf-dataset", "hf-space", "project")
# Characters between a code link and the arXiv citation it is attributed to, in a post.
POST_WINDOW = 1000
MAX_URL = 300

_REPO_HOSTS = {
    "github.com": "github",
    "www.github.com": "github",
    "gitlab.com": "gitlab",
    "www.gitlab.com": "gitlab",
    "codeberg.org": "codeberg",
    "www.codeberg.org": "codeberg",
}
_HF_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co"})
# Hosts whose links only redirect elsewhere: never stored (what they point to is unknown).
SHORTENERS = frozenset(
    [
        "bit.ly",
        "bitly.com",
        "t.co",
        "goo.gl",
        "tinyurl.com",
        "ow.ly",
        "buff.ly",
        "is.gd",
        "lnkd.in",
        "dlvr.it",
        "rb.gy",
        "cutt.ly",
        "shorturl.at",
        "tiny.cc",
        "s.id",
        "t.ly",
        "v.gd",
        "trib.al",
        "bl.ink",
        "rebrand.ly",
        "shorte.st",
        "adf.ly",
        "mcaf.ee",
        "su.pr",
        "qr.ae",
        "x.co",
        "soo.gd",
        "clck.ru",
        "short.io",
        "tinyurl.at",
        "url.ie",
        "git.io",
        "hf.link",
        "aka.ms",
        "amzn.to",
        "youtu.be",
        "redd.it",
        "lnk.to",
    ]
)
# Query parameters that only track the reader.
_TRACKING = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|_hsenc|_hsmi|mkt_tok|"
    r"ref|ref_src|ref_url|source|s|si|spm|trk|campaign|yclid|vero_id|oly_\w+)$",
    re.I,
)
# First path segments of github.com that are pages of the site, not accounts.
_GITHUB_RESERVED = frozenset(
    [
        "about",
        "apps",
        "blog",
        "collections",
        "contact",
        "customer-stories",
        "enterprise",
        "explore",
        "features",
        "login",
        "marketplace",
        "new",
        "notifications",
        "orgs",
        "pricing",
        "pulls",
        "issues",
        "search",
        "security",
        "settings",
        "site",
        "sponsors",
        "topics",
        "trending",
        "join",
        "readme",
        "codespaces",
        "events",
    ]
)
_GITLAB_RESERVED = frozenset(
    ["explore", "users", "help", "dashboard", "search", "groups", "projects", "-"]
)
_HF_RESERVED = frozenset(
    [
        "docs",
        "blog",
        "papers",
        "login",
        "join",
        "pricing",
        "models",
        "settings",
        "organizations",
        "collections",
        "learn",
        "posts",
        "tasks",
        "chat",
        "enterprise",
        "api",
        "huggingface",
        "new",
    ]
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
_HOSTNAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")

# A URL in text: scheme'd, or a bare known host followed by a path.
_URL_IN_TEXT = re.compile(
    r"https?://[^\s<>\"'`{}|\\^\[\]]+"
    r"|(?<![\w.@/-])(?:www\.)?(?:github\.com|gitlab\.com|codeberg\.org|huggingface\.co)/"
    r"[^\s<>\"'`{}|\\^\[\]]+",
    re.I,
)
# Where a match of _URL_IN_TEXT may start ("http", "www.", or a code host's name; the
# letters re.I matches, the Turkish dotted and dotless i included): searched first because
# Python's re tries _URL_IN_TEXT's branches at every position of a text (~4x slower on a
# 60 KB blog feed), while a pattern that starts with a plain character set is scanned in C.
_URL_START = re.compile(
    r"[hHwWgGcC](?:(?<=[hH])[tT][tT][pP]|(?<=[wW])[wW][wW]\."
    r"|(?<=[gG])[iIİı][tT](?:[hH][uU][bB]|[lL][aA][bB])\.[cC][oO][mM]/"
    r"|(?<=[cC])[oO][dD][eE][bB][eE][rR][gG]\.[oO][rR][gG]/"
    r"|(?<=[hH])[uU][gG][gG][iIİı][nN][gG][fF][aA][cC][eE]\.[cC][oO]/)"
)
_ANCHOR = re.compile(r"<a\b.*?</a\s*>", re.I | re.S)
_HREF = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
# What a text says just before a link that makes it the project's page.
_PROJECT_CUE = re.compile(
    r"\b(?:project\s*(?:page|website|site|homepage|webpage)|home\s*page|website|webpage|"
    r"(?:source\s+)?code|implementation)\b[^.\n]{0,30}\Z",
    re.I,
)
# Where a paragraph, list item, heading or table cell ends: a link is attributed within one.
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|div|td|tr|blockquote|ul|ol)\s*>|<br\s*/?>|\n\s*\n", re.I)
_TRAILING = ".,;:!?'\"*>"


def _trim(url: str) -> str:
    """Sentence punctuation after a URL is not part of it; nor is an unmatched ')'."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _clean_query(query: str) -> str:
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlencode(kept)


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _repo(kind: str, host: str, parts: list[str]) -> str | None:
    """The repository (or account) URL a repo-host path names, or None."""
    reserved = _GITHUB_RESERVED if kind == "github" else _GITLAB_RESERVED
    if kind == "github" and parts[:1] == ["orgs"]:
        parts = parts[1:2]
    if not parts or parts[0].lower() in reserved:
        return None
    if kind != "gitlab":
        parts = parts[:2]
    elif "-" in parts:  # GitLab groups nest; a project's own pages start at "/-/"
        parts = parts[: parts.index("-")]
    if parts and parts[-1].endswith(".git"):
        parts[-1] = parts[-1][:-4]
    if not parts or not all(_NAME.match(p) for p in parts):
        return None
    canonical = {"github": "github.com", "gitlab": "gitlab.com", "codeberg": "codeberg.org"}[kind]
    return f"https://{canonical}/" + "/".join(parts)


def _hugging_face(parts: list[str]) -> tuple[str, str] | None:
    kinds = {"datasets": "hf-dataset", "spaces": "hf-space"}
    kind = kinds.get(parts[0].lower(), "hf-model") if parts else "hf-model"
    if kind != "hf-model":
        parts = parts[1:]
    if len(parts) < 2 or parts[0].lower() in _HF_RESERVED:
        return None
    owner, name = parts[0], parts[1]
    if not (_NAME.match(owner) and _NAME.match(name)):
        return None
    prefix = {"hf-model": "", "hf-dataset": "datasets/", "hf-space": "spaces/"}[kind]
    return kind, f"https://huggingface.co/{prefix}{owner}/{name}"


def _split_safely(raw: str) -> tuple[str, str, str, str] | None:
    """(scheme, host, path, query) of an http(s) URL with a plain ASCII host and no
    user name or odd port; None for anything else (javascript:, data:, look-alikes)."""
    url = _trim(html.unescape(raw.strip()))
    if not url or len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    if "://" not in url[:9]:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc:
        return None
    host = parts.hostname or ""
    if port not in (None, 80, 443) or not host.isascii() or not _HOSTNAME.match(host):
        return None  # an IDN (gìthub.com) or its punycode look-alike never matches a known host
    if host.startswith("xn--") or ".xn--" in host:
        return None
    return parts.scheme.lower(), host, parts.path, parts.query


# Pages hosts serve for projects: a name there is the project's, not an impersonation.
_PAGES_SUFFIXES = (".github.io", ".gitlab.io", ".codeberg.page", ".hf.space")
_BRANDS = ("github", "gitlab", "codeberg", "huggingface")


def _impersonates(host: str) -> bool:
    """A host that borrows a known host's name (github.com.evil.io, huggingface-co.net)."""
    for suffix in _PAGES_SUFFIXES:
        if host.endswith(suffix):
            host = host[: -len(suffix)]
            break
    return any(brand in host for brand in _BRANDS)


def classify(raw: str, *, project_cue: bool = False) -> tuple[str, str] | None:
    """(kind, normalised URL) when `raw` is a code or artifact link, else None.
    `project_cue`: the text calls the link a project page, so any safe host is one."""
    return _classify(raw, project_cue)


# Whether the text calls a link a project page: known, or worked out only when asked (for
# an <a href> that costs a look at the text around the tag, which most links never need).
Cue = bool | Callable[[], bool]


def _classify(raw: str, project_cue: Cue) -> tuple[str, str] | None:
    split = _split_safely(raw)
    if split is None:
        return None
    scheme, host, path, query = split
    if host in SHORTENERS:
        return None
    segments = _segments(path)
    if host in _REPO_HOSTS:
        kind = _REPO_HOSTS[host]
        url = _repo(kind, host, segments)
        return (kind, url) if url else None
    if host in _HF_HOSTS:
        return _hugging_face(segments)
    if host.endswith("arxiv.org") or host in ("doi.org", "dx.doi.org"):
        return None
    if not (project_cue() if callable(project_cue) else project_cue):
        return None
    if _impersonates(host):
        return None
    query = _clean_query(query)
    return "project", urlunsplit((scheme, host, path or "/", query, ""))


def _cue_before(text: str, start: int) -> bool:
    return bool(_PROJECT_CUE.search(text[max(0, start - 60) : start]))


def _text_links(text: str) -> Iterable[tuple[int, str, bool]]:
    """(offset, raw URL, called a project page?) for each URL written out in `text`."""
    for m in _urls_in_text(text):
        yield m.start(), m.group(0), _cue_before(text, m.start())


def _urls_in_text(text: str) -> Iterator[re.Match[str]]:
    """`_URL_IN_TEXT.finditer(text)`, faster: tried only where `_URL_START` finds a start
    (a lookbehind still sees the text before it)."""
    pos = 0
    while (start := _URL_START.search(text, pos)) is not None:
        m = _URL_IN_TEXT.match(text, start.start())
        if m is None:
            pos = start.start() + 1
            continue
        yield m
        pos = max(m.end(), m.start() + 1)


def _html_links(fragment: str) -> Iterable[tuple[int, str, Cue]]:
    """Links of an HTML fragment: each <a href> (the cue is the text before the tag),
    then URLs written out in the text itself (as `_text_links` finds them in the fragment
    with its links and tags blanked out, without making that copy)."""
    for m in _HREF.finditer(fragment):
        raw = next(g for g in m.groups() if g is not None)
        yield m.start(), raw, functools.partial(_href_cue, fragment, m.start(), m.end())
    # Text inside a link is the link's label: its href (above) is what it links to.
    text = _ANCHOR.sub(lambda t: " " * len(t.group(0)), fragment)
    if "://" not in text and _DOMAIN_HINT.search(text) is None:
        return  # no URL written out (each has one of these)
    for m in _urls_in_text(text):
        if not _in_tag(text, m.start()):  # a URL in an attribute: blanked with its tag
            yield m.start(), m.group(0), _cue_before(_blank_tags(text, m.start()), 60)


def _href_cue(fragment: str, start: int, end: int) -> bool:
    """Whether the text before an <a> tag (or its own text) calls the link a project page."""
    before = html.unescape(re.sub(r"<[^>]*>", " ", fragment[max(0, start - 200) : start]))
    inner = html.unescape(re.sub(r"<[^>]*>", " ", fragment[end : end + 120].split("</a")[0]))
    return _cue_before(before, len(before)) or _cue_before(inner + " ", len(inner) + 1)


# What a URL written out contains, one or the other ("://", or a code host's ".com/" ...).
_DOMAIN_HINT = re.compile(r"\.(?:com|org|co)/", re.I)
_TAG = re.compile(r"<[^>]*>")


def _in_tag(text: str, at: int) -> bool:
    """Whether `text[at]` is inside a tag as `_TAG` finds them from the start: a '<' after
    the last '>' before it, and a '>' after it."""
    opened = text.find("<", text.rfind(">", 0, at) + 1, at)
    return opened != -1 and text.find(">", at) != -1


def _blank_tags(text: str, end: int) -> str:
    """The 60 characters before `end` (which is outside every tag) with their tags blanked,
    as blanking every tag of `text` would leave them (a tag cut by the window's start too)."""
    lo = max(0, end - 60)
    start = text.find("<", text.rfind(">", 0, lo) + 1, lo)  # a tag open at `lo` starts here
    start = start if start != -1 and text.find(">", lo, end) != -1 else lo
    piece = _TAG.sub(lambda t: " " * len(t.group(0)), text[start:end])
    return piece[lo - start :]


def _collect(found: Iterable[tuple[int, str, Cue]]) -> list[tuple[int, str, str]]:
    out: dict[str, tuple[int, str, str]] = {}
    for offset, raw, cue in found:
        hit = _classify(raw, cue)
        if hit is not None and hit[1] not in out:
            out[hit[1]] = (offset, hit[0], hit[1])
    return list(out.values())


def paper_code_links(summary: str | None, comment: str | None) -> list[CodeLink]:
    """The code links of a paper: its arXiv comment first, then its abstract."""
    links: dict[str, CodeLink] = {}
    for found_in, text in (("comment", comment), ("abstract", summary)):
        for _, kind, url in _collect(_text_links(text or "")):
            links.setdefault(url, CodeLink(url=url, kind=kind, found_in=found_in))
    return list(links.values())


def _citations(fragment: str) -> list[tuple[int, str]]:
    """(offset, arXiv id) of every arXiv link or citation in an HTML fragment."""
    out: list[tuple[int, str]] = []
    pattern = re.compile(r"arxiv", re.I)
    for m in pattern.finditer(fragment):
        window = fragment[m.start() : m.start() + 60]
        ids = find_arxiv_ids(window)
        if ids:
            out.append((m.start(), ids[0]))
    return out


def post_code_links(fragments: Iterable[str], item_link: str | None = None) -> list[CodeLink]:
    """Code links of a post, each attributed to the paper cited nearest to it (see
    the module docstring). An item whose own link is a repository and whose text
    cites exactly one paper (a "Show HN" of a paper's code) links that paper."""
    links: dict[tuple[str, str], CodeLink] = {}
    cited: set[str] = set()
    for fragment in fragments:
        if not fragment:
            continue
        citations = _citations(fragment)
        if not citations:
            continue  # a link is kept only near a cited paper: nothing to look for
        cited.update(i for _, i in citations)
        ends = [m.start() for m in _BLOCK_END.finditer(fragment)]
        for offset, kind, url in _collect(_html_links(fragment)):
            block = bisect.bisect(ends, offset)
            near = [
                (abs(offset - at), i)
                for at, i in citations
                if abs(offset - at) <= POST_WINDOW and bisect.bisect(ends, at) == block
            ]
            if near:
                arxiv_id = min(near)[1]
                links.setdefault((arxiv_id, url), CodeLink(url, kind, "post", arxiv_id))
    if item_link and len(cited) == 1:
        hit = classify(item_link)
        if hit is not None:
            (arxiv_id,) = cited
            links.setdefault((arxiv_id, hit[1]), CodeLink(hit[1], hit[0], "post", arxiv_id))
    return list(links.values())
