"""Morning triage from the CLI: list, show, read/star, tag, note, search — against a
reading list filled through the real fetch path (conftest `reading_list`)."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from papertrail.cli import cli
from papertrail.models import Record
from papertrail.store import open_db
from papertrail.store.triage import fts_query

PAPER = "2604.26951"  # "Turning the TIDE: Cross-Architecture Distillation …" (arxiv-lg-api)
BAIR_POST = "http://bair.berkeley.edu/blog/2026/04/20/grasp/"  # links to 1412.6572 and others


def run(rl: tuple[Path, Path], *args: str) -> Any:
    db, feeds = rl
    return CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args])


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def entry_id(db: Path, arxiv_id: str) -> int:
    return rows(db, "SELECT id FROM entries WHERE arxiv_id = ?", (arxiv_id,))[0][0]


def listed(rl: tuple[Path, Path], *args: str) -> list[dict[str, Any]]:
    result = run(rl, "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ------------------------------------------------------------------ list


def test_list_is_a_table_with_short_ids_newest_first(reading_list: Any) -> None:
    result = run(reading_list, "list", "--limit", "5")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "date", "domain"]
    assert len(lines) == 6
    dates = [line.split()[1] for line in lines[1:]]
    assert dates == sorted(dates, reverse=True)


def test_list_json_has_the_digest_fields(reading_list: Any) -> None:
    entries = listed(reading_list, "--kind", "paper", "--limit", "500")
    (db, _) = reading_list
    assert len(entries) == rows(db, "SELECT COUNT(*) FROM entries WHERE kind = 'paper'")[0][0]
    for key in ("id", "kind", "title", "url", "arxiv_id", "version", "domains", "sources"):
        assert key in entries[0]
    assert {e["kind"] for e in entries} == {"paper"}


def test_list_csv_has_a_stable_header_and_a_row_per_entry(reading_list: Any) -> None:
    result = run(reading_list, "list", "--csv", "--limit", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("id,kind,title")
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("args", "sql"),
    [
        (("--kind", "post"), "SELECT COUNT(*) FROM entries WHERE kind = 'post'"),
        (
            ("--domain", "language"),
            "SELECT COUNT(*) FROM entry_domains WHERE domain = 'language'",
        ),
        (("--source", "bair"), "SELECT COUNT(*) FROM provenance WHERE source = 'bair'"),
        (
            ("--source", "bair", "--source", "openai"),
            "SELECT COUNT(*) FROM provenance WHERE source IN ('bair', 'openai')",
        ),
        (("--tag", "blog"), "SELECT COUNT(*) FROM entry_tags WHERE tag = 'blog'"),
        (("--since", "1h"), "SELECT COUNT(*) FROM entries"),
        (("--since", "2999-01-01"), "SELECT 0"),
    ],
)
def test_list_filters(reading_list: Any, args: tuple[str, ...], sql: str) -> None:
    (db, _) = reading_list
    expected = rows(db, sql)[0][0]
    assert expected or args[-1].startswith("2999")
    assert len(listed(reading_list, *args, "--limit", "1000")) == expected


def test_list_unread_and_starred_follow_triage(reading_list: Any) -> None:
    (db, _) = reading_list
    total = rows(db, "SELECT COUNT(*) FROM entries")[0][0]
    other = rows(db, "SELECT MAX(id) FROM entries")[0][0]
    assert other != entry_id(db, PAPER)
    assert run(reading_list, "read", PAPER, str(other)).exit_code == 0
    assert run(reading_list, "star", PAPER).exit_code == 0
    unread = listed(reading_list, "--unread", "--limit", "1000")
    assert len(unread) == total - 2
    starred = listed(reading_list, "--starred")
    assert [e["arxiv_id"] for e in starred] == [PAPER]
    assert starred[0]["starred"] is True and starred[0]["read"] is True


def test_list_sort_rank_follows_the_score(reading_list: Any) -> None:
    (db, _) = reading_list
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE entries SET score = 5 WHERE arxiv_id = ?", (PAPER,))
        conn.execute("UPDATE entries SET score = 3 WHERE url = ?", (BAIR_POST,))
    ranked = listed(reading_list, "--sort", "rank", "--limit", "2")
    assert [e["arxiv_id"] for e in ranked] == [PAPER, None]
    assert ranked[1]["url"] == BAIR_POST


def test_list_with_nothing_matching_says_so(reading_list: Any) -> None:
    result = run(reading_list, "list", "--since", "2999-01-01")
    assert result.exit_code == 0
    assert "No entries match" in result.output


def test_list_bad_since_is_a_clear_error(reading_list: Any) -> None:
    result = run(reading_list, "list", "--since", "yesterday")
    assert result.exit_code == 2  # bad usage (issue 18)
    assert "cannot read --since 'yesterday'" in result.output
    assert "Traceback" not in result.output


def test_feed_text_cannot_inject_terminal_markup(reading_list: Any) -> None:
    (db, _) = reading_list
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE entries SET title = ? WHERE arxiv_id = ?", ("[red]x[/red] \x1b[31mevil", PAPER)
        )
    result = run(reading_list, "list", "--kind", "paper", "--limit", "200")
    assert "[red]x[/red]" in result.stdout
    assert "\x1b" not in result.stdout


# ------------------------------------------------------------------ show


@pytest.mark.parametrize(
    "form",
    [
        PAPER,
        f"arXiv:{PAPER}v1",
        f"https://arxiv.org/abs/{PAPER}v1",
        f"https://arxiv.org/pdf/{PAPER}",
    ],
)
def test_show_accepts_any_arxiv_form(reading_list: Any, form: str) -> None:
    result = run(reading_list, "show", form)
    assert result.exit_code == 0, result.output
    assert "Turning the TIDE" in result.stdout
    assert f"arXiv:{PAPER}v1" in result.stdout
    assert "arxiv-lg-api" in result.stdout  # the source that surfaced it


def test_show_by_short_id_and_by_post_url(reading_list: Any) -> None:
    (db, _) = reading_list
    post_id = rows(db, "SELECT id FROM entries WHERE url = ?", (BAIR_POST,))[0][0]
    by_url = run(reading_list, "show", BAIR_POST, "--json")
    by_id = run(reading_list, "show", str(post_id), "--json")
    assert by_url.exit_code == 0, by_url.output
    assert json.loads(by_url.stdout) == json.loads(by_id.stdout)
    detail = json.loads(by_url.stdout)
    assert detail["kind"] == "post"
    assert "1412.6572" in [m["arxiv_id"] for m in detail["mentions"]]


def test_show_lists_versions_mentions_notes_and_reproductions(reading_list: Any) -> None:
    (db_path, _) = reading_list
    db = open_db(db_path)
    # The paper the BAIR post links to arrives later in two versions (as `add` would store it).
    from papertrail.sources.domains import DomainTagger
    from papertrail.store import EntryWriter

    writer = EntryWriter(db, DomainTagger([]), None)
    for version in (1, 2):
        with db.atomic():
            writer.save(
                "manual",
                [
                    Record(
                        kind="paper",
                        title="Explaining and Harnessing Adversarial Examples",
                        arxiv_id="1412.6572",
                        version=version,
                        authors=["Ian J. Goodfellow", "Jonathon Shlens", "Christian Szegedy"],
                    )
                ],
            )
    with db.atomic():
        db.execute(
            "INSERT INTO reproductions (name, title, module, registered_at) VALUES (?, ?, ?, ?)",
            ["fgsm", "FGSM", "reproductions.fgsm", "2026-11-23T00:00:00+00:00"],
        )
        db.execute("INSERT INTO reproduction_papers VALUES ('fgsm', '1412.6572')")
        db.execute(
            "INSERT INTO repro_runs (reproduction, arxiv_id, started_at, status, headline_metric, device) "
            "VALUES ('fgsm', '1412.6572', '2026-11-23T01:00:00+00:00', 'done', 'error 0.9 %', 'cpu')"
        )
    db.close()
    assert run(reading_list, "note", "1412.6572", "first note").exit_code == 0
    assert run(reading_list, "note", "1412.6572", "second note").exit_code == 0

    result = run(reading_list, "show", "arXiv:1412.6572")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "v1" in out and "v2" in out  # versions
    assert "Mentioned by" in out and "[bair]" in out
    assert "first note" in out and "second note" in out
    assert "Reproduction: fgsm (1 runs)" in out and "error 0.9 %" in out

    detail = json.loads(run(reading_list, "show", "1412.6572", "--json").stdout)
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    assert detail["mentioned_in"][0]["url"] == BAIR_POST
    assert detail["mentioned_by"] == 1  # bair links to it; `manual` is not a source
    assert [n["text"] for n in detail["notes"]] == ["first note", "second note"]
    assert detail["reproductions"][0]["runs"][0]["status"] == "done"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("9999999", "no entry with short id 9999999"),
        ("1501.00001", "arXiv:1501.00001 is not in the reading list — add it with `papertrail add"),
        ("https://example.org/nothing", "no entry links to https://example.org/nothing"),
        ("not an id", "cannot read 'not an id' as an entry"),
    ],
)
def test_show_unknown_entry_says_what_to_do(reading_list: Any, token: str, message: str) -> None:
    result = run(reading_list, "show", token)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ marks


def test_read_star_and_back(reading_list: Any) -> None:
    (db, _) = reading_list
    pid = entry_id(db, PAPER)
    other = rows(db, "SELECT MAX(id) FROM entries")[0][0]
    assert other != pid
    result = run(reading_list, "read", PAPER, str(other))
    assert result.exit_code == 0, result.output
    assert "Marked read 2 of 2 entries." in result.stdout
    again = run(reading_list, "read", PAPER)
    assert "Marked read 0 of 1 entries (1 already were)." in again.stdout
    assert rows(db, "SELECT read_at IS NOT NULL FROM entries WHERE id = ?", (pid,)) == [(1,)]
    assert run(reading_list, "unread", PAPER).exit_code == 0
    assert rows(db, "SELECT read_at FROM entries WHERE id = ?", (pid,)) == [(None,)]
    assert run(reading_list, "star", PAPER).exit_code == 0
    assert rows(db, "SELECT starred_at IS NOT NULL FROM entries WHERE id = ?", (pid,)) == [(1,)]
    assert run(reading_list, "unstar", PAPER).exit_code == 0
    assert rows(db, "SELECT starred_at FROM entries WHERE id = ?", (pid,)) == [(None,)]


def test_marking_reports_unknown_ids_and_still_marks_the_rest(reading_list: Any) -> None:
    (db, _) = reading_list
    result = run(reading_list, "star", "1501.00001", PAPER, "nonsense")
    assert result.exit_code == 1
    assert "arXiv:1501.00001 is not in the reading list" in result.output
    assert "cannot read 'nonsense'" in result.output
    assert "Starred 1 of 1 entries." in result.output
    assert rows(db, "SELECT COUNT(*) FROM entries WHERE starred_at IS NOT NULL") == [(1,)]


def test_tag_and_untag(reading_list: Any) -> None:
    (db, _) = reading_list
    result = run(reading_list, "tag", PAPER, "to-reproduce", "distillation", "to reproduce")
    assert result.exit_code == 0, result.output
    tags = rows(
        db,
        "SELECT tag, origin FROM entry_tags JOIN entries ON id = entry_id WHERE arxiv_id = ? ORDER BY tag",
        (PAPER,),
    )
    assert tags == [("distillation", "user"), ("to-reproduce", "user")]
    assert [e["arxiv_id"] for e in listed(reading_list, "--tag", "to-reproduce")] == [PAPER]
    assert "already had those tags" in run(reading_list, "tag", PAPER, "distillation").stdout
    assert run(reading_list, "untag", PAPER, "distillation").exit_code == 0
    gone = run(reading_list, "list", "--tag", "distillation")  # no entry has it any more
    assert gone.exit_code == 2 and "no entry has the tag 'distillation'" in gone.output
    assert "had none of those tags" in run(reading_list, "untag", PAPER, "distillation").output


def test_an_empty_tag_is_refused(reading_list: Any) -> None:
    result = run(reading_list, "tag", PAPER, "  ")
    assert result.exit_code == 1
    assert "a tag cannot be empty" in result.output


def test_notes_are_timestamped_listed_deleted_and_searchable(reading_list: Any) -> None:
    (db, _) = reading_list
    assert "Noted (" in run(reading_list, "note", PAPER, "compare with zeroshot teacher").stdout
    assert run(reading_list, "note", PAPER, "check the reverse CALM loss").exit_code == 0
    listing = run(reading_list, "note", PAPER).stdout.splitlines()
    assert len(listing) == 2 and listing[0].startswith("[1] ") and "zeroshot" in listing[0]
    # Notes are in the full-text index, alone (notes:) or with the rest of the text.
    hits = json.loads(run(reading_list, "search", "notes:zeroshot", "--json").stdout)
    assert [h["arxiv_id"] for h in hits] == [PAPER]
    assert "**zeroshot**" in hits[0]["snippet"]
    assert run(reading_list, "note", PAPER, "--delete", "1").exit_code == 0
    assert json.loads(run(reading_list, "search", "zeroshot", "--json").stdout) == []
    assert rows(db, "SELECT notes_text FROM entries WHERE arxiv_id = ?", (PAPER,)) == [
        ("check the reverse CALM loss",)
    ]
    assert run(reading_list, "note", PAPER, "   ").exit_code == 1


# ------------------------------------------------------------------ search


def test_search_ranks_title_hits_first_and_highlights(reading_list: Any) -> None:
    result = run(reading_list, "search", "distillation", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits, "the fixtures contain distillation papers"
    assert hits[0]["arxiv_id"] == PAPER  # 'Distillation' in its title
    relevance = [h["relevance"] for h in hits]
    assert relevance == sorted(relevance, reverse=True)
    table = run(reading_list, "search", "distillation")
    assert "Turning the TIDE" in table.stdout


def test_search_uses_the_list_filters(reading_list: Any) -> None:
    everything = json.loads(
        run(reading_list, "search", "learning", "--json", "--limit", "500").stdout
    )
    papers = json.loads(
        run(
            reading_list, "search", "learning", "--kind", "paper", "--json", "--limit", "500"
        ).stdout
    )
    assert papers and len(papers) < len(everything)
    assert {h["kind"] for h in papers} == {"paper"}
    assert run(reading_list, "star", str(papers[0]["id"])).exit_code == 0
    starred = json.loads(run(reading_list, "search", "learning", "--starred", "--json").stdout)
    assert [h["id"] for h in starred] == [papers[0]["id"]]


def test_search_with_plain_punctuation_just_works(reading_list: Any) -> None:
    result = run(reading_list, "search", "cross-architecture")
    assert result.exit_code == 0, result.output
    assert "Turning the TIDE" in result.stdout


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"unbalanced', "cannot search for '\"unbalanced'"),
        ("gan AND", "write AND/OR/NOT in capitals"),
        ("title:(gan", "cannot search for"),
        ("   ", "nothing to search for"),
    ],
)
def test_search_syntax_errors_are_explained(reading_list: Any, query: str, message: str) -> None:
    result = run(reading_list, "search", query)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("typed", "fts"),
    [
        ("style transfer", '"style" "transfer"'),
        ("GAN-based models", '"GAN based" "models"'),
        ("C++ o'neil", '"C" "o neil"'),
        ('"exact phrase" OR gan', '"exact phrase" OR gan'),
        ("diffus*", "diffus*"),
        ("notes:todo", "notes_text:todo"),
    ],
)
def test_fts_query_translation(typed: str, fts: str) -> None:
    assert fts_query(typed) == fts


def test_every_triage_command_is_documented() -> None:
    for name in (
        "list",
        "show",
        "search",
        "read",
        "unread",
        "star",
        "unstar",
        "tag",
        "untag",
        "note",
    ):
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output


def test_show_why_explains_the_score_in_words_and_numbers(reading_list: Any) -> None:
    assert run(reading_list, "rank").exit_code == 0
    result = run(reading_list, "show", PAPER, "--why")
    assert result.exit_code == 0, result.output
    assert "Turning the TIDE" in result.stdout
    assert "recency" in result.stdout.lower()
    why = json.loads(run(reading_list, "show", PAPER, "--why", "--json").stdout)["why"]
    assert why["stale"] is False
    assert math.isclose(sum(p["contribution"] for p in why["parts"]), why["total"], abs_tol=0.01)


def test_starring_lifts_similar_entries_in_list_sort_rank(reading_list: Any) -> None:
    (db, _) = reading_list
    assert run(reading_list, "rank").exit_code == 0
    before = {e["id"]: e["score"] for e in listed(reading_list, "--limit", "1000")}
    assert run(reading_list, "star", PAPER).exit_code == 0
    after = {e["id"]: e["score"] for e in listed(reading_list, "--limit", "1000")}
    lifted = [i for i in after if after[i] > before[i] + 1e-9]
    assert entry_id(db, PAPER) in lifted
    assert len(lifted) > 1  # entries sharing its terms rose too, without a fetch
