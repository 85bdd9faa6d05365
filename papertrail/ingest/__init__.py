"""Runs that fill the reading list: sources in, the store out.

`fetch` is one `papertrail fetch` (the HTTP, arXiv API and mailbox lanes, one
writer saving each source atomically, then the mentions backfill); `add`
fetches papers by arXiv id (`papertrail add`, the backfill); `snapshot`
imports arXiv's metadata snapshot with reader processes; `oai` harvests
arXiv's OAI-PMH interface, resumably. Each takes an open database and the
configuration; `papertrail.api` opens, locks and rescores around them.

May import: sources, store, config, models, ids, optional.
"""
