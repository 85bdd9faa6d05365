"""Reading arXiv's OAI-PMH answers (`metadataPrefix=arXiv`): pure, bytes in, papers out.

Part of `papertrail.ingest.oai` (see its docstring); the network side is `oai_client`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from papertrail.ids import parse_arxiv_id
from papertrail.models import OAI_SOURCE
from papertrail.sources.arxiv_meta import ArxivMeta, MetaError, author_name, paper_record, squash

# arXiv's OAI-PMH base URL since 2025 (the legacy http://export.arxiv.org/oai2 redirects here).
DEFAULT_ENDPOINT = "https://oaipmh.arxiv.org/oai"
ENDPOINT_ENV = "PAPERTRAIL_OAI_ENDPOINT"
METADATA_PREFIX = "arXiv"
SOURCE = OAI_SOURCE  # provenance name of harvested papers
KIND = "arxiv-oai"  # harvest_state.kind

OAI_NS = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV_NS = "{http://arxiv.org/OAI/arXiv/}"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# OAI-PMH 2.0 §2.7.1 setSpec: unreserved URI characters, ':' separating levels.
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")


class OaiError(Exception):
    """A harvest could not go on: what was wrong, where, and what to do.

    Whatever was saved before stays saved, and so does the harvest state: the
    next run resumes."""

    def __init__(self, message: str, *, code: str | None = None, url: str | None = None):
        super().__init__(message)
        self.code = code
        self.url = url


class OaiProtocolError(OaiError):
    """The endpoint answered with an OAI-PMH ``<error code="...">``."""


# ----------------------------------------------------------------- parsing


@dataclass
class OaiPage:
    """One ``ListRecords`` (or ``GetRecord``) answer."""

    records: list[ArxivMeta] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # OAI identifiers of deleted records
    datestamp: str | None = None  # the newest record datestamp on the page (YYYY-MM-DD)
    token: str | None = None  # the next page's resumption token; None on the last page
    complete_list_size: int | None = None
    cursor: int | None = None
    response_date: str | None = None
    warnings: list[str] = field(default_factory=list)


def _iso_day(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _DATE.fullmatch(value):
        raise MetaError(f"<{what}> {value!r} is not a YYYY-MM-DD date")
    return f"{value}T00:00:00+00:00"


def from_oai(element: ET.Element) -> ArxivMeta:
    """One ``<arXiv>`` metadata element (``metadataPrefix=arXiv``) as a paper.

    The format carries no version numbers: `created` is the first version's
    date and `updated` the latest version's, both days without a time, so the
    record's `version` is None and `versions` is empty (a time-less v1 date
    would overwrite the exact one a snapshot import stored). Raises MetaError
    naming the field."""

    def text(name: str) -> str | None:
        found = element.find(ARXIV_NS + name)
        return found.text if found is not None and found.text is not None else None

    raw_id = (text("id") or "").strip()
    if not raw_id:
        raise MetaError("no <id>")
    parsed = parse_arxiv_id(raw_id)
    if parsed is None:
        raise MetaError(f"<id> {raw_id!r} is not an arXiv identifier")
    arxiv_id = parsed[0]

    authors: list[str] = []
    for author in element.iterfind(f"{ARXIV_NS}authors/{ARXIV_NS}author"):
        parts = [author.findtext(ARXIV_NS + n) or "" for n in ("keyname", "forenames", "suffix")]
        name = author_name(*(squash(p) for p in parts))
        if name:
            authors.append(name)

    published = _iso_day(text("created"), "created")
    updated = _iso_day(text("updated"), "updated") or published
    record = paper_record(
        arxiv_id,
        None,
        title=text("title"),
        authors=authors,
        abstract=text("abstract"),
        categories=(text("categories") or "").split(),
        published=published,
        updated=updated,
        doi=text("doi"),
        journal_ref=text("journal-ref"),
        comment=text("comments"),
    )
    return ArxivMeta(
        record,
        [],
        license=squash(text("license")) or None,
        submitter=None,  # only arXivRaw names the submitter
        report_no=squash(text("report-no")) or None,
    )


_ERROR_ADVICE = {
    "badArgument": "check --from/--until (YYYY-MM-DD) and --set (the endpoint lists its sets at "
    "?verb=ListSets)",
    "badResumptionToken": "resumption tokens expire; run the command again and the harvest "
    "restarts from the last datestamp it saved",
    "cannotDisseminateFormat": f"the endpoint does not offer metadataPrefix={METADATA_PREFIX}; "
    "is --endpoint arXiv's OAI-PMH interface (or a mirror of it)?",
    "noSetHierarchy": "the endpoint has no sets; leave out --set",
    "badVerb": "is --endpoint an OAI-PMH base URL?",
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_oai_page(body: bytes, *, url: str = "the OAI-PMH endpoint") -> OaiPage:
    """The papers in one OAI-PMH answer (pure).

    Raises OaiError when the body is not well-formed XML or not OAI-PMH, and
    OaiProtocolError for an OAI ``<error>`` other than ``noRecordsMatch``
    (which gives an empty page). A record whose metadata cannot be read is
    skipped with a warning naming it."""
    root = _oai_root(body, url)
    page = OaiPage(response_date=(root.findtext(OAI_NS + "responseDate") or "").strip() or None)
    if _no_records_match(root, url):
        return page  # nothing in this window
    body_el = root.find(OAI_NS + "ListRecords")
    if body_el is None:
        body_el = root.find(OAI_NS + "GetRecord")
    if body_el is None:
        verbs = ", ".join(f"<{_local(c.tag)}>" for c in root) or "nothing"
        raise OaiError(
            f"{url} answered OAI-PMH without <ListRecords> or <GetRecord> (it holds {verbs})",
            url=url,
        )
    for rec in body_el.iterfind(OAI_NS + "record"):
        _add_record(page, rec)
    token = body_el.find(OAI_NS + "resumptionToken")
    if token is not None:
        page.token = (token.text or "").strip() or None
        page.complete_list_size = _int(token.get("completeListSize"))
        page.cursor = _int(token.get("cursor"))
    return page


def _oai_root(body: bytes, url: str) -> ET.Element:
    """The document element of an OAI-PMH answer; OaiError for anything else."""
    from defusedxml import DefusedXmlException  # heavy-listed: only a harvest needs it
    from defusedxml.ElementTree import fromstring  # ditto; refuses entity and DTD tricks

    try:
        root: ET.Element = fromstring(body)
    except DefusedXmlException as e:
        raise OaiError(
            f"the answer from {url} was refused: it declares XML entities or external "
            f"references ({type(e).__name__}), which OAI-PMH never needs",
            url=url,
        ) from None
    except ET.ParseError as e:
        position = getattr(e, "position", None)  # (line, column), column 0-based
        where = (
            f" at line {position[0]}, column {position[1] + 1}" if position and position[0] else ""
        )
        raise OaiError(
            f"the answer from {url} is not well-formed XML{where} ({e}); nothing of that page "
            "was saved and the harvest state still points at it: run the command again to "
            "retry it",
            url=url,
        ) from None
    if root.tag != OAI_NS + "OAI-PMH":
        raise OaiError(
            f"{url} did not answer with OAI-PMH (its root element is <{_local(root.tag)}>); "
            f"is --endpoint an OAI-PMH base URL such as {DEFAULT_ENDPOINT}?",
            url=url,
        )
    return root


def _no_records_match(root: ET.Element, url: str) -> bool:
    """True for the ``noRecordsMatch`` answer; OaiProtocolError for any other OAI error."""
    errors = root.findall(OAI_NS + "error")
    for error in errors:
        code = error.get("code") or "unknown"
        if code == "noRecordsMatch":
            continue
        message = squash(error.text) or "no message"
        advice = _ERROR_ADVICE.get(code, "")
        raise OaiProtocolError(
            f"{url} answered with the OAI-PMH error {code}: {message}"
            + (f" — {advice}" if advice else ""),
            code=code,
            url=url,
        )
    return bool(errors)


def _add_record(page: OaiPage, rec: ET.Element) -> None:
    """One ``<record>`` into `page`: a paper, a deletion, or a warning saying why it was skipped."""
    header = rec.find(OAI_NS + "header")
    identifier = (header.findtext(OAI_NS + "identifier") if header is not None else None) or "?"
    identifier = identifier.strip()
    stamp = (header.findtext(OAI_NS + "datestamp") if header is not None else None) or ""
    stamp = stamp.strip()[:10]
    if _DATE.fullmatch(stamp) and (page.datestamp is None or stamp > page.datestamp):
        page.datestamp = stamp
    if header is not None and header.get("status") == "deleted":
        page.deleted.append(identifier)
        return
    meta = rec.find(f"{OAI_NS}metadata/{ARXIV_NS}arXiv")
    if meta is None:
        page.warnings.append(
            f"{identifier}: no <arXiv> metadata (the endpoint must be asked for "
            f"metadataPrefix={METADATA_PREFIX}); skipped"
        )
        return
    try:
        page.records.append(from_oai(meta))
    except MetaError as e:
        page.warnings.append(f"{identifier}: {e}; skipped")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
