"""The reproductions framework: discovery, the reading-list link, run records, `papertrail repro`.

A tiny reproduction package made in tmp_path (no torch work) exercises the
recorder; the real style-transfer reproduction runs in test_style_transfer.py."""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import FeedServer, fixture_bytes
from werkzeug import Request, Response

import reproductions
from papertrail import repro as lib
from papertrail import store
from papertrail.cli import EXIT_CONFIG, cli

FAKE_INIT = """
from reproductions.common import Paper
NAME = "toy"
TITLE = "Toy reproduction"
PAPERS = (Paper("1701.07875", "Wasserstein GAN", ("Martin Arjovsky", "Soumith Chintala", "Léon Bottou"), 2017, ("stat.ML", "cs.LG")),)
"""
FAKE_RUN = '''
"""Toy run: fails on request, else reports a metric."""
from __future__ import annotations
from dataclasses import dataclass
from typing import Literal
from reproductions.common import RunContext, RunResult, option

@dataclass
class ToyConfig:
    """Toy hyperparameters."""
    lr: float = option(5e-5, "RMSprop learning rate", paper="Algorithm 1: α = 0.00005")

@dataclass
class Args:
    """Run the toy.

    \\b
    Example:
        papertrail repro toy --fail
    """
    fail: bool = option(False, "raise an error")
    mode: Literal["a", "b"] = option("a", "a mode")
    steps: int = option(3, "steps")

CONFIGS = (ToyConfig,)

def check(args: Args) -> None:
    if args.steps > 100:
        raise ValueError("--steps must be at most 100")

def run(args: Args, ctx: RunContext) -> RunResult:
    for i in range(args.steps):
        ctx.progress("toy", i + 1, args.steps, loss=1.0 / (i + 1))
    if args.fail:
        raise RuntimeError("the toy broke")
    (ctx.artifacts / "out.txt").write_text(args.mode)
    return RunResult("1701.07875", f"loss {1 / args.steps:.3f} ({args.mode})", {"loss": 1 / args.steps},
                     {"lr": 5e-5}, [ctx.artifacts / "out.txt"])
'''


