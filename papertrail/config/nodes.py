"""Small helpers over PyYAML's composed node tree, shared by the feeds.yml checkers."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


def _suggest(name: str, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def _unknown_key(name: str, valid: Sequence[str]) -> str:
    hint = _suggest(name, valid)
    if hint:
        return f"unknown key '{name}'{hint}"
    return f"unknown key '{name}'; valid keys: {', '.join(valid)}"


_BAD = object()  # a value that failed validation (its problem is already recorded)
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"


def _line(node: Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def _is_null(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and node.tag == _NULL_TAG)


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL_TAG:
        return "empty"
    if node.tag == _BOOL_TAG:
        return f"true/false ({node.value!r})"
    if node.tag in (_INT_TAG, _FLOAT_TAG):
        return f"the number {node.value}"
    return f"'{node.value}'"
