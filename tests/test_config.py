"""feeds.yml loading and validation (papertrail.config)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs
import pytest

from papertrail.config import (
    KNOWN_KINDS,
    Config,
    ConfigError,
    DomainRule,
    Settings,
    Source,
    default_feeds_path,
    is_arxiv_category,
    load_config,
    parse_config,
)
from papertrail.config.check import _SETTINGS_SPEC

REPO = Path(__file__).resolve().parent.parent
ROOT_FEEDS = REPO / "feeds.yml"
PACKAGED_FEEDS = REPO / "papertrail" / "config" / "default_feeds.yml"

FEED = """\
sources:
  - name: distill
    kind: feed
    url: https://distill.pub/rss.xml
"""


def write(tmp_path: Path, text: str, name: str = "feeds.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Config:
    return load_config(write(tmp_path, text))


def error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return info.value


def only(err: ConfigError) -> ConfigError:
    assert len(err.problems) == 1, str(err)
    return err


# --------------------------------------------------------------------------- the shipped file


def test_shipped_feeds_yml_loads() -> None:
    config = load_config(ROOT_FEEDS)
    names = [s.name for s in config.sources]
    assert len(names) == len(set(names))
    assert config.settings == Settings()
    assert [d.name for d in config.domains] == [
        "vision",
        "generative",
        "language",
        "audio",
        "graphs",
        "reinforcement-learning",
        "tabular",
        "3d-and-other",
        "ml-general",
    ]
    daily = config.source("arxiv-daily")
    assert daily.kind == "arxiv-rss"
    assert daily.fetch_url(config.settings) == (
        "https://rss.arxiv.org/rss/cs.LG+cs.CV+cs.CL+cs.AI+stat.ML+cs.SD+eess.AS"
    )
    queries = [s for s in config.sources if s.kind == "arxiv"]
    assert {"style transfer", "generative adversarial"} <= {s.query for s in queries}
    assert all(s.max_results and 25 <= s.max_results <= 50 for s in queries)
    feeds = {s.name: s for s in config.sources if s.kind == "feed"}
    assert feeds["reddit-ml"].url == "https://www.reddit.com/r/MachineLearning/.rss"
    assert "japanese" in feeds["preferred-networks"].tags
    assert all(s.tags for s in config.sources)
    for source in config.sources:
        url = source.fetch_url(config.settings)
        if url is not None:
            assert urlsplit(url).scheme == "https", source.name


def test_packaged_default_is_a_byte_identical_copy() -> None:
    assert PACKAGED_FEEDS.read_bytes() == ROOT_FEEDS.read_bytes()


def test_packaged_default_loads() -> None:
    assert load_config(PACKAGED_FEEDS).sources


def test_config_module_does_not_import_network_libraries() -> None:
    code = (
        "import sys, papertrail.config, papertrail.sources.domains; "
        "print(sorted({'httpx', 'feedparser', 'arxiv'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- valid files


def test_minimal_file(tmp_path: Path) -> None:
    config = load(tmp_path, FEED)
    assert config.path == tmp_path / "feeds.yml"
    assert config.domains == ()
    assert config.settings == Settings()
    assert config.sources == (
        Source(name="distill", kind="feed", url="https://distill.pub/rss.xml", line=2),
    )


def test_all_fields(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
        # comment
        sources:
          - name: gans
            kind: arxiv
            query: generative adversarial
            categories: [cs.LG, stat.ML]
            max_results: 30
            tags: [arxiv, search]
            enabled: no
          - name: daily
            kind: arxiv-rss
            categories:
              - cs.CV
        domains:
          generative:
            description: GANs and friends
            categories: [cs.GR]
            keywords: ['\\bGANs?\\b', "\\\\bdiffusion\\\\b", \\bVAE\\b]
          empty:
        settings:
          concurrency: 4
          timeout: 5
          max_body_bytes: 1_000_000
          arxiv_delay_seconds: 3.5
        """,
    )
    gans, daily = config.sources
    assert gans == Source(
        name="gans",
        kind="arxiv",
        query="generative adversarial",
        categories=("cs.LG", "stat.ML"),
        max_results=30,
        tags=("arxiv", "search"),
        enabled=False,
        line=3,
    )
    assert daily.line == 10 and daily.categories == ("cs.CV",)
    assert config.domains == (
        DomainRule(
            name="generative",
            categories=("cs.GR",),
            keywords=(r"\bGANs?\b", r"\bdiffusion\b", r"\bVAE\b"),
            description="GANs and friends",
        ),
        DomainRule(name="empty"),
    )
    assert config.settings == Settings(
        concurrency=4, timeout=5.0, max_body_bytes=1_000_000, arxiv_delay_seconds=3.5
    )
    assert isinstance(config.settings.timeout, float)


