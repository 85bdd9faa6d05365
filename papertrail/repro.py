"""Reproductions: find them, link their papers into the reading list, run them, record each run.

A reproduction is a package `reproductions/<pkg>/` whose `__init__` declares
`NAME`, `TITLE` and `PAPERS` (see `reproductions/__init__.py`) and whose
`run` module has an `Args` dataclass and `run(args, ctx) -> RunResult`.
Nothing here imports torch: the run module imports it when it runs.

May import: sources, store, config, models, ids, and `reproductions.common`
(the reproductions themselves are found by name, `discover`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import json
import os
import pkgutil
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from papertrail import __version__, store
from papertrail.models import Record, Tagger
from papertrail.sources.arxiv_api import ApiResult
from reproductions.common import Paper, PriorRun, RunContext, RunResult, describe_fields

if TYPE_CHECKING:
    import sqlite_utils
    from _typeshed import DataclassInstance

    from papertrail.store.repro import ReproRun

    # What a reproduction's run module takes: an instance of its `Args` dataclass.
    ReproArgs = DataclassInstance

PACKAGE = "reproductions"
CONFIG_FILE = "config.json"  # the run's exact config, in its folder (as recorded in the database)
REQUIRED_MODULES = {
    "torch": "torch",
    "PIL": "pillow",
    "safetensors": "safetensors",
    "numpy": "numpy",
}


class ReproError(Exception):
    """A reproduction cannot start or its run failed; the message is for people."""


class TorchMissing(ReproError):
    pass


class ReproFailed(ReproError):
    def __init__(self, message: str, run_id: int | None = None):
        super().__init__(message)
        self.run_id = run_id


@dataclass(frozen=True)
class Reproduction:
    name: str
    title: str
    module: str  # the package, e.g. "reproductions.style_transfer"
    papers: tuple[Paper, ...]

    @property
    def arxiv_ids(self) -> list[str]:
        return [p.arxiv_id for p in self.papers]

    @property
    def folder(self) -> Path:
        spec = importlib.util.find_spec(self.module)
        assert spec is not None and spec.submodule_search_locations
        return Path(next(iter(spec.submodule_search_locations)))

    def entry(self) -> ModuleType:
        """The run module (torch-free at import): Args, run(), paper_for(), check(), CONFIGS."""
        return importlib.import_module(f"{self.module}.run")


def discover() -> dict[str, Reproduction]:
    """Every package under `reproductions/` that declares NAME, TITLE and PAPERS."""
    package = importlib.import_module(PACKAGE)
    found: dict[str, Reproduction] = {}
    for info in pkgutil.iter_modules(package.__path__, prefix=f"{PACKAGE}."):
        if not info.ispkg:
            continue
        module = importlib.import_module(info.name)
        if not all(hasattr(module, a) for a in ("NAME", "TITLE", "PAPERS")):
            continue  # e.g. reproductions.common
        found[module.NAME] = Reproduction(
            module.NAME, module.TITLE, info.name, tuple(module.PAPERS)
        )
    return dict(sorted(found.items()))


def get(name: str) -> Reproduction:
    """The reproduction called `name`; KeyError listing the others."""
    found = discover()
    if name not in found:
        raise KeyError(f"no reproduction named {name!r}; there are: {', '.join(found) or 'none'}")
    return found[name]


def require_torch(name: str) -> None:
    """TorchMissing, with the install command, when a run's libraries are absent."""
    missing = [
        pkg for mod, pkg in REQUIRED_MODULES.items() if importlib.util.find_spec(mod) is None
    ]
    if missing:
        raise TorchMissing(
            f"`papertrail repro {name}` needs {', '.join(missing)}, not installed in this Python. "
            "Install them with:\n    pip install 'papertrail[repro]'\n"
            "(CPU-only torch, a much smaller download: "
            "pip install torch --index-url https://download.pytorch.org/whl/cpu first.)"
        )


