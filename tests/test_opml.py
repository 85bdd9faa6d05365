"""`papertrail sources export --opml` / `sources import`: OPML out and in, feeds.yml
comments kept, hostile XML refused, nothing written unless the result validates."""

from __future__ import annotations

import difflib
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import REPO
from defusedxml.ElementTree import fromstring

from papertrail.cli import cli
from papertrail.config import load_config, packaged_feeds_path
from papertrail.config.opml import (
    OpmlError,
    append_sources,
    export_opml,
    parse_opml,
    slug_name,
    source_url,
)


def invoke(feeds: Path | None, *args: str) -> Any:
    head = ["--feeds", str(feeds)] if feeds else []
    return CliRunner().invoke(cli, [*head, "sources", *args])


def outlines(xml: str) -> list[tuple[str, dict[str, str]]]:
    """(folder title, attributes) for every feed outline."""
    body = fromstring(xml.encode()).find("body")
    assert body is not None
    out = []
    for folder in body.findall("outline"):
        for feed in folder.findall("outline"):
            out.append((folder.get("text"), dict(feed.attrib)))
    return out


def repo_feeds(tmp_path: Path) -> Path:
    """A copy of the shipped feeds.yml: 20 sources and a lot of comments."""
    path = tmp_path / "feeds.yml"
    shutil.copyfile(REPO / "feeds.yml", path)
    return path


def empty_feeds(tmp_path: Path, name: str = "empty.yml") -> Path:
    path = tmp_path / name
    path.write_text("# nothing followed yet\nsources: []  # add sources below\n", encoding="utf-8")
    return path


READER_OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Subscriptions from My Reader</title></head>
  <body>
    <outline text="Research Blogs" title="Research Blogs">
      <outline type="rss" text="BAIR" title="BAIR" xmlUrl="http://bair.berkeley.edu/blog/feed.xml"
               htmlUrl="https://bair.berkeley.edu/blog/"/>
      <outline type="rss" text="Sebastian Ruder" title="Sebastian Ruder"
               xmlUrl="https://ruder.io/rss/"/>
      <outline type="rss" text="Lil'Log" title="Lil'Log &amp; friends"
               xmlUrl="https://lilianweng.github.io/index.xml"/>
      <outline text="Japanese">
        <outline type="rss" title="ゼロから作るディープラーニング" xmlUrl="https://www.oreilly.co.jp/feed.xml"/>
      </outline>
    </outline>
    <outline text="Machine Learning">
      <outline type="rss" text="Sebastian Ruder" xmlUrl="https://ruder.io/rss/"/>
      <outline type="atom" text="arXiv cs.RO" xmlurl="https://rss.arxiv.org/atom/cs.RO"/>
      <outline type="rss" text="Old gopher" xmlUrl="gopher://example.org/feed"/>
      <outline text="just a bookmark" url="https://example.org/"/>
    </outline>
    <outline type="rss" text="Blog" xmlUrl="https://a.example.org/feed"/>
    <outline type="rss" text="Blog" xmlUrl="https://b.example.org/feed"/>
  </body>
