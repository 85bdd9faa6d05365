"""Write a synthetic arXiv metadata snapshot: the real schema, realistic field lengths.

Every line has the keys, types and shapes of the public snapshot
(`arxiv-metadata-oai-snapshot.json`): id, submitter, authors, title, comments,
journal-ref, doi, report-no, categories, license, abstract, versions (with RFC
2822 dates), update_date, authors_parsed. Lengths and how often each optional
field is present come from the 100 real lines in
tests/fixtures/feeds/arxiv-bulk (titles, abstracts, author counts, version
counts are sampled from them); the words are drawn from those abstracts mixed
with machine-learning vocabulary, so the domain rules and full-text search see a
corpus that looks like arXiv's rather than one text repeated (the machine-learning
words only in cs, stat and eess papers). Categories follow
arXiv's rough mix (about a third cs, then math, physics archives, stat, eess, q-bio).

Ids run month by month from 0704 (new-style ids, as the real file is sorted),
with the newest month's papers spread over the 21 days before --today, so
`digest --since 24h` has the few hundred papers one day brings.

    python benchmarks/gen_arxiv_snapshot.py OUT.json [--papers 2700000] [--seed 0] [--gzip]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests/fixtures/feeds/arxiv-bulk/kaggle__arxiv-metadata-oai-snapshot_first100.jsonl"

ML_WORDS = """learning neural network networks deep model models training transformer attention
diffusion generative adversarial GAN image images vision segmentation detection language
large language model reinforcement policy agent reward graph graphs node embedding
representation self-supervised contrastive benchmark dataset optimization gradient stochastic
convolutional recurrent speech audio robot robotic control style transfer distillation
fine-tuning pretraining inference latent variational autoencoder sampling score denoising
classification regression kernel bayesian uncertainty federated privacy fairness""".split()  # noqa: SIM905

CATEGORIES = [  # (category list, weight): primary first, sometimes cross-lists
    (["cs.LG"], 6), (["cs.LG", "stat.ML"], 4), (["cs.CV"], 6), (["cs.CL"], 4),
    (["cs.AI", "cs.LG"], 2), (["cs.RO"], 1), (["cs.CR"], 1), (["cs.DS"], 1), (["cs.NE", "cs.LG"], 1),
    (["cs.SD", "eess.AS"], 1), (["cs.IT", "math.IT"], 2), (["eess.IV", "cs.CV"], 1),
    (["math.CO"], 3), (["math.AP"], 3), (["math.PR"], 3), (["math.NT"], 2), (["math.OC"], 2),
    (["math.AG"], 2), (["math.DG"], 2), (["hep-th"], 5), (["hep-ph"], 5), (["hep-ex"], 2),
    (["astro-ph.GA"], 4), (["astro-ph.SR"], 3), (["astro-ph.CO"], 3), (["gr-qc"], 3),
    (["quant-ph"], 6), (["cond-mat.mtrl-sci"], 4), (["cond-mat.str-el"], 3),
    (["cond-mat.stat-mech"], 2), (["physics.optics"], 2), (["physics.flu-dyn"], 2),
    (["nucl-th"], 1), (["stat.ME"], 2), (["stat.ML", "cs.LG"], 2), (["q-bio.NC"], 1),
    (["q-fin.ST"], 1), (["econ.EM"], 1),
]  # fmt: skip
LICENSES = [
    None,
    "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    "http://creativecommons.org/licenses/by/4.0/",
    "http://creativecommons.org/licenses/by-nc-sa/4.0/",
]
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc2822(dt: datetime) -> str:
    return (
        f"{DAYS[dt.weekday()]}, {dt.day} {MONTHS[dt.month - 1]} {dt.year} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT"
    )


def wrap(text: str, width: int = 80) -> str:
    """arXiv's hard wrapping (the importer must undo it)."""
    out, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    out.append(line)
    return "\n".join(out)


OLD_ARCHIVES = ("hep-th", "hep-ph", "astro-ph", "cond-mat", "math", "quant-ph", "gr-qc", "nucl-th")