# ---------------------------------------------------------------- the reading list


def paper_record(paper: Paper) -> Record:
    """A reading-list record from a reproduction's constants (offline; --refresh gets arXiv's)."""
    return Record(
        kind="paper",
        title=paper.title,
        arxiv_id=paper.arxiv_id,
        authors=list(paper.authors),
        url=f"https://arxiv.org/abs/{paper.arxiv_id}",
        categories=list(paper.categories),
        primary_category=paper.categories[0] if paper.categories else None,
        published=f"{paper.published}T00:00:00+00:00" if paper.published else None,
        links={
            "abs": f"https://arxiv.org/abs/{paper.arxiv_id}",
            "pdf": f"https://arxiv.org/pdf/{paper.arxiv_id}",
        },
    )


class _NoDomains:
    """A tagger for when feeds.yml cannot be read: linking papers still works."""

    def tag(self, record: Record) -> list[str]:
        return []

    def tag_archive(self, record: Record) -> list[str]:
        return []


class PaperFetcher(Protocol):
    """What `refresh_papers` needs of the arXiv API (`sources.arxiv_api.ArxivApi`)."""

    def fetch_ids(self, name: str, ids: list[str]) -> ApiResult: ...


def register(db: sqlite_utils.Database, repros: list[Reproduction]) -> None:
    """Record the reproductions and the papers each implements, adding no entry
    (what `papertrail repro list` / `show` do: a listing adds nothing to read)."""
    for r in repros:
        store.register_reproduction(db, r.name, r.title, r.module, r.arxiv_ids)


def link_papers(
    db: sqlite_utils.Database, repros: list[Reproduction], tagger: Tagger | None = None
) -> int:
    """Register reproductions and add their papers missing from the reading list, dated
    by arXiv (never "new today"); a run does this. Returns how many were added."""
    added = 0
    for r in repros:
        store.register_reproduction(db, r.name, r.title, r.module, r.arxiv_ids)
        missing = set(store.missing_papers(db, r.arxiv_ids))
        records = [paper_record(p) for p in r.papers if p.arxiv_id in missing]
        if records:
            added += store.save_paper_records(db, records, tagger or _NoDomains())
    return added


def refresh_papers(
    db: sqlite_utils.Database,
    repros: list[Reproduction],
    api: PaperFetcher,
    tagger: Tagger | None = None,
) -> str | None:
    """Update the papers' entries from the arXiv API (title, abstract, version, dates).

    Returns the API's error sentence, or None; the reading list keeps what it had on error."""
    ids = list(dict.fromkeys(a for r in repros for a in r.arxiv_ids))
    if not ids:
        return None
    result = api.fetch_ids(store.REPRO_SOURCE, ids)
    if result.records:
        store.save_paper_records(db, result.records, tagger or _NoDomains())
    return result.error


# ---------------------------------------------------------------- runs