def test_empty_sections_are_allowed(tmp_path: Path) -> None:
    config = load(tmp_path, "sources:\ndomains:\nsettings:\n")
    assert config == Config(tmp_path / "feeds.yml", (), (), Settings())


def test_config_source_lookup(tmp_path: Path) -> None:
    config = load(tmp_path, FEED)
    assert config.source("distill").url == "https://distill.pub/rss.xml"
    with pytest.raises(KeyError):
        config.source("nope")


def test_dataclasses_are_frozen(tmp_path: Path) -> None:
    config = load(tmp_path, FEED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.sources[0].url = "https://example.org/"  # type: ignore[misc]


def test_known_kinds() -> None:
    assert {"arxiv", "arxiv-rss", "feed", "mailbox"} == KNOWN_KINDS


# --------------------------------------------------------------------------- fetch_url / api_query


def test_fetch_url() -> None:
    settings = Settings()
    feed = Source(name="d", kind="feed", url="https://distill.pub/rss.xml")
    assert feed.fetch_url(settings) == "https://distill.pub/rss.xml"
    rss = Source(name="r", kind="arxiv-rss", categories=("cs.LG", "stat.ML"))
    assert rss.fetch_url(settings) == "https://rss.arxiv.org/rss/cs.LG+stat.ML"
    assert (
        rss.fetch_url(Settings(arxiv_rss_url="http://127.0.0.1:8000/rss/"))
        == "http://127.0.0.1:8000/rss/cs.LG+stat.ML"
    )
    override = Source(name="o", kind="arxiv-rss", categories=("cs.LG",), url="http://mirror.test/x")
    assert override.fetch_url(settings) == "http://mirror.test/x"
    assert Source(name="a", kind="arxiv", query="x").fetch_url(settings) is None


@pytest.mark.parametrize(
    ("query", "categories", "expected"),
    [
        (
            "style transfer",
            ("cs.CV", "cs.GR"),
            '(all:"style transfer") AND (cat:cs.CV OR cat:cs.GR)',
        ),
        (None, ("cs.LG", "stat.ML"), "cat:cs.LG OR cat:stat.ML"),
        ("generative adversarial", (), 'all:"generative adversarial"'),
        ("  memory   networks ", (), 'all:"memory networks"'),
        ("ti:GAN AND abs:wasserstein", (), "ti:GAN AND abs:wasserstein"),
        ('"densely connected"', ("cs.CV",), '("densely connected") AND (cat:cs.CV)'),
        ("au:Gatys", (), "au:Gatys"),
    ],
)
def test_api_query(query: str | None, categories: tuple[str, ...], expected: str) -> None:
    source = Source(name="q", kind="arxiv", query=query, categories=categories)
    assert source.api_query() == expected


def test_api_query_only_for_arxiv_sources() -> None:
    with pytest.raises(ValueError, match="not 'arxiv'"):
        Source(name="d", kind="feed", url="https://x.org/").api_query()


# --------------------------------------------------------------------------- error format


def test_error_string_names_file_line_key_and_message(tmp_path: Path) -> None:
    err = only(
        error(
            tmp_path,
            """\
            sources:
              - name: distill
                kind: feed
                url: distill.pub/rss.xml
            """,
        )
    )
    assert err.path == tmp_path / "feeds.yml"
    assert (err.line, err.key) == (4, "sources[0].url")
    assert str(err) == f"{err.path}:4: sources[0].url: {err.message}"
    assert "not an http(s) URL" in err.message and "https://" in err.message


def test_error_string_omits_missing_parts() -> None:
    assert str(ConfigError(Path("f.yml"), message="boom")) == "f.yml: boom"
    assert str(ConfigError(Path("f.yml"), 3, None, "boom")) == "f.yml:3: boom"
    assert str(ConfigError(Path("f.yml"), None, "a.b", "boom")) == "f.yml: a.b: boom"


def test_all_problems_are_reported_in_line_order(tmp_path: Path) -> None:
    err = error(
        tmp_path,
        """\
        settings:
          concurency: 3
        sources:
          - name: a
            kind: feedx
          - name: b
            kind: feed
            url: ftp://example.org/feed
            catgories: [cs.LG]
        """,
    )
    assert [(p.line, p.key) for p in err.problems] == [
        (2, "settings.concurency"),
        (5, "sources[0].kind"),
        (8, "sources[1].url"),
        (9, "sources[1].catgories"),
    ]
    # the error itself describes the first problem; str() lists them all, one per line
    assert (err.line, err.key, err.message) == (2, "settings.concurency", err.problems[0].message)
    lines = str(err).splitlines()
    assert len(lines) == 4
    assert all(line.startswith(f"{tmp_path / 'feeds.yml'}:") for line in lines)
    assert str(err.problems[2]) == lines[2]


# --------------------------------------------------------------------------- YAML / structure


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    err = only(
        error(
            tmp_path,
            """\
            sources:
              - name: a
                kind: feed
                 url: https://x.org/
            """,
        )
    )
    assert err.line == 4 and err.key is None
    assert err.message.startswith("invalid YAML:")
    assert "column" in err.message


def test_unclosed_quote_points_at_the_opening_line(tmp_path: Path) -> None:
    err = error(tmp_path, "sources:\n  - name: 'abc\n    kind: feed\n")
    assert "invalid YAML" in err.message and "at line 2" in err.message


def test_tabs_get_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yml"
    path.write_text("sources:\n\t- name: a\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line == 2
    assert "spaces, not tabs" in info.value.message


def test_two_documents(tmp_path: Path) -> None:
    err = error(tmp_path, "sources: []\n---\nsources: []\n")
    assert err.line == 2 and "single document" in err.message


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    err = only(error(tmp_path, text))
    assert err.line is None and "empty" in err.message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    err = only(error(tmp_path, "- name: a\n  kind: feed\n"))
    assert err.line == 1 and err.key is None
    assert "expected a mapping" in err.message and "got a list" in err.message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "domain:\n  vision: {}\n"))
    assert (err.line, err.key) == (5, "domain")
    assert "unknown key 'domain' — did you mean 'domains'?" in err.message


