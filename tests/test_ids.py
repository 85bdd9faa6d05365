"""papertrail.ids: arXiv id recognition and URL canonicalisation."""

from __future__ import annotations

import pytest

from papertrail.ids import (
    arxiv_abs_url,
    arxiv_pdf_url,
    canonical_url,
    find_arxiv_ids,
    parse_arxiv_id,
)

# (input, expected) — every form seen in real feeds, then rejects.
PARSE_CASES = [
    # new style
    ("1508.06576", ("1508.06576", None)),
    ("1508.06576v2", ("1508.06576", 2)),
    ("2401.12345", ("2401.12345", None)),
    ("2401.12345v12", ("2401.12345", 12)),
    ("0704.0001", ("0704.0001", None)),  # first new-style id
    ("1412.6980v9", ("1412.6980", 9)),  # last year of 4-digit numbers
    ("  1508.06576v1 \n", ("1508.06576", 1)),
    ("arXiv:1508.06576v1", ("1508.06576", 1)),
    ("arxiv:1508.06576", ("1508.06576", None)),
    ("ARXIV: 2401.12345", ("2401.12345", None)),
    ("oai:arXiv.org:2604.12345v1", ("2604.12345", 1)),
    ("oai:arXiv.org:2604.21935v1", ("2604.21935", 1)),
    # URLs
    ("https://arxiv.org/abs/1508.06576v2", ("1508.06576", 2)),
    ("https://arxiv.org/abs/2604.21935", ("2604.21935", None)),
    ("http://arxiv.org/pdf/1508.06576v1", ("1508.06576", 1)),
    ("http://arxiv.org/pdf/1508.06576v1.pdf", ("1508.06576", 1)),
    ("https://arxiv.org/pdf/1508.06576.pdf", ("1508.06576", None)),
    ("https://arxiv.org/html/2401.12345v1", ("2401.12345", 1)),
    ("https://arxiv.org/html/2401.12345v1/", ("2401.12345", 1)),
    ("http://export.arxiv.org/abs/1508.06576v3", ("1508.06576", 3)),
    ("https://www.arxiv.org/abs/1508.06576", ("1508.06576", None)),
    ("arxiv.org/abs/1508.06576", ("1508.06576", None)),
    ("https://arxiv.org/abs/1508.06576?context=cs", ("1508.06576", None)),
    ("https://arxiv.org/abs/1508.06576v2#S3", ("1508.06576", 2)),
    ("HTTPS://ARXIV.ORG/ABS/1508.06576V2", ("1508.06576", 2)),
    # old style; the subject class is not part of the id
    ("hep-th/9901001", ("hep-th/9901001", None)),
    ("hep-th/9901001v3", ("hep-th/9901001", 3)),
    ("math.GT/0309136", ("math/0309136", None)),
    ("math/0309136", ("math/0309136", None)),
    ("cond-mat.mes-hall/0101001", ("cond-mat/0101001", None)),
    ("astro-ph/0601001v1", ("astro-ph/0601001", 1)),
    ("arXiv:hep-ex/0703001v2", ("hep-ex/0703001", 2)),
    ("http://arxiv.org/abs/math/0309136", ("math/0309136", None)),
    ("http://arxiv.org/abs/cond-mat/0412498v1", ("cond-mat/0412498", 1)),
    ("https://arxiv.org/pdf/quant-ph/0201082v1.pdf", ("quant-ph/0201082", 1)),
    ("oai:arXiv.org:hep-th/9901001", ("hep-th/9901001", None)),
    # rejects
    ("", None),
    ("abc", None),
    ("1508.065", None),  # too short
    ("1508.065761", None),  # too long
    ("1508.0657", None),  # 4-digit number after 2014
    ("1312.12345", None),  # 5-digit number before 2015
    ("1513.06576", None),  # month 13
    ("1500.06576", None),  # month 00
    ("0703.0001", None),  # new-style form before April 2007
    ("2.10", None),
    ("version 2.10", None),
    ("1508.06576 dollars", None),
    ("foo/0309136", None),  # not an arXiv archive
    ("math/0313136", None),  # month 13 in an old id
    ("math/030913", None),  # old number too short
    ("hep-th/0801001", None),  # old scheme ended March 2007
    ("https://example.org/abs/1508.06576", None),
    ("https://arxiv.org/list/cs.AI/recent", None),
    ("1508.06576v", None),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_arxiv_id(text, expected):
    assert parse_arxiv_id(text) == expected


def test_parse_cases_table_is_big_enough():
    assert len(PARSE_CASES) >= 30
    assert sum(1 for _, e in PARSE_CASES if e is None) >= 10


FIND_CASES = [
    ("", []),
    ("no papers here, version 2.10 costs 1234.5678 dollars", []),
    ("see arXiv:1508.06576v2 and arXiv:2401.12345", ["1508.06576", "2401.12345"]),
    ("arXiv preprint arXiv:1706.03762, 2017", ["1706.03762"]),
    ("(arXiv 2401.12345)", ["2401.12345"]),
    (
        '<a href="https://arxiv.org/abs/1508.06576v2">paper</a> and '
        '<a href="http://arxiv.org/pdf/1706.03762v5.pdf">pdf</a> '
        '<a href="https://arxiv.org/abs/1508.06576">again</a>',
        ["1508.06576", "1706.03762"],
    ),
    ('<a href="https://arxiv.org/html/2401.12345v1#S2">html</a>', ["2401.12345"]),
    ("http://export.arxiv.org/abs/hep-th/9901001v3", ["hep-th/9901001"]),
    ("www.arxiv.org/abs/math.GT/0309136", ["math/0309136"]),
    ("oai:arXiv.org:2604.12345v1", ["2604.12345"]),
    ("arxiv.org/abs/1513.06576 is not a real id", []),
    ("myarxiv:1508.06576", []),  # marker must start a word
    ("arXiv:1508.065761", []),  # followed by more digits
    ("https://example.org/1508.06576", []),
    ("https://huggingface.co/papers/2401.12345", []),
]


@pytest.mark.parametrize(("text", "expected"), FIND_CASES)
def test_find_arxiv_ids(text, expected):
    assert find_arxiv_ids(text) == expected


def test_find_arxiv_ids_keeps_first_appearance_order():
    text = "arXiv:2401.00002 then arXiv:2401.00001 then https://arxiv.org/abs/2401.00002v3"
    assert find_arxiv_ids(text) == ["2401.00002", "2401.00001"]


def test_url_helpers():
    assert arxiv_abs_url("1508.06576") == "https://arxiv.org/abs/1508.06576"
    assert arxiv_abs_url("1508.06576", 2) == "https://arxiv.org/abs/1508.06576v2"
    assert arxiv_pdf_url("1508.06576") == "https://arxiv.org/pdf/1508.06576"
    assert arxiv_pdf_url("hep-th/9901001", 3) == "https://arxiv.org/pdf/hep-th/9901001v3"
    # round trip
    assert parse_arxiv_id(arxiv_pdf_url("hep-th/9901001", 3)) == ("hep-th/9901001", 3)


CANONICAL_CASES = [
    ("HTTPS://Example.COM/Path?q=1#frag", "https://example.com/Path?q=1"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("http://example.com/a", "http://example.com/a"),  # scheme kept, not upgraded
    ("https://example.com", "https://example.com/"),
    ("https://example.com/blog/", "https://example.com/blog/"),  # trailing slash kept
    ("https://example.com/blog", "https://example.com/blog"),
    (
        "https://example.com/p?utm_source=rss&utm_medium=feed&id=3&fbclid=xyz",
        "https://example.com/p?id=3",
    ),
    ("https://example.com/p?utm_campaign=x", "https://example.com/p"),
    ("https://example.com/p?gclid=1&b=2&a=1", "https://example.com/p?b=2&a=1"),  # order kept
    ("https://example.com/p?ref=hn&ref_src=twsrc", "https://example.com/p"),
    ("https://example.com/p?mc_cid=1&mc_eid=2", "https://example.com/p"),
    ("https://www.interconnects.ai/p/x?source=rss", "https://www.interconnects.ai/p/x"),
    ("https://example.com/p?source=github", "https://example.com/p?source=github"),
    ("https://example.com/p?q=a%20b&x=", "https://example.com/p?q=a%20b&x="),  # encoding kept
    ("https://user@Example.com/", "https://user@example.com/"),
    ("https://example.com./a", "https://example.com/a"),
    ("  https://example.com/a  ", "https://example.com/a"),
    ("not a url", "not a url"),
    ("/relative/path", "/relative/path"),
]


@pytest.mark.parametrize(("url", "expected"), CANONICAL_CASES)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize(("url", "_expected"), CANONICAL_CASES)
def test_canonical_url_is_idempotent(url, _expected):
    once = canonical_url(url)
    assert canonical_url(once) == once
