"""Checks for the `ranking:` section of feeds.yml (papertrail.reading.rank), as a mixin of the
config checker: it uses the checker's `error`, `items`, `mapping`, `string`,
`number` and `string_list`."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from yaml.nodes import MappingNode, Node

from papertrail.config.model import BlockRules, Ranking, RankingWeights
from papertrail.config.nodes import _BAD, _describe, _is_null, _unknown_key

_RANKING_KEYS = (
    "weights",
    "follow_authors",
    "boost",
    "block",
    "recency_half_life_days",
    "read_weight",
    "follow_tags",
)
_RANKING_WEIGHTS = tuple(f.name for f in fields(RankingWeights))
_BLOCK_KEYS = tuple(f.name for f in fields(BlockRules))
# Ranking keywords are matched through the full-text index, word by word: no regex syntax.
_REGEX_CHARS = re.compile(r"[\\|()\[\]{}^$+?]")
_WORD = re.compile(r"[^\W_]+")


class RankingChecks:
    error: Any
    items: Any
    mapping: Any
    string: Any
    number: Any
    string_list: Any

    def ranking(self, node: Node) -> Ranking:
        if _is_null(node):
            return Ranking()
        if not self.mapping(
            node, "ranking", "a mapping with weights / follow_authors / boost / block"
        ):
            return Ranking()
        assert isinstance(node, MappingNode)
        values: dict[str, object] = {}
        for name, knode, vnode in self.items(node, "ranking"):
            key = f"ranking.{name}"
            if name == "weights":
                value = self.ranking_weights(vnode, key)
            elif name == "follow_authors":
                value = self.string_list(vnode, key, self.author)
            elif name == "boost":
                value = self.boosts(vnode, key)
            elif name == "block":
                value = self.block_rules(vnode, key)
            elif name == "recency_half_life_days":
                value = self.number(vnode, key, 0, True)
            elif name == "read_weight":
                value = self.number(vnode, key, 0, False)
                if isinstance(value, float) and value > 1:
                    value = self.error(
                        vnode,
                        key,
                        f"must be between 0 and 1 (a starred entry counts 1), got {value:g}",
                    )
            elif name == "follow_tags":
                value = self.string_list(vnode, key, self.string)
            else:
                self.error(knode, key, _unknown_key(name, _RANKING_KEYS))
                continue
            if value is not _BAD:
                values[name] = value
        return Ranking(**values)  # type: ignore[arg-type]

    def ranking_weights(self, node: Node, key: str) -> object:
        if _is_null(node):
            return RankingWeights()
        if not self.mapping(
            node, key, f"a mapping of part: weight ({', '.join(_RANKING_WEIGHTS)})"
        ):
            return _BAD
        assert isinstance(node, MappingNode)
        values: dict[str, float] = {}
        ok = True
        for name, knode, vnode in self.items(node, key):
            if name not in _RANKING_WEIGHTS:
                self.error(knode, f"{key}.{name}", _unknown_key(name, _RANKING_WEIGHTS))
                ok = False
                continue
            value = self.number(vnode, f"{key}.{name}", 0, False)
            if value is _BAD:
                ok = False
                continue
            values[name] = value
        return RankingWeights(**values) if ok else _BAD

    def phrase(self, node: Node, key: str) -> object:
        """A ranking keyword: a word or phrase, optionally ending in * (word beginnings)."""
        value = self.string(node, key)
        if not isinstance(value, str):
            return value
        if _REGEX_CHARS.search(value) or "*" in value[:-1]:
            return self.error(
                node,
                key,
                f"'{value}' looks like a regular expression; ranking keywords are plain words "
                "or phrases, matched as whole words ignoring case and word endings "
                "(e.g. diffusion model), and a final * matches word beginnings (e.g. diffus*)",
            )
        if not _WORD.search(value):
            return self.error(node, key, f"'{value}' has no letters or digits to match")
        return value

    def author(self, node: Node, key: str) -> object:
        value = self.string(node, key)
        if isinstance(value, str) and not _WORD.search(value):
            return self.error(node, key, f"'{value}' is not a name (no letters)")
        return value

    def boosts(self, node: Node, key: str) -> object:
        if _is_null(node):
            return ()
        if not isinstance(node, MappingNode):
            return self.error(
                node,
                key,
                f"expected a mapping of word or phrase: weight (e.g. 'diffusion model: 1.5', "
                f"negative to demote), got {_describe(node)}",
            )
        out: list[tuple[str, float]] = []
        ok = True
        for name, knode, vnode in self.items(node, key):
            phrase = self.phrase(knode, f"{key}.{name}")
            weight = self.number(vnode, f"{key}.{name}", None, False)
            if phrase is _BAD or weight is _BAD:
                ok = False
                continue
            out.append((phrase, weight))  # type: ignore[arg-type]
        return tuple(out) if ok else _BAD

    def block_rules(self, node: Node, key: str) -> object:
        if _is_null(node):
            return BlockRules()
        if not self.mapping(node, key, "a mapping with keywords and/or authors lists"):
            return _BAD
        assert isinstance(node, MappingNode)
        values: dict[str, object] = {}
        ok = True
        for name, knode, vnode in self.items(node, key):
            field_key = f"{key}.{name}"
            if name == "keywords":
                value = self.string_list(vnode, field_key, self.phrase)
            elif name == "authors":
                value = self.string_list(vnode, field_key, self.author)
            else:
                self.error(knode, field_key, _unknown_key(name, _BLOCK_KEYS))
                ok = False
                continue
            if value is _BAD:
                ok = False
                continue
            values[name] = value
        return BlockRules(**values) if ok else _BAD  # type: ignore[arg-type]