def test_unknown_top_level_key_without_a_close_match_lists_the_valid_ones(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "zzz: 1\n"))
    assert "valid keys: sources, domains, settings" in err.message


def test_missing_sources(tmp_path: Path) -> None:
    err = only(error(tmp_path, "settings:\n  concurrency: 2\n"))
    assert err.key == "sources" and "missing 'sources:'" in err.message


def test_sources_must_be_a_list(tmp_path: Path) -> None:
    err = only(error(tmp_path, "sources:\n  distill: https://distill.pub/rss.xml\n"))
    assert (err.line, err.key) == (2, "sources")
    assert "list of sources" in err.message


def test_source_must_be_a_mapping(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "  - https://example.org/feed\n"))
    assert (err.line, err.key) == (5, "sources[1]")


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "    url: https://distill.pub/other.xml\n"))
    assert (err.line, err.key) == (5, "sources[0].url")
    assert "duplicate key 'url' (first at line 4)" in err.message


def test_merge_keys_are_refused(tmp_path: Path) -> None:
    err = error(
        tmp_path,
        """\
        sources:
          - &base
            name: a
            kind: feed
            url: https://a.example/feed
          - <<: *base
            name: b
        """,
    )
    assert any("merge keys" in p.message and p.line == 6 for p in err.problems)


