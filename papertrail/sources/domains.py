r"""Domain tagging: which domains (vision, generative, language, …) an entry belongs to.

The rules are the ``domains:`` section of feeds.yml (`config.DomainRule`): per
domain, arXiv categories and keyword regexes (matched case-insensitively).

How an entry is tagged (`DomainTagger.tag`):

1. **Categories first.** Each of the entry's categories that a rule lists gives
   that rule's domain: the primary category first, then the other categories in
   order. A rule may also list a whole archive (``eess``), which covers its
   subject classes (``eess.AS``, ``eess.IV``, …) unless one of those is listed
   itself. A category listed by several rules gives all their domains.
2. **Keywords refine.** Then, in rule order, every domain not yet found whose
   keywords match is added:

   * a match in the **title** always counts (titles are short and deliberate);
   * in the **summary** (abstract, post text) the domain's keywords must match
     at least `SUMMARY_MIN_MATCHES` (2) times, in separate places. Abstracts
     mention neighbouring fields in passing ("unlike GANs, …", "as in
     reinforcement learning"); one mention is weak evidence, two are not.
     Only the first `SUMMARY_MAX_CHARS` characters are searched: arXiv
     abstracts are shorter, and a full blog post would mostly add noise
     (and time: this runs on every entry).
   * Categories that no rule lists and that are not arXiv categories (feed
     labels such as "Computer Vision" on a blog post) are matched like the
     title: they are the author's own labels.

3. **General last.** `GENERAL` ("ml-general") is kept only when nothing more
   specific applies: it is dropped as soon as any other domain was found, and
   an entry with no domain at all gets ``["ml-general"]``.

The result is ordered (primary category's domain, other category domains, then
keyword domains in rule order) and has no duplicates.

Everything is precompiled in ``__init__``: one regex per domain (the
alternation of its keywords) and a category -> domains dict.

Speed: Python's ``re`` has no fast scan for a case-insensitive alternation
that starts with ``\b``; searching eight such regexes through an abstract costs
about half a millisecond, far too much for tens of thousands of entries. So
each domain also gets a *prefilter* derived from its keywords' literal text:
the words any match must contain (``\bgenerative adversarial\b`` needs the
words "generative" and "adversarial"; ``\bGANs?\b`` the word "gan" or
"gans"). A text's words are collected once into a set, and a domain's regex is
searched only when the words of one of its keyword spellings are all there.
The prefilter only skips searches that cannot match, so the result is exactly
that of the plain regexes (for keywords whose literal text is ASCII); a keyword
that cannot be analysed (``\w+``) just turns the prefilter off for its domain.

All domains' prefilters are merged into one index (`_KeyIndex`): a text's words
are intersected with every key word once, not once per domain, and, for ASCII
text, a keyword's regex is searched only when the text holds its multi-word
literal runs ("diffusion model"), starting near the first occurrence of its key
word (issue 19: 97 -> 56 µs a synthetic arXiv paper, results unchanged).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

if sys.version_info >= (3, 11):
    from re import _constants as _sre_c
    from re import _parser as _sre_parse
else:  # pragma: no cover - Python 3.10
    import sre_constants as _sre_c
    import sre_parse as _sre_parse

from papertrail.config import is_arxiv_category
from papertrail.models import GENERAL

if TYPE_CHECKING:
    from papertrail.config import DomainRule
    from papertrail.models import Record

__all__ = ["GENERAL", "SUMMARY_MAX_CHARS", "SUMMARY_MIN_MATCHES", "DomainTagger"]

SUMMARY_MIN_MATCHES = 2
SUMMARY_MAX_CHARS = 4000


class DomainTagger:
    """Tags records with domains according to a sequence of `DomainRule`s."""

    __slots__ = ("_by_category", "_index", "_keywords", "domains")

    def __init__(self, rules: Sequence[DomainRule]) -> None:
        by_category: dict[str, list[str]] = {}
        keywords: list[_DomainMatcher] = []
        for rule in rules:
            for category in rule.categories:
                names = by_category.setdefault(category, [])
                if rule.name not in names:
                    names.append(rule.name)
            if rule.keywords:
                keywords.append(_DomainMatcher(rule.name, rule.keywords))
        self._by_category: dict[str, tuple[str, ...]] = {
            c: tuple(names) for c, names in by_category.items()
        }
        self._keywords = tuple(keywords)
        self._index = _KeyIndex([m.prefilter for m in keywords])
        self.domains: tuple[str, ...] = tuple(dict.fromkeys(r.name for r in rules))

    def covered_categories(self) -> AbstractSet[str]:
        """The categories and archives ("eess") some rule lists."""
        return self._by_category.keys()

    def tag(self, record: Record) -> list[str]:
        """Domains for a `Record` (see the module docstring)."""
        return self.tag_fields(
            record.title, record.summary, record.categories, record.primary_category
        )

    def tag_archive(self, record: Record) -> list[str]:
        """The domains of a paper known only from an archive import.

        `tag` gives an entry that nothing matched the catch-all domain
        ("ml-general"), right for the ML feeds it was made for. Across all of
        arXiv most papers are not machine learning: a paper that only got the
        catch-all, and none of whose categories a rule lists, gets no domain."""
        domains = self.tag(record)
        if len(domains) == 1 and domains[0] == GENERAL:
            covered = self._by_category
            if not any(c in covered or c.partition(".")[0] in covered for c in record.categories):
                return []
        return domains

    def tag_fields(
        self,
        title: str | None,
        summary: str | None = "",
        categories: Iterable[str] = (),
        primary_category: str | None = None,
    ) -> list[str]:
        """Domains for an entry given its fields (see the module docstring)."""
        found: list[str] = []
        labels: list[str] = []
        by_category = self._by_category

        ordered = list(categories)
        if primary_category:
            ordered = [primary_category, *(c for c in ordered if c != primary_category)]
        for category in ordered:
            names = by_category.get(category)
            if names is None and "." in category:
                names = by_category.get(category.partition(".")[0])
            if names is None:
                if not is_arxiv_category(category):
                    labels.append(category)
                continue
            for name in names:
                if name not in found:
                    found.append(name)

        if self._keywords:
            head = title or ""
            if labels:
                head = "\n".join([head, *labels])
            body = (summary or "")[:SUMMARY_MAX_CHARS]
            self._keyword_domains(head, body, found)

        specific = [name for name in found if name != GENERAL]
        return specific or [GENERAL]

    def _keyword_domains(self, head: str, body: str, found: list[str]) -> None:
        """Add, in rule order, each domain not yet in `found` whose keywords match."""
        head_cands = self._index.candidates(head)
        body_cands = self._index.candidates(body) if body else {}
        for i, matcher in enumerate(self._keywords):
            if matcher.name in found:
                continue
            title_cands = head_cands.get(i, ())
            summary_cands = body_cands.get(i, ())
            if (title_cands != () and matcher.search(head, title_cands, 0) is not None) or (
                summary_cands != () and matcher.in_summary_of(body, summary_cands)
            ):
                found.append(matcher.name)


class _DomainMatcher:
    """One domain's keywords: the combined regex, plus what is needed to search it cheaply.

    The prefilter names the keywords that may match a text; the first match of
    the combined regex is then found by searching only those keywords' own
    regexes for the earliest start, and running the combined regex from there.
    No combined match can start earlier (every other keyword cannot match at
    all), so this finds exactly what ``combined.search`` would.
    """

    __slots__ = ("combined", "name", "prefilter", "singles")

    def __init__(self, name: str, keywords: Sequence[str]) -> None:
        self.name = name
        self.combined = re.compile("|".join(f"(?:{k})" for k in keywords), re.IGNORECASE)
        self.singles = tuple(re.compile(k, re.IGNORECASE) for k in keywords)
        self.prefilter = _Prefilter.for_keywords(keywords)

    def search(
        self, text: str, candidates: Collection[int] | Mapping[int, int] | None, pos: int
    ) -> re.Match[str] | None:
        """The combined regex's first match at or after `pos`. `candidates`: the
        keywords that may match (None: all), as a collection of indexes or as
        {index: the earliest position where a match of that keyword can start}."""
        if candidates is None:
            return self.combined.search(text, pos)
        starts = candidates if isinstance(candidates, Mapping) else dict.fromkeys(candidates, 0)
        start = -1
        for i, earliest in starts.items():
            m = self.singles[i].search(text, earliest if earliest > pos else pos)
            if m is not None and (start < 0 or m.start() < start):
                start = m.start()
        return None if start < 0 else self.combined.search(text, start)

    def in_title(self, text: str, words: AbstractSet[str], folded: str) -> bool:
        candidates = self.prefilter.candidates(words, folded)
        return candidates != () and self.search(text, candidates, 0) is not None

    def in_summary(self, text: str, words: AbstractSet[str], folded: str) -> bool:
        candidates = self.prefilter.candidates(words, folded)
        return candidates != () and self.in_summary_of(text, candidates)

    def in_summary_of(
        self, text: str, candidates: Collection[int] | Mapping[int, int] | None
    ) -> bool:
        """At least `SUMMARY_MIN_MATCHES` non-overlapping matches."""
        pos = 0
        for _ in range(SUMMARY_MIN_MATCHES):
            m = self.search(text, candidates, pos)
            if m is None:
                return False
            pos = max(m.end(), m.start() + 1)
        return True


# --------------------------------------------------------------------------- prefilter

# ASCII characters that are not regex word characters (\w), mapped to spaces,
# so that for ASCII text `text.translate(...).split()` == re.findall(r"\w+", text).
_ASCII_NON_WORD = {i: " " for i in range(128) if not (chr(i).isalnum() or chr(i) == "_")}
_WORD_RE = re.compile(r"\w+")


def _words(folded: str) -> AbstractSet[str]:
    r"""The set of regex words (maximal \w runs) of case-folded text."""
    if folded.isascii():
        return set(folded.translate(_ASCII_NON_WORD).split())
    return set(_WORD_RE.findall(folded))


# (complete words, fragments, keyword index, lead, phrases): `lead` is how many characters
# a match can have before the first occurrence of the key word in it (-1: no bound);
# `phrases` the literal runs of several words that the text must contain (ASCII text).
_Requirement = tuple[frozenset[str], tuple[str, ...], int, int, tuple[str, ...]]

# Frequent words make poor index keys; any other word of a spelling is preferred.
_COMMON_WORDS = frozenset(
    """a an and based data deep for from function functions image images in inference
    language learning model modeling modelling models multi network networks neural of on
    prediction process processes processing representation self series system systems text
    the time to transformer transformers understanding video with""".split()  # noqa: SIM905
)


class _Prefilter:
    r"""Which keywords of a domain may match a text, judged from the text's words.

    Each keyword is expanded into spellings (see `_spelling_requirements`); a
    spelling needs a set of complete words and a few fragments (substrings).
    Spellings are indexed by one of their words (the key), so most texts are
    ruled out by one set intersection. ``always``: some keyword could not be
    analysed, so every keyword is a candidate.
    """

    __slots__ = ("always", "by_key", "keys", "unkeyed")

    def __init__(self) -> None:
        self.always = False
        self.by_key: dict[str, list[_Requirement]] = {}
        self.unkeyed: list[_Requirement] = []
        self.keys: frozenset[str] = frozenset()

    @classmethod
    def for_keywords(cls, keywords: Iterable[str]) -> _Prefilter:
        prefilter = cls()
        for index, keyword in enumerate(keywords):
            spellings = _spellings(keyword)
            if spellings is None:
                prefilter.always = True
                return prefilter
            for words, fragments, spelling in spellings:
                if words:
                    key = max(words, key=lambda w: (w not in _COMMON_WORDS, len(w), w))
                    lead = _lead(spelling, key)
                    requirement = (words, fragments, index, lead, _phrases(spelling))
                    group = prefilter.by_key.setdefault(key, [])
                    if requirement not in group:
                        group.append(requirement)
                elif (words, fragments, index, -1, ()) not in prefilter.unkeyed:
                    prefilter.unkeyed.append((words, fragments, index, -1, ()))
        prefilter.keys = frozenset(prefilter.by_key)
        return prefilter

    def candidates(self, words: AbstractSet[str], folded: str) -> Collection[int] | None:
        """Indexes of the keywords that may match; () for none, None for all."""
        if self.always:
            return None
        found: set[int] = set()
        for key in self.keys.intersection(words):
            for needed, fragments, index, _, _ in self.by_key[key]:
                if needed <= words and all(f in folded for f in fragments):
                    found.add(index)
        for needed, fragments, index, _, _ in self.unkeyed:
            if needed <= words and all(f in folded for f in fragments):
                found.add(index)
        return found or ()

    def may_match(self, words: AbstractSet[str], folded: str) -> bool:
        return self.candidates(words, folded) != ()


# For each domain (by its index in the rules), the keywords that may match a text:
# None for all of them, else {keyword index: the earliest position a match can start}.
Candidates = dict[int, "dict[int, int] | None"]


class _KeyIndex:
    """Every domain's prefilter in one index, so a text's words are looked up once.

    Looking each domain's keys up in the text's words separately cost a set
    intersection and a Python call per domain and text; here one intersection
    finds the key words present, and only their spellings are checked. For
    ASCII text (where the case-folded text has the same positions as the
    text), a keyword's regex is searched from the first occurrence of its key
    word less the spelling's `lead`: no match can start earlier, so the search
    skips the text before it and finds exactly the same match.
    """

    __slots__ = ("always", "by_key", "keys", "unkeyed")

    def __init__(self, prefilters: Sequence[_Prefilter]) -> None:
        self.always = [i for i, p in enumerate(prefilters) if p.always]
        self.by_key: dict[str, list[tuple[int, _Requirement]]] = {}
        self.unkeyed: list[tuple[int, _Requirement]] = []
        for i, p in enumerate(prefilters):
            if p.always:
                continue
            for key, requirements in p.by_key.items():
                self.by_key.setdefault(key, []).extend((i, r) for r in requirements)
            self.unkeyed.extend((i, r) for r in p.unkeyed)
        self.keys = frozenset(self.by_key)

    def candidates(self, text: str) -> Candidates:
        folded = text.casefold()
        words = _words(folded)
        same_positions = text.isascii()
        out: Candidates = dict.fromkeys(self.always)
        for key in self.keys.intersection(words):
            at = folded.find(key) if same_positions else 0
            for domain, (needed, fragments, index, lead, phrases) in self.by_key[key]:
                if not (needed <= words and all(f in folded for f in fragments)):
                    continue
                if same_positions and not all(p in folded for p in phrases):
                    continue
                earliest = at - lead if same_positions and at >= lead >= 0 else 0
                _note(out, domain, index, earliest)
        for domain, (needed, fragments, index, _, _) in self.unkeyed:
            if needed <= words and all(f in folded for f in fragments):
                _note(out, domain, index, 0)
        return out


def _note(out: Candidates, domain: int, index: int, earliest: int) -> None:
    """Record that keyword `index` of `domain` may match from `earliest` on."""
    if domain in out and out[domain] is None:
        return  # every keyword of that domain is searched anyway
    starts = out.setdefault(domain, {})
    assert starts is not None
    previous = starts.get(index)
    if previous is None or earliest < previous:
        starts[index] = earliest


def _phrases(spelling: str) -> tuple[str, ...]:
    """The spelling's literal runs of more than one word ("diffusion models"): in ASCII
    text, where the folded text is the lower-cased text, a match contains each of them."""
    runs = (run.replace(_BOUNDARY, "") for run in spelling.split(_GAP))
    return tuple(run for run in runs if len(_TOKEN_RE.findall(run)) > 1)


def _lead(spelling: str, key: str) -> int:
    """Characters of a match of `spelling` before its first `key` word; -1 if unbounded."""
    for m in _TOKEN_RE.finditer(spelling):
        if m.group() == key:
            before = spelling[: m.start()]
            return -1 if _GAP in before else len(before) - before.count(_BOUNDARY)
    return -1


_BOUNDARY = "\x00"  # a zero-width word boundary in an expansion
_GAP = "\x01"  # unknown text (possibly empty) in an expansion
_MAX_EXPANSIONS = 256
_TOKEN_RE = re.compile(r"[a-z0-9_]+")


class _Unanalysable(Exception):
    pass


def _op(name: str) -> object:
    return getattr(_sre_c, name, object())  # missing in older Pythons: matches nothing


_LITERAL, _IN, _AT, _BRANCH, _SUBPATTERN = (
    _op("LITERAL"),
    _op("IN"),
    _op("AT"),
    _op("BRANCH"),
    _op("SUBPATTERN"),
)
_ATOMIC_GROUP = _op("ATOMIC_GROUP")
_REPEATS = (_op("MAX_REPEAT"), _op("MIN_REPEAT"), _op("POSSESSIVE_REPEAT"))
_ASSERTS = (_op("ASSERT"), _op("ASSERT_NOT"))
_RANGE = _op("RANGE")
# back-references: a keyword's group numbers differ inside the combined regex
_GROUPREFS = (_op("GROUPREF"), _op("GROUPREF_EXISTS"))
_BOUNDARY_ATS = (
    _op("AT_BOUNDARY"),
    _op("AT_BEGINNING"),
    _op("AT_BEGINNING_STRING"),
    _op("AT_END"),
    _op("AT_END_STRING"),
)


def _spelling_requirements(
    keyword: str,
) -> list[tuple[frozenset[str], tuple[str, ...]]] | None:
    r"""What a match of `keyword` must contain, for each of its literal spellings.

    The regex is expanded into its literal spellings, with a gap for anything
    that is not a short literal (``\bGANs?\b`` -> ``⟨b⟩gan⟨b⟩``, ``⟨b⟩gans⟨b⟩``;
    ``\d+ layers`` -> ``⟨gap⟩ layers``). A word bounded on both sides (by a
    boundary or a non-word character) must occur as a complete word; one next
    to a gap or at an open end only as a fragment. Returns (words, fragments)
    per spelling; None when some spelling has no literal text at all.
    """
    spellings = _spellings(keyword)
    return None if spellings is None else [(w, f) for w, f, _ in spellings]


def _spellings(keyword: str) -> list[tuple[frozenset[str], tuple[str, ...], str]] | None:
    """`_spelling_requirements`, each with its spelling (boundaries and gaps marked)."""
    try:
        parsed = _sre_parse.parse(keyword, re.IGNORECASE)
        spellings = _expand(parsed.data, [""])
    except (_Unanalysable, re.error, RecursionError):
        return None
    out = []
    for spelling in spellings:
        words: set[str] = set()
        fragments: set[str] = set()
        for m in _TOKEN_RE.finditer(spelling):
            left_closed = m.start() > 0 and spelling[m.start() - 1] != _GAP
            right_closed = m.end() < len(spelling) and spelling[m.end()] != _GAP
            (words if left_closed and right_closed else fragments).add(m.group())
        if not words and not fragments:
            return None
        out.append((frozenset(words), tuple(sorted(fragments, key=len, reverse=True)), spelling))
    return out


# One item of a parsed regex as the stdlib parser gives it: (opcode, operand). The
# operand's shape depends on the opcode (a code point, a list of items, a (min, max,
# items) triple...), which the parser does not type; `_expand_item` reads it per opcode.
_Item = tuple[object, Any]


def _expand(items: Iterable[_Item], prefixes: list[str]) -> list[str]:
    for op, av in items:
        prefixes = _expand_item(op, av, prefixes)
        if len(prefixes) > _MAX_EXPANSIONS:
            raise _Unanalysable
    return prefixes


def _expand_item(op: object, av: Any, prefixes: list[str]) -> list[str]:
    if op is _LITERAL:
        ch = chr(av)
        if not ch.isascii():
            return [p + _GAP for p in prefixes]
        return [p + ch.lower() for p in prefixes]
    if op is _IN:
        chars = _small_class(av)
        if chars is None:
            return [p + _GAP for p in prefixes]
        return [p + c for p in prefixes for c in chars]
    if op is _AT:
        if av in _BOUNDARY_ATS:
            return [p + _BOUNDARY for p in prefixes]
        return [p + _GAP for p in prefixes]
    if op is _BRANCH:
        out: list[str] = []
        for alternative in av[1]:
            out += _expand(list(alternative), prefixes)
        return out
    if op is _SUBPATTERN:
        return _expand(list(av[-1]), prefixes)
    if op is _ATOMIC_GROUP:
        return _expand(list(av), prefixes)
    if op in _REPEATS:
        low, high, sub = av
        if low == 0 and high != 1:
            return [p + _GAP for p in prefixes]
        once = _expand(list(sub), prefixes)
        if high != 1:  # more repeats may follow
            once = [p + _GAP for p in once]
        return once if low >= 1 else prefixes + once
    if op in _ASSERTS:
        return prefixes  # zero-width, only restricts where a match is
    if op in _GROUPREFS:
        raise _Unanalysable
    return [p + _GAP for p in prefixes]


def _small_class(items: Iterable[_Item]) -> list[str] | None:
    chars: list[str] = []
    for op, av in items:
        if op is _LITERAL:
            chars.append(chr(av))
        elif op is _RANGE and av[1] - av[0] < 4:
            chars.extend(chr(c) for c in range(av[0], av[1] + 1))
        else:
            return None
    if not all(c.isascii() for c in chars):
        return None
    return list(dict.fromkeys(c.lower() for c in chars))
