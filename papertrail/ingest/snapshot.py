"""`papertrail import arxiv-snapshot`: the whole of arXiv from its public metadata snapshot.

The snapshot (Kaggle's `arxiv-metadata-oai-snapshot.json`, ~2.7 M lines,
~4.5 GB; as `.json`, `.json.gz` or the `.zip` it is downloaded as) is read as
a stream, one JSON object per line. Two processes share the work:

- a **reader** process decompresses, parses (orjson), maps each line to a
  paper (`arxiv_meta.from_snapshot`), tags its domains and encodes the row —
  the CPU-heavy half;
- this process writes batches into SQLite (`store.bulk.save_items`: rows, the
  full-text index, domains, versions, provenance), one transaction each.

A bad line (not JSON, no id, unreadable field) is counted and reported with
its line number; it never stops the import. Each committed batch records how
far the import got (`import_runs.lines`), so a killed import of the same file
resumes after its last committed batch; `restart=True` reads from the top
(and, since a paper whose metadata hash is unchanged is skipped, costs only
the reading). Re-importing a newer snapshot adds new papers and rewrites the
changed ones; an id is never stored twice.
"""

from __future__ import annotations

import gzip
import io
import multiprocessing as mp
import os
import queue
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from papertrail.config import DomainRule
from papertrail.models import SNAPSHOT_SOURCE, Tagger
from papertrail.sources.arxiv_meta import MetaError, from_snapshot
from papertrail.sources.domains import DomainTagger
from papertrail.store import imports as q
from papertrail.store.bulk import BulkStats, PaperItem, paper_item, save_items
from papertrail.store.schema import max_entry_id

if TYPE_CHECKING:
    import sqlite_utils

SOURCE = SNAPSHOT_SOURCE
KIND = "arxiv-snapshot"
BATCH = 5000
BAD_EXAMPLES = 20  # bad lines remembered with their message (all are counted)
# Old-style papers (hep-th/9901001, 1991 to March 2007) come last in the snapshot.
# A fresh import keeps entry ids below the new-style ones for them, so entry ids
# follow arXiv's chronology, which bounded search relies on (store/triage.py). arXiv
# has ~440k of them and makes no more; the reservation is sized from the file
# (at most a fifth of its estimated lines) and anything beyond it is appended.
OLD_STYLE_SLOTS = 600_000
BYTES_PER_LINE = 1500


class SnapshotError(Exception):
    """The snapshot file cannot be read at all; the message says what to do."""


@dataclass
class Progress:
    bytes_done: int
    bytes_total: int
    lines: int
    stats: BulkStats
    bad_lines: int


@dataclass
class ImportReport:
    path: Path
    run_id: int
    lines: int = 0  # lines read in this run (after any resumed part)
    resumed_from: int = 0  # lines a previous, interrupted run had committed
    stats: BulkStats = field(default_factory=BulkStats)
    bad_lines: int = 0
    bad_examples: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    search_index: str | None = None  # what store.maintain_search_index did afterwards

    def summary(self) -> str:
        s = self.stats
        parts = [f"{s.new:,} new", f"{s.updated:,} updated", f"{s.unchanged:,} unchanged"]
        text = (
            f"imported {self.lines:,} lines of {self.path.name} in {self.seconds:.1f} s: "
            + ", ".join(parts)
        )
        if self.resumed_from:
            text += f" (resumed after line {self.resumed_from:,})"
        if self.bad_lines:
            text += f"; {self.bad_lines:,} bad line(s) skipped"
        if self.search_index:
            text += f"; index of the newest entries for search {self.search_index}"
        return text


# ------------------------------------------------------------------ reading