# --------------------------------------------------------------------------- sources


def test_unknown_source_key_suggests_the_closest(tmp_path: Path) -> None:
    err = only(
        error(
            tmp_path,
            """\
            sources:
              - name: daily
                kind: arxiv-rss
                catgories: [cs.LG]
                url: https://rss.arxiv.org/rss/cs.LG
            """,
        )
    )
    assert (err.line, err.key) == (4, "sources[0].catgories")
    assert err.message == "unknown key 'catgories' — did you mean 'categories'?"


def test_key_of_another_kind(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "    query: style transfer\n"))
    assert (err.line, err.key) == (5, "sources[0].query")
    assert "'query' is not used by kind 'feed' (only by: arxiv)" in err.message


def test_missing_name(tmp_path: Path) -> None:
    err = only(error(tmp_path, "sources:\n  - kind: feed\n    url: https://x.org/feed\n"))
    assert (err.line, err.key) == (2, "sources[0].name")
    assert "missing 'name'" in err.message


def test_missing_kind(tmp_path: Path) -> None:
    err = only(error(tmp_path, "sources:\n  - name: x\n    url: https://x.org/feed\n"))
    assert (err.line, err.key) == (2, "sources[0].kind")
    assert "missing 'kind'" in err.message and "arxiv, arxiv-rss, feed" in err.message


def test_unknown_kind_lists_the_valid_kinds(tmp_path: Path) -> None:
    err = only(
        error(tmp_path, "sources:\n  - name: x\n    kind: rss\n    url: https://x.org/feed\n")
    )
    assert (err.line, err.key) == (3, "sources[0].kind")
    assert "unknown kind 'rss' (valid kinds: arxiv, arxiv-rss, feed, mailbox)" in err.message


def test_unknown_kind_suggests_the_closest(tmp_path: Path) -> None:
    err = only(
        error(tmp_path, "sources:\n  - name: x\n    kind: arxiv_rss\n    url: https://x.org/\n")
    )
    assert "did you mean 'arxiv-rss'?" in err.message


def test_feed_needs_url(tmp_path: Path) -> None:
    err = only(error(tmp_path, "sources:\n  - name: blog\n    kind: feed\n"))
    assert (err.line, err.key) == (2, "sources[0].url")
    assert "needs a 'url'" in err.message


def test_arxiv_needs_query_or_categories(tmp_path: Path) -> None:
    err = only(error(tmp_path, "sources:\n  - name: q\n    kind: arxiv\n    max_results: 5\n"))
    assert (err.line, err.key) == (2, "sources[0].query")
    assert "'query'" in err.message and "'categories'" in err.message


def test_arxiv_rss_needs_categories_or_url(tmp_path: Path) -> None:
    err = only(error(tmp_path, "sources:\n  - name: d\n    kind: arxiv-rss\n    categories: []\n"))
    assert (err.line, err.key) == (2, "sources[0].categories")
    assert "needs 'categories'" in err.message


def test_arxiv_rss_with_url_only_is_fine(tmp_path: Path) -> None:
    config = load(
        tmp_path, "sources:\n  - name: d\n    kind: arxiv-rss\n    url: http://127.0.0.1:1/rss\n"
    )
    assert config.sources[0].fetch_url(config.settings) == "http://127.0.0.1:1/rss"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://example.org/feed", "(scheme 'ftp')"),
        ("distill.pub/rss.xml", "(no scheme)"),
        ("https://", "no host name"),
        ("https:///feed.xml", "no host name"),
        ("https://exa mple.org/feed", "whitespace"),
        ("https://example.org:99999/feed", "not a valid URL"),
        ("''", "empty string"),
        ("", "missing value"),
        ("[https://x.org]", "expected a string, got a list"),
    ],
)
def test_bad_url(tmp_path: Path, url: str, expected: str) -> None:
    err = only(error(tmp_path, f"sources:\n  - name: x\n    kind: feed\n    url: {url}\n"))
    assert (err.line, err.key) == (4, "sources[0].url")
    assert expected in err.message


