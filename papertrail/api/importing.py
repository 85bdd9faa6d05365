"""Papers in bulk or by hand: `import arxiv-snapshot`, `import oai`, `add`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from papertrail import store
from papertrail.config import Paths
from papertrail.ingest import add as adding
from papertrail.ingest import oai, snapshot
from papertrail.ingest.add import AddResult, NotAnArxivId
from papertrail.ingest.oai import HarvestProgress, HarvestResult
from papertrail.ingest.snapshot import ImportReport, Progress
from papertrail.reading.rank import rescore_recent
from papertrail.sources.domains import DomainTagger
from papertrail.sources.oai_client import OaiClient


def import_snapshot(
    paths: Paths,
    file: Path,
    *,
    restart: bool = False,
    workers: int = 2,
    on_progress: Callable[[Progress], None] | None = None,
) -> ImportReport:
    """`papertrail import arxiv-snapshot`: stream arXiv's metadata snapshot into the
    reading list (under the writer lock fetch uses), then rescore what is recent.
    Raises `SnapshotError` for an unreadable file, `store.FetchLocked` when another
    fetch or import is running."""
    config = paths.config()
    with store.database_lock(paths.db, "import"), store.connected(paths.db) as db:
        report = snapshot.import_snapshot(
            db, file, config.domains, restart=restart, workers=workers, on_progress=on_progress
        )
        rescore_recent(db, config)
        report.search_index = store.maintain_search_index(db)
    return report


def check_oai_options(
    *, endpoint: str | None, set_spec: str | None, from_: str | None, until: str | None
) -> str:
    """The OAI-PMH endpoint to use; ValueError naming the first bad option (nothing fetched)."""
    resolved = oai.resolve_endpoint(endpoint)
    oai.check_set_spec(set_spec)
    oai.check_day(from_, "--from")
    oai.check_day(until, "--until")
    return resolved


def import_oai(
    paths: Paths,
    *,
    set_spec: str | None = None,
    from_: str | None = None,
    until: str | None = None,
    endpoint: str | None = None,
    interval: float = 3.0,
    on_progress: Callable[[HarvestProgress], None] | None = None,
    client_factory: Callable[..., OaiClient] = OaiClient,
) -> HarvestResult:
    """`papertrail import oai`: check the options, lock the database, harvest.

    Domains come from the feeds file's rules (as for every entry). Raises
    ValueError for a bad option (nothing is fetched), `store.HarvestLocked` when a
    harvest is already running on the database, `OaiError` when the harvest
    cannot go on (what was saved stays saved)."""
    endpoint = check_oai_options(endpoint=endpoint, set_spec=set_spec, from_=from_, until=until)
    config = paths.config()
    with store.harvest_lock(paths.db), store.connected(paths.db) as db:
        with client_factory(endpoint, interval=interval) as client:
            result = oai.harvest(
                db,
                DomainTagger(config.domains),
                client,
                set_spec=set_spec,
                from_=from_,
                until=until,
                on_progress=on_progress,
            )
        store.maintain_search_index(db)
    return result


def add(paths: Paths, inputs: Sequence[str], *, id_file: Path | None = None) -> AddResult:
    """`papertrail add`: arXiv papers by id or URL, metadata from the arXiv API.
    Every input is read first: one that is not an arXiv id adds nothing (`NotAnArxivId`)."""
    items = [(f"argument {n}", text) for n, text in enumerate(inputs, 1)]
    if id_file is not None:
        items += adding.read_id_file(id_file)
    if not items:
        raise NotAnArxivId("no ids given: pass arXiv ids or URLs, or --file FILE")
    ids = adding.parse_id_inputs(items)
    config = paths.config()
    with store.connected(paths.db) as db:
        api = adding.arxiv_api_client(config.settings)
        return adding.add_papers(db, api, DomainTagger(config.domains), ids)
