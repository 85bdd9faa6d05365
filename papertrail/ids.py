"""arXiv identifier recognition and URL canonicalisation. Pure and fast.

These run on every entry of every feed, so every pattern is compiled once at
import time and the common paths avoid any per-call allocation beyond the
result.

arXiv identifiers (https://info.arxiv.org/help/arxiv_identifier.html):

* new style (April 2007 on): ``YYMM.NNNN`` up to 1412, ``YYMM.NNNNN`` from
  1501, optionally followed by ``vN``. ``MM`` must be 01-12.
* old style (1991 - March 2007): ``archive[.SUBJ]/YYMMNNN``, e.g.
  ``hep-th/9901001`` or ``math.GT/0309136``. The subject class is *not* part
  of the identifier (``math.GT/0309136`` and ``math/0309136`` are the same
  paper and arXiv's API answers with the latter), so the version-less id we
  return drops it: ``math.GT/0309136`` -> ``math/0309136``. Only the real
  pre-2007 archive names are accepted.

May import: nothing of papertrail's (every stage uses it).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "ARXIV_ABS_BASE",
    "ARXIV_PDF_BASE",
    "arxiv_abs_url",
    "arxiv_pdf_url",
    "canonical_url",
    "find_arxiv_ids",
    "format_arxiv_id",
    "parse_arxiv_id",
    "url_match_key",
]

ARXIV_ABS_BASE = "https://arxiv.org/abs/"
ARXIV_PDF_BASE = "https://arxiv.org/pdf/"

# Archives that existed under the old (pre-April-2007) identifier scheme.
_OLD_ARCHIVES = (
    "acc-phys|adap-org|alg-geom|ao-sci|astro-ph|atom-ph|bayes-an|chao-dyn|chem-ph|cmp-lg"
    "|comp-gas|cond-mat|cs|dg-ga|funct-an|gr-qc|hep-ex|hep-lat|hep-ph|hep-th|math-ph|math"
    "|mtrl-th|nlin|nucl-ex|nucl-th|patt-sol|physics|plasm-ph|q-alg|q-bio|quant-ph"
    "|solv-int|supr-con"
)

# Groups: 1 new-style YYMM, 2 new-style number, 3 old archive, 4 old YYMMNNN, 5 version.
# Written for lower-cased input (callers lower-case first; ids carry no
# meaningful case once the subject class is dropped).
_ID_CORE = (
    r"(?:(\d{4})\.(\d{4,5})"
    r"|(" + _OLD_ARCHIVES + r")(?:\.[a-z][a-z-]*)?/(\d{7}))"
    r"(?:v(\d+))?"
)

_SINGLE_RE = re.compile(
    r"(?:(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format|ps)/"
    r"|oai:arxiv\.org:"
    r"|arxiv\s*:\s*)?" + _ID_CORE + r"(?:\.pdf)?/?(?:[?#].*)?"
)

# In running text/HTML an id only counts after an explicit arXiv marker:
# an arxiv.org URL path (any host prefix: www., export.), an OAI identifier
# ("oai:arXiv.org:ID") or an "arXiv:ID" / "arXiv ID" citation. The pattern
# starts with the literal "arxiv" so the regex engine can skip ahead fast;
# the character before it is checked in Python (not a letter or digit).
_FIND_RE = re.compile(
    r"arxiv(?:\.org/(?:abs|pdf|html|format|ps)/|\.org:|\s*:\s*|\s+)" + _ID_CORE + r"(?!\d)"
)


def is_new_style_id(text: str) -> bool:
    """Exactly a version-less new-style id (``0704.0001``, ``2401.12345``): the
    bulk import's fast path, no regex."""
    return (
        len(text) in (9, 10)
        and text[4] == "."
        and text.isascii()
        and text[:4].isdigit()
        and text[5:].isdigit()
        and _valid_new(text[:4], text[5:])
    )


def _valid_new(yymm: str, number: str) -> bool:
    month = int(yymm[2:])
    if not 1 <= month <= 12:
        return False
    ym = int(yymm)
    if ym < 704:  # new scheme started 0704
        return False
    # 4-digit sequence numbers until 1412, 5 digits from 1501.
    return len(number) == (4 if ym <= 1412 else 5)


def _valid_old(yymmnnn: str) -> bool:
    month = int(yymmnnn[2:4])
    if not 1 <= month <= 12:
        return False
    yy = int(yymmnnn[:2])
    # 1991 .. March 2007
    return yy >= 91 or yy <= 6 or (yy == 7 and month <= 3)


def _from_match(m: re.Match[str]) -> str | None:
    yymm, number, archive, old_num, _v = m.groups()
    if yymm is not None:
        return f"{yymm}.{number}" if _valid_new(yymm, number) else None
    return f"{archive}/{old_num}" if _valid_old(old_num) else None


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """One arXiv identifier, in any form seen in feeds, as ``(id, version)``.

    Accepts bare ids (``1508.06576``, ``1508.06576v2``, ``hep-th/9901001v3``,
    ``math.GT/0309136``), ``arXiv:``-prefixed ids, OAI guids
    (``oai:arXiv.org:2604.12345v1``) and arxiv.org abs/pdf/html URLs
    (``http(s)://``, ``www.`` and ``export.`` hosts, ``.pdf`` suffix, a
    trailing query or fragment). Returns the version-less id and the version
    (``None`` when the text carries none), or ``None`` if the text is not a
    valid identifier.
    """
    if not text:
        return None
    m = _SINGLE_RE.fullmatch(text.strip().lower())
    if m is None:
        return None
    ident = _from_match(m)
    if ident is None:
        return None
    v = m.group(5)
    return ident, (int(v) if v else None)