# A run needs torch (papertrail checks for it first); the README's test command installs
# only `.[test]`, CI adds the CPU wheel. Without torch these skip and say why.
needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="needs torch: pip install torch (.ci/run installs the CPU wheel)",
)


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reproduction package `reproductions.toy` living in tmp_path."""
    root = tmp_path / "extra"
    (root / "toy").mkdir(parents=True)
    (root / "toy" / "__init__.py").write_text(FAKE_INIT, encoding="utf-8")
    (root / "toy" / "run.py").write_text(textwrap.dedent(FAKE_RUN), encoding="utf-8")
    monkeypatch.setattr(reproductions, "__path__", [*reproductions.__path__, str(root)])
    yield root
    for name in [m for m in sys.modules if m.startswith("reproductions.toy")]:
        del sys.modules[name]


def invoke(db: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", str(db), "repro", *args])


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_discovery_reads_the_declared_papers_and_skips_the_shared_module(toy: Path) -> None:
    found = lib.discover()
    assert {"style-transfer", "toy"} <= set(found)
    assert list(found) == sorted(found)
    assert not {"common", "gan_common", "gan-common"} & set(found)  # shared code declares nothing
    st = found["style-transfer"]
    assert st.arxiv_ids == ["1508.06576", "1603.08155"]
    assert st.module == "reproductions.style_transfer"
    assert (st.folder / "README.md").exists()
    with pytest.raises(
        KeyError, match="no reproduction named 'nope'; there are: .*style-transfer, toy"
    ):
        lib.get("nope")


def test_list_registers_the_reproductions_and_a_run_links_the_papers_offline(
    db_path: Path,
) -> None:
    result = invoke(db_path, "list")
    assert result.exit_code == 0, result.output
    assert "style-transfer" in result.output
    assert "arXiv:1508.06576" in result.output and "arXiv:1603.08155" in result.output
    assert "never run" in result.output
    links = rows(
        db_path, "SELECT reproduction, arxiv_id FROM reproduction_papers ORDER BY arxiv_id"
    )
    assert ("style-transfer", "1508.06576") in links and ("style-transfer", "1603.08155") in links
    assert len(links) == sum(len(r.papers) for r in lib.discover().values())
    # A listing adds nothing to read (issue 18)…
    assert rows(db_path, "SELECT COUNT(*) FROM entries") == [(0,)]
    # …linking them (what a run does) adds every declared paper, provenance "reproductions".
    db = store.open_db(db_path)
    lib.link_papers(db, list(lib.discover().values()))
    db.close()
    declared = {
        (p.arxiv_id, p.title, "reproductions") for r in lib.discover().values() for p in r.papers
    }
    papers = rows(
        db_path,
        "SELECT e.arxiv_id, e.title, p.source FROM entries e JOIN provenance p ON p.entry_id = e.id ORDER BY e.arxiv_id",
    )
    assert set(papers) == declared and len(papers) == len(declared)
    assert {
        ("1508.06576", "A Neural Algorithm of Artistic Style", "reproductions"),
        (
            "1603.08155",
            "Perceptual Losses for Real-Time Style Transfer and Super-Resolution",
            "reproductions",
        ),
    } <= set(papers)
    # Listing again adds nothing.
    assert invoke(db_path, "list").exit_code == 0
    assert rows(db_path, "SELECT COUNT(*) FROM entries") == [(len(declared),)]


def test_a_paper_already_in_the_reading_list_keeps_its_entry(db_path: Path) -> None:
    from papertrail import store
    from papertrail.models import Record

    db = store.open_db(db_path)
    store.save_paper_records(
        db,
        [
            Record(
                kind="paper",
                title="A Neural Algorithm of Artistic Style (arXiv title)",
                arxiv_id="1508.06576",
                version=2,
            )
        ],
        lib._NoDomains(),
        source="arxiv",
    )
    db.close()
    assert invoke(db_path, "list").exit_code == 0
    assert rows(db_path, "SELECT title, version FROM entries WHERE arxiv_id = '1508.06576'") == [
        ("A Neural Algorithm of Artistic Style (arXiv title)", 2)
    ]


@needs_torch
def test_a_run_is_recorded_with_config_metrics_and_artifacts(db_path: Path, toy: Path) -> None:
    result = invoke(db_path, "toy", "--mode", "b", "--steps", "4", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert "toy run #1: loss 0.250 (b)" in result.output
    (run,) = rows(
        db_path,
        "SELECT reproduction, arxiv_id, status, config, metrics, headline_metric, artifacts_dir, "
        "code_version, device, duration_s, finished_at FROM repro_runs",
    )
    (
        name,
        arxiv_id,
        status,
        config,
        metrics,
        headline,
        artifacts,
        version,
        device,
        duration,
        finished,
    ) = run
    assert (name, arxiv_id, status, headline) == ("toy", "1701.07875", "ok", "loss 0.250 (b)")
    config = json.loads(config)
    assert config["args"] == {"fail": False, "mode": "b", "steps": 4}
    assert config["seed"] == 7 and config["dry_run"] is False and config["resolved"] == {"lr": 5e-5}
    assert json.loads(metrics) == {"loss": 0.25}
    assert Path(artifacts, "out.txt").read_text() == "b"
    assert json.loads(Path(artifacts, "run.json").read_text())["status"] == "ok"
    assert Path(artifacts).parent.parent == db_path.parent / "repro-runs"
    from papertrail import __version__

    assert version.startswith(__version__)
    assert duration >= 0 and finished
    # The paper is in the reading list and the reproduction is linked to it.
    assert rows(
        db_path, "SELECT reproduction FROM reproduction_papers WHERE arxiv_id = '1701.07875'"
    ) == [("toy",)]
    listing = invoke(db_path, "list").output
    assert re.search(r"last run:\s+#1 ok \(.*\): loss 0.250 \(b\)", listing), listing


@needs_torch
def test_a_failed_run_is_recorded_and_reported_with_its_traceback_file(
    db_path: Path, toy: Path
) -> None:
    result = invoke(db_path, "toy", "--fail")
    assert result.exit_code == 1
    assert "run #1 of toy failed: RuntimeError: the toy broke" in result.output
    ((status, error, artifacts),) = rows(
        db_path, "SELECT status, error, artifacts_dir FROM repro_runs"
    )
    assert (status, error) == ("failed", "RuntimeError: the toy broke")
    assert "the toy broke" in Path(artifacts, "error.log").read_text()
    assert "last run:   #1 failed" in invoke(db_path, "list").output


@needs_torch
def test_bad_arguments_run_nothing_and_record_nothing(db_path: Path, toy: Path) -> None:
    result = invoke(db_path, "toy", "--steps", "1000")
    assert result.exit_code == EXIT_CONFIG
    assert "--steps must be at most 100" in result.output and "Nothing was run" in result.output
    assert not db_path.exists() or rows(db_path, "SELECT COUNT(*) FROM repro_runs") == [(0,)]
    bad_choice = invoke(db_path, "toy", "--mode", "z")
    assert bad_choice.exit_code == 2 and "'z' is not one of 'a', 'b'" in bad_choice.output


@needs_torch
def test_show_lists_papers_cited_hyperparameters_and_runs(db_path: Path, toy: Path) -> None:
    invoke(db_path, "toy", "--steps", "2")
    result = invoke(db_path, "show", "toy")
    assert result.exit_code == 0, result.output
    assert "Wasserstein GAN (Martin Arjovsky, Soumith Chintala, Léon Bottou, 2017)" in result.output
    assert re.search(r"reading list #\d+", result.output)
    assert "[Algorithm 1: α = 0.00005]" in result.output
    assert "#1" in result.output and "loss 0.500 (a)" in result.output
    info = json.loads(invoke(db_path, "show", "toy", "--json").output)
    assert info["papers"][0]["entry_id"] and info["runs"][0]["status"] == "ok"
    assert invoke(db_path, "show", "nope").exit_code == 1


def test_each_reproduction_command_has_help_with_an_example(toy: Path) -> None:
    for name in lib.discover():
        result = CliRunner().invoke(cli, ["repro", name, "--help"])
        assert result.exit_code == 0, result.output
        assert "Example:" in result.output and "--dry-run" in result.output


def test_without_torch_the_command_says_how_to_install_it(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, toy: Path
) -> None:
    monkeypatch.setitem(lib.REQUIRED_MODULES, "torch_is_not_installed_here", "torch")
    result = invoke(db_path, "toy")
    assert result.exit_code == 1
    assert "needs torch" in result.output and "pip install 'papertrail[repro]'" in result.output


def test_list_and_show_do_not_import_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from papertrail.cli import cli\n"
        f"for args in (['repro', 'list'], ['repro', 'show', 'style-transfer'], ['repro', 'style-transfer', '--help']):\n"
        f"    try:\n        cli(['--db', {str(tmp_path / 'x.db')!r}, *args])\n"
        "    except SystemExit as e:\n        assert not e.code, e.code\n"
        "print('torch' in sys.modules, file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stderr.strip().splitlines()[-1] == "False"


def _arxiv_answer(fs: FeedServer) -> str:
    """A loopback arXiv API answering with one recorded entry re-labelled as 1508.06576."""
    recorded = fixture_bytes(
        "arxiv-api/arxiv.py-recorded-2026/id_2104.12255v1_s0_m100_6ae69987ffe1.body.xml"
    ).decode("utf-8")
    head, entry = (
        recorded[: recorded.index("<entry>")],
        re.search(r"<entry>.*?</entry>", recorded, re.S).group(0),
    )
    entry = re.sub(r"2104\.12255", "1508.06576", entry)
    entry = re.sub(
        r"<title>.*?</title>",
        "<title>A Neural Algorithm of Artistic Style</title>",
        entry,
        flags=re.S,
    )

    def answer(request: Request) -> Response:
        return Response(head + entry + "</feed>", headers={"Content-Type": "application/atom+xml"})

    return fs.handle("/api/query", answer)


def test_refresh_updates_the_papers_from_arxiv(
    db_path: Path, feed_server: FeedServer, make_feeds: Any
) -> None:
    feeds = make_feeds([], {"arxiv_api_url": _arxiv_answer(feed_server)})
    result = CliRunner().invoke(
        cli, ["--db", str(db_path), "--feeds", str(feeds), "repro", "list", "--refresh"]
    )
    assert result.exit_code == 0, result.output
    assert "refreshed" in result.output
    ((summary, version),) = rows(
        db_path, "SELECT summary, version FROM entries WHERE arxiv_id = '1508.06576'"
    )
    assert summary and version == 1
    # arXiv unreachable: the constants stay, the command still works.
    offline = make_feeds([], {"arxiv_api_url": "http://127.0.0.1:9/api/query"})
    result = CliRunner().invoke(
        cli, ["--db", str(db_path), "--feeds", str(offline), "repro", "list", "--refresh"]
    )
    assert result.exit_code == 0 and "arXiv refresh failed" in result.output
