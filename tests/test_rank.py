"""Ranking (papertrail.reading.rank): the `ranking:` section of feeds.yml, each part of the score
on a real SQLite reading list, block rules in the digest, `explain`, `papertrail rank`."""

from __future__ import annotations

import math
import sqlite3
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from papertrail import api, store
from papertrail.cli import cli
from papertrail.config import Config, ConfigError, load_config
from papertrail.config.model import RankingWeights
from papertrail.models import Record
from papertrail.reading import explain, rank, refresh
from papertrail.reading.digest import render

SOURCES = """\
sources:
  - name: distill
    kind: feed
    url: https://distill.pub/rss.xml
"""
DAY0 = "2026-11-01T08:00:00+00:00"
SINCE = "2026-10-01T00:00:00+00:00"


def config(tmp_path: Path, ranking: str = "") -> Config:
    path = tmp_path / "feeds.yml"
    path.write_text(SOURCES + textwrap.dedent(ranking), encoding="utf-8")
    return load_config(path)


def paper(arxiv_id: str, title: str, summary: str = "", **kw: object) -> Record:
    kw.setdefault("published", DAY0)
    return Record(kind="paper", arxiv_id=arxiv_id, version=1, title=title, summary=summary, **kw)


def post(guid: str, title: str, summary: str = "", **kw: object) -> Record:
    kw.setdefault("published", DAY0)
    return Record(
        kind="post",
        guid=guid,
        url=f"https://blog.example/{guid}",
        title=title,
        summary=summary,
        **kw,
    )


class _NoTags:
    domain_names = ()

    def tag(self, record: Record) -> list[str]:
        return []


def save(db, source: str, *records: Record, now: str = DAY0) -> None:
    with db.atomic():
        store.EntryWriter(db, _NoTags(), None, now=now).save(source, records)


def entry_id(db, key: str) -> int:
    return db.execute("SELECT id FROM entries WHERE key = ?", [key]).fetchone()[0]


def star(db, *ids: int) -> None:
    with db.atomic():
        for i in ids:
            db.execute("UPDATE entries SET starred_at = ? WHERE id = ?", [DAY0, i])


def stored(db, i: int) -> tuple[float, str | None]:
    return tuple(db.execute("SELECT score, hidden_by FROM entries WHERE id = ?", [i]).fetchone())


def part(expl: explain.Explanation, name: str) -> explain.Part:
    return next(p for p in expl.parts if p.name == name)


@pytest.fixture
def db(tmp_path: Path):
    database = store.open_db(tmp_path / "reading.db")
    yield database
    database.close()


# ---------------------------------------------------------------- feeds.yml


def test_ranking_section_is_read_into_the_config(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        """\
        ranking:
          weights: {mentions: 2, similarity: 0.5}
          follow_authors: [Yoshua Bengio, Gaël Varoquaux]
          boost:
            style transfer: 2
            survey: -0.5
            diffus*: 1
          block:
            keywords: [cryptocurrency]
            authors: [Some Spammer]
          recency_half_life_days: 3
          read_weight: 0
        """,
    )
    r = cfg.ranking
    assert (r.weights.mentions, r.weights.similarity, r.weights.recency) == (2.0, 0.5, 1.0)
    assert r.follow_authors == ("Yoshua Bengio", "Gaël Varoquaux")
    assert r.boost == (("style transfer", 2.0), ("survey", -0.5), ("diffus*", 1.0))
    assert r.block.keywords == ("cryptocurrency",)
    assert r.block.authors == ("Some Spammer",)
    assert (r.recency_half_life_days, r.read_weight) == (3.0, 0.0)


def test_no_ranking_section_means_the_defaults(tmp_path: Path) -> None:
    r = config(tmp_path).ranking
    assert r.weights == RankingWeights()
    assert (r.follow_authors, r.boost, r.block.keywords, r.block.authors) == ((), (), (), ())
    assert r.weights.similarity == 2.0 and r.recency_half_life_days == 7.0


