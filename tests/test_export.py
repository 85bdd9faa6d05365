"""`papertrail export`: BibTeX, RIS, JSON, CSV and Markdown of a reading list filled
through the real fetch path (the `reading_list` fixture), parsed back with real
parsers (bibtexparser, rispy, json, csv)."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
import rispy
from bibtexparser.bparser import BibTexParser
from click.testing import CliRunner

from papertrail.cli import cli
from papertrail.reading.digest import _JSON_KEYS
from papertrail.reading.export import (
    EXPORT_FIELDS,
    citation_keys,
    latex_escape,
    render_bibtex,
    render_csv,
    render_json,
    render_ris,
)


def invoke(db: Path, feeds: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", str(db), "--feeds", str(feeds), *args])


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def all_entries(db: Path, feeds: Path, *args: str) -> list[dict[str, Any]]:
    result = invoke(db, feeds, "export", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def parse_bib(text: str) -> list[dict[str, str]]:
    parser = BibTexParser(common_strings=True)  # month macros (aug) are standard strings
    return bibtexparser.loads(text, parser=parser).entries


# What latex_escape writes, read back (a LaTeX reader's view of the escapes).
_UNLATEX = {
    r"\textbackslash{}": "\\",
    r"\textbraceleft{}": "{",
    r"\textbraceright{}": "}",
    r"\textasciitilde{}": "~",
    r"\textasciicircum{}": "^",
    r"\&": "&",
    r"\%": "%",
    r"\$": "$",
    r"\#": "#",
    r"\_": "_",
}


def unlatex(text: str) -> str:
    pattern = "|".join(re.escape(k) for k in _UNLATEX)
    text = re.sub(r"\{(\$[^$]*\$)\}", r"\1", text)  # math kept, braced against case changes
    return re.sub(pattern, lambda m: _UNLATEX[m[0]], text)


def entry(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 1,
        "kind": "paper",
        "title": "A Neural Algorithm of Artistic Style",
        "url": "https://arxiv.org/abs/1508.06576v2",
        "arxiv_id": "1508.06576",
        "version": 2,
        "authors": ["Leon A. Gatys", "Alexander S. Ecker", "Matthias Bethge"],
        "summary": "In fine art, especially painting, humans have mastered the skill.",
        "categories": ["cs.CV", "cs.NE", "q-bio.NC"],
        "primary_category": "cs.CV",
        "published": "2015-08-26T17:53:00+00:00",
        "doi": None,
        "journal_ref": None,
        "first_seen": "2026-11-01T08:00:00+00:00",
        "domains": ["generative", "vision"],
        "sources": ["arxiv-style-transfer"],
        "tags": ["arxiv"],
    }
    return {**base, **kw}


# ---------------------------------------------------------------- bibtex


def test_bibtex_of_the_whole_reading_list_parses_back(reading_list: tuple[Path, Path]) -> None:
    db, feeds = reading_list
    entries = {e["id"]: e for e in all_entries(db, feeds)}
    result = invoke(db, feeds, "export", "--format", "bibtex")
    assert result.exit_code == 0, result.output
    bib = parse_bib(result.stdout)
    assert len(bib) == len(entries) == rows(db, "SELECT COUNT(*) FROM entries")[0][0]
    keys = [b["ID"] for b in bib]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[a-z0-9]+", k) for k in keys)
    assert all(b["ENTRYTYPE"] == "misc" for b in bib)
    # the export is newest first, like `papertrail list`
    ordered = list(entries.values())
    papers = [(b, e) for b, e in zip(bib, ordered, strict=True) if e["kind"] == "paper"]
    posts = [(b, e) for b, e in zip(bib, ordered, strict=True) if e["kind"] == "post"]
    assert len(papers) >= 20 and posts
    for b, e in papers:
        assert b["eprint"] == e["arxiv_id"]
        assert b["archiveprefix"] == "arXiv"
        assert b["primaryclass"] == (e["primary_category"] or e["categories"][0])
        assert b["url"] == f"https://arxiv.org/abs/{e['arxiv_id']}"
        names = [n.strip() for n in b["author"].split(" and ")]
        assert [unlatex(n) for n in names] == [" ".join(a.split()) for a in e["authors"]]
        assert unlatex(b["title"]) == " ".join(e["title"].split())
        if e["doi"]:
            assert b["doi"] == e["doi"]
    for b, e in posts:
        assert "eprint" not in b
        assert b["url"] == e["url"] and b["howpublished"] and b["urldate"] == e["first_seen"][:10]


def test_bibtex_escapes_latex_specials_from_recorded_titles(
    reading_list: tuple[Path, Path],
) -> None:
    db, feeds = reading_list
    entries = all_entries(db, feeds)
    special = [e for e in entries if re.search(r"[&%$#_{}~^\\]", e["title"])]
    assert special, "the recorded feeds have titles with &, #, $, \\ and _"
    result = invoke(db, feeds, "export", *(str(e["id"]) for e in special))
    bib = parse_bib(result.stdout)
    assert len(bib) == len(special)
    for b, e in zip(bib, special, strict=True):
        assert unlatex(b["title"]) == " ".join(e["title"].split())
        # no bare special character is left in the field, outside math
        outside_math = re.sub(r"\{\$[^$]*\$\}", "", b["title"])
        assert not re.search(r"(?<!\\)[&%$#_]", outside_math)
    orabona = next((b for b in bib if "Squint" in b["title"]), None)
    if orabona:  # arXiv's math stays math (issue 18; tests/test_bibtex_tex.py)
        assert r"{$\ln\ln T$}" in orabona["title"]


def test_every_special_character_round_trips_and_unicode_stays_utf8() -> None:
    title = "50% of $x_1$ & {y} ~ ^ \\ # — Schrödinger 日本語"
    text = render_bibtex([entry(title=title, authors=["Bernhard Schölkopf", "松岡 太郎"])])
    assert "Schrödinger 日本語" in text and "Schölkopf" in text  # UTF-8, not {\"o}
    (b,) = parse_bib(text)
    assert unlatex(b["title"]) == title
    assert b["title"].count("{") == b["title"].count("}")
    assert b["author"] == "Bernhard Schölkopf and 松岡 太郎"
    assert b["ID"] == "scholkopf2015x1"  # keys stay ASCII; "50" and "of" are skipped


def test_bibtex_fields_of_a_paper() -> None:
    text = render_bibtex([entry(doi="10.1167/16.12.326", journal_ref="JoV 16(12) 2016")])
    (b,) = parse_bib(text)
    assert b["ID"] == "gatys2015neural"
    assert b["author"] == "Leon A. Gatys and Alexander S. Ecker and Matthias Bethge"
    assert b["year"] == "2015" and b["month"] == "August"
    assert b["eprint"] == "1508.06576" and b["archiveprefix"] == "arXiv"
    assert b["primaryclass"] == "cs.CV"
    assert b["doi"] == "10.1167/16.12.326"
    assert b["note"] == "JoV 16(12) 2016"
    assert b["keywords"] == "generative, vision, arxiv"
    assert re.search(r"\n  month +?= aug,\n", text)  # the standard macro, unbraced


def test_an_author_named_with_and_stays_one_author() -> None:
    text = render_bibtex([entry(authors=["Research and Development Team", "Ada Lovelace"])])
    (b,) = parse_bib(text)
    assert b["author"] == "{Research and Development Team} and Ada Lovelace"


def test_citation_keys_are_stable_and_unique() -> None:
    first = entry(id=5)
    second = entry(id=9, arxiv_id="1508.99999", title="Neural style, again")
    third = entry(id=12, arxiv_id="1508.88888", title="The neural way")
    assert citation_keys([first, second, third]) == [
        "gatys2015neural",
        "gatys2015neurala",
        "gatys2015neuralb",
    ]
    # the oldest entry keeps the plain key whatever the order of the export
    assert citation_keys([third, first]) == ["gatys2015neurala", "gatys2015neural"]
    # a base key that looks like a suffixed one never collides
    odd = entry(id=20, title="Neurala networks")
    keys = citation_keys([first, second, odd])
    assert len(set(keys)) == 3
    many = citation_keys([entry(id=i) for i in range(30)])  # suffixes go on: z, aa, ab
    assert len(set(many)) == 30 and many[26] == "gatys2015neuralz" and many[27].endswith("aa")
    post = entry(id=3, kind="post", arxiv_id=None, authors=[], url="https://bair.berkeley.edu/x")
    assert citation_keys([post]) == ["bair2015neural"]


def test_bibtex_of_a_post_uses_howpublished_and_url() -> None:
    post = entry(
        kind="post",
        arxiv_id=None,
        url="https://openai.com/index/some_post?a=1&b=2%20",
        title="Open models & #benchmarks",
        authors=["OpenAI"],
    )
    (b,) = parse_bib(render_bibtex([post]))
    assert b["howpublished"] == "openai.com"
    assert b["url"] == "https://openai.com/index/some_post?a=1&b=2%20"  # verbatim field
    assert b["urldate"] == "2026-11-01"
    assert unlatex(b["title"]) == "Open models & #benchmarks"


def test_latex_escape_strips_control_characters() -> None:
    assert latex_escape("a\x00b\x1b[31mc\nd") == "a b [31mc d"


# ---------------------------------------------------------------- ris


def test_ris_parses_back_with_one_au_per_author(reading_list: tuple[Path, Path]) -> None:
    db, feeds = reading_list
    entries = all_entries(db, feeds)
    result = invoke(db, feeds, "export", "--format", "ris")
    assert result.exit_code == 0, result.output
    records = rispy.loads(result.stdout)
    assert len(records) == len(entries)
    assert not any("unknown_tag" in r for r in records)  # every tag is a standard one
    for r, e in zip(records, entries, strict=True):
        assert r["type_of_reference"] == ("RPRT" if e["kind"] == "paper" else "ELEC")
        assert r.get("authors", []) == [" ".join(a.split()) for a in e["authors"]]
        assert r["primary_title"] == " ".join(e["title"].split())
        if e["kind"] == "paper":
            assert r["urls"] == [f"https://arxiv.org/abs/{e['arxiv_id']}"]
            assert r["publisher"] == "arXiv"
            assert r["accession_number"] == f"arXiv:{e['arxiv_id']}"
        else:
            assert r["urls"] == [e["url"]]
        if e["doi"]:
            assert r["doi"] == e["doi"]
        date = e["published"] or e["first_seen"]
        assert r["year"] == date[:4]
        assert r["date"] == date[:10].replace("-", "/")
        assert r["keywords"] == list(dict.fromkeys(e["domains"] + e["tags"]))
    assert result.stdout.endswith("ER  - \n")


def test_ris_of_one_paper_line_by_line() -> None:
    text = render_ris([entry(summary="Line one.\nLine two.\x07")])
    lines = text.splitlines()
    assert lines[0] == "TY  - RPRT"
    assert lines.count("AU  - Leon A. Gatys") == 1
    assert [ln for ln in lines if ln.startswith("AU  - ")] == [
        "AU  - Leon A. Gatys",
        "AU  - Alexander S. Ecker",
        "AU  - Matthias Bethge",
    ]
    assert "AB  - Line one. Line two." in lines  # one line, control characters gone
    assert "PY  - 2015" in lines and "DA  - 2015/08/26" in lines
    assert lines[-1] == "ER  - "
    assert all(re.match(r"[A-Z][A-Z0-9]  - ", ln) for ln in lines)


# ---------------------------------------------------------------- json / csv


def test_json_entries_are_exactly_the_digest_entries(reading_list: tuple[Path, Path]) -> None:
    db, feeds = reading_list
    exported = {e["id"]: e for e in all_entries(db, feeds)}
    result = invoke(db, feeds, "digest", "--since", "3650d", "--format", "json")
    assert result.exit_code == 0, result.output
    digest = {e["id"]: e for e in json.loads(result.stdout)["entries"]}
    assert digest and set(digest) == set(exported)
    for entry_id, e in digest.items():
        assert list(exported[entry_id]) == list(e)  # same keys, same order
        assert exported[entry_id] == e
    assert list(next(iter(exported.values())))[: len(_JSON_KEYS)] == list(_JSON_KEYS)


def test_csv_has_the_json_fields_in_a_stable_order(reading_list: tuple[Path, Path]) -> None:
    db, feeds = reading_list
    entries = all_entries(db, feeds)
    result = invoke(db, feeds, "export", "--format", "csv")
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.stdout))
    header = reader.fieldnames
    assert header is not None
    assert header[: len(EXPORT_FIELDS)] == list(EXPORT_FIELDS)
    assert set(header) == set(entries[0])  # the same fields as the JSON export
    table = list(reader)
    assert len(table) == len(entries)
    for row, e in zip(table, entries, strict=True):
        assert row["id"] == str(e["id"])
        assert row["authors"] == "; ".join(e["authors"])
        assert row["domains"] == "; ".join(e["domains"])
        assert row["starred"] in ("true", "false")
        assert row["arxiv_id"] == (e["arxiv_id"] or "")


def test_csv_neutralises_formulas_and_control_characters() -> None:
    hostile = entry(title='=HYPERLINK("http://evil")', authors=["@admin", "-1+1"], summary="a\x1bb")
    (row,) = list(csv.DictReader(io.StringIO(render_csv([hostile]))))
    assert row["title"] == '\'=HYPERLINK("http://evil")'
    assert row["authors"] == "'@admin; -1+1"
    assert row["summary"] == "ab"


def test_the_cli_offers_every_export_format() -> None:
    from papertrail.cli.exporting import EXPORT_FORMATS
    from papertrail.reading.export import FORMATS

    assert EXPORT_FORMATS == FORMATS


def test_render_json_and_csv_of_nothing() -> None:
    assert json.loads(render_json([])) == []
    assert render_csv([]).splitlines() == [",".join(EXPORT_FIELDS)]


# ---------------------------------------------------------------- filters and ids


def test_filters_select_like_list_will(reading_list: tuple[Path, Path]) -> None:
    db, feeds = reading_list
    everything = all_entries(db, feeds)
    papers = all_entries(db, feeds, "--kind", "paper")
    assert papers and all(e["kind"] == "paper" for e in papers)
    assert len(papers) == sum(e["kind"] == "paper" for e in everything)
    news = all_entries(db, feeds, "--source", "interconnects")
    assert news and all("interconnects" in e["sources"] for e in news)
    two = all_entries(db, feeds, "--source", "interconnects", "--source", "zenn")
    assert len(two) == len(news) + sum("zenn" in e["sources"] for e in everything)
    tagged = all_entries(db, feeds, "--tag", "newsletter")
    assert [e["id"] for e in tagged] == [e["id"] for e in news]
    language = all_entries(db, feeds, "--domain", "language", "--kind", "paper")
    assert language and all("language" in e["domains"] for e in language)
    assert len(all_entries(db, feeds, "--limit", "3")) == 3
    assert len(all_entries(db, feeds, "--since", "1d")) == len(everything)  # all fetched today
    assert all_entries(db, feeds, "--since", "2999-01-01") == []


def test_unread_and_starred(reading_list: tuple[Path, Path]) -> None:
    db, feeds = reading_list
    everything = all_entries(db, feeds)
    first, second = everything[0]["id"], everything[1]["id"]
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE entries SET starred_at = '2026-11-01T00:00:00+00:00' WHERE id = ?", [first]
        )
        conn.execute(
            "UPDATE entries SET read_at = '2026-11-01T00:00:00+00:00' WHERE id = ?", [second]
        )
    assert [e["id"] for e in all_entries(db, feeds, "--starred")] == [first]
    unread = all_entries(db, feeds, "--unread")
    assert len(unread) == len(everything) - 1 and second not in {e["id"] for e in unread}


def test_explicit_ids_in_any_form_keep_their_order(reading_list: tuple[Path, Path]) -> None:
    db, feeds = reading_list
    everything = all_entries(db, feeds)
    paper = next(e for e in everything if e["kind"] == "paper")
    other = [e for e in everything if e["kind"] == "paper"][1]
    post = next(e for e in everything if e["kind"] == "post")
    tokens = [
        post["url"],
        f"arXiv:{paper['arxiv_id']}v1",
        f"https://arxiv.org/abs/{other['arxiv_id']}",
        str(post["id"]),  # the same post again: exported once
    ]
    got = all_entries(db, feeds, *tokens)
    assert [e["id"] for e in got] == [post["id"], paper["id"], other["id"]]
    # ids and filters combine
    assert [e["id"] for e in all_entries(db, feeds, *tokens, "--kind", "paper")] == [
        paper["id"],
        other["id"],
    ]


def test_an_unknown_id_exports_nothing(reading_list: tuple[Path, Path], tmp_path: Path) -> None:
    db, feeds = reading_list
    out = tmp_path / "refs.bib"
    result = invoke(db, feeds, "export", "1508.06576", "999999", "-o", str(out))
    assert result.exit_code == 1
    assert "arXiv:1508.06576 is not in the reading list" in result.output
    assert "no entry with short id 999999" in result.output
    assert not out.exists()


def test_output_file_and_empty_selection(reading_list: tuple[Path, Path], tmp_path: Path) -> None:
    db, feeds = reading_list
    out = tmp_path / "refs.ris"
    result = invoke(db, feeds, "export", "--kind", "paper", "-n", "2", "-f", "ris", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert len(rispy.loads(out.read_text(encoding="utf-8"))) == 2
    assert "2 entries exported" in result.stderr
    empty = invoke(db, feeds, "export", "--since", "2999-01-01", "--format", "json")
    assert empty.exit_code == 0
    assert json.loads(empty.stdout) == [] and "No entries match" in empty.stderr
    bad = invoke(db, feeds, "export", "--since", "last week")
    assert bad.exit_code == 2 and "cannot read --since" in bad.output


def test_markdown_is_a_readable_escaped_list(reading_list: tuple[Path, Path]) -> None:
    db, feeds = reading_list
    entries = all_entries(db, feeds)
    result = invoke(db, feeds, "export", "--format", "markdown")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"# Reading list — {len(entries)} entries"
    items = [ln for ln in lines if ln.startswith("- ")]
    assert len(items) == len(entries)
    paper = next(e for e in entries if e["kind"] == "paper")
    line = items[entries.index(paper)]
    assert f"(<https://arxiv.org/abs/{paper['arxiv_id']}>)" in line and "[pdf]" in line
    hashes = next(e for e in entries if "#" in e["title"])
    assert "\\#" in items[entries.index(hashes)]  # markup characters escaped


@pytest.mark.parametrize("fmt", ["bibtex", "ris", "markdown", "json", "csv"])
def test_every_format_survives_hostile_text(fmt: str) -> None:
    from papertrail.reading.export import render

    hostile = entry(
        title="}\n@misc{evil, title={x}\x00\x1b[2J ER  - \nTY  - GEN",
        authors=["} and {", "\u202eevil"],
        summary="<script>alert(1)</script>\r\nER  - ",
        url="javascript:alert(1)",
        arxiv_id=None,
        kind="post",
    )
    text = render([hostile, entry(id=2)], fmt)
    if fmt == "bibtex":
        assert [b["ID"] for b in parse_bib(text)] == ["anon2015miscevil", "gatys2015neural"]
        assert "javascript:" not in text
    elif fmt == "ris":
        records = rispy.loads(text)
        assert len(records) == 2 and not any("unknown_tag" in r for r in records)
        assert "javascript:" not in text
    elif fmt == "json":
        assert json.loads(text)[0]["title"] == hostile["title"]  # data kept as is, escaped by JSON
    elif fmt == "csv":
        assert len(list(csv.DictReader(io.StringIO(text)))) == 2
    else:
        assert "<script>" not in text and "](javascript" not in text
    assert "\x1b" not in text and "\x00" not in text
