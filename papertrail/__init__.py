"""papertrail: follow machine-learning research from one local SQLite reading list.

The packages follow the flow, each importing only those below it (the docstring
of each says which; tests/test_layout.py holds them to it):

    sources/   fetch + parse: feeds, arXiv, OAI-PMH, mailboxes -> records (+ domain tags)
    store/     save: the SQLite reading list, the only SQL
    ingest/    the runs that join them: fetch, add, import snapshot, harvest
    reading/   rank, digest, export
    repro.py   the reproductions in reproductions/, linked to their papers
    api/       the typed library API: one function per thing a user does
    browse/    the reading list in Datasette
    cli/       the `papertrail` command, a thin shell over api/
    config/    feeds.yml and where files are; models.py, ids.py: shared by all

May import: nothing (it holds only the version).
"""

__version__ = "0.1.0"
