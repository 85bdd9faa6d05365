"""The outside world as records: fetch, then parse (and tag), never save.

Network and file readers return bytes or results (`http` for feeds over HTTP,
`arxiv_api` for arXiv API searches and id lookups, `oai_client` for OAI-PMH,
`mailbox` for local newsletters); parsers are pure, bytes in and `Record`s out
(`parse` for RSS/Atom/arXiv documents, decoded by `charset`, `arxiv_meta` for arXiv's bulk metadata,
`oai_parse` for OAI-PMH pages, `mailbox.parse_message`); `domains` tags a
record with its domains from feeds.yml's rules. Nothing here opens the
database: `papertrail.ingest` hands these records to `papertrail.store`.
httpx, feedparser, arxiv and requests are imported where they are used.

May import: config, models, ids, optional.
"""