def test_bad_ranking_section_names_file_line_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config(
            tmp_path,
            """\
            ranking:
              weights:
                simlarity: 1
                recency: -1
              follow_authors: Yoshua Bengio
              boost:
                '\\bGANs?\\b': 2
                survey: lots
              block:
                keywords: [crypto]
                author: [Someone]
              read_weight: 2
              recency_half_life_days: 0
              colour: blue
            """,
        )
    path = tmp_path / "feeds.yml"
    lines = str(info.value).splitlines()
    assert lines == [
        f"{path}:7: ranking.weights.simlarity: unknown key 'simlarity' — did you mean 'similarity'?",
        f"{path}:8: ranking.weights.recency: must be at least 0, got -1",
        f"{path}:9: ranking.follow_authors: expected a list of strings, got 'Yoshua Bengio'; "
        "write a list, e.g. [Yoshua Bengio]",
        f"{path}:11: ranking.boost.\\bGANs?\\b: '\\bGANs?\\b' looks like a regular expression; "
        "ranking keywords are plain words or phrases, matched as whole words ignoring case and "
        "word endings (e.g. diffusion model), and a final * matches word beginnings (e.g. diffus*)",
        f"{path}:12: ranking.boost.survey: expected a number, got 'lots'",
        f"{path}:15: ranking.block.author: unknown key 'author' — did you mean 'authors'?",
        f"{path}:16: ranking.read_weight: must be between 0 and 1 (a starred entry counts 1), got 2",
        f"{path}:17: ranking.recency_half_life_days: must be greater than 0, got 0",
        f"{path}:18: ranking.colour: unknown key 'colour'; valid keys: weights, follow_authors, boost, "
        "block, recency_half_life_days, read_weight, follow_tags",
    ]
    assert info.value.line == 7


def test_boost_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config(tmp_path, "ranking:\n  boost: [diffusion, gan]\n")
    assert info.value.line == 6
    assert "expected a mapping of word or phrase: weight" in info.value.message


def test_packaged_default_validates_with_default_ranking() -> None:
    from papertrail.config import packaged_feeds_path

    cfg = load_config(packaged_feeds_path())
    assert cfg.ranking.weights.similarity == 2.0
    assert cfg.ranking.boost == () and cfg.ranking.block.keywords == ()


# ---------------------------------------------------------------- the parts


def test_mentions_count_distinct_sources_that_listed_or_linked_it(db, tmp_path: Path) -> None:
    save(db, "arxiv-cs-lg", paper("2611.00001", "Talked about"), paper("2611.00002", "Quiet"))
    save(db, "arxiv-api", paper("2611.00001", "Talked about"))
    save(db, "hn", post("hn-1", "Look at this", mentions=["2611.00001"]))
    save(db, "manual", paper("2611.00002", "Quiet"))  # papertrail's own name: not a source
    cfg = config(tmp_path)
    rank.rescore(db, cfg)
    talked, quiet = entry_id(db, "arxiv:2611.00001"), entry_id(db, "arxiv:2611.00002")

    expl = explain.explain(db, cfg, talked)
    mentions = part(expl, "mentions")
    assert mentions.raw == pytest.approx(math.log(3))
    assert mentions.contribution == pytest.approx(1.0986, abs=1e-4)
    assert "3 sources (arxiv-api, arxiv-cs-lg, hn)" in mentions.why
    assert mentions.sentence.endswith("(+1.10)")
    quiet_mentions = part(explain.explain(db, cfg, quiet), "mentions")
    assert (
        quiet_mentions.contribution == 0 and "one source only (arxiv-cs-lg)" in quiet_mentions.why
    )
    assert stored(db, talked)[0] > stored(db, quiet)[0]


def test_followed_authors_ignore_case_and_accents(db, tmp_path: Path) -> None:
    save(
        db,
        "arxiv",
        paper("2611.00010", "A", authors=["GAEL VAROQUAUX", "Yoshua Bengio", "X Y"]),
        paper("2611.00011", "B", authors=["Gaëlle Other"]),
    )
    cfg = config(
        tmp_path, "ranking:\n  follow_authors: [Gaël Varoquaux, yoshua bengio, Nobody Here]\n"
    )
    rank.rescore(db, cfg)
    a, b = entry_id(db, "arxiv:2611.00010"), entry_id(db, "arxiv:2611.00011")
    authors = part(explain.explain(db, cfg, a), "authors")
    assert (authors.raw, authors.contribution) == (2.0, 2.0)
    assert authors.why == "by followed authors Gaël Varoquaux, yoshua bengio"
    assert part(explain.explain(db, cfg, b), "authors").raw == 0
    assert stored(db, a)[0] == pytest.approx(stored(db, b)[0] + 2.0)


