"""Domain tagging (papertrail.sources.domains)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from papertrail.config import DomainRule, load_config
from papertrail.models import Record
from papertrail.sources import domains as domains_mod
from papertrail.sources.domains import GENERAL, SUMMARY_MAX_CHARS, DomainTagger

REPO = Path(__file__).resolve().parent.parent

RULES = [
    DomainRule("vision", categories=("cs.CV", "eess.IV"), keywords=(r"\bobject detection\b",)),
    DomainRule("generative", keywords=(r"\bGANs?\b", r"\bstyle transfer\b")),
    DomainRule("language", categories=("cs.CL",), keywords=(r"\blanguage models?\b",)),
    DomainRule("audio", categories=("cs.SD", "eess.AS")),
    DomainRule("3d-and-other", categories=("cs.RO",), keywords=(r"\brobots?\b",)),
    DomainRule(GENERAL, categories=("cs.LG", "stat.ML")),
]


@pytest.fixture(scope="module")
def tagger() -> DomainTagger:
    return DomainTagger(RULES)


@pytest.fixture(scope="module")
def default() -> DomainTagger:
    return DomainTagger(load_config(REPO / "feeds.yml").domains)


# --------------------------------------------------------------------------- categories


def test_category_gives_the_domain(tagger: DomainTagger) -> None:
    assert tagger.tag_fields("Something", "", ["cs.CV"], "cs.CV") == ["vision"]
    assert tagger.tag_fields("Something", "", ["eess.AS"]) == ["audio"]


def test_primary_category_comes_first(tagger: DomainTagger) -> None:
    assert tagger.tag_fields("x", "", ["cs.CL", "cs.CV"], "cs.CV") == ["vision", "language"]
    assert tagger.tag_fields("x", "", ["cs.CL", "cs.CV"], "cs.CL") == ["language", "vision"]
    # without a primary category, the listed order
    assert tagger.tag_fields("x", "", ["cs.RO", "cs.CL"]) == ["3d-and-other", "language"]


def test_primary_category_missing_from_the_list(tagger: DomainTagger) -> None:
    assert tagger.tag_fields("x", "", ["cs.CL"], "cs.SD") == ["audio", "language"]


def test_unknown_categories_are_ignored(tagger: DomainTagger) -> None:
    assert tagger.tag_fields("x", "", ["q-bio.NC", "cs.CV"], "q-bio.NC") == ["vision"]
    assert tagger.tag_fields("x", "", ["q-bio.NC"], "q-bio.NC") == [GENERAL]


def test_archive_level_rule() -> None:
    tagger = DomainTagger(
        [DomainRule("audio", categories=("cs.SD",)), DomainRule("eess", categories=("eess",))]
    )
    assert tagger.tag_fields("x", "", ["eess.SP"]) == ["eess"]
    assert tagger.tag_fields("x", "", ["eess"]) == ["eess"]


def test_category_in_two_rules_gives_both() -> None:
    tagger = DomainTagger(
        [DomainRule("generative", categories=("cs.GR",)), DomainRule("3d", categories=("cs.GR",))]
    )
    assert tagger.tag_fields("x", "", ["cs.GR"]) == ["generative", "3d"]


# --------------------------------------------------------------------------- keywords


def test_title_keyword_refines(tagger: DomainTagger) -> None:
    assert tagger.tag_fields("Fast Style Transfer", "", ["cs.CV"], "cs.CV") == [
        "vision",
        "generative",
    ]


def test_keywords_are_case_insensitive(tagger: DomainTagger) -> None:
    assert tagger.tag_fields("wasserstein gan", "") == ["generative"]
    assert tagger.tag_fields("OBJECT DETECTION at scale", "") == ["vision"]


def test_keywords_respect_word_boundaries(tagger: DomainTagger) -> None:
    assert tagger.tag_fields("Organ donation in Michigan", "") == [GENERAL]


def test_one_summary_mention_is_not_enough(tagger: DomainTagger) -> None:
    summary = "We propose an optimiser. Unlike GANs, it is stable. Results on CIFAR."
    assert tagger.tag_fields("A new optimiser", summary, ["cs.LG"], "cs.LG") == [GENERAL]


def test_two_summary_mentions_count(tagger: DomainTagger) -> None:
    summary = "We train GANs faster. Our GAN reaches a better FID."
    assert tagger.tag_fields("A new optimiser", summary, ["cs.LG"], "cs.LG") == ["generative"]
    # two different keywords of the same domain count too
    summary = "A GAN for style transfer."
    assert tagger.tag_fields("A new method", summary) == ["generative"]


def test_summary_is_searched_up_to_the_cap(tagger: DomainTagger) -> None:
    filler = "x " * (SUMMARY_MAX_CHARS // 2)
    assert tagger.tag_fields("t", filler + "GAN GAN") == [GENERAL]
    assert tagger.tag_fields("t", "GAN GAN " + filler) == ["generative"]


def test_feed_labels_count_like_the_title() -> None:
    tagger = DomainTagger([DomainRule("vision", keywords=(r"\bcomputer vision\b",))])
    assert tagger.tag_fields("Our new model", "", ["Computer Vision", "Research"]) == ["vision"]
    # arXiv categories are never matched as text
    tagger = DomainTagger([DomainRule("weird", keywords=(r"\bcs\b",))])
    assert tagger.tag_fields("Our new model", "", ["cs.LG"]) == [GENERAL]


# --------------------------------------------------------------------------- general / order


def test_general_is_dropped_when_something_specific_applies(tagger: DomainTagger) -> None:
    assert tagger.tag_fields("x", "", ["cs.LG"], "cs.LG") == [GENERAL]
    assert tagger.tag_fields("x", "", ["cs.LG", "cs.CV"], "cs.LG") == ["vision"]
    assert tagger.tag_fields("Wasserstein GAN", "", ["stat.ML", "cs.LG"], "stat.ML") == [
        "generative"
    ]


def test_nothing_at_all_is_general(tagger: DomainTagger) -> None:
    assert tagger.tag_fields("", "", []) == [GENERAL]
    assert tagger.tag_fields(None, None, [], None) == [GENERAL]
    assert DomainTagger([]).tag_fields("GAN", "GAN GAN", ["cs.CV"]) == [GENERAL]


def test_order_and_no_duplicates(tagger: DomainTagger) -> None:
    tags = tagger.tag_fields(
        "Robots doing style transfer with language models",
        "language models language models",
        ["cs.CL", "cs.LG", "cs.RO", "cs.CL"],
        "cs.RO",
    )
    # primary category's domain, other category domains, keyword domains in rule order
    assert tags == ["3d-and-other", "language", "generative"]


def test_posts_without_categories(tagger: DomainTagger) -> None:
    post = Record(kind="post", title="[D] Are language models robots?", summary="")
    assert tagger.tag(post) == ["language", "3d-and-other"]
    assert tagger.tag(Record(kind="post", title="Monthly hiring thread")) == [GENERAL]


def test_tag_uses_the_record_fields(tagger: DomainTagger) -> None:
    record = Record(
        kind="paper",
        title="Speech things",
        summary="GAN GAN",
        categories=["cs.CL", "cs.SD"],
        primary_category="cs.SD",
    )
    assert tagger.tag(record) == ["audio", "language", "generative"]
    assert tagger.tag(record) == tagger.tag_fields(
        record.title, record.summary, record.categories, record.primary_category
    )


def test_domains_attribute_lists_rule_names(tagger: DomainTagger) -> None:
    assert tagger.domains == tuple(r.name for r in RULES)


# --------------------------------------------------------------------------- the shipped rules

MEMN2N_ABSTRACT = (
    "We introduce a neural network with a recurrent attention model over a possibly large "
    "external memory. The architecture is a form of Memory Network but unlike the model in that "
    "work, it is trained end-to-end, and hence requires significantly less supervision during "
    "training, making it more generally applicable in realistic settings. The flexibility of the "
    "model allows us to apply it to tasks as diverse as (synthetic) question answering and to "
    "language modeling. For the former our approach is competitive with Memory Networks, but "
    "with less supervision. For the latter, on the Penn TreeBank and Text8 datasets our approach "
    "demonstrates comparable performance to RNNs and LSTMs."
)
DENSENET_ABSTRACT = (
    "Recent work has shown that convolutional networks can be substantially deeper, more "
    "accurate, and efficient to train if they contain shorter connections between layers close "
    "to the input and those close to the output. In this paper, we embrace this observation and "
    "introduce the Dense Convolutional Network (DenseNet), which connects each layer to every "
    "other layer in a feed-forward fashion. We evaluate our proposed architecture on four highly "
    "competitive object recognition benchmark tasks (CIFAR-10, CIFAR-100, SVHN, and ImageNet)."
)
OPTIMIZER_ABSTRACT = (
    "We introduce Adam, an algorithm for first-order gradient-based optimization of stochastic "
    "objective functions, based on adaptive estimates of lower-order moments. The method is "
    "straightforward to implement, is computationally efficient, has little memory requirements, "
    "is invariant to diagonal rescaling of the gradients, and is well suited for problems that "
    "are large in terms of data and/or parameters. Empirical results demonstrate that Adam works "
    "well in practice and compares favorably to other stochastic optimization methods, unlike "
    "methods used to train GANs."
)


@pytest.mark.parametrize(
    ("title", "summary", "categories", "expected"),
    [
        ("A Neural Algorithm of Artistic Style", "", ["cs.CV", "cs.NE", "q-bio.NC"],
         ["vision", "generative"]),
        ("A Neural Algorithm of Artistic Style", "", [], ["generative"]),
        ("Densely Connected Convolutional Networks", DENSENET_ABSTRACT, ["cs.CV", "cs.LG"],
         ["vision"]),
        ("End-To-End Memory Networks", "", ["cs.NE"], [GENERAL]),
        ("End-To-End Memory Networks", MEMN2N_ABSTRACT, ["cs.NE"], ["language"]),
        ("End-To-End Memory Networks", "", ["cs.NE", "cs.CL"], ["language"]),
        ("Wasserstein GAN", "", ["stat.ML", "cs.LG"], ["generative"]),
        ("Improved Training of Wasserstein GANs", "", ["cs.LG", "stat.ML"], ["generative"]),
        ("Unsupervised Representation Learning with Deep Convolutional Generative Adversarial "
         "Networks", "", ["cs.LG", "cs.CV"], ["vision", "generative"]),
        ("Perceptual Losses for Real-Time Style Transfer and Super-Resolution", "",
         ["cs.CV", "cs.LG"], ["vision", "generative"]),
        ("Adam: A Method for Stochastic Optimization", OPTIMIZER_ABSTRACT, ["cs.LG"], [GENERAL]),
        ("Attention Is All You Need", "", ["cs.CL", "cs.LG"], ["language"]),
        ("Semi-Supervised Classification with Graph Convolutional Networks", "",
         ["cs.LG", "stat.ML"], ["graphs"]),
        ("Playing Atari with Deep Reinforcement Learning", "", ["cs.LG"],
         ["reinforcement-learning"]),
        ("NeRF: Representing Scenes as Neural Radiance Fields for View Synthesis", "",
         ["cs.CV", "cs.GR"], ["vision", "3d-and-other"]),
        ("WaveNet: A Generative Model for Raw Audio", "", ["cs.SD", "cs.LG"],
         ["audio", "generative"]),
        ("Deep Learning for Time Series Forecasting: A Survey", "", ["cs.LG"], ["tabular"]),
        # posts: no categories
        ("[D] Best resources to learn RL in 2025?", "", [], ["reinforcement-learning"]),
        ("Fine-tuning LLMs on a single GPU", "", [], ["language"]),
        ("Show HN: A tiny robot arm that learns from demonstrations", "", [],
         ["3d-and-other"]),
        ("Winning a Kaggle competition with gradient boosting", "", [], ["tabular"]),
        ("Introducing our new office in Paris", "", [], [GENERAL]),
        ("Graph neural networks for drug discovery", "", [], ["graphs"]),
        ("Music generation with transformers", "", [], ["audio"]),
        ("Why the world needs more early careers programs", "", [], [GENERAL]),
        ("Message passing interface tips for HPC", "", [], [GENERAL]),
        ("Graph Convolutional Networks explained", "", [], ["graphs"]),
    ],
)  # fmt: skip
def test_default_rules_on_real_titles(
    default: DomainTagger, title: str, summary: str, categories: list[str], expected: list[str]
) -> None:
    primary = categories[0] if categories else None
    assert default.tag_fields(title, summary, categories, primary) == expected


def test_every_default_domain_is_reachable(default: DomainTagger) -> None:
    config = load_config(REPO / "feeds.yml")
    for rule in config.domains:
        assert rule.categories or rule.keywords, rule.name
        if rule.keywords:
            assert re.compile("|".join(rule.keywords), re.IGNORECASE)


# --------------------------------------------------------------------------- prefilter


def _plain(rules: list[DomainRule], title: str, summary: str) -> list[str]:
    """Keyword domains by plain regex search, no prefilter (the reference semantics)."""
    out = []
    for rule in rules:
        if not rule.keywords:
            continue
        rx = re.compile("|".join(f"(?:{k})" for k in rule.keywords), re.IGNORECASE)
        body = summary[:SUMMARY_MAX_CHARS]
        if rx.search(title) or len(list(rx.finditer(body))) >= 2:
            out.append(rule.name)
    return out or [GENERAL]


def _split(text: str) -> list[str]:
    return text.split(" ")


TRICKY_RULES = [
    DomainRule("a", keywords=(r"\b(?:DC|W|Cycle)?GANs?\b", r"\b3-?D\b", r"\bYOLO(?:v\d+)?\b")),
    DomainRule("b", keywords=(r"(?<!graph )convolutional nets?", r"(?-i:\bSLAM\b)", r"\d+ layers")),
    DomainRule("c", keywords=(r"[a-z]+net\b", r"\bcafé\b", r"\bx{2,}y\b")),
    DomainRule("d", keywords=(r"\bsuper[- ]?res(?:olution)?\b", r"\btime[- ]series\b", r"^deep")),
    # overlapping keywords: "latent diffusion model" is one match of the alternation, not two
    DomainRule("f", keywords=(r"\blatent diffusion\b", r"\bdiffusion models?\b", r"\bGAN\b")),
    DomainRule("e", keywords=(r"\w+ing models?", r"(a)\1b")),  # not analysable: always searched
]

VOCAB = _split(
    "GAN gans DCGAN wgan Gan organ 3D 3-D 3d 3-d yolo YOLOv8 yolov convolutional Convolutional "
    "graph net nets SLAM slam Slam 12 layers layers ResNet resnet net Café CAFÉ cafe xxy xxxy "
    "super-resolution superres super res time-series timeseries time series deep Deep modeling "
    "models model of the a , . ( ) - ; ü ß K ſ İ \n latent diffusion latent diffusion model"
)


@pytest.mark.integration  # issue 18: ~5 s of random cases; CI runs it
def test_prefilter_never_changes_the_result() -> None:
    rng = random.Random(1234)
    tagger = DomainTagger(TRICKY_RULES)
    default_rules = list(load_config(REPO / "feeds.yml").domains)
    default = DomainTagger([DomainRule(r.name, keywords=r.keywords) for r in default_rules])
    default_vocab = VOCAB + _split(
        "language model LLMs reinforcement learning robot robotics point clouds graph neural "
        "network GNN speech recognition text-to-speech ASR diffusion models style transfer "
        "object detection vision transformer time series forecasting Kaggle XGBoost RL "
        "message passing interface knowledge graph ChatGPT GPT-4o self-driving cars"
    )
    for _ in range(3000):
        title = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(0, 8)))
        summary = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(0, 40)))
        assert tagger.tag_fields(title, summary) == _plain(TRICKY_RULES, title, summary), (
            title,
            summary,
        )
        title = " ".join(rng.choice(default_vocab) for _ in range(rng.randint(0, 8)))
        summary = " ".join(rng.choice(default_vocab) for _ in range(rng.randint(0, 40)))
        assert default.tag_fields(title, summary) == _plain(default_rules, title, summary), (
            title,
            summary,
        )


def test_overlapping_keywords_count_once() -> None:
    tagger = DomainTagger(TRICKY_RULES[-2:-1])
    assert tagger.tag_fields("", "a latent diffusion model") == [GENERAL]
    assert tagger.tag_fields("", "a latent diffusion model and a GAN") == ["f"]


def test_prefilter_skips_generic_text(default: DomainTagger) -> None:
    """A generic abstract does not trigger a single regex search (this is what makes it fast)."""
    text = OPTIMIZER_ABSTRACT.replace("GANs", "models").casefold()
    words = domains_mod._words(text)
    assert [m.name for m in default._keywords if m.prefilter.may_match(words, text)] == []


def test_prefilter_words() -> None:
    requirements = domains_mod._spelling_requirements
    assert requirements(r"\bGANs?\b") == [(frozenset({"gan"}), ()), (frozenset({"gans"}), ())]
    assert requirements(r"\bgenerative adversarial\b") == [
        (frozenset({"generative", "adversarial"}), ())
    ]
    assert requirements(r"\d+ layers") == [(frozenset(), ("layers",))]
    assert requirements(r"\w+") is None


# ------------------------------------------------ the one-pass key index (issue 19)


def _snapshot_papers(path: Path) -> list[Record]:
    import orjson

    from papertrail.sources.arxiv_meta import from_snapshot

    lines = path.read_bytes().splitlines()
    return [from_snapshot(orjson.loads(line)).record for line in lines if line.strip()]


def _assert_exact(records: list[Record]) -> None:
    """The tagger's keyword domains equal the plain regexes' for every record."""
    rules = list(load_config(REPO / "feeds.yml").domains)
    tagger = DomainTagger([DomainRule(r.name, keywords=r.keywords) for r in rules])
    assert records
    for r in records:
        assert tagger.tag_fields(r.title, r.summary) == _plain(rules, r.title, r.summary), (
            r.arxiv_id
        )


def test_key_index_is_exact_on_the_recorded_snapshot_lines() -> None:
    bulk = (
        REPO / "tests/fixtures/feeds/arxiv-bulk/kaggle__arxiv-metadata-oai-snapshot_first100.jsonl"
    )
    _assert_exact(_snapshot_papers(bulk))


@pytest.mark.integration  # issue 19: generates and tags 1,500 synthetic papers (~5 s)
def test_key_index_is_exact_on_a_generated_snapshot(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "snapshot.json"
    subprocess.run(
        [sys.executable, str(REPO / "benchmarks/gen_arxiv_snapshot.py"), str(out),
         "--papers", "1500", "--today", "2026-11-23T12:00:00"],
        check=True, capture_output=True,
    )  # fmt: skip
    _assert_exact(_snapshot_papers(out))


def test_key_index_search_starts_late_but_finds_the_same_match() -> None:
    """The search for a keyword starts at its key word's first occurrence less the
    spelling's lead: a match whose other words come first is still found whole."""
    rules = [DomainRule("g", keywords=(r"\blatent diffusion models?\b", r"\bx-ray\b"))]
    tagger = DomainTagger(rules)
    for title, summary in [
        ("Latent Diffusion Models at scale", ""),
        ("", "diffusion latent diffusion model; and a latent diffusion models paper"),
        ("", "models latent diffusion: one latent diffusion model only"),
        ("", "an X-ray and an x-ray"),
        ("", "x-rays and X-RAY and xray"),
    ]:
        assert tagger.tag_fields(title, summary) == _plain(rules, title, summary), summary