def test_duplicate_source_name_cites_both_lines(tmp_path: Path) -> None:
    err = only(
        error(
            tmp_path,
            FEED
            + """\
  - name: openai
    kind: feed
    url: https://openai.com/news/rss.xml
  - name: Distill
    kind: feed
    url: https://distill.pub/other.xml
""",
        )
    )
    assert (err.line, err.key) == (8, "sources[2].name")
    assert "duplicate source name 'Distill'" in err.message
    assert "line 2 ('distill')" in err.message


def test_duplicate_source_name_points_at_the_name_lines(tmp_path: Path) -> None:
    err = only(
        error(
            tmp_path,
            """\
            sources:
              - kind: feed
                url: https://a.example/feed
                name: a
              - kind: feed
                name: a
                url: https://b.example/feed
            """,
        )
    )
    assert (err.line, err.key) == (6, "sources[1].name")
    assert "also used at line 4" in err.message


@pytest.mark.parametrize("name", ["my blog", "-x", "blog/1", "ü"])
def test_bad_source_name(tmp_path: Path, name: str) -> None:
    err = only(error(tmp_path, f"sources:\n  - name: '{name}'\n    kind: arxiv\n    query: x\n"))
    assert (err.line, err.key) == (2, "sources[0].name")
    assert "letters, digits" in err.message


def test_numeric_name_is_a_string(tmp_path: Path) -> None:
    config = load(tmp_path, "sources:\n  - name: 2024\n    kind: arxiv\n    query: x\n")
    assert config.sources[0].name == "2024"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", "expected true or false, got the number 1"),
        ("'yes please'", "expected true or false"),
        ("", "expected true or false, got empty"),
    ],
)
def test_enabled_must_be_a_bool(tmp_path: Path, value: str, expected: str) -> None:
    err = only(error(tmp_path, FEED + f"    enabled: {value}\n"))
    assert (err.line, err.key) == (5, "sources[0].enabled")
    assert expected in err.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "must be at least 1, got 0"),
        ("-5", "must be at least 1"),
        ("2.5", "expected a whole number"),
        ("many", "expected a whole number, got 'many'"),
        ("true", "expected a whole number, got true/false"),
        ("5000", "must be at most 2000"),
    ],
)
def test_max_results_must_be_a_positive_int(tmp_path: Path, value: str, expected: str) -> None:
    err = only(
        error(
            tmp_path,
            f"sources:\n  - name: q\n    kind: arxiv\n    query: x\n    max_results: {value}\n",
        )
    )
    assert (err.line, err.key) == (5, "sources[0].max_results")
    assert expected in err.message


def test_categories_must_be_a_list(tmp_path: Path) -> None:
    err = only(
        error(tmp_path, "sources:\n  - name: d\n    kind: arxiv-rss\n    categories: cs.LG\n")
    )
    assert (err.line, err.key) == (4, "sources[0].categories")
    assert "expected a list of strings" in err.message and "[cs.LG]" in err.message


def test_list_items_must_be_strings(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "    tags:\n      - blog\n      - {a: b}\n"))
    assert (err.line, err.key) == (7, "sources[0].tags[1]")
    assert "expected a string, got a mapping" in err.message


def test_tags_without_whitespace(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "    tags: [my blog]\n"))
    assert err.key == "sources[0].tags[0]" and "whitespace" in err.message


def test_bad_category_in_a_source(tmp_path: Path) -> None:
    err = only(
        error(
            tmp_path, "sources:\n  - name: d\n    kind: arxiv-rss\n    categories: [cs.LG, cs.lg]\n"
        )
    )
    assert (err.line, err.key) == (4, "sources[0].categories[1]")
    assert "'cs.lg' does not look like an arXiv category" in err.message
    assert "did you mean 'cs.LG'?" in err.message


@pytest.mark.parametrize(
    "category",
    ["cs.LG", "stat.ML", "eess.AS", "math.GT", "hep-th", "astro-ph.CO", "physics.comp-ph",
     "cond-mat.stat-mech", "q-bio.NC", "cs", "astro-ph", "quant-ph"],
)  # fmt: skip
def test_arxiv_categories_accepted(category: str) -> None:
    assert is_arxiv_category(category)