</opml>
"""


# ---------------------------------------------------------------- export


def test_export_groups_sources_by_tag_then_kind(reading_list: tuple[Path, Path]) -> None:
    _, feeds = reading_list
    config = load_config(feeds)
    result = invoke(feeds, "export", "--opml")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    found = outlines(result.stdout)
    assert len(found) == len(config.sources)
    by_name = {attrs["text"]: (folder, attrs) for folder, attrs in found}
    for source in config.sources:
        folder, attrs = by_name[source.name]
        assert attrs["xmlUrl"] == source_url(source, config.settings)
        assert attrs["type"] == "rss"
        assert folder == (source.tags[0] if source.tags else source.kind)
        assert attrs["category"] == ",".join(f"/{t}" for t in source.tags)
    api = by_name["arxiv-lg-api"][1]["xmlUrl"]
    assert "/api/query?search_query=cat%3Acs.LG%20OR%20cat%3Acs.AI" in api
    assert api.endswith("max_results=20")


def test_export_to_a_file(reading_list: tuple[Path, Path], tmp_path: Path) -> None:
    _, feeds = reading_list
    out = tmp_path / "subs.opml"
    result = invoke(feeds, "export", "-o", str(out))
    assert result.exit_code == 0, result.output
    feeds_found, notes = parse_opml(out.read_bytes())
    assert len(feeds_found) == len(load_config(feeds).sources) and notes == []


def test_sources_without_an_http_feed_are_named_in_a_comment(tmp_path: Path) -> None:
    from papertrail.config import Config, Settings, Source

    config = Config(
        path=tmp_path / "feeds.yml",
        sources=(
            Source(name="local", kind="feed", url="file:///home/me/feed.xml"),
            Source(name="ok", kind="feed", url="https://ok.example.org/feed", tags=("blog",)),
        ),
        domains=(),
        settings=Settings(),
    )
    xml = export_opml(config)
    assert [attrs["text"] for _, attrs in outlines(xml)] == ["ok"]
    assert "<!-- not exported (no feed URL): local -->" in xml


# ---------------------------------------------------------------- round trip


def test_round_trip_through_an_empty_file(reading_list: tuple[Path, Path], tmp_path: Path) -> None:
    _, feeds = reading_list
    config = load_config(feeds)
    opml = tmp_path / "subs.opml"
    assert invoke(feeds, "export", "--opml", "-o", str(opml)).exit_code == 0
    target = empty_feeds(tmp_path)
    result = invoke(target, "import", str(opml))
    assert result.exit_code == 0, result.output
    assert f"Added {len(config.sources)} sources to {target}" in result.stdout
    imported = load_config(target)

    def same(cfg: Any) -> list[tuple]:  # the URL each source fetches, given one arXiv endpoint
        return sorted((s.name, source_url(s, config.settings), s.tags) for s in cfg.sources)

    assert same(imported) == same(config)
    kinds = {s.name: s.kind for s in imported.sources}
    assert kinds["arxiv-lg-api"] == "arxiv" and kinds["bair"] == "feed"
    # (the arXiv RSS sources here are on the loopback test server, so they come back as feeds;
    # rss.arxiv.org URLs come back as arxiv-rss: see the shipped feeds' round trip)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# nothing followed yet\nsources:   # add sources below\n")
    # importing the same file again adds nothing and leaves the file alone
    again = invoke(target, "import", str(opml))
    assert again.exit_code == 0, again.output
    assert "No new feeds" in again.stdout
    assert f"skipped {len(config.sources)}" in again.stdout
    assert target.read_text(encoding="utf-8") == text


def test_the_shipped_feeds_round_trip_into_a_new_file(tmp_path: Path) -> None:
    config = load_config(REPO / "feeds.yml")
    opml = tmp_path / "subs.opml"
    opml.write_text(export_opml(config), encoding="utf-8")
    into = tmp_path / "imported.yml"
    result = invoke(empty_feeds(tmp_path), "import", str(opml), "--into", str(into))
    assert result.exit_code == 0, result.output
    imported = load_config(into)
    assert [(s.name, source_url(s, imported.settings), s.tags) for s in imported.sources] == [
        (s.name, source_url(s, config.settings), s.tags) for s in config.sources
    ]
    assert [s.kind for s in imported.sources] == [s.kind for s in config.sources]
    daily = imported.source("arxiv-daily")
    assert daily.categories == config.source("arxiv-daily").categories and daily.url is None
    assert into.read_text(encoding="utf-8").startswith("# Sources imported from an OPML file.")


# ---------------------------------------------------------------- merging into feeds.yml


def test_import_appends_and_keeps_every_comment(tmp_path: Path) -> None:
    feeds = repo_feeds(tmp_path)
    before = feeds.read_text(encoding="utf-8")
    opml = tmp_path / "reader.opml"
    opml.write_text(READER_OPML, encoding="utf-8")
    result = invoke(feeds, "import", str(opml))
    assert result.exit_code == 0, result.output
    after = feeds.read_text(encoding="utf-8")

    # only insertions: every line of the original, comments included, is still there in order
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert not [d for d in diff if d.startswith("- ")]
    added = [d[2:] for d in diff if d.startswith("+ ")]
    assert added[1].lstrip().startswith("# imported from reader.opml")
    # the new items sit at the end of `sources:`, before the domains section's banner
    assert after.index("# imported from") < after.index("# domains")

    config = load_config(feeds)
    new = {s.name: s for s in config.sources[20:]}
    assert sorted(new) == ["arxiv-cs-ro", "blog", "blog-2", "oreilly.co.jp", "sebastian-ruder"]
    ruder = new["sebastian-ruder"]  # in two folders: one source, both tags
    assert ruder.kind == "feed" and ruder.url == "https://ruder.io/rss/"
    assert ruder.tags == ("research-blogs", "machine-learning")
    assert new["oreilly.co.jp"].tags == ("research-blogs", "japanese")  # nested folders
    assert new["arxiv-cs-ro"].kind == "arxiv-rss"
    assert new["arxiv-cs-ro"].url == "https://rss.arxiv.org/atom/cs.RO"
    assert new["blog"].url == "https://a.example.org/feed"
    assert new["blog-2"].url == "https://b.example.org/feed"  # "blog" was taken

    out = result.stdout
    assert "Added 5 sources" in out
    assert "skipped 2" in out and "(as bair)" in out and "(as lilian-weng)" in out
    assert "gopher://example.org/feed" not in after
    assert "Old gopher: " in out and "not an http(s) URL" in out
    assert "just a bookmark: no xmlUrl, not a feed" in out


def test_names_do_not_clash_with_existing_ones(tmp_path: Path) -> None:
    feeds = repo_feeds(tmp_path)
    opml = tmp_path / "x.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline text="BAIR" xmlUrl="https://example.org/other-bair.xml"/>'
        '<outline text="bair" xmlUrl="https://example.org/third-bair.xml"/>'
        '<outline text="Distill!" xmlUrl="https://example.org/distill.xml"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    result = invoke(feeds, "import", str(opml))
    assert result.exit_code == 0, result.output
    names = [s.name for s in load_config(feeds).sources[20:]]
    assert names == ["bair-2", "bair-3", "distill-2"]  # lower case, unique


def test_slug_names() -> None:
    assert slug_name("Lil'Log") == "lil-log"
    assert slug_name("OpenAI_blog.v2") == "openai_blog.v2"  # already a valid name
    assert slug_name("Über  Künstliche Intelligenz — Blog") == "uber-kunstliche-intelligenz-blog"
    assert slug_name("ゼロから作る") == ""
    assert len(slug_name("a very long title " * 10)) <= 40


def test_a_symlinked_feeds_yml_stays_a_symlink_with_its_mode(tmp_path: Path) -> None:
    real = repo_feeds(tmp_path)
    real.chmod(0o600)
    link = tmp_path / "link.yml"
    link.symlink_to(real)
    opml = tmp_path / "reader.opml"
    opml.write_text(READER_OPML, encoding="utf-8")
    result = invoke(link, "import", str(opml))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and len(load_config(real).sources) == 25
    assert real.stat().st_mode & 0o777 == 0o600


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    feeds = repo_feeds(tmp_path)
    before = feeds.read_bytes()
    opml = tmp_path / "reader.opml"
    opml.write_text(READER_OPML, encoding="utf-8")
    result = invoke(feeds, "import", str(opml), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would add 5 sources" in result.stdout and "nothing was written" in result.stdout
    assert feeds.read_bytes() == before


def test_into_a_separate_file_skips_what_feeds_yml_has(tmp_path: Path) -> None:
    feeds = repo_feeds(tmp_path)
    before = feeds.read_bytes()
    opml = tmp_path / "reader.opml"
    opml.write_text(READER_OPML, encoding="utf-8")
    into = tmp_path / "imported.yml"
    result = invoke(feeds, "import", str(opml), "--into", str(into))
    assert result.exit_code == 0, result.output
    assert feeds.read_bytes() == before
    assert len(load_config(into).sources) == 5
    # a second OPML goes into the same file, after the first batch
    more = tmp_path / "more.opml"
    more.write_text(
        '<opml version="2.0"><body><outline text="Blog" xmlUrl="https://c.example.org/f"/>'
        '<outline text="Ruder" xmlUrl="https://ruder.io/rss/"/></body></opml>',
        encoding="utf-8",
    )
    result = invoke(feeds, "import", str(more), "--into", str(into))
    assert result.exit_code == 0, result.output
    sources = load_config(into).sources
    assert [s.name for s in sources][-1] == "blog-3"
    assert "(as sebastian-ruder)" in result.stdout
    assert into.read_text(encoding="utf-8").count("# imported from") == 2


# ---------------------------------------------------------------- refusals


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE opml [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<opml version="2.0"><body>
  <outline text="&lol9;" xmlUrl="https://example.org/feed"/>
</body></opml>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&secret;" xmlUrl="https://example.org/f"/></body></opml>
"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
def test_entity_tricks_are_refused_without_expanding(doc: str, tmp_path: Path) -> None:
    feeds = repo_feeds(tmp_path)
    before = feeds.read_bytes()
    opml = tmp_path / "evil.opml"
    opml.write_text(doc, encoding="utf-8")
    start = time.perf_counter()
    result = invoke(feeds, "import", str(opml))
    elapsed = time.perf_counter() - start
    assert result.exit_code == 1
    assert "refused" in result.output and "entities" in result.output
    assert "root:" not in result.output  # nothing of /etc/passwd
    assert feeds.read_bytes() == before
    assert elapsed < 30  # a generous bound: expansion would need ~3 GB of memory


@pytest.mark.parametrize(
    "doc,message",
    [
        ("<opml><body><outline text='x'", "not well-formed XML at line 1"),
        ("<rss version='2.0'><channel/></rss>", "is not OPML: its root element is <rss>"),
        ("<opml version='2.0'><head/></opml>", "has no <body>"),
        ("<opml version='2.0'><body><outline text='folder'/></body></opml>", "lists no feeds"),
    ],
)
def test_files_that_are_not_usable_opml(doc: str, message: str, tmp_path: Path) -> None:
    feeds = repo_feeds(tmp_path)
    opml = tmp_path / "bad.opml"
    opml.write_text(doc, encoding="utf-8")
    result = invoke(feeds, "import", str(opml))
    assert result.exit_code == 1
    assert message in result.output


def test_a_flow_style_sources_list_is_left_alone(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yml"
    feeds.write_text(
        "sources: [{name: a, kind: feed, url: 'https://a.example.org/f'}]  # compact\n",
        encoding="utf-8",
    )
    before = feeds.read_bytes()
    opml = tmp_path / "reader.opml"
    opml.write_text(READER_OPML, encoding="utf-8")
    result = invoke(feeds, "import", str(opml))
    assert result.exit_code == 1
    assert "flow style" in result.output and "--into" in result.output
    assert feeds.read_bytes() == before


def test_a_broken_feeds_yml_is_not_touched(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yml"
    feeds.write_text("sources:\n  - name: a\n    kind: feed\n    url: htps://x\n", encoding="utf-8")
    before = feeds.read_bytes()
    opml = tmp_path / "reader.opml"
    opml.write_text(READER_OPML, encoding="utf-8")
    result = invoke(feeds, "import", str(opml))
    assert result.exit_code == 1
    assert "feeds.yml:4" in result.output and "Nothing was imported" in result.output
    assert feeds.read_bytes() == before


def test_the_packaged_default_is_never_edited(tmp_path: Path) -> None:
    before = packaged_feeds_path().read_bytes()
    opml = tmp_path / "reader.opml"
    opml.write_text(READER_OPML, encoding="utf-8")
    result = invoke(None, "import", str(opml))  # no ./feeds.yml: the packaged default is in use
    assert result.exit_code == 1
    assert "packaged default" in result.output and "--into" in result.output
    assert packaged_feeds_path().read_bytes() == before


# ---------------------------------------------------------------- appending text


def test_append_keeps_crlf_trailing_comments_and_block_scalars() -> None:
    text = (
        "sources:\r\n"
        "- name: a\r\n"
        "  kind: feed\r\n"
        "  url: https://a.example.org/f  # the a feed\r\n"
        "  tags: [x]\r\n"
        "# after the list\r\n"
    )
    item = {"name": "b", "kind": "feed", "url": "https://b.example.org/f", "tags": ["y: z"]}
    out = append_sources(text, [item], comment="imported")
    assert "\n" not in out.replace("\r\n", "")  # CRLF kept throughout
    assert out.startswith(text[: text.index("# after")])
    assert out.endswith("# after the list\r\n")
    assert "\r\n- name: b\r\n  kind: feed\r\n  url: https://b.example.org/f\r\n" in out
    assert "  tags: ['y: z']" in out
    import yaml

    data = yaml.safe_load(out)
    assert [s["name"] for s in data["sources"]] == ["a", "b"]

    folded = "sources:\n  - name: a\n    kind: feed\n    url: https://a.example.org/f\n    tags: [x]\n\nsettings: {}\n"
    out = append_sources(folded, [item], comment="imported")
    assert yaml.safe_load(out)["settings"] == {}
    assert [s["name"] for s in yaml.safe_load(out)["sources"]] == ["a", "b"]
    assert "\n  - name: b\n    kind: feed\n" in out  # the file's own indentation


def test_append_to_files_without_a_sources_list() -> None:
    import yaml

    item = {"name": "b", "kind": "feed", "url": "https://b.example.org/f"}
    for text in (
        "",
        "# only a comment\n",
        "sources:\n",
        "sources: ~\ndomains: {}\n",
        "settings: {}",
    ):
        out = append_sources(text, [item], comment="imported")
        assert yaml.safe_load(out)["sources"] == [item], text
        assert out.startswith(text.split("sources")[0])
    with pytest.raises(OpmlError, match="not a mapping"):
        append_sources("- just a list\n", [item], comment="x")