def find_arxiv_ids(text: str) -> list[str]:
    """Every arXiv paper linked or cited in ``text`` (plain text or HTML).

    Recognises arxiv.org abs/pdf/html links (any host prefix) and
    ``arXiv:ID`` / ``arXiv ID`` citations. Bare numbers such as ``2.10`` or
    ``1234.5678`` without an arXiv marker are ignored. Returns version-less
    ids, unique, in order of first appearance.
    """
    if not text:
        return []
    low = text.lower()
    if "arxiv" not in low:
        return []
    out: list[str] = []
    seen: set[str] = set()
    for m in _FIND_RE.finditer(low):
        start = m.start()
        if start and low[start - 1].isalnum():
            continue
        ident = _from_match(m)
        if ident is not None and ident not in seen:
            seen.add(ident)
            out.append(ident)
    return out


def format_arxiv_id(arxiv_id: str, version: int | None = None) -> str:
    """``"1508.06576"`` + 2 -> ``"1508.06576v2"``."""
    return f"{arxiv_id}v{version}" if version else arxiv_id


def arxiv_abs_url(arxiv_id: str, version: int | None = None) -> str:
    """``https://arxiv.org/abs/<id>[vN]``."""
    return ARXIV_ABS_BASE + format_arxiv_id(arxiv_id, version)


def arxiv_pdf_url(arxiv_id: str, version: int | None = None) -> str:
    """``https://arxiv.org/pdf/<id>[vN]``."""
    return ARXIV_PDF_BASE + format_arxiv_id(arxiv_id, version)


# --- URL canonicalisation -------------------------------------------------

_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "__s",
        "s_cid",
    }
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _is_tracking(param: str) -> bool:
    key, _, value = param.partition("=")
    key = key.lower()
    if key.startswith("utm_") or key in _TRACKING_PARAMS:
        return True
    # "source=rss" (Medium, Substack, Ghost); "source=rss----abc---4" on Medium.
    return key == "source" and value.lower().startswith("rss")


def canonical_url(url: str) -> str:
    """A stable form of ``url`` for de-duplication. Idempotent.

    * scheme and host lower-cased; the scheme is kept (``http`` is not
      upgraded to ``https``); user info is kept;
    * the default port (``:80`` for http, ``:443`` for https) is dropped;
    * the fragment is dropped;
    * tracking query parameters are dropped (``utm_*``, ``fbclid``,
      ``gclid``, ``mc_cid``, ``mc_eid``, ``ref``, ``ref_src``,
      ``source=rss...`` and similar); the other parameters keep their order
      and their exact encoding, and an empty query loses its ``?``;
    * an empty path becomes ``/`` (``https://a.org`` == ``https://a.org/``);
      any other path is kept as is, trailing slash included, because
      ``/blog`` and ``/blog/`` may be different pages.

    Text that is not an absolute URL is returned stripped and otherwise
    unchanged.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if not scheme or not netloc:
        return url
    userinfo, at, hostport = netloc.rpartition("@")
    host = hostport
    port = ""
    if hostport.startswith("["):  # IPv6 literal
        end = hostport.find("]")
        if end != -1:
            host, port = hostport[: end + 1], hostport[end + 1 :].lstrip(":")
    elif ":" in hostport:
        host, _, port = hostport.partition(":")
    host = host.lower()
    if host.endswith(".") and len(host) > 1:  # "example.com." is "example.com"
        host = host[:-1]
    if port == _DEFAULT_PORTS.get(scheme):
        port = ""
    netloc = f"{userinfo}{at}{host}" + (f":{port}" if port else "")
    path = parts.path or "/"
    query = parts.query
    if query:
        kept = [p for p in query.split("&") if p and not _is_tracking(p)]
        query = "&".join(kept)
    return urlunsplit((scheme, netloc, path, query, ""))


# --- the same page under several URLs ---------------------------------------

_AMP_QUERY = frozenset({"amp", "amp=1", "amp=true", "outputtype=amp", "output=amp"})
_AMP_CACHE_RE = re.compile(r"^[a-z0-9-]+\.cdn\.ampproject\.org$")
_AMP_PATH_RE = re.compile(r"(?:/amp)+/?$|\.amp(?=\.html?$)|^/amp(?=/)")


@functools.lru_cache(maxsize=4096)  # pure; a saved post asks for its keys three times
def url_match_key(url: str | None) -> str | None:
    """A key under which two URLs of the same web page meet, for merging one post
    listed by several feeds; None for a URL that names no single page (a site's
    home page) or that is not http(s).

    Beyond `canonical_url` (tracking parameters, fragment, case of scheme and
    host, default port): http and https meet, as do ``www.``/``m.``/``amp.``
    hosts and the bare host, a path with and without its trailing slash, and
    the AMP variants of a page (``/amp``, ``.amp.html``, ``?amp=1``, Google's AMP
    cache). The key is not a URL to open: it has no scheme.
    """
    if not url:
        return None
    canon = canonical_url(url)
    try:
        parts = urlsplit(canon)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host, path = parts.hostname, parts.path
    if _AMP_CACHE_RE.match(host) and path.startswith(("/c/s/", "/v/s/")):
        rest = path[5:]
        host, _, path = rest.partition("/")
        path = "/" + path
    for prefix in ("www.", "m.", "amp."):
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    path = _AMP_PATH_RE.sub("", path).rstrip("/")
    query = "&".join(p for p in parts.query.split("&") if p and p.lower() not in _AMP_QUERY)
    if not path and not query:
        return None  # a home page lists many posts; it names none of them
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{path}" + (f"?{query}" if query else "")