@pytest.mark.parametrize(
    "category",
    ["cs.lg", "CS.LG", "cs.LGX", "machine-learning", "Computer Vision", "cs.", "hep-th.XX", ""],
)
def test_arxiv_categories_rejected(category: str) -> None:
    assert not is_arxiv_category(category)


# --------------------------------------------------------------------------- domains


def test_domain_name_must_be_a_slug(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "domains:\n  Vision:\n    categories: [cs.CV]\n"))
    assert (err.line, err.key) == (6, "domains.Vision")
    assert "lower-case slug" in err.message


def test_unknown_domain_key(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "domains:\n  vision:\n    keyword: ['\\bYOLO\\b']\n"))
    assert (err.line, err.key) == (7, "domains.vision.keyword")
    assert "did you mean 'keywords'?" in err.message


def test_domain_must_be_a_mapping(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "domains:\n  vision: [cs.CV]\n"))
    assert (err.line, err.key) == (6, "domains.vision")


def test_domain_category_checked(tmp_path: Path) -> None:
    err = only(
        error(
            tmp_path, FEED + "domains:\n  vision:\n    categories:\n      - cs.CV\n      - vision\n"
        )
    )
    assert (err.line, err.key) == (9, "domains.vision.categories[1]")


def test_invalid_regex_cites_pattern_and_re_error(tmp_path: Path) -> None:
    err = only(
        error(
            tmp_path,
            FEED
            + """\
domains:
  generative:
    keywords:
      - '\\bGANs?\\b'
      - '(generative adversarial'
""",
        )
    )
    assert (err.line, err.key) == (9, "domains.generative.keywords[1]")
    assert "'(generative adversarial'" in err.message
    assert "missing ), unterminated subpattern" in err.message


def test_misplaced_global_flag_is_caught(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "domains:\n  g:\n    keywords: ['gan(?i)']\n"))
    assert err.key == "domains.g.keywords[0]"
    assert "invalid regular expression" in err.message


def test_regex_matching_everything_is_refused(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "domains:\n  g:\n    keywords: ['gan|']\n"))
    assert "matches empty text" in err.message


def test_double_quoted_backslash_b_is_caught(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + 'domains:\n  g:\n    keywords: ["\\bGAN\\b"]\n'))
    assert (err.line, err.key) == (7, "domains.g.keywords[0]")
    assert "backspace" in err.message and "single quotes" in err.message


def test_duplicate_domain(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "domains:\n  vision: {}\n  vision: {}\n"))
    assert (err.line, err.key) == (7, "domains.vision")
    assert "duplicate key" in err.message


# --------------------------------------------------------------------------- settings


def test_unknown_setting_suggests_the_closest(tmp_path: Path) -> None:
    err = only(error(tmp_path, FEED + "settings:\n  concurency: 4\n"))
    assert (err.line, err.key) == (6, "settings.concurency")
    assert "did you mean 'concurrency'?" in err.message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("concurrency: 0", "must be at least 1, got 0"),
        ("per_host_limit: 0", "must be at least 1"),
        ("timeout: 0", "must be greater than 0"),
        ("timeout: -1.5", "must be greater than 0"),
        ("max_body_bytes: 0", "must be at least 1"),
        ("max_retries: -1", "must be at least 0"),
        ("max_retry_after: -1", "must be at least 0"),
        ("max_failures: 0", "must be at least 1"),
        ("concurrency: lots", "expected a whole number, got 'lots'"),
        ("concurrency: 1.5", "expected a whole number"),
        ("timeout: true", "expected a number, got true/false"),
        ("timeout: .inf", "expected a number"),
        ("arxiv_api_url: export.arxiv.org/api/query", "not an http(s) URL"),
        ("arxiv_rss_url: 'https://'", "no host name"),
    ],
)
def test_settings_out_of_range(tmp_path: Path, line: str, expected: str) -> None:
    err = only(error(tmp_path, FEED + f"settings:\n  {line}\n"))
    assert err.line == 6
    assert err.key == "settings." + line.split(":")[0]
    assert expected in err.message