def test_keyword_boosts_match_words_not_regexes(db, tmp_path: Path) -> None:
    save(
        db,
        "arxiv",
        paper("2611.00020", "Diffusion Models Beat GANs", "We study denoising."),
        paper("2611.00021", "A Survey of Style-Transfer", "Neural style transfer, reviewed."),
        paper("2611.00022", "Unrelated", "Nothing about either; diffusing heat."),
    )
    cfg = config(
        tmp_path,
        """\
        ranking:
          weights: {keywords: 2}
          boost:
            diffusion model: 1.5
            style transfer: 1
            survey: -0.5
        """,
    )
    rank.rescore(db, cfg)
    diff, surv, other = (entry_id(db, f"arxiv:2611.0002{i}") for i in range(3))
    kw = part(explain.explain(db, cfg, diff), "keywords")
    assert (kw.raw, kw.weight, kw.contribution) == (1.5, 2.0, 3.0)
    assert kw.why == "matches boosted 'diffusion model' (+1.5)"
    kw = part(explain.explain(db, cfg, surv), "keywords")
    assert kw.raw == 0.5 and "'style transfer' (+1), 'survey' (-0.5)" in kw.why
    assert part(explain.explain(db, cfg, other), "keywords").raw == 0
    scores = {i: stored(db, i)[0] for i in (diff, surv, other)}
    assert scores[diff] > scores[surv] > scores[other]


def test_a_final_star_matches_word_beginnings(db, tmp_path: Path) -> None:
    save(db, "arxiv", paper("2611.00030", "Diffusers everywhere"), paper("2611.00031", "Plain"))
    cfg = config(tmp_path, "ranking:\n  boost:\n    diffus*: 1\n")
    rank.rescore(db, cfg)
    assert part(explain.explain(db, cfg, entry_id(db, "arxiv:2611.00030")), "keywords").raw == 1
    assert part(explain.explain(db, cfg, entry_id(db, "arxiv:2611.00031")), "keywords").raw == 0


def test_recency_halves_every_half_life_from_the_newest_entry(db, tmp_path: Path) -> None:
    save(db, "arxiv", paper("2611.00040", "Old", published="2026-10-25T08:00:00+00:00"))
    save(db, "arxiv", paper("2611.00041", "New"), now="2026-11-01T08:00:00+00:00")
    cfg = config(tmp_path)
    rank.rescore(db, cfg)
    old, new = entry_id(db, "arxiv:2611.00040"), entry_id(db, "arxiv:2611.00041")
    assert part(explain.explain(db, cfg, old), "recency").raw == pytest.approx(0.5)
    assert part(explain.explain(db, cfg, new), "recency").raw == pytest.approx(1.0)
    assert "7.0 days before the newest entry" in part(explain.explain(db, cfg, old), "recency").why
    assert stored(db, old)[0] == pytest.approx(0.5) and stored(db, new)[0] == pytest.approx(1.0)


def fill_topics(db) -> dict[str, int]:
    """Entries on three topics: style transfer, reinforcement learning, databases."""
    save(
        db,
        "arxiv",
        paper("2611.00101", "A Neural Algorithm of Artistic Style",
              "Gram matrices of convolutional features separate content and style of paintings."),
        paper("2611.00102", "Perceptual Losses for Real-Time Style Transfer",
              "Feed-forward networks trained with perceptual losses stylize paintings fast."),
        paper("2611.00103", "Arbitrary Style Transfer with Adaptive Instance Normalization",
              "Matching feature statistics gives artistic style to any image, like paintings."),
        paper("2611.00201", "Playing Atari with Deep Reinforcement Learning",
              "A Q-network learns control policies from pixels and rewards."),
        paper("2611.00202", "Proximal Policy Optimization",
              "Clipped surrogate objectives make policy gradients stable for agents and rewards."),
        paper("2611.00301", "Query Optimization in Column Stores",
              "Vectorized execution and compression speed up analytical queries."),
    )  # fmt: skip
    return {
        k: entry_id(db, f"arxiv:2611.00{k}") for k in ("101", "102", "103", "201", "202", "301")
    }


