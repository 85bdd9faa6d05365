"""The learned ranking (issue 17) on real recorded arXiv documents: dismiss, the learned
score after stars and dismissals, a fetch ranking one topic above another, dismissed
entries staying out of the digest across sources and versions, `show --why`, `similar`,
per-tag profiles, `rank --evaluate`, and reference libraries as starred seeds.

The arXiv API is the loopback one of tests/test_add.py (recorded <entry> elements):
`id_list` requests get the entries they name; a search (`papertrail fetch`'s arxiv
source) gets the entries of `DAY2`, the "next morning"."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import CONTENT_TYPES, FeedServer
from test_add import ArxivIdApi
from werkzeug import Request, Response

from papertrail.cli import EXIT_FAILED, cli

# Two topics of the recorded documents: nicotine (biophysics, epidemiology) and machine learning.
NICOTINE_SEEDS = ["1509.01687", "1206.3474", "0901.0089", "q-bio/0509018", "1902.05515"]
NICOTINE_NEW = ["2511.17570", "2004.14943", "0902.1417", "2212.06330"]
ML_SEEDS = ["2604.26951", "2604.26942", "2604.26932", "2604.26898", "2604.26888"]
ML_NEW = ["2604.26919", "2604.26866", "2604.26841", "2604.26837", "2604.26836", "2604.26881"]
DAY2 = NICOTINE_NEW + ML_NEW


class MorningApi(ArxivIdApi):
    """id_list: the named recorded entries; a search: the entries of `day2`."""

    def __init__(self, fs: FeedServer) -> None:
        super().__init__(fs)
        self.day2: list[str] = []

    def answer(self, request: Request) -> Response:
        if request.args.get("id_list"):
            return super().answer(request)
        self.calls.append([])
        found = [self.entries[i] for i in self.day2]
        return Response(self.feed(found), headers={"Content-Type": CONTENT_TYPES["api"]})


@pytest.fixture
def api(feed_server: FeedServer) -> MorningApi:
    return MorningApi(feed_server)


@pytest.fixture
def feeds(make_feeds: Any, api: MorningApi) -> Path:
    source = {"name": "arxiv-search", "kind": "arxiv", "query": "nicotine OR learning"}
    return make_feeds([source], {"arxiv_api_url": api.url})


def run(db: Path, feeds: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args])


def ok(db: Path, feeds: Path, *args: str) -> Any:
    result = run(db, feeds, *args)
    assert result.exit_code == 0, result.output
    return result


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def score_of(db: Path, arxiv_id: str) -> float:
    return rows(db, "SELECT score FROM entries WHERE arxiv_id = ?", (arxiv_id,))[0][0]


def short_id(db: Path, arxiv_id: str) -> int:
    return rows(db, "SELECT id FROM entries WHERE arxiv_id = ?", (arxiv_id,))[0][0]


ZOTERO_BIB = """\
% Exported by Zotero-style hand: three preprints, one journal article without arXiv id
@misc{saraf_single_2015,
  title = {Single Molecule Transistor based Nanopore for the detection of {Nicotine}},
  url = {http://arxiv.org/abs/1509.01687},
  doi = {10.48550/arXiv.1509.01687},
  publisher = {arXiv},
  author = {Ray, S. J.},
  year = {2015},
  note = {arXiv:1509.01687 [physics]},
}

@article{molecular_2012,
  title = "Molecular adsorption study of nicotine and caffeine",
  journal = {arXiv preprint arXiv:1206.3474},
  year = 2012,
}

@string{qbio = "q-bio"}
@misc{gate_2005, title = {A Hydrophobic Gate in an Ion Channel}, eprint = qbio # {/0509018},
  archivePrefix = {arXiv}}

@Misc{jabref_2009,
  author = {Someone},
  title = {A physical model of nicotinic {ACh} receptor kinetics},
  arxivid = {0901.0089},
}

@misc{sleep_2019, title = {Sleep latency}, eprinttype = {arxiv}, eprint = {1902.05515v2}}

@article{nature_paper,
  title = {A journal article with no preprint},
  journal = {Nature},
  doi = {10.1038/nature14539},
}
"""


@pytest.fixture
def seeded(tmp_path: Path, db_path: Path, feeds: Path, api: MorningApi) -> tuple[Path, Path]:
    """A new user's morning: a BibTeX library on nicotine imported as starred seeds, five
    machine-learning papers added and dismissed, then the next fetch."""
    bib = tmp_path / "library.bib"
    bib.write_text(ZOTERO_BIB, encoding="utf-8")
    result = ok(db_path, feeds, "import", "bibtex", str(bib))
    assert "6 entries in library.bib: 5 added, 0 already there, 5 newly starred" in result.output
    assert "nature_paper" in result.output and "no arXiv id" in result.output
    ok(db_path, feeds, "add", *ML_SEEDS)
    result = ok(db_path, feeds, "dismiss", *ML_SEEDS[:4], str(short_id(db_path, ML_SEEDS[4])))
    assert "Dismissed 5 of 5 entries" in result.output
    api.day2 = DAY2
    ok(db_path, feeds, "fetch", "-q")
    return db_path, feeds


def test_dismiss_is_kept_with_its_date_and_undismiss_reverses_it(seeded) -> None:
    db, feeds = seeded
    dismissed = rows(
        db, "SELECT arxiv_id, dismissed_at FROM entries WHERE dismissed_at IS NOT NULL"
    )
    assert sorted(a for a, _ in dismissed) == sorted(ML_SEEDS)
    assert all(re.match(r"\d{4}-\d\d-\d\dT", at) for _, at in dismissed)
    result = ok(db, feeds, "undismiss", ML_SEEDS[0])
    assert "Undismissed 1 of 1 entries" in result.output
    assert rows(db, "SELECT dismissed_at FROM entries WHERE arxiv_id = ?", (ML_SEEDS[0],)) == [
        (None,)
    ]
    # starring clears a dismissal, dismissing clears a star
    ok(db, feeds, "dismiss", NICOTINE_SEEDS[0])
    assert rows(db, "SELECT starred_at FROM entries WHERE arxiv_id = ?", (NICOTINE_SEEDS[0],)) == [
        (None,)
    ]
    ok(db, feeds, "star", ML_SEEDS[1])
    assert rows(db, "SELECT dismissed_at FROM entries WHERE arxiv_id = ?", (ML_SEEDS[1],)) == [
        (None,)
    ]
    bad = run(db, feeds, "dismiss", "2601.99999")
    assert bad.exit_code == EXIT_FAILED and "not in the reading list" in bad.output


def test_the_next_fetch_ranks_the_starred_topic_above_the_dismissed_one(seeded) -> None:
    db, feeds = seeded
    nicotine = {a: score_of(db, a) for a in NICOTINE_NEW}
    ml = sorted(score_of(db, a) for a in ML_NEW)
    # Although every ML paper is newer (2026, recency favours it), the nicotine papers
    # rank above all of them; 2212.06330 is both topics ("generative AI ... detection of
    # nicotine-related ..."): it beats most ML papers, not necessarily all.
    mixed = nicotine.pop("2212.06330")
    assert min(nicotine.values()) > ml[-1], (nicotine, ml)
    assert mixed > ml[len(ml) // 2], (mixed, ml)
    listed = json.loads(ok(db, feeds, "list", "--sort", "rank", "--json", "-n", "100").stdout)
    new = [e["arxiv_id"] for e in listed if e["arxiv_id"] in DAY2]
    # every nicotine paper above every ML paper (the mixed one may fall anywhere between:
    # which model's sample it is scored with decides whether it edges past a nicotine one)
    assert max(new.index(a) for a in nicotine) < min(new.index(a) for a in ML_NEW), new
    # `rank` says what it learned from
    summary = ok(db, feeds, "rank").output
    assert "similarity learned from 5 starred, 5 dismissed entries" in summary


def test_show_why_lists_the_words_that_pushed_it_and_the_labelled_entries_it_is_like(
    seeded,
) -> None:
    db, feeds = seeded
    text = ok(db, feeds, "show", NICOTINE_NEW[2], "--why").output
    assert "learned from 5 starred, 5 dismissed" in text
    assert "Words and authors that moved it (learned weights):" in text
    pushes = re.findall(r"^\s+([+-]\d+\.\d\d)  (\S.*)$", text.split("moved it")[1], re.M)
    assert pushes and any(w.startswith("nicotin") for _, w in pushes), text
    assert "Most like what you labelled:" in text and "(starred)" in text
    ml = ok(db, feeds, "show", ML_NEW[0], "--why").output
    assert "down by" in ml and "(dismissed)" in ml
    why = json.loads(ok(db, feeds, "show", ML_NEW[0], "--why", "--json").stdout)["why"]
    assert why["pushes"] and why["most_like"][0]["label"] == "dismissed"
    sim = next(p for p in why["parts"] if p["name"] == "similarity")
    assert sim["raw"] < 0 and round(sum(p["contribution"] for p in why["parts"]), 3) == why["total"]


def test_dismissed_entries_never_come_back_in_a_digest(seeded, api: MorningApi) -> None:
    db, feeds = seeded
    gone = ML_NEW[0]
    ok(db, feeds, "dismiss", gone)
    digest = json.loads(ok(db, feeds, "digest", "--since", "3650d", "--format", "json").stdout)
    shown = {e["arxiv_id"] for e in digest["entries"]}
    assert gone not in shown and not shown & set(ML_SEEDS)
    assert set(NICOTINE_NEW) <= shown
    # The same paper again: from another source, and as a new version (v2).
    entry = api.entries[gone]
    api.entries[gone] = re.sub(
        r"(<id>https?://arxiv\.org/abs/[^<]+?)v\d+</id>", r"\1v9</id>", entry
    )
    assert "v9</id>" in api.entries[gone]
    api.day2 = [gone, *ML_SEEDS]
    feeds.write_text(
        feeds.read_text().replace("name: arxiv-search", "name: another-search"), encoding="utf-8"
    )
    fetched = json.loads(ok(db, feeds, "fetch", "--format", "json").stdout)
    assert gone not in {e["arxiv_id"] for e in fetched["entries"] + fetched["updates"]}
    assert rows(db, "SELECT version FROM entries WHERE arxiv_id = ?", (gone,)) == [(9,)]
    sources = rows(
        db, "SELECT p.source FROM provenance p JOIN entries e ON e.id = p.entry_id WHERE arxiv_id = ?",
        (gone,),
    )  # fmt: skip
    assert {s for (s,) in sources} >= {"arxiv-search", "another-search"}
    digest = json.loads(ok(db, feeds, "digest", "--since", "3650d", "--format", "json").stdout)
    assert gone not in {e["arxiv_id"] for e in digest["entries"] + digest["updates"]}


def test_export_carries_the_dismissed_state_and_date(seeded) -> None:
    db, feeds = seeded
    data = json.loads(ok(db, feeds, "export", "--format", "json").stdout)
    by_id = {e["arxiv_id"]: e for e in data}
    assert by_id[ML_SEEDS[0]]["dismissed"] is True and by_id[ML_SEEDS[0]]["dismissed_at"]
    assert by_id[NICOTINE_SEEDS[0]]["dismissed"] is False
    assert by_id[NICOTINE_SEEDS[0]]["dismissed_at"] is None
    csv_text = ok(db, feeds, "export", "--format", "csv").stdout
    header = csv_text.splitlines()[0].split(",")
    assert "dismissed" in header and "dismissed_at" in header
    line = next(x for x in csv_text.splitlines() if ML_SEEDS[0] in x)
    assert ",true," in line


def test_similar_lists_the_nearest_entries_with_why(seeded) -> None:
    db, feeds = seeded
    text = ok(db, feeds, "similar", "0902.1417", "--limit", "3").output
    assert text.startswith(f"Like #{short_id(db, '0902.1417')} Opening a hydrophobic gate")
    first = re.search(r"^  #(\d+)", text, re.M)
    assert first and int(first.group(1)) == short_id(db, "q-bio/0509018"), text
    assert "shares " in text and ("hydrophob" in text or "nicotin" in text)
    missing = run(db, feeds, "similar", "2601.99999")
    assert missing.exit_code == 1 and "not in the reading list" in missing.output


def test_a_tag_of_yours_is_its_own_profile(seeded) -> None:
    db, feeds = seeded
    for arxiv_id in ("1206.3474", "1509.01687", "2004.14943"):  # the chemistry of nicotine
        ok(db, feeds, "tag", arxiv_id, "adsorption")
    listed = json.loads(
        ok(db, feeds, "list", "--sort", "rank", "--tag", "adsorption", "--json").stdout
    )
    ids = [e["arxiv_id"] for e in listed]
    assert ids and all(-1 <= e["score"] <= 1 for e in listed)
    assert not set(ids) & set(ML_SEEDS)  # dismissed ones never
    assert any(a not in ("1206.3474", "1509.01687", "2004.14943") for a in ids)  # not a filter
    by_date = json.loads(ok(db, feeds, "list", "--tag", "adsorption", "--json").stdout)
    assert len(by_date) == 3  # --sort date keeps --tag a filter
    # The digest's section per followed tag.
    data = yaml.safe_load(feeds.read_text(encoding="utf-8"))
    data.setdefault("ranking", {})["follow_tags"] = ["adsorption", "unknown-tag"]
    feeds.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    text = ok(db, feeds, "digest", "--since", "3650d").output
    assert "Like your tag adsorption" in text and "unknown-tag" not in text
    md = ok(db, feeds, "digest", "--since", "3650d", "--format", "json").stdout
    assert json.loads(md)["tag_sections"][0]["tag"] == "adsorption"


def test_rank_evaluate_prints_its_table(seeded) -> None:
    db, feeds = seeded
    # Later feedback: two more stars and a dismissal after the seeds.
    ok(db, feeds, "star", NICOTINE_NEW[0], NICOTINE_NEW[1])
    ok(db, feeds, "dismiss", ML_NEW[0])
    text = ok(db, feeds, "rank", "--evaluate").output
    for method in ("learned", "term profile", "recency", "random"):
        assert re.search(rf"^  {method}\s+\d\.\d{{3}}\s+\d\.\d{{3}}\s+\d\.\d{{3}}$", text, re.M)
    assert "Training labels:" in text and "starred" in text
    learned = re.search(r"^  learned\s+(\S+)", text, re.M)
    assert learned and float(learned.group(1)) > 0
    empty = ok(db, feeds, "rank", "--evaluate", "--before", "2000-01-01").output
    assert "Nothing measured" in empty
    assert run(db, feeds, "rank", "--before", "2000-01-01").exit_code == 2


def test_few_labels_fall_back_to_the_term_profile_and_say_so(
    db_path: Path, feeds: Path, api: MorningApi
) -> None:
    ok(db_path, feeds, "add", *NICOTINE_SEEDS[:2], *ML_SEEDS[:2])
    ok(db_path, feeds, "star", NICOTINE_SEEDS[0])
    summary = ok(db_path, feeds, "rank").output
    assert "No learned ranking yet" in summary and "needs at least 2 starred" in summary
    why = ok(db_path, feeds, "show", NICOTINE_SEEDS[1], "--why").output
    assert "Similarity uses the term profile of your stars" in why


# ---------------------------------------------------------------- libraries


def test_libraries_written_by_papertrails_own_exports_import_back(
    seeded, tmp_path: Path, make_feeds: Any, api: MorningApi
) -> None:
    db, feeds = seeded
    fresh = tmp_path / "fresh.db"
    for fmt, cmd in (("bibtex", "bibtex"), ("ris", "ris"), ("json", "csl-json")):
        out = tmp_path / f"export.{fmt}"
        ok(db, feeds, "export", "--kind", "paper", "--format", fmt, "-o", str(out))
        result = ok(fresh, feeds, "import", cmd, str(out))
        assert "without an arXiv id" in result.output
        assert re.search(r"^\d+ entries in export\.\w+: ", result.output, re.M)
    papers = rows(db, "SELECT COUNT(*) FROM entries WHERE kind = 'paper'")[0][0]
    starred = rows(fresh, "SELECT COUNT(*) FROM entries WHERE starred_at IS NOT NULL")[0][0]
    assert starred == papers == 5 + 5 + len(DAY2)


@pytest.mark.parametrize(
    ("fmt", "text", "where"),
    [
        (
            "bibtex",
            "@misc{a, title = {ok}, eprint = {1509.01687}}\n@misc{b,\n title = {open\n",
            "starts on line 2",
        ),
        ("bibtex", "@misc{a, title = {x} eprint = {1509.01687}}\n", "expected ',' or '}'"),
        ("ris", "TY  - RPRT\nTI  - one\nUR  - https://arxiv.org/abs/1509.01687\n", ":1:"),
        ("ris", "TY  - RPRT\nTI  - a\nTY  - RPRT\nER  - \n", ":3:"),
        ("csl-json", '[{"id": "a", "URL": "https://arxiv.org/abs/1509.01687"},\n {"id": ]', ":2:"),
        ("csl-json", '{"items": 3}', "item 1 has no id"),
    ],
)
def test_broken_libraries_say_where_and_add_nothing(
    tmp_path: Path, db_path: Path, feeds: Path, api: MorningApi, fmt: str, text: str, where: str
) -> None:
    path = tmp_path / "broken.lib"
    path.write_text(text, encoding="utf-8")
    result = run(db_path, feeds, "import", fmt, str(path))
    assert result.exit_code == 1, result.output
    assert "broken.lib" in result.output and where in result.output
    assert "nothing was imported" in result.output.lower()
    assert api.calls == []  # nothing fetched, nothing added
    assert rows(db_path, "SELECT COUNT(*) FROM entries") == [(0,)]


def test_a_zotero_style_ris_and_csl_json_library(
    tmp_path: Path, db_path: Path, feeds: Path, api: MorningApi
) -> None:
    ris = tmp_path / "zotero.ris"
    ris.write_text(
        "TY  - PREP\nTI  - Single Molecule Transistor based Nanopore\nAU  - Ray, S. J.\n"
        "DO  - 10.48550/arXiv.1509.01687\nUR  - http://arxiv.org/abs/1509.01687\nER  - \n\n"
        "TY  - JOUR\nTI  - Deep learning\nT2  - Nature\nDO  - 10.1038/nature14539\nER  - \n",
        encoding="utf-8",
    )
    result = ok(db_path, feeds, "import", "ris", str(ris))
    assert "2 entries in zotero.ris: 1 added" in result.output
    assert "Deep learning" in result.output  # reported, not lost
    csl = tmp_path / "zotero.json"
    csl.write_text(
        json.dumps(
            [
                {"id": "x", "type": "article", "title": "Nicotine", "number": "arXiv:1206.3474"},
                {
                    "id": "y",
                    "type": "article",
                    "title": "Kinetics",
                    "URL": "https://arxiv.org/abs/0901.0089v1",
                },
                {
                    "id": "z",
                    "type": "article",
                    "title": "Unknown to arXiv",
                    "DOI": "10.48550/arXiv.2601.99999",
                },
            ]
        ),
        encoding="utf-8",
    )
    result = run(db_path, feeds, "import", "csl-json", str(csl))
    assert result.exit_code == EXIT_FAILED  # one id arXiv does not know: reported
    assert "unknown  2601.99999" in result.output
    assert "3 entries in zotero.json: 2 added" in result.output
    starred = {
        a for (a,) in rows(db_path, "SELECT arxiv_id FROM entries WHERE starred_at IS NOT NULL")
    }
    assert starred == {"1509.01687", "1206.3474", "0901.0089"}


def test_the_bibtex_parser_reads_what_it_should(tmp_path: Path) -> None:
    from papertrail.sources.library import parse_bibtex

    items = parse_bibtex(
        ZOTERO_BIB + "\n@comment{ignored @misc{no}}\n@preamble{ {\\x} }\n", "z.bib"
    )
    ids = [i.arxiv_id for i in items]
    assert ids == ["1509.01687", "1206.3474", "q-bio/0509018", "0901.0089", "1902.05515", None]
    assert items[0].where == "z.bib:2 (saraf_single_2015)"
    assert items[0].title.startswith("Single Molecule Transistor")