class _Counting(io.RawIOBase):
    """Counts the bytes read through it (a zip member has no useful tell())."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self.raw.readinto(b)  # type: ignore[attr-defined]
        self.count += n or 0
        return n or 0


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def open_snapshot(path: Path) -> tuple[IO[bytes], int, Callable[[], int], Callable[[], None]]:
    """(line stream, total bytes, bytes-done function, close) for .json/.jsonl, .gz or .zip.

    Progress counts bytes of the file on disk for .gz and plain files, and
    uncompressed bytes of the member for .zip."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the returned close()
    except OSError as e:
        raise SnapshotError(f"cannot open {path}: {e.strerror or e}") from None
    magic = raw.read(4)
    raw.seek(0)
    size = os.fstat(raw.fileno()).st_size
    if magic[:2] == b"\x1f\x8b":
        stream: IO[bytes] = io.BufferedReader(gzip.GzipFile(fileobj=raw), 1 << 20)
        return stream, size, raw.tell, raw.close
    if magic == b"PK\x03\x04":
        try:
            zf = zipfile.ZipFile(raw)
        except zipfile.BadZipFile as e:
            raw.close()
            raise SnapshotError(f"{path} is not a readable zip file: {e}") from None
        members = [
            i for i in zf.infolist() if not i.is_dir() and i.filename.endswith((".json", ".jsonl"))
        ]
        if len(members) != 1:
            names = ", ".join(i.filename for i in zf.infolist()[:5]) or "nothing"
            zf.close()
            raw.close()
            raise SnapshotError(
                f"{path}: expected one .json file inside the zip, found {names} — "
                "unzip it and pass the .json file"
            )
        counting = _Counting(zf.open(members[0]))
        stream = io.BufferedReader(counting, 1 << 20)

        def close() -> None:
            zf.close()
            raw.close()

        return stream, members[0].file_size, lambda: counting.count, close
    stream = io.BufferedReader(raw, 1 << 20)
    return stream, size, raw.tell, raw.close


Batch = tuple[int, int, list[PaperItem], list[tuple[int, str]]]  # (last line, bytes, items, bad)