def id_plan(papers: int, today: datetime, seed: int = 1) -> list[tuple[str, datetime]]:
    """(id, first-version date) for every paper, in the real file's order: new-style
    ids month by month from 0704 (more each month, as arXiv grew; at most 9,999 a
    month before 2015, when ids had four digits), then 15 % old-style ids
    (``hep-th/9108001``, 1991 to March 2007). The newest month's papers are dated
    over the 21 days before `today` (about 800 a day, as arXiv announces)."""
    rnd = random.Random(seed)
    old = papers * 15 // 100
    new = papers - old
    months = []
    y, m = 2007, 4
    while (y, m) <= (today.year, today.month):
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    weights = [k + 40 for k in range(len(months))]
    counts = [new * w // sum(weights) for w in weights]
    counts[-1] += new - sum(counts)
    for k, (y, _) in enumerate(months):  # four-digit numbers before 2015
        if y < 2015 and counts[k] > 9999:
            counts[-1] += counts[k] - 9999
            counts[k] = 9999
    plan = []
    for (y, m), n in zip(months, counts, strict=True):
        last = (y, m) == months[-1]
        for number in range(1, n + 1):
            ident = f"{y % 100:02d}{m:02d}." + (f"{number:05d}" if y >= 2015 else f"{number:04d}")
            if last:
                created = today - timedelta(seconds=rnd.randrange(21 * 86400))
            else:
                created = datetime(y, m, 1, tzinfo=timezone.utc) + timedelta(
                    seconds=rnd.randrange(27 * 86400)
                )
            plan.append((ident, created))
    old_months = [(y, m) for y in range(1991, 2008) for m in range(1, 13) if (y, m) < (2007, 4)]
    for k in range(old):
        y, m = old_months[k * len(old_months) // max(old, 1)]
        archive = OLD_ARCHIVES[k % len(OLD_ARCHIVES)]
        number = k // len(OLD_ARCHIVES) % 999 + 1
        created = datetime(y, m, 1, tzinfo=timezone.utc) + timedelta(
            seconds=rnd.randrange(27 * 86400)
        )
        plan.append((f"{archive}/{y % 100:02d}{m:02d}{number:03d}", created))
    return plan


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--papers", type=int, default=2_700_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gzip", action="store_true", help="write OUT as gzip")
    ap.add_argument("--today", default=None, help="date of the newest papers (default: today)")
    args = ap.parse_args(argv)

    rnd = random.Random(args.seed)
    real = [json.loads(line) for line in REAL.read_text().splitlines()]
    # Abstracts have grown since 2007 (the real lines' year): scaled so the whole
    # file averages ~1.7 KB a line, as the real 2.7 M-line, ~4.5 GB snapshot does.
    abstract_words = [len(r["abstract"].split()) * 5 // 4 for r in real]
    title_words = [len(r["title"].split()) for r in real]
    n_authors = [len(r["authors_parsed"]) for r in real]
    n_versions = [len(r["versions"]) for r in real]
    comments = [r["comments"] for r in real]
    journal = [r["journal-ref"] for r in real]
    has_doi = sum(1 for r in real if r["doi"]) / len(real)
    has_report = sum(1 for r in real if r["report-no"]) / len(real)
    people = [tuple(a) for r in real for a in r["authors_parsed"]]
    vocab = [w.strip(".,;:()$") for r in real for w in r["abstract"].split()]
    vocab = [w for w in vocab if w]
    # Machine-learning words only in cs / stat / eess papers (about a third).
    ml_vocab = vocab + ML_WORDS * 20
    cats, weights = zip(*CATEGORIES, strict=True)
    today = (
        datetime.fromisoformat(args.today).replace(tzinfo=timezone.utc)
        if args.today
        else datetime.now(timezone.utc)
    )
    plan = id_plan(args.papers, today)
    opener = gzip.open if args.gzip else open
    with opener(args.out, "wt", encoding="utf-8") as out:
        for i, (arxiv_id, created) in enumerate(plan):
            versions = [{"version": "v1", "created": rfc2822(created)}]
            dt = created
            for v in range(2, rnd.choice(n_versions) + 1):
                dt = min(today, dt + timedelta(days=rnd.randrange(1, 200)))
                versions.append({"version": f"v{v}", "created": rfc2822(dt)})
            authors = rnd.sample(people, min(len(people), rnd.choice(n_authors)))
            categories = rnd.choices(cats, weights)[0]
            words = ml_vocab if categories[0].split(".")[0] in ("cs", "stat", "eess") else vocab
            title = " ".join(rnd.choices(words, k=rnd.choice(title_words))).capitalize()
            abstract = " ".join(rnd.choices(words, k=rnd.choice(abstract_words))).capitalize() + "."
            names = ", ".join(" ".join(p for p in (a[1], a[0]) if p) for a in authors)
            line = {
                "id": arxiv_id,
                "submitter": " ".join(p for p in (authors[0][1], authors[0][0]) if p),
                "authors": wrap(names),
                "title": wrap(title),
                "comments": rnd.choice(comments),
                "journal-ref": rnd.choice(journal),
                "doi": f"10.{1000 + rnd.randrange(9000)}/x{i}" if rnd.random() < has_doi else None,
                "report-no": f"REP-{i}" if rnd.random() < has_report else None,
                "categories": " ".join(categories),
                "license": rnd.choice(LICENSES),
                "abstract": "  " + wrap(abstract) + "\n",
                "versions": versions,
                "update_date": dt.date().isoformat(),
                "authors_parsed": [list(a) for a in authors],
            }
            out.write(json.dumps(line, ensure_ascii=True, separators=(",", ":")) + "\n")
            if (i + 1) % 100_000 == 0:
                print(f"{i + 1:,} papers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