def test_starring_lifts_similar_entries(db, tmp_path: Path) -> None:
    ids = fill_topics(db)
    cfg = config(tmp_path)
    rank.rescore(db, cfg)
    before = {k: stored(db, i)[0] for k, i in ids.items()}
    assert len(set(before.values())) == 1  # nothing starred: only recency, the same for all
    assert "nothing starred yet" in part(explain.explain(db, cfg, ids["103"]), "similarity").why

    star(db, ids["101"], ids["102"])
    rank.rescore(db, cfg)
    after = {k: stored(db, i)[0] for k, i in ids.items()}
    assert after["103"] > after["201"] and after["103"] > after["301"]
    assert after["103"] > before["103"]
    sim = part(explain.explain(db, cfg, ids["103"]), "similarity")
    assert sim.raw > 0 and "your 2 starred entries" in sim.why
    assert "paintings" in sim.why and "style" in sim.why
    assert part(explain.explain(db, cfg, ids["301"]), "similarity").raw == 0


def test_read_entries_count_less_and_only_if_read_weight(db, tmp_path: Path) -> None:
    ids = fill_topics(db)
    with db.atomic():
        db.execute("UPDATE entries SET read_at = ? WHERE id = ?", [DAY0, ids["201"]])
    counted = config(tmp_path)  # read_weight 0.25
    rank.rescore(db, counted)
    assert part(explain.explain(db, counted, ids["202"]), "similarity").raw > 0
    ignored = config(tmp_path, "ranking:\n  read_weight: 0\n")
    rank.rescore(db, ignored)
    assert part(explain.explain(db, ignored, ids["202"]), "similarity").raw == 0


# ---------------------------------------------------------------- block rules


def test_block_rules_hide_from_the_digest_but_keep_the_entry(db, tmp_path: Path) -> None:
    save(
        db,
        "arxiv",
        paper("2611.00401", "Tokenomics of a Cryptocurrency", "Blockchains."),
        paper("2611.00402", "Honest Work", "Graphs.", authors=["Spam Author"]),
        paper("2611.00403", "Kept", "Cryptocurrency again, but starred."),
        paper("2611.00404", "Plain", "Vision."),
    )
    crypto, spam, kept, plain = (entry_id(db, f"arxiv:2611.0040{i}") for i in range(1, 5))
    star(db, kept)
    blocking = config(
        tmp_path,
        "ranking:\n  block:\n    keywords: [cryptocurrency]\n    authors: [spam author]\n",
    )
    rank.rescore(db, blocking)
    assert stored(db, crypto)[1] == "keyword: cryptocurrency"
    assert stored(db, spam)[1] == "author: spam author"
    assert stored(db, kept)[1] is None  # starring beats a block rule
    digest = api.build_digest(db, blocking, since=SINCE)
    assert sorted(e["id"] for e in digest.entries) == sorted([kept, plain])
    assert digest.hidden == 2
    assert "2 entries hidden by block rules" in " ".join(render(digest, "text").split())
    assert store.count_entries(db)["paper"] == 4  # nothing deleted
    visible = store.find_entries(db, store.EntryFilter(include_hidden=False))
    assert sorted(e["id"] for e in visible) == sorted([kept, plain])
    expl = explain.explain(db, blocking, crypto)
    assert expl.hidden_by == "keyword: cryptocurrency"
    assert "block rule 'keyword: cryptocurrency'" in explain.render_explanation(expl)

    unblocked = config(tmp_path)
    digest = api.build_digest(db, unblocked, since=SINCE)  # the digest reads feeds.yml now
    assert len(digest.entries) == 4
    assert digest.hidden == 0 and "hidden" not in render(digest, "text")
    rank.rescore(db, unblocked)
    assert stored(db, crypto)[1] is None and stored(db, spam)[1] is None