def code_version() -> str:
    """papertrail's version, plus `git describe` when running from a checkout."""
    here = Path(__file__).resolve().parent.parent
    try:
        proc = subprocess.run(
            ["git", "-C", str(here), "describe", "--always", "--dirty", "--tags"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        described = proc.stdout.strip() if proc.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        described = ""
    return f"{__version__}+{described}" if described else __version__


def artifacts_root(db_path: Path) -> Path:
    """Run folders live next to the database: <db dir>/repro-runs/<name>/<timestamp>/."""
    return Path(db_path).parent / "repro-runs"


def _jsonable(value: object) -> Any:
    """`value` as plain JSON data (paths and other objects as strings)."""
    return json.loads(json.dumps(value, default=str))


@dataclass
class RunOutcome:
    run_id: int
    status: str
    artifacts: Path
    duration_s: float
    result: RunResult


def worker_rank() -> int:
    """This process's rank under torchrun (its RANK variable); 0 when not distributed."""
    try:
        return int(os.environ.get("RANK") or 0)
    except ValueError:
        return 0


def _run_unrecorded(
    repro: Reproduction, args: ReproArgs, *, device: str, seed: int, dry_run: bool
) -> RunOutcome:
    """A torchrun worker other than rank 0 trains its shard; rank 0 alone records the run."""
    rank = worker_rank()
    artifacts = Path(tempfile.mkdtemp(prefix=f"papertrail-{repro.name}-rank{rank}-"))
    ctx = RunContext(artifacts=artifacts, device=device, seed=seed, dry_run=dry_run)
    start = time.perf_counter()
    try:
        result = repro.entry().run(args, ctx)
    except Exception as e:  # noqa: BLE001 - rank 0 records the run; say which worker failed
        raise ReproFailed(
            f"{repro.name}, torchrun worker rank {rank}: {type(e).__name__}: {e}"
        ) from e
    finally:
        with contextlib.suppress(OSError):
            artifacts.rmdir()  # nothing was written there (the usual case)
    return RunOutcome(0, "ok", artifacts, time.perf_counter() - start, result)


def make_args(repro: Reproduction, values: dict[str, object]) -> ReproArgs:
    """The reproduction's Args from option values (unknown names are an error)."""
    args_cls = repro.entry().Args
    names = {f.name for f in dataclasses.fields(args_cls)}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"{repro.name} has no option(s) {', '.join(sorted(unknown))}")
    args: ReproArgs = args_cls(**values)
    return args


# (task, done, total, metrics) as reproductions.common.ProgressFn reports them (metrics: numbers, words)
ProgressFn = Callable[[str, int, int, dict[str, object]], None]


def run_reproduction(
    db_path: Path,
    repro: Reproduction,
    args: ReproArgs,
    *,
    device: str = "auto",
    seed: int = 0,
    dry_run: bool = False,
    from_run: int | None = None,
    tagger: Tagger | None = None,
    on_progress: ProgressFn | None = None,
    on_log: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Run a reproduction and record it in `repro_runs` (status ok / failed / interrupted).

    `from_run` names an earlier run of the same reproduction to sample from,
    evaluate or continue (the reproduction says which its options ask for).
    Bad arguments raise ValueError before anything is recorded. A failed run
    raises ReproFailed naming the run; its traceback is in the run folder."""
    entry = repro.entry()
    require_torch(repro.name)
    args, prior = _checked(db_path, repro, args, from_run, dry_run)
    arxiv_id = entry.paper_for(args) if hasattr(entry, "paper_for") else repro.arxiv_ids[0]
    if worker_rank() > 0:
        return _run_unrecorded(repro, args, device=device, seed=seed, dry_run=dry_run)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    artifacts = artifacts_root(db_path) / repro.name / stamp
    artifacts.mkdir(parents=True, exist_ok=True)
    base_config = {
        "dry_run": dry_run,
        "seed": seed,
        "device": device,
        "args": _jsonable(dataclasses.asdict(args)),
        **({"from_run": from_run} if from_run is not None else {}),
    }
    config_path = _write_config(artifacts, base_config)
    with store.connected(db_path) as db:
        link_papers(db, [repro], tagger)
        run_id = store.start_repro_run(
            db,
            reproduction=repro.name,
            arxiv_id=arxiv_id,
            config=base_config,
            artifacts_dir=str(artifacts),
            code_version=code_version(),
            config_path=str(config_path),
            from_run=from_run,
        )
    ctx = RunContext(
        artifacts=artifacts, device=device, seed=seed, dry_run=dry_run,
        on_progress=on_progress, on_log=on_log, from_run=prior,
    )  # fmt: skip
    attempt = _attempt(entry, args, ctx)
    _record_finish(db_path, repro, run_id, attempt, base_config, ctx)
    return _outcome(repro, run_id, attempt, artifacts)


def _checked(
    db_path: Path, repro: Reproduction, args: ReproArgs, from_run: int | None, dry_run: bool
) -> tuple[ReproArgs, PriorRun | None]:
    """The arguments checked (ValueError before anything is recorded), and run `from_run`."""
    entry = repro.entry()
    prior = prior_run(db_path, repro, from_run) if from_run is not None else None
    if prior is not None and hasattr(entry, "args_from_run"):  # e.g. run N's network as --model
        args = entry.args_from_run(args, prior)
    if not dry_run and hasattr(entry, "check"):
        entry.check(args)
    if hasattr(entry, "check_from_run"):  # also: options that need --from-run, without it
        entry.check_from_run(args, prior)
    return args, prior


def prior_run(db_path: Path, repro: Reproduction, run_id: int) -> PriorRun:
    """The recorded run `run_id` of `repro`, for --from-run; ValueError saying what is wrong."""
    if not hasattr(repro.entry(), "check_from_run"):
        raise ValueError(
            f"--from-run: {repro.name} cannot sample from, evaluate or continue an earlier run"
        )
    with store.connected(db_path) as db:
        row = store.repro_run(db, run_id)
    where = f"see: papertrail repro show {repro.name}"
    if row is None or row["reproduction"] != repro.name:
        other = f" (run #{run_id} is a {row['reproduction']} run)" if row else ""
        raise ValueError(
            f"--from-run {run_id}: there is no {repro.name} run #{run_id}{other} — {where}"
        )
    folder = Path(row["artifacts_dir"] or "")
    if not row["artifacts_dir"] or not folder.is_dir():
        raise ValueError(
            f"--from-run {run_id}: its run folder {folder} is gone, so are its weights — {where}"
        )
    recorded = row.get("weights_path")
    weights = Path(recorded) if recorded else None
    return PriorRun(
        id=run_id, folder=folder, status=row["status"], config=row["config"],
        weights=weights if weights is not None and weights.is_file() else None,
    )  # fmt: skip


def _write_config(folder: Path, config: dict[str, Any]) -> Path:
    """The run's exact config as JSON in its folder (rewritten when the run resolves it)."""
    path = folder / CONFIG_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(config, indent=2, sort_keys=True, default=str) + "\n", "utf-8")
    os.replace(tmp, path)
    return path


@dataclass
class _Attempt:
    """How the run itself went: its result, or how it ended without one."""

    status: str  # ok | failed | interrupted
    duration_s: float
    result: RunResult | None = None
    error: str | None = None  # the message recorded with the run
    failure: BaseException | None = None  # re-raised after recording


def _attempt(entry: ModuleType, args: ReproArgs, ctx: RunContext) -> _Attempt:
    """Call the run module; any failure is kept (with its traceback in the run folder)."""
    start = time.perf_counter()
    try:
        result = entry.run(args, ctx)
    except KeyboardInterrupt as e:
        return _Attempt("interrupted", time.perf_counter() - start, None, "interrupted (Ctrl-C)", e)
    except Exception as e:  # noqa: BLE001 - recorded, then re-raised as ReproFailed
        error = f"{type(e).__name__}: {e}" if not isinstance(e, ValueError) else str(e)
        (ctx.artifacts / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
        return _Attempt("failed", time.perf_counter() - start, None, error, e)
    return _Attempt("ok", time.perf_counter() - start, result)


def _record_finish(
    db_path: Path,
    repro: Reproduction,
    run_id: int,
    attempt: _Attempt,
    base_config: dict[str, Any],
    ctx: RunContext,
) -> None:
    """Finish the run's row and write it to the run folder as run.json."""
    result = attempt.result
    if result is not None:
        _write_config(ctx.artifacts, {**base_config, "resolved": _jsonable(result.config)})
    weights = result.weights if result is not None else None
    with store.connected(db_path) as db:
        store.finish_repro_run(
            db,
            run_id,
            status=attempt.status,
            duration_s=attempt.duration_s,
            metrics=_jsonable(result.metrics) if result else None,
            headline=(result.headline + (" (dry run)" if ctx.dry_run else "")) if result else None,
            config={**base_config, "resolved": _jsonable(result.config)} if result else None,
            arxiv_id=result.arxiv_id if result else None,
            device=ctx.device_label,
            error=attempt.error,
            weights_path=str(weights) if weights is not None else None,
        )
        run_row = store.repro_run(db, run_id)
    (ctx.artifacts / "run.json").write_text(
        json.dumps(run_row, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )


def _outcome(repro: Reproduction, run_id: int, attempt: _Attempt, artifacts: Path) -> RunOutcome:
    """The recorded run, or its failure raised again (KeyboardInterrupt as itself)."""
    failure = attempt.failure
    if isinstance(failure, KeyboardInterrupt):
        raise failure
    if failure is not None:
        hint = "" if isinstance(failure, ValueError) else f" (traceback: {artifacts / 'error.log'})"
        raise ReproFailed(
            f"run #{run_id} of {repro.name} failed: {attempt.error}{hint}", run_id
        ) from failure
    assert attempt.result is not None
    return RunOutcome(run_id, attempt.status, artifacts, attempt.duration_s, attempt.result)


# ---------------------------------------------------------------- listing


class PaperRow(TypedDict):
    arxiv_id: str
    cite: str
    title: str


class ReproRow(TypedDict):
    """One reproduction as `papertrail repro list --json` prints it."""

    name: str
    title: str
    papers: list[PaperRow]
    smoke_test: ReproRun | None  # the latest --dry-run
    last_run: ReproRun | None  # the latest real run


def overview(db: sqlite_utils.Database, repros: dict[str, Reproduction]) -> list[ReproRow]:
    """One row per reproduction for `papertrail repro list`."""
    latest = store.latest_repro_runs(db)
    rows: list[ReproRow] = []
    for name, r in repros.items():
        runs = latest.get(name, {})
        papers = [PaperRow(arxiv_id=p.arxiv_id, cite=p.cite, title=p.title) for p in r.papers]
        rows.append(
            ReproRow(
                name=name,
                title=r.title,
                papers=papers,
                smoke_test=runs.get("dry_run"),
                last_run=runs.get("run"),
            )
        )
    return rows


class PaperDetail(TypedDict):
    arxiv_id: str
    title: str
    authors: list[str]
    year: int
    url: str
    entry_id: int | None  # its short id in the reading list


class ConfigDoc(TypedDict):
    name: str
    doc: str
    fields: list[tuple[str, Any, str, str | None]]  # name, default, help, paper reference


class ReproDetails(TypedDict):
    """What `papertrail repro show NAME --json` prints."""

    name: str
    title: str
    module: str
    folder: str
    readme: str | None
    papers: list[PaperDetail]
    configs: list[ConfigDoc]
    runs: list[ReproRun]


def details(db: sqlite_utils.Database, repro: Reproduction, *, runs: int = 10) -> ReproDetails:
    """What `papertrail repro show NAME` prints: papers (with reading-list ids), configs, runs."""
    entry_ids = store.paper_entry_ids(db, repro.arxiv_ids)
    configs = [
        ConfigDoc(name=c.__name__, doc=(c.__doc__ or "").strip(), fields=describe_fields(c))
        for c in getattr(repro.entry(), "CONFIGS", ())
    ]
    readme = repro.folder / "README.md"
    papers = [
        PaperDetail(
            arxiv_id=p.arxiv_id,
            title=p.title,
            authors=list(p.authors),
            year=p.year,
            url=p.url,
            entry_id=entry_ids.get(p.arxiv_id),
        )  # fmt: skip
        for p in repro.papers
    ]
    return ReproDetails(
        name=repro.name,
        title=repro.title,
        module=repro.module,
        folder=str(repro.folder),
        readme=str(readme) if readme.exists() else None,
        papers=papers,
        configs=configs,
        runs=store.repro_runs(db, reproduction=repro.name, limit=runs),
    )
