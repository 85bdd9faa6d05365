"""Issue 18 item 3: BibTeX keeps arXiv's TeX.

Every arXiv paper recorded in tests/fixtures/feeds (API answers, rss.arxiv.org
feeds, the legacy RDF feed) is exported; the result is read back with a BibTeX
parser (bibtexparser) and, where the machine has them, run through real
`bibtex` + `pdflatex` on a small document.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
from bibtexparser.bparser import BibTexParser

from papertrail.models import Record
from papertrail.reading.bibtex_tex import tex_field
from papertrail.reading.export import latex_escape, render_bibtex
from papertrail.sources.parse import FeedParseError, parse_arxiv_api, parse_feed

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def recorded_papers() -> list[Record]:
    records: dict[str, Record] = {}
    for path in sorted((FEEDS / "arxiv-api").rglob("*.xml")):
        try:
            found = parse_arxiv_api(path.read_bytes()).records
        except FeedParseError:  # the recorded error answer
            continue
        records.update((r.arxiv_id or "", r) for r in found)
    for path in sorted((FEEDS / "arxiv-rss").rglob("*.xml")):
        parsed = parse_feed(
            path.read_bytes(), {}, base_url="https://rss.arxiv.org/", source_kind="arxiv-rss"
        )
        records.update((r.arxiv_id or "", r) for r in parsed.records)
    return list(records.values())


def as_entry(i: int, r: Record) -> dict[str, Any]:
    return {
        "id": i, "kind": "paper", "title": r.title, "url": r.url, "arxiv_id": r.arxiv_id,
        "version": r.version, "authors": r.authors, "summary": r.summary,
        "categories": r.categories, "primary_category": r.primary_category,
        "published": r.published, "doi": r.doi, "journal_ref": r.journal_ref,
        "first_seen": "2026-12-03T08:00:00+00:00", "domains": [], "sources": [], "tags": [],
    }  # fmt: skip


@pytest.fixture(scope="module")
def exported() -> tuple[list[Record], str]:
    papers = recorded_papers()
    assert len(papers) >= 60
    return papers, render_bibtex([as_entry(i, r) for i, r in enumerate(papers, 1)])


def parse_bib(text: str) -> dict[str, dict[str, str]]:
    entries = bibtexparser.loads(text, parser=BibTexParser(common_strings=True)).entries
    return {e["eprint"]: e for e in entries}


MATH = re.compile(r"\$[^$]+\$")


def test_math_and_text_commands_survive_and_parse_back(exported) -> None:
    papers, text = exported
    bib = parse_bib(text)
    assert len(bib) == len(papers)
    with_tex = [r for r in papers if re.search(r"[$\\]", r.title + r.summary)]
    assert len(with_tex) >= 8
    for r in with_tex:
        fields = bib[r.arxiv_id]
        for source, field in ((r.title, fields["title"]), (r.summary, fields.get("abstract", ""))):
            for math in MATH.findall(source):
                if math.isascii() and not re.search(r"\d\s*\$$", math):  # math, not money
                    assert math in field, (r.arxiv_id, math, field)
            assert "textbackslash" not in field, (r.arxiv_id, field)
            assert not re.search(r"(?<!\\)[&%#]", field)
    # the recorded cases, one by one
    assert bib["2604.26926"]["title"] == (
        r"A Note on How to Remove the {$\ln\ln T$} Term from the Squint Bound"
    )
    assert r"as {$\textit{memories}$} by" in bib["2604.26841"]["abstract"]
    assert r"central: \textbf{adaptability}, the" in bib["2604.21936"]["abstract"]
    assert r"the R\'{e}nyi entanglement" in bib["1412.6529"]["abstract"]
    assert r"achieve {$25\%$} accuracy" in bib["2004.03322"]["abstract"]
    assert r"i.i.d.\ samples" in bib["2403.16981"]["abstract"]
    assert r"at most {$\alpha $} and" in bib["2403.16981"]["abstract"]  # Unicode α in math
    assert r"costs over \$800 per sample" in bib["2604.21953"]["abstract"]  # money, not math
    assert r"from {$p^{\uparrow}+p$} and" in bib["1805.08875"]["title"]


@pytest.mark.parametrize(
    ("tex", "bib"),
    [
        ("50% of $x_1$ & y_2 #1", r"50\% of {$x_1$} \& y\_2 \#1"),
        (r"a {GPU} kernel", r"a \textbraceleft{}GPU\textbraceright{} kernel"),
        (r"{\em group} and \emph{this}", r"{\em group} and \emph{this}"),
        (r"Schr\"odinger and \v{S}ekoranja", r"Schr\"odinger and \v{S}ekoranja"),
        (r"$4500\kms$ jets", r"{$4500\backslash\mathrm{kms}$} jets"),  # an author's macro
        (r"see \cite{x}", r"see \textbackslash{}cite\textbraceleft{}x\textbraceright{}"),
        (r"an open $\frac{1}{2$ math", None),  # unbalanced: all plain text
        (r"an open {\em group", None),
    ],
)
def test_tex_field_rules(tex: str, bib: str | None) -> None:
    assert tex_field(tex, latex_escape) == (bib if bib is not None else latex_escape(tex))


DOCUMENT = r"""\documentclass{article}
\usepackage[utf8]{inputenc}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb}
\begin{document}
\nocite{*}
\bibliographystyle{plain}
\bibliography{refs}
\end{document}
"""


@pytest.mark.integration
@pytest.mark.skipif(
    not (shutil.which("pdflatex") and shutil.which("bibtex")),
    reason="needs pdflatex and bibtex (Debian: texlive-latex-base)",
)
def test_real_bibtex_and_latex_typeset_the_export(exported, tmp_path: Path) -> None:
    papers, text = exported
    # pdflatex reads UTF-8 Latin text; it has no glyphs for CJK author names
    text = text.encode("latin-1", "replace").decode("latin-1")
    (tmp_path / "refs.bib").write_text(text, encoding="utf-8")
    (tmp_path / "doc.tex").write_text(DOCUMENT, encoding="utf-8")

    def run(*cmd: str) -> str:
        done = subprocess.run(
            cmd, cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=120
        )
        assert done.returncode == 0, done.stdout[-3000:]
        return done.stdout

    latex = ("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex")
    run(*latex)
    bibtex_out = run("bibtex", "doc")
    assert "error message" not in bibtex_out, bibtex_out
    run(*latex)
    final = run(*latex)
    assert "Undefined control sequence" not in final and "Missing $" not in final
    bbl = (tmp_path / "doc.bbl").read_text(encoding="utf-8")
    assert bbl.count(r"\bibitem") == len(papers)
    assert r"{$\ln\ln T$}" in bbl  # math, its case kept by the braces (not "$\ln\ln t$")
    assert r"{$p^{\uparrow}+A$}" in bbl
    assert (tmp_path / "doc.pdf").stat().st_size > 10_000