def test_settings_accept_numbers_written_as_strings(tmp_path: Path) -> None:
    config = load(tmp_path, FEED + "settings:\n  timeout: '2.5'\n  max_body_bytes: 1e6\n")
    assert config.settings.timeout == 2.5
    assert config.settings.max_body_bytes == 1_000_000


@pytest.mark.parametrize(
    "url", [None, "https://export.arxiv.org/api/query", "http://arxiv.org/api"]
)
def test_arxiv_delay_below_3_seconds_refused_for_arxiv(tmp_path: Path, url: str | None) -> None:
    text = FEED + "settings:\n  arxiv_delay_seconds: 1\n"
    if url:
        text += f"  arxiv_api_url: {url}\n"
    err = only(error(tmp_path, text))
    assert (err.line, err.key) == (6, "settings.arxiv_delay_seconds")
    assert "at least 3 s" in err.message and "terms of use" in err.message


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/api/query", "https://arxiv.example.org/api"]
)
def test_arxiv_delay_below_3_seconds_allowed_for_mirrors(tmp_path: Path, url: str) -> None:
    config = load(tmp_path, FEED + f"settings:\n  arxiv_api_url: {url}\n  arxiv_delay_seconds: 0\n")
    assert config.settings.arxiv_delay_seconds == 0.0
    assert config.settings.arxiv_api_url == url


def test_settings_table_covers_every_field() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert set(_SETTINGS_SPEC) == fields


# --------------------------------------------------------------------------- files


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yml")
    assert info.value.line is None and "file not found" in info.value.message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yml"
    path.write_bytes(b"sources:\n  - name: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line == 2 and "UTF-8" in info.value.message


def test_utf8_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yml"
    path.write_bytes(b"\xef\xbb\xbf" + FEED.encode())
    assert load_config(path).sources[0].name == "distill"


def test_parse_config_is_pure() -> None:
    config = parse_config(FEED, Path("/nowhere/feeds.yml"))
    assert config.path == Path("/nowhere/feeds.yml")
    with pytest.raises(ConfigError) as info:
        parse_config("sources: 3\n", Path("x.yml"))
    assert str(info.value).startswith("x.yml:1: sources: ")


# --------------------------------------------------------------------------- default_feeds_path


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "user-config" / "papertrail"
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda *a, **k: str(path))
    return path


def test_default_feeds_path_prefers_the_current_directory(tmp_path: Path, user_dir: Path) -> None:
    cwd = tmp_path / "project"
    cwd.mkdir()
    user_dir.mkdir(parents=True)
    (user_dir / "feeds.yml").write_text(FEED)
    (cwd / "feeds.yml").write_text(FEED)
    assert default_feeds_path(cwd) == cwd / "feeds.yml"


def test_default_feeds_path_uses_cwd_when_not_given(
    tmp_path: Path, user_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "feeds.yml").write_text(FEED)
    assert default_feeds_path() == tmp_path / "feeds.yml"


def test_default_feeds_path_then_the_user_config_dir(tmp_path: Path, user_dir: Path) -> None:
    user_dir.mkdir(parents=True)
    (user_dir / "feeds.yml").write_text(FEED)
    assert default_feeds_path(tmp_path) == user_dir / "feeds.yml"


def test_default_feeds_path_falls_back_to_the_packaged_file(tmp_path: Path, user_dir: Path) -> None:
    (tmp_path / "feeds.yml").mkdir()  # a directory is not a config file
    path = default_feeds_path(tmp_path)
    assert path == PACKAGED_FEEDS.resolve() or path.samefile(PACKAGED_FEEDS)
    assert load_config(path).sources


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_CONFIG_HOME is Linux-only")
def test_default_feeds_path_honours_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    target = tmp_path / "xdg" / "papertrail" / "feeds.yml"
    target.parent.mkdir(parents=True)
    target.write_text(FEED)
    assert default_feeds_path(tmp_path / "elsewhere") == target