def read_batches(
    path: Path,
    tagger: Tagger,
    *,
    skip_lines: int = 0,
    batch: int = BATCH,
    part: int = 0,
    parts: int = 1,
) -> Iterator[Batch]:
    """Batches of ready-to-save papers from the snapshot, after `skip_lines` lines.

    Lines are cut into batches of `batch`; with `parts` readers, this one
    parses only every `parts`-th batch, starting with batch `part` (the
    others only split lines). Bad lines come back as (line number, what is
    wrong), numbered as in the file from 1."""
    stream, _, position, close = open_snapshot(path)
    loads = orjson.loads
    try:
        items: list[PaperItem] = []
        bad: list[tuple[int, str]] = []
        line_no = 0
        try:
            for line_no, line in enumerate(stream, 1):
                if line_no <= skip_lines or ((line_no - 1) // batch) % parts != part:
                    continue
                if line.strip():
                    try:
                        meta = from_snapshot(loads(line))
                        items.append(paper_item(meta, tagger.tag_archive(meta.record)))
                    except orjson.JSONDecodeError as e:
                        bad.append((line_no, f"not JSON: {e}"))
                    except MetaError as e:
                        bad.append((line_no, str(e)))
                if line_no % batch == 0:
                    yield line_no, position(), items, bad
                    items, bad = [], []
        except (OSError, EOFError, zipfile.BadZipFile) as e:
            # A truncated or corrupt compressed file: what was read is kept.
            raise SnapshotError(
                f"{path}: the file ends or breaks after line {line_no:,} ({e}) — "
                "download it again; the lines before it are imported, and a re-run resumes"
            ) from None
        last_batch_mine = ((line_no - 1) // batch) % parts == part
        if line_no > skip_lines and line_no % batch and last_batch_mine:
            yield line_no, position(), items, bad
    finally:
        close()


def _reader_process(
    path: str,
    rules: Sequence[DomainRule],
    skip: int,
    batch: int,
    part: int,
    parts: int,
    out: mp.Queue[Batch | str | None],
) -> None:
    """Child process: read, parse, tag; send batches (None at the end, or an error string)."""
    try:
        tagger = DomainTagger(rules)
        for b in read_batches(
            Path(path), tagger, skip_lines=skip, batch=batch, part=part, parts=parts
        ):
            out.put(b)
        out.put(None)
    except SnapshotError as e:
        out.put(str(e))
    except BaseException as e:  # noqa: BLE001 - reported by the parent
        out.put(f"reading {path} failed: {type(e).__name__}: {e}")


def _parallel_batches(
    path: Path, rules: Sequence[DomainRule], skip: int, batch: int, readers: int
) -> Iterator[Batch]:
    """Batches from `readers` child processes, in file order (batch k from reader k mod n)."""
    ctx = mp.get_context("spawn")
    # Bounded queues: a reader cannot run ahead and fill memory.
    queues: list[mp.Queue[Batch | str | None]] = [ctx.Queue(maxsize=2) for _ in range(readers)]
    procs = [
        ctx.Process(
            target=_reader_process, args=(str(path), rules, skip, batch, k, readers, queues[k]),
            daemon=True,
        )
        for k in range(readers)
    ]  # fmt: skip
    for proc in procs:
        proc.start()
    turn = (skip // batch) % readers
    try:
        while True:
            try:
                item = queues[turn].get(timeout=1.0)
            except queue.Empty:
                if not procs[turn].is_alive():
                    raise SnapshotError(
                        f"the reader process for {path} died (exit code {procs[turn].exitcode})"
                    ) from None
                continue
            if item is None:
                return
            if isinstance(item, str):
                raise SnapshotError(item)
            yield item
            turn = (turn + 1) % readers
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=5)


# ------------------------------------------------------------------ importing


def import_snapshot(
    db: sqlite_utils.Database,
    path: Path,
    rules: Sequence[DomainRule],
    *,
    restart: bool = False,
    workers: int = 2,
    batch: int = BATCH,
    on_progress: Callable[[Progress], None] | None = None,
) -> ImportReport:
    """Import (or resume importing) a metadata snapshot into the open reading list.

    `rules` are the domain rules (config.domains). `workers=0` reads in this
    process (tests, small files); N > 0 starts N reader processes, each
    parsing every N-th batch (two keep both cores of a small machine busy)."""
    path = Path(path)
    st = _stat(path)
    previous = (
        None
        if restart
        else q.resumable_import(db, KIND, str(path.resolve()), st.st_size, st.st_mtime)
    )
    skip = previous["lines"] if previous else 0
    _, total, _, close = open_snapshot(path)
    close()
    reserved = _reservation(db, path, total, previous)
    run_id = q.start_import(
        db, KIND, str(path.resolve()), st.st_size, st.st_mtime, resume=previous, reserved=reserved
    )
    report = ImportReport(path, run_id, resumed_from=skip)
    if previous:
        report.bad_lines = previous["bad_lines"]
    batches = (
        _parallel_batches(path, rules, skip, batch, workers)
        if workers > 0
        else read_batches(path, DomainTagger(rules), skip_lines=skip, batch=batch)
    )
    start = time.perf_counter()
    try:
        _write(db, batches, report, reserved, total, on_progress)
    except BaseException as e:
        status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        q.finish_import(db, run_id, status, error=str(e) or type(e).__name__)
        raise
    finally:
        report.seconds = time.perf_counter() - start
    q.finish_import(db, run_id, "done")
    return report


def _stat(path: Path) -> os.stat_result:
    """The snapshot file's size and mtime (its identity for resuming); SnapshotError if unusable."""
    try:
        st = path.stat()
    except OSError as e:
        raise SnapshotError(
            f"cannot read {path}: {e.strerror or e} — pass the path of the downloaded "
            "arxiv-metadata-oai-snapshot.json (.json, .gz or .zip)"
        ) from None
    if path.is_dir():
        raise SnapshotError(f"{path} is a folder — pass the snapshot file itself")
    return st


def _reservation(
    db: sqlite_utils.Database, path: Path, total: int, previous: dict[str, Any] | None
) -> tuple[int, int] | None:
    """The entry ids kept for old-style papers (see OLD_STYLE_SLOTS): a resumed import's,
    or new ones on a fresh import into a list without them."""
    if previous and previous["reserved_lo"] is not None:
        return (previous["reserved_lo"], previous["reserved_hi"])
    if previous or q.has_old_style_papers(db):
        return None
    uncompressed = total * (4 if _is_gzip(path) else 1)
    slots = min(OLD_STYLE_SLOTS, uncompressed // BYTES_PER_LINE // 5)
    if not slots:
        return None
    lo = max_entry_id(db) + 1
    return (lo, lo + slots - 1)


def _write(
    db: sqlite_utils.Database,
    batches: Iterator[Batch],
    report: ImportReport,
    reserved: tuple[int, int] | None,
    total: int,
    on_progress: Callable[[Progress], None] | None,
) -> None:
    """Save each batch with the import's position after it, in one transaction."""
    skip = report.resumed_from
    for last_line, done_bytes, items, bad in batches:
        with db.atomic():
            stats = save_items(db.conn, items, source=SOURCE, reserved=reserved)
            q.record_batch(db, report.run_id, last_line, stats, bad, BAD_EXAMPLES)
        report.stats.add(stats)
        report.lines = last_line - skip
        report.bad_lines += len(bad)
        room = BAD_EXAMPLES - len(report.bad_examples)
        report.bad_examples += bad[:room]
        if on_progress:
            on_progress(Progress(done_bytes, total, last_line, report.stats, report.bad_lines))
