"""arXiv's own metadata records (the bulk snapshot, OAI-PMH) as reading-list papers.

`ArxivMeta` is one paper as arXiv's metadata services describe it: the
`Record` the reading list stores (built field for field like the API path,
`parse.record_from_arxiv_result`, so a paper is the same entry whichever way it
came in), plus what only these services carry: every version with its date,
the license, the submitter and the report number.

`from_snapshot` maps one line of the public metadata snapshot
(`arxiv-metadata-oai-snapshot.json`, JSON lines). It is on the hot path of a
2.7-million-line import, so it avoids `email.utils` and `datetime` for the
version dates and does no regex work.
"""

from __future__ import annotations

from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any

from papertrail.ids import arxiv_abs_url, arxiv_pdf_url, is_new_style_id, parse_arxiv_id
from papertrail.models import ArxivMeta, Record
from papertrail.sources.parse import tex_to_unicode

ABS_GUID = "http://arxiv.org/abs/"  # the API's <id>, which the API path keeps as guid

_MONTHS = {
    m: f"{i:02d}"
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


# One decoded JSON object of the snapshot: its values are whatever the file holds, checked
# field by field here.
_Json = dict[str, Any]


class MetaError(ValueError):
    """A metadata record that cannot be a paper; the message says which field and why."""


def squash(text: str | None) -> str:
    """Collapse runs of whitespace (arXiv wraps titles and abstracts at ~80 columns)."""
    return " ".join(text.split()) if text else ""


def author_name(keyname: str, forenames: str = "", suffix: str = "") -> str:
    """ "Forenames Keyname Suffix", as the API writes an author's name."""
    return " ".join(p for p in (forenames.strip(), keyname.strip(), suffix.strip()) if p)


def rfc2822_to_iso(value: str) -> str:
    """'Mon, 2 Apr 2007 19:18:42 GMT' -> '2007-04-02T19:18:42+00:00'.

    The snapshot writes every version date in this one form, always GMT; the
    fast path splits it, anything else goes through `email.utils`."""
    parts = value.split()
    if len(parts) == 6 and parts[5] == "GMT" and parts[2] in _MONTHS and len(parts[4]) == 8:
        day = parts[1]
        return (
            f"{parts[3]}-{_MONTHS[parts[2]]}-{day if len(day) == 2 else '0' + day}T{parts[4]}+00:00"
        )
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise MetaError(f"unreadable version date {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def paper_record(
    arxiv_id: str,
    version: int | None,
    *,
    title: str | None,
    authors: list[str],
    abstract: str | None,
    categories: list[str],
    published: str | None,
    updated: str | None,
    doi: str | None,
    journal_ref: str | None,
    comment: str | None,
) -> Record:
    """The `Record` the API path would build for the same paper (see
    `parse.record_from_arxiv_result`): whitespace collapsed, categories
    de-duplicated with the primary first, abs/pdf(/doi) links."""
    cats: list[str] = []
    for c in categories:
        if c and c not in cats:
            cats.append(c)
    links = {"abs": arxiv_abs_url(arxiv_id, version), "pdf": arxiv_pdf_url(arxiv_id, version)}
    doi = (doi or "").strip() or None
    if doi:
        links["doi"] = f"https://doi.org/{doi}"
    return Record(
        kind="paper",
        title=squash(title) or arxiv_id,
        url=arxiv_abs_url(arxiv_id),
        arxiv_id=arxiv_id,
        version=version,
        authors=authors,
        summary=squash(abstract),
        categories=cats,
        primary_category=cats[0] if cats else None,
        published=published,
        updated=updated,
        doi=doi,
        journal_ref=squash(journal_ref) or None,
        comment=squash(comment) or None,
        links=links,
        guid=f"{ABS_GUID}{arxiv_id}v{version}" if version else f"{ABS_GUID}{arxiv_id}",
    )


def _text(obj: _Json, name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MetaError(f'"{name}" should be a string, not {type(value).__name__}')
    return value


def from_snapshot(obj: object) -> ArxivMeta:
    """One parsed line of the metadata snapshot. Raises MetaError naming the field."""
    if not isinstance(obj, dict):
        raise MetaError(f"a line should hold a JSON object, not {type(obj).__name__}")
    raw_id = obj.get("id")
    if not isinstance(raw_id, str) or not raw_id:
        raise MetaError('no "id"')
    if is_new_style_id(raw_id):
        arxiv_id = raw_id
    else:
        parsed = parse_arxiv_id(raw_id)
        if parsed is None or parsed[1] is not None:
            raise MetaError(f'"id" {raw_id!r} is not an arXiv identifier')
        arxiv_id = parsed[0]

    versions = _snapshot_versions(obj)
    version = versions[-1][0] if versions else None
    authors = _snapshot_authors(obj)
    categories = (_text(obj, "categories") or "").split()
    record = paper_record(
        arxiv_id,
        version,
        title=_text(obj, "title"),
        authors=authors,
        abstract=_text(obj, "abstract"),
        categories=categories,
        published=versions[0][1] if versions else None,
        updated=versions[-1][1] if versions else None,
        doi=_text(obj, "doi"),
        journal_ref=_text(obj, "journal-ref"),
        comment=_text(obj, "comments"),
    )
    return ArxivMeta(
        record,
        versions,
        license=_text(obj, "license"),
        submitter=_text(obj, "submitter"),
        report_no=squash(_text(obj, "report-no")) or None,
    )


def _snapshot_versions(obj: _Json) -> list[tuple[int, str]]:
    """(number, ISO date) of every version, oldest first."""
    versions: list[tuple[int, str]] = []
    for v in obj.get("versions") or ():
        try:
            name, created = v["version"], v["created"]
            versions.append((int(name[1:]), rfc2822_to_iso(created)))
        except (TypeError, KeyError, ValueError, IndexError):
            raise MetaError(f'unreadable "versions" item {v!r}') from None
    versions.sort()
    return versions


def _snapshot_authors(obj: _Json) -> list[str]:
    """Names from "authors_parsed" ([keyname, forenames, suffix] lists), else from the
    "authors" text (TeX accents turned into Unicode)."""
    authors: list[str] = []
    parsed_authors = obj.get("authors_parsed")
    if parsed_authors:
        for a in parsed_authors:
            if not isinstance(a, list) or not a:
                raise MetaError(f'unreadable "authors_parsed" item {a!r}')
            name = author_name(*(str(p) for p in a[:3]))
            if name:
                authors.append(name)
    elif obj.get("authors"):
        text = tex_to_unicode(squash(_text(obj, "authors")))
        authors = [a.strip() for a in text.replace(" and ", ", ").split(",") if a.strip()]
    return authors
