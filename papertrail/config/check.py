"""Validate the YAML node tree of feeds.yml, collecting every problem with its line and key.

Source kinds are table-driven (`_KINDS` + `_SOURCE_FIELDS`): adding a kind is
one `_KindSpec` entry, plus a field checker for any new field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TypeGuard
from urllib.parse import urlsplit

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from papertrail.config.check_email import EmailChecks, EmailSettings
from papertrail.config.check_ranking import RankingChecks
from papertrail.config.model import (
    ARXIV_MAX_RESULTS,
    ARXIV_MIN_DELAY_SECONDS,
    Config,
    ConfigError,
    DomainRule,
    Ranking,
    Settings,
    Source,
)
from papertrail.config.nodes import (
    _BAD,
    _BOOL_TAG,
    _FLOAT_TAG,
    _INT_TAG,
    _NULL_TAG,
    _STR_TAG,
    _describe,
    _is_null,
    _line,
    _suggest,
    _unknown_key,
)
from papertrail.models import BULK_SOURCES, PSEUDO_SOURCES

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_syntax_error(path: Path, exc: yaml.MarkedYAMLError, text: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "syntax error"
    message = f"invalid YAML: {problem}"
    if mark is not None:
        message += f" (column {mark.column + 1})"
    if exc.context:
        message += f", {exc.context}"
        if exc.context_mark is not None and mark is not None and exc.context_mark.line != mark.line:
            message += f" at line {exc.context_mark.line + 1}"
    lines = text.splitlines()
    bad_line = lines[mark.line] if mark is not None and mark.line < len(lines) else ""
    if "\t" in bad_line[: (mark.column + 1) if mark is not None else 0]:
        message += "; YAML indentation must use spaces, not tabs"
    else:
        message += "; check the indentation and quoting around this line"
    return ConfigError(path, mark.line + 1 if mark is not None else None, None, message)


# --------------------------------------------------------------------------- schema tables


@dataclass(frozen=True)
class _KindSpec:
    """What a source kind accepts beyond the common fields."""

    fields: tuple[str, ...]
    # each group: at least one of these fields must be set (non-empty)
    requires_one_of: tuple[tuple[str, ...], ...]
    missing_hint: str


_COMMON_SOURCE_FIELDS = ("name", "kind", "tags", "enabled")

_KINDS: dict[str, _KindSpec] = {
    "arxiv": _KindSpec(
        fields=("query", "categories", "max_results"),
        requires_one_of=(("query", "categories"),),
        missing_hint="an 'arxiv' source needs a 'query' (e.g. style transfer), 'categories' (e.g. [cs.LG]), or both",
    ),
    "arxiv-rss": _KindSpec(
        fields=("categories", "url"),
        requires_one_of=(("categories", "url"),),
        missing_hint="an 'arxiv-rss' source needs 'categories' (e.g. [cs.LG, cs.CV]) or a 'url'",
    ),
    "feed": _KindSpec(
        fields=("url",),
        requires_one_of=(("url",),),
        missing_hint="a 'feed' source needs a 'url' (the RSS/Atom feed's http(s) address)",
    ),
    "mailbox": _KindSpec(
        fields=("path",),
        requires_one_of=(("path",),),
        missing_hint="a 'mailbox' source needs a 'path' (an mbox file or a Maildir folder, "
        "e.g. ~/Mail/newsletters; relative paths start at this file's folder)",
    ),
}
KNOWN_KINDS = frozenset(_KINDS)
# Provenance names papertrail itself uses (papertrail.ingest.add, the mentions backfill,
# the archive imports).
RESERVED_SOURCE_NAMES = frozenset(PSEUDO_SOURCES + BULK_SOURCES)

_ALL_SOURCE_FIELDS = tuple(
    dict.fromkeys(_COMMON_SOURCE_FIELDS + tuple(f for spec in _KINDS.values() for f in spec.fields))
)
_DOMAIN_FIELDS = ("categories", "keywords", "description")
_TOP_LEVEL_KEYS = ("sources", "domains", "settings", "ranking", "email")
_SOURCE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_DOMAIN_NAME_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")

# arXiv archives; subject classes are two upper-case letters (cs.LG) or, for
# physics and cond-mat, lower-case words (physics.comp-ph, cond-mat.stat-mech).
_UPPER_SUBJECT_ARCHIVES = frozenset(
    {"cs", "math", "stat", "eess", "econ", "q-bio", "q-fin", "astro-ph", "nlin"}
)
_LOWER_SUBJECT_ARCHIVES = frozenset({"physics", "cond-mat"})
_PLAIN_ARCHIVES = frozenset(
    {"gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nucl-ex", "nucl-th", "quant-ph"}
)
_ARCHIVES = _UPPER_SUBJECT_ARCHIVES | _LOWER_SUBJECT_ARCHIVES | _PLAIN_ARCHIVES
_UPPER_SUBJECT_RE = re.compile(r"[A-Z]{2}\Z")
_LOWER_SUBJECT_RE = re.compile(r"[a-z]+(?:-[a-z]+)*\Z")


def is_arxiv_category(cat: str) -> bool:
    """True if `cat` looks like an arXiv category (cs.LG, hep-th, astro-ph.CO) or archive (cs)."""
    return _category_problem(cat) is None


def _category_problem(cat: str) -> str | None:
    """None if `cat` looks like an arXiv category (or a whole archive), else why not."""
    archive, dot, subject = cat.partition(".")
    if archive in _ARCHIVES and not dot:
        return None
    if archive in _UPPER_SUBJECT_ARCHIVES and _UPPER_SUBJECT_RE.match(subject):
        return None
    if archive in _LOWER_SUBJECT_ARCHIVES and _LOWER_SUBJECT_RE.match(subject):
        return None
    hint = ""
    lowered = archive.lower()
    if lowered in _UPPER_SUBJECT_ARCHIVES and dot and _UPPER_SUBJECT_RE.match(subject.upper()):
        hint = f" — did you mean '{lowered}.{subject.upper()}'?"
    elif lowered in _ARCHIVES and lowered != archive:
        hint = f" — did you mean '{lowered}{dot}{subject}'?"
    return (
        f"'{cat}' does not look like an arXiv category (e.g. cs.LG, stat.ML, eess.AS, "
        f"hep-th, astro-ph.CO){hint}"
    )


# (kind, minimum, minimum is exclusive)
_SETTINGS_SPEC: dict[str, tuple[str, float | None, bool]] = {
    "arxiv_api_url": ("url", None, False),
    "arxiv_rss_url": ("url", None, False),
    "arxiv_delay_seconds": ("number", 0, False),
    "concurrency": ("int", 1, False),
    "per_host_limit": ("int", 1, False),
    "timeout": ("number", 0, True),
    "max_body_bytes": ("int", 1, False),
    "max_retries": ("int", 0, False),
    "max_retry_after": ("number", 0, False),
    "max_failures": ("int", 1, False),
    "mentions_backfill": ("bool", None, False),
}
assert set(_SETTINGS_SPEC) == {f.name for f in fields(Settings)}


# --------------------------------------------------------------------------- checker


class _Checker(RankingChecks, EmailChecks):
    """Walks the composed YAML node tree, collecting problems and building dataclasses."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[ConfigError] = []
        self._constructor = SafeConstructor()

    # -- reporting

    def error(self, node: Node | None, key: str | None, message: str) -> object:
        self.problems.append(ConfigError(self.path, _line(node), key, message))
        return _BAD

    # -- structure

    def items(self, node: MappingNode, key: str | None) -> list[tuple[str, ScalarNode, Node]]:
        """(name, key node, value node) for each entry; reports odd and duplicate keys."""
        seen: dict[str, ScalarNode] = {}
        out = []
        for knode, vnode in node.value:
            where = f"{key}." if key else ""
            if not isinstance(knode, ScalarNode) or _is_null(knode):
                self.error(knode, key, "keys must be plain names")
                continue
            name = str(knode.value)
            if name == "<<":
                self.error(
                    knode, key, "YAML merge keys ('<<') are not supported; write the keys out"
                )
                continue
            if name in seen:
                self.error(
                    knode,
                    where + name,
                    f"duplicate key '{name}' (first at line {_line(seen[name])}); "
                    "YAML would silently keep only the last one — remove one",
                )
                continue
            seen[name] = knode
            out.append((name, knode, vnode))
        return out

    def mapping(self, node: Node, key: str | None, what: str) -> TypeGuard[MappingNode]:
        if isinstance(node, MappingNode):
            return True
        self.error(node, key, f"expected {what}, got {_describe(node)}")
        return False

    # -- scalars

    def string(self, node: Node, key: str, *, allow_empty: bool = False) -> object:
        if not isinstance(node, ScalarNode):
            return self.error(node, key, f"expected a string, got {_describe(node)}")
        if node.tag == _NULL_TAG:
            if allow_empty:
                return ""
            return self.error(node, key, "missing value; expected a string")
        if node.tag not in (_STR_TAG, _INT_TAG, _FLOAT_TAG):
            return self.error(node, key, f"expected a string, got {_describe(node)}; quote it")
        value = str(node.value).strip()
        if not value and not allow_empty:
            return self.error(node, key, "empty string")
        return value

    def boolean(self, node: Node, key: str) -> object:
        if isinstance(node, ScalarNode) and node.tag == _BOOL_TAG:
            return self._constructor.construct_object(node)
        return self.error(node, key, f"expected true or false, got {_describe(node)}")

    def _numeric(self, node: Node, key: str) -> object:
        if isinstance(node, ScalarNode):
            if node.tag in (_INT_TAG, _FLOAT_TAG):
                try:
                    return self._constructor.construct_object(node)
                except (ConstructorError, ValueError):
                    pass
            elif node.tag == _STR_TAG:
                text = node.value.strip().replace("_", "")
                for convert in (int, float):
                    try:
                        return convert(text)
                    except ValueError:
                        pass
        return None

    def integer(
        self, node: Node, key: str, minimum: int | None = None, maximum: int | None = None
    ) -> object:
        value = self._numeric(node, key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            return self.error(node, key, f"expected a whole number, got {_describe(node)}")
        if minimum is not None and value < minimum:
            return self.error(node, key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            return self.error(node, key, f"must be at most {maximum}, got {value}")
        return value

    def number(self, node: Node, key: str, minimum: float | None, exclusive: bool) -> object:
        value = self._numeric(node, key)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return self.error(node, key, f"expected a number, got {_describe(node)}")
        value = float(value)
        if minimum is not None:
            if exclusive and value <= minimum:
                return self.error(node, key, f"must be greater than {minimum:g}, got {value:g}")
            if not exclusive and value < minimum:
                return self.error(node, key, f"must be at least {minimum:g}, got {value:g}")
        return value

    def url(self, node: Node, key: str) -> object:
        value = self.string(node, key)
        if value is _BAD:
            return _BAD
        assert isinstance(value, str)
        if any(ch.isspace() for ch in value):
            return self.error(node, key, f"'{value}' is not a valid URL: it contains whitespace")
        try:
            parts = urlsplit(value)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as exc:
            return self.error(node, key, f"'{value}' is not a valid URL: {exc}")
        if parts.scheme.lower() not in ("http", "https"):
            scheme = f"scheme '{parts.scheme}'" if parts.scheme else "no scheme"
            return self.error(
                node, key, f"'{value}' is not an http(s) URL ({scheme}); write https://…"
            )
        if not host:
            return self.error(node, key, f"'{value}' is not a valid URL: it has no host name")
        return value

    def source_name(self, node: Node, key: str) -> object:
        value = self.string(node, key)
        if isinstance(value, str) and not _SOURCE_NAME_RE.match(value):
            return self.error(
                node,
                key,
                f"source name '{value}' may only use letters, digits, '-', '_' and '.' "
                "(it is typed on the command line, e.g. `papertrail sources enable NAME`)",
            )
        if isinstance(value, str) and value in RESERVED_SOURCE_NAMES:
            return self.error(
                node,
                key,
                f"source name '{value}' is reserved: papertrail records papers added by hand "
                "as 'manual', papers backfilled from posts' links as 'mentioned' and archive "
                "imports as 'arxiv-snapshot' / 'arxiv-oai'; pick another",
            )
        return value

    def kind(self, node: Node, key: str) -> object:
        value = self.string(node, key)
        if isinstance(value, str) and value not in KNOWN_KINDS:
            valid = sorted(KNOWN_KINDS)
            return self.error(
                node,
                key,
                f"unknown kind '{value}' (valid kinds: {', '.join(valid)}){_suggest(value, valid)}",
            )
        return value

    def query(self, node: Node, key: str) -> object:
        return self.string(node, key)

    def category(self, node: Node, key: str) -> object:
        value = self.string(node, key)
        if isinstance(value, str):
            problem = _category_problem(value)
            if problem:
                return self.error(node, key, problem)
        return value

    def keyword(self, node: Node, key: str) -> object:
        value = self.string(node, key)
        if not isinstance(value, str):
            return value
        if "\b" in value:
            return self.error(
                node,
                key,
                f"{value!r} contains a backspace character: in double quotes YAML turns \\b "
                "into a backspace — write regexes in single quotes, e.g. '\\bGANs?\\b'",
            )
        try:
            # Wrapped as the tagger combines it, so e.g. misplaced global flags are caught.
            rx = re.compile(f"(?:{value})", re.IGNORECASE)
        except re.error as exc:
            return self.error(node, key, f"invalid regular expression '{value}': {exc}")
        if any(m.end() == m.start() for probe in ("", "a b", "zz q") for m in rx.finditer(probe)):
            return self.error(
                node,
                key,
                f"regular expression '{value}' matches empty text, so it would match every entry",
            )
        return value

    def tag(self, node: Node, key: str) -> object:
        value = self.string(node, key)
        if isinstance(value, str) and any(ch.isspace() for ch in value):
            return self.error(node, key, f"tag '{value}' contains whitespace; use '-' instead")
        return value

    def string_list(self, node: Node, key: str, item: Callable[[Node, str], object]) -> object:
        if _is_null(node):
            return ()
        if not isinstance(node, SequenceNode):
            hint = ""
            if isinstance(node, ScalarNode) and node.tag == _STR_TAG:
                hint = f"; write a list, e.g. [{node.value}]"
            return self.error(node, key, f"expected a list of strings, got {_describe(node)}{hint}")
        values = [item(child, f"{key}[{i}]") for i, child in enumerate(node.value)]
        if any(v is _BAD for v in values):
            return _BAD
        return tuple(dict.fromkeys(values))  # drop repeats, keep order

    # -- sections

    def config(self, root: Node | None) -> Config:
        sources: tuple[Source, ...] = ()
        domains: tuple[DomainRule, ...] = ()
        settings = Settings()
        ranking = Ranking()
        email: EmailSettings | None = None
        if root is None:
            self.error(
                None, None, "the file is empty; expected 'sources:', 'domains:' and 'settings:'"
            )
        elif self.mapping(
            root, None, "a mapping with the keys 'sources:', 'domains:', 'settings:'"
        ):
            found = {}
            for name, knode, vnode in self.items(root, None):
                if name not in _TOP_LEVEL_KEYS:
                    self.error(knode, name, _unknown_key(name, _TOP_LEVEL_KEYS))
                    continue
                found[name] = (knode, vnode)
            if "sources" not in found:
                self.error(root, "sources", "missing 'sources:' (the list of feeds to fetch)")
            else:
                sources = self.sources(*found["sources"])
            if "domains" in found:
                domains = self.domains(found["domains"][1])
            if "settings" in found:
                settings = self.settings(found["settings"][1])
            if "ranking" in found:
                ranking = self.ranking(found["ranking"][1])
            if "email" in found:
                email = self.email(found["email"][1])
        if self.problems:
            raise ConfigError.from_problems(self.problems)
        return Config(
            path=self.path,
            sources=sources,
            domains=domains,
            settings=settings,
            ranking=ranking,
            email=email,
        )

    def sources(self, knode: Node, node: Node) -> tuple[Source, ...]:
        if _is_null(node):
            return ()
        if not isinstance(node, SequenceNode):
            self.error(
                node,
                "sources",
                f"expected a list of sources ('- name: …' items), got {_describe(node)}",
            )
            return ()
        out: list[Source] = []
        names: dict[str, tuple[str, int | None]] = {}
        for index, item in enumerate(node.value):
            source = self.source(item, f"sources[{index}]")
            if source is None:
                continue
            name_node = next(v for k, v in item.value if k.value == "name")
            folded = source.name.casefold()
            if folded in names:
                first_name, first_line = names[folded]
                same = "" if first_name == source.name else f" ('{first_name}')"
                self.error(
                    name_node,
                    f"sources[{index}].name",
                    f"duplicate source name '{source.name}' (also used at line {first_line}"
                    f"{same}); source names must be unique (compared ignoring case)",
                )
                continue
            names[folded] = (source.name, _line(name_node))
            out.append(source)
        return tuple(out)

    def source(self, node: Node, key: str) -> Source | None:
        if not self.mapping(node, key, "a source (a mapping with name, kind, url, …)"):
            return None
        assert isinstance(node, MappingNode)
        entries = self.items(node, key)
        kind_node = next((v for n, _, v in entries if n == "kind"), None)
        kind = self.kind(kind_node, f"{key}.kind") if kind_node is not None else _BAD
        spec = _KINDS.get(kind) if isinstance(kind, str) else None
        values: dict[str, object] = {}
        ok = isinstance(kind, str)
        for name, knode, vnode in entries:
            field_key = f"{key}.{name}"
            if name == "kind":
                continue
            if name not in _SOURCE_FIELDS:
                self.error(knode, field_key, _unknown_key(name, _ALL_SOURCE_FIELDS))
                ok = False
                continue
            if spec is not None and name not in _COMMON_SOURCE_FIELDS and name not in spec.fields:
                used_by = sorted(k for k, s in _KINDS.items() if name in s.fields)
                self.error(
                    knode,
                    field_key,
                    f"'{name}' is not used by kind '{kind}' (only by: {', '.join(used_by)}); "
                    f"remove it or change the kind",
                )
                ok = False
                continue
            value = _SOURCE_FIELDS[name](self, vnode, field_key)
            if value is _BAD:
                ok = False
                continue
            values[name] = value
        if "name" not in values and not any(n == "name" for n, _, _ in entries):
            self.error(node, f"{key}.name", "missing 'name' (a short unique id, e.g. distill)")
            ok = False
        if kind_node is None:
            self.error(
                node, f"{key}.kind", f"missing 'kind' (one of: {', '.join(sorted(KNOWN_KINDS))})"
            )
            ok = False
        if spec is not None:
            for group in spec.requires_one_of:
                if not any(values.get(f) for f in group) and not any(
                    n in group for n, _, _ in entries if n not in values
                ):
                    self.error(node, f"{key}.{group[0]}", f"missing: {spec.missing_hint}")
                    ok = False
        if not ok:
            return None
        return Source(kind=kind, line=_line(node) or 0, **values)  # type: ignore[arg-type]

    def domains(self, node: Node) -> tuple[DomainRule, ...]:
        if _is_null(node):
            return ()
        if not self.mapping(node, "domains", "a mapping of domain name -> rules"):
            return ()
        assert isinstance(node, MappingNode)
        out = []
        for name, knode, vnode in self.items(node, "domains"):
            key = f"domains.{name}"
            ok = True
            if not _DOMAIN_NAME_RE.match(name):
                self.error(
                    knode,
                    key,
                    f"domain name '{name}' must be a lower-case slug (letters, digits, '-'), "
                    "e.g. reinforcement-learning",
                )
                ok = False
            values: dict[str, object] = {}
            if not _is_null(vnode):
                if not self.mapping(
                    vnode, key, "a mapping with categories / keywords / description"
                ):
                    continue
                assert isinstance(vnode, MappingNode)
                for field_name, fknode, fvnode in self.items(vnode, key):
                    field_key = f"{key}.{field_name}"
                    if field_name not in _DOMAIN_FIELDS:
                        self.error(fknode, field_key, _unknown_key(field_name, _DOMAIN_FIELDS))
                        ok = False
                        continue
                    if field_name == "categories":
                        value = self.string_list(fvnode, field_key, self.category)
                    elif field_name == "keywords":
                        value = self.string_list(fvnode, field_key, self.keyword)
                    else:
                        value = self.string(fvnode, field_key, allow_empty=True)
                    if value is _BAD:
                        ok = False
                        continue
                    values[field_name] = value
            if ok:
                out.append(DomainRule(name=name, **values))  # type: ignore[arg-type]
        return tuple(out)

    def settings(self, node: Node) -> Settings:
        if _is_null(node):
            return Settings()
        if not self.mapping(node, "settings", "a mapping of setting: value"):
            return Settings()
        assert isinstance(node, MappingNode)
        values: dict[str, object] = {}
        nodes: dict[str, Node] = {}
        for name, knode, vnode in self.items(node, "settings"):
            key = f"settings.{name}"
            if name not in _SETTINGS_SPEC:
                self.error(knode, key, _unknown_key(name, list(_SETTINGS_SPEC)))
                continue
            kind, minimum, exclusive = _SETTINGS_SPEC[name]
            if kind == "url":
                value = self.url(vnode, key)
            elif kind == "int":
                value = self.integer(vnode, key, int(minimum) if minimum is not None else None)
            elif kind == "bool":
                value = self.boolean(vnode, key)
            else:
                value = self.number(vnode, key, minimum, exclusive)
            if value is not _BAD:
                values[name] = value
                nodes[name] = vnode
        settings = Settings(**values)  # type: ignore[arg-type]
        host = (urlsplit(settings.arxiv_api_url).hostname or "").lower()
        if (
            host == "arxiv.org" or host.endswith(".arxiv.org")
        ) and settings.arxiv_delay_seconds < ARXIV_MIN_DELAY_SECONDS:
            self.error(
                nodes.get("arxiv_delay_seconds"),
                "settings.arxiv_delay_seconds",
                f"{settings.arxiv_delay_seconds:g} s is too short for {host}: arXiv's API terms "
                f"of use ask for at least {ARXIV_MIN_DELAY_SECONDS:g} s between requests; use "
                f"{ARXIV_MIN_DELAY_SECONDS:g} or more (shorter delays are only allowed when "
                "arxiv_api_url points at a mirror or a local test server)",
            )
        return settings


# Field name -> checker. Adding a source field: add it to `Source`, here, and to
# the `_KindSpec.fields` of the kinds that use it.
_SOURCE_FIELDS: dict[str, Callable[[_Checker, Node, str], object]] = {
    "name": _Checker.source_name,
    "kind": _Checker.kind,
    "url": _Checker.url,
    "categories": lambda c, n, k: c.string_list(n, k, c.category),
    "query": _Checker.query,
    "max_results": lambda c, n, k: c.integer(n, k, 1, ARXIV_MAX_RESULTS),
    "tags": lambda c, n, k: c.string_list(n, k, c.tag),
    "enabled": _Checker.boolean,
    "path": _Checker.string,
}
assert set(_ALL_SOURCE_FIELDS) == set(_SOURCE_FIELDS)