def test_digest_orders_each_domain_by_score(db, tmp_path: Path) -> None:
    save(db, "arxiv", paper("2611.00501", "Low"), paper("2611.00502", "Boosted Thing"))
    save(db, "arxiv", paper("2611.00503", "Newest", published="2026-11-02T08:00:00+00:00"),
         now="2026-11-02T08:00:00+00:00")  # fmt: skip
    cfg = config(tmp_path, "ranking:\n  boost:\n    boosted: 3\n")
    digest = api.build_digest(db, cfg, since=SINCE)
    titles = [e["title"] for e in digest.entries]
    assert titles == ["Boosted Thing", "Newest", "Low"]
    assert digest.entries[0]["score"] > digest.entries[1]["score"] > digest.entries[2]["score"]


# ---------------------------------------------------------------- explain and rescore


@pytest.fixture
def everything(db, tmp_path: Path) -> tuple[object, Config, dict[str, int]]:
    """A list where every part is non-zero somewhere."""
    ids = fill_topics(db)
    save(db, "hn", post("hn-9", "Style transfer is back", mentions=["2611.00103"]))
    title, summary = db.execute(
        "SELECT title, summary FROM entries WHERE id = ?", [ids["103"]]
    ).fetchone()
    save(db, "arxiv-api", paper("2611.00103", title, summary, authors=["Leon Gatys"]))
    save(db, "arxiv", paper("2611.00999", "Later", published="2026-11-03T08:00:00+00:00"),
         now="2026-11-03T08:00:00+00:00")  # fmt: skip
    star(db, ids["101"])
    cfg = config(
        tmp_path,
        """\
        ranking:
          weights: {mentions: 1.5, authors: 0.7, keywords: 1.3, recency: 0.9, similarity: 2.2}
          follow_authors: [Leon Gatys]
          boost: {style transfer: 1.25, policy: -0.4}
          recency_half_life_days: 2.5
        """,
    )
    return db, cfg, ids


def test_explained_parts_add_up_to_the_stored_score(everything) -> None:
    db, cfg, ids = everything
    rank.rescore(db, cfg)
    all_ids = [r[0] for r in db.execute("SELECT id FROM entries")]
    for i in all_ids:
        expl = explain.explain(db, cfg, i)
        assert [p.name for p in expl.parts] == list(rank.PARTS)
        assert round(sum(p.contribution for p in expl.parts), rank.DECIMALS) == stored(db, i)[0]
        assert expl.total == stored(db, i)[0] and not expl.stale
        for p in expl.parts:
            assert p.contribution == pytest.approx(p.raw * p.weight)
    busy = explain.explain(db, cfg, ids["103"])
    assert all(p.contribution != 0 for p in busy.parts), explain.render_explanation(busy)
    text = explain.render_explanation(busy)
    assert f"#{ids['103']} " in text and "score" in text
    for p in busy.parts:
        assert p.name in text and p.why in text


def test_rescore_of_some_ids_equals_a_full_rescore(everything) -> None:
    db, cfg, ids = everything
    rank.rescore(db, cfg)
    full = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, score, hidden_by FROM entries")}
    with db.atomic():
        db.execute("UPDATE entries SET score = 0, hidden_by = NULL")
    some = [ids["103"], ids["202"], ids["301"]]
    assert rank.rescore(db, cfg, ids=some) == 3
    for i in some:
        assert stored(db, i) == full[i]
    assert stored(db, ids["101"])[0] == 0  # the others untouched
    assert rank.live_scores(db, cfg, some) == {i: full[i] for i in some}


def test_explain_says_when_the_stored_score_is_out_of_date(everything) -> None:
    db, cfg, ids = everything
    rank.rescore(db, cfg)
    star(db, ids["201"])
    expl = explain.explain(db, cfg, ids["202"])
    assert expl.stale
    assert "`papertrail rank`" in explain.render_explanation(expl)
    refresh.after_feedback(db, cfg, [ids["201"]])
    refresh.settle(db, cfg)  # the stored scores, written in the background, complete
    assert not explain.explain(db, cfg, ids["202"]).stale


def test_explain_unknown_entry(db, tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        explain.explain(db, config(tmp_path), 999)


# ---------------------------------------------------------------- through the CLI


def set_ranking(feeds: Path, ranking: dict) -> None:
    data = yaml.safe_load(feeds.read_text(encoding="utf-8"))
    data["ranking"] = ranking
    feeds.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_fetch_rescores_with_the_ranking_rules(feed_server, make_feeds, db_path: Path) -> None:
    url = feed_server.serve_fixture("/bair/feed.xml", "ml-blogs/jmamath-distill__bair_blog.xml")
    feeds = make_feeds([{"name": "bair", "kind": "feed", "url": url}])
    set_ranking(feeds, {"boost": {"learning": 2}, "weights": {"recency": 0}})
    result = CliRunner().invoke(cli, ["--db", str(db_path), "--feeds", str(feeds), "fetch"])
    assert result.exit_code == 0, result.output
    db = store.open_db(db_path)
    try:
        boosted = set(store.select_ids(db, store.EntryFilter(), sort="rank"))
        scores = store.scores_of(db, list(boosted))
        learning = {
            i
            for i in boosted
            if "learning"
            in " ".join(
                db.execute(
                    "SELECT lower(title || ' ' || summary) FROM entries WHERE id = ?", [i]
                ).fetchone()
            )
        }
    finally:
        db.close()
    assert learning and len(learning) < len(boosted)
    assert {i for i, (score, _) in scores.items() if score == 2.0} == learning
    assert {i for i, (score, _) in scores.items() if score == 0.0} == boosted - learning


def test_rank_command_rescores_after_an_edit(reading_list) -> None:
    db_path, feeds = reading_list
    with sqlite3.connect(db_path) as conn:
        (n,) = conn.execute("SELECT COUNT(*) FROM entries").fetchone()
    set_ranking(feeds, {"block": {"keywords": ["language"]}})
    result = CliRunner().invoke(cli, ["--db", str(db_path), "--feeds", str(feeds), "rank"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db_path) as conn:
        hidden = conn.execute(
            "SELECT COUNT(*) FROM entries WHERE hidden_by IS NOT NULL"
        ).fetchone()[0]
    assert hidden > 0
    assert f"Scored {n:,} entries" in result.output
    assert f"{hidden:,} hidden by block rules" in result.output


def test_rank_command_reports_a_bad_ranking_section(reading_list) -> None:
    db_path, feeds = reading_list
    set_ranking(feeds, {"weights": {"recency": "x"}})
    result = CliRunner().invoke(cli, ["--db", str(db_path), "--feeds", str(feeds), "rank"])
    assert result.exit_code == 2
    assert "ranking.weights.recency: expected a number, got 'x'" in result.output


def test_id_bounds_cover_a_dense_newest_block_and_a_few_old_ids() -> None:
    from papertrail.store.ranking import _MAX_OUTLIERS, id_bounds

    assert id_bounds([]) == (0, [])
    assert id_bounds([7]) == (7, [])
    recent = list(range(1000, 1100)) + list(range(1101, 1200, 2))  # dense enough
    assert id_bounds([*recent, 3, 500]) == (1000, [3, 500])
    sparse = list(range(0, 100_000, 50))  # nowhere half full: one bound, no lookups
    assert id_bounds(sparse) == (0, [])
    many_old = [*range(0, 4 * (_MAX_OUTLIERS + 1), 4), *range(10_000, 10_100)]
    assert id_bounds(many_old) == (0, [])


def test_bounded_matches_find_exactly_the_unbounded_ones_among_the_ids(everything) -> None:
    from papertrail.store import ranking

    db, _, ids = everything
    all_ids = sorted(r[0] for r in db.execute("SELECT id FROM entries"))
    some = [all_ids[0], *all_ids[len(all_ids) // 2 :]]
    for query in ("style", "transfer OR policy", '"style transfer"'):
        everywhere = set(ranking.fts_matches(db, query))
        bounded = set(ranking.fts_matches(db, query, some))
        assert bounded & set(some) == everywhere & set(some)
    weights = [("style", 1.0), ("policy", 0.5)]
    full = dict(ranking.weighted_matches(db, weights))
    part = dict(ranking.weighted_matches(db, weights, some))
    assert {i: w for i, w in part.items() if i in some} == {
        i: w for i, w in full.items() if i in some
    }
