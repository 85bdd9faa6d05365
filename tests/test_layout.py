"""The layout holds (issue 15): import directions, no cycles, imports at the top,
short functions, a typed API. Read from the source with `ast`, so a new module
is checked the day it is added.

The allowed directions live where a reader looks for them: each top-level unit
of papertrail/ (package or module) says in its docstring "May import: …", and
the tests here hold the code to what the docstrings say.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROOTS = ("papertrail", "reproductions")
MAX_LINES = 60
# Function-local imports in papertrail/ are for these heavy third-party packages only
# (each with a one-line reason on the import): they would slow `papertrail --help`.
HEAVY = {
    "arxiv", "datasette", "defusedxml", "feedparser", "filelock", "httpcore", "httpx", "jinja2",
    "keyring", "lxml", "markupsafe", "numpy", "requests", "rich", "scipy", "sklearn", "sqlite_utils",
    "threadpoolctl", "torch", "uvicorn",
    "webbrowser",
}  # fmt: skip
# Functions allowed to be long: schema migrations are SQL DDL.
LONG_OK = re.compile(r"^_m\d{3}_")


# ------------------------------------------------------------------ reading the source


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "papertrail.store.triage"
    target: str  # the module imported (a submodule when `from pkg import sub` names one)
    line: int
    in_function: bool
    node: ast.Import | ast.ImportFrom


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: str) -> list[Path]:
    return sorted(p for p in (REPO / root).rglob("*.py") if "__pycache__" not in p.parts)


ALL_MODULES = {module_name(p) for root in ROOTS for p in source_files(root)}


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(path: Path) -> Iterator[Import]:
    """Every import statement of a file, top level, in functions or under TYPE_CHECKING."""
    module = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def walk(node: ast.AST, in_function: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(module, alias.name, child.lineno, in_function, child)
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(module, path, child)
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    target = sub if sub in ALL_MODULES else base
                    yield Import(module, target, child.lineno, in_function, child)
            yield from walk(child, inside)

    yield from walk(tree, False)


def unit_of(module: str) -> str:
    """The top-level unit a papertrail module belongs to ("store", "models", …)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "papertrail"


def may_import(unit: str) -> set[str] | None:
    """What the unit's docstring allows ("May import: a, b, c."); None when it says nothing."""
    path = REPO / "papertrail" / unit
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    if unit == "papertrail":
        path = REPO / "papertrail" / "__init__.py"
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    match = re.search(r"May import:\s*(.+?)(?:\.\s|\.$|\(|$)", doc, re.S)
    if match is None:
        return None
    words = set(re.findall(r"[a-z_]+", match.group(1)))
    return words & UNITS


UNITS = {unit_of(m) for m in ALL_MODULES if m.startswith("papertrail")} - {"papertrail"}


# ------------------------------------------------------------------ directions


@pytest.mark.parametrize("unit", sorted(UNITS | {"papertrail"}))
def test_every_unit_says_what_it_may_import(unit: str) -> None:
    assert may_import(unit) is not None, f"papertrail/{unit}: no 'May import:' in its docstring"


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_imports_follow_the_allowed_directions(unit: str) -> None:
    allowed = (may_import(unit) or set()) | {unit, "papertrail"}
    wrong = [
        f"{i.module}:{i.line} imports {i.target}"
        for path in source_files("papertrail")
        if unit_of(module_name(path)) == unit
        for i in imports(path)
        if i.target.startswith("papertrail") and unit_of(i.target) not in allowed
    ]
    assert not wrong, f"papertrail/{unit} may import {sorted(allowed)} only:\n" + "\n".join(wrong)


def test_the_allowed_directions_are_layers() -> None:
    graph = {unit: may_import(unit) or set() for unit in UNITS}
    assert not cycles(graph), "the 'May import' lines allow a cycle"


def test_store_and_sources_never_meet() -> None:
    """Fetch -> parse -> save: the network/parsing stage and SQLite meet only in ingest."""
    assert "sources" not in (may_import("store") or set())
    assert "store" not in (may_import("sources") or set())


def test_reproductions_never_import_each_other() -> None:
    shared = {"reproductions", "reproductions.common", "reproductions.gan_common"}
    wrong = []
    for path in source_files("reproductions"):
        own = ".".join(module_name(path).split(".")[:2])
        for i in imports(path):
            if not i.target.startswith("reproductions"):
                continue
            other = ".".join(i.target.split(".")[:2])
            if other != own and other not in shared:
                wrong.append(f"{i.module}:{i.line} imports {i.target}")
            if i.target.startswith("papertrail"):
                wrong.append(f"{i.module}:{i.line} imports papertrail")
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------ cycles


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node, or a node importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("root", ROOTS)
def test_no_import_cycles(root: str) -> None:
    """Module to module, counting every import (in functions and under TYPE_CHECKING too);
    a package's __init__ is a module of its own."""
    graph: dict[str, set[str]] = {}
    for path in source_files(root):
        edges = graph.setdefault(module_name(path), set())
        edges |= {i.target for i in imports(path) if i.target in ALL_MODULES}
    assert not cycles(graph), cycles(graph)


# ------------------------------------------------------------------ imports at the top


# The one exception (issue 19): `papertrail fetch` starts its HTTP lane first and imports
# what saves, rescores and digests while the requests are in flight. Only these modules, and
# each such import says so with this reason on the line above it.
AFTER_LANE = {"papertrail.api.fetching", "papertrail.ingest.fetch"}
AFTER_LANE_REASON = "# imported after the HTTP lane starts"
# Issue 19 too: `papertrail search` runs as a whole process, so these modules import what only
# an unusual search needs (the full click CLI, the ranking machinery, feeds.yml's checker) when
# it is needed, each such import with this reason on the line above.
LEAN_SEARCH = {"papertrail.api.searching", "papertrail.cli", "papertrail.config.paths"}
LEAN_SEARCH_REASON = "# imported only when needed"


def test_our_modules_are_imported_at_the_top() -> None:
    inside = []
    for path in source_files("papertrail"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i in imports(path):
            if not i.in_function or i.target.split(".")[0] not in ROOTS:
                continue
            if i.module in AFTER_LANE and AFTER_LANE_REASON in _block_above(lines, i.node.lineno):
                continue
            above = _block_above(lines, i.node.lineno)
            if i.module in LEAN_SEARCH and LEAN_SEARCH_REASON in above:
                continue
            inside.append(f"{i.module}:{i.line} imports {i.target} inside a function")
    assert not inside, "\n".join(inside)


def _block_above(lines: list[str], lineno: int) -> str:
    """The comment and import lines right above line `lineno` (1-based), up to other code."""
    start = lineno - 1
    while start > 0 and lines[start - 1].strip().startswith(("#", "import ", "from ")):
        start -= 1
    return "\n".join(lines[start : lineno - 1])


def test_function_local_imports_are_heavy_packages_with_a_reason() -> None:
    wrong = []
    for path in source_files("papertrail"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i in imports(path):
            if not i.in_function:
                continue
            top = i.target.split(".")[0]
            text = "\n".join(lines[i.node.lineno - 1 : i.node.end_lineno])
            before = lines[i.node.lineno - 2] if i.node.lineno > 1 else ""
            commented = "#" in text or before.strip().startswith(("import", "from"))
            if top in ROOTS and i.module in AFTER_LANE | LEAN_SEARCH:
                continue  # checked by test_our_modules_are_imported_at_the_top
            if top not in HEAVY:
                wrong.append(
                    f"{i.module}:{i.line}: {top} is not a heavy package (import it at the top)"
                )
            elif not commented:
                wrong.append(f"{i.module}:{i.line}: say why {top} is imported here (a # comment)")
    assert not wrong, "\n".join(wrong)


def test_help_imports_no_library_module_and_no_third_party_package_but_click() -> None:
    """`papertrail --help` stays as fast as it was: the CLI loads `api` and `browse`
    lazily, and the library its heavy packages where it uses them."""
    code = (
        "import sys, json; from papertrail.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(__import__("json").loads(proc.stderr.strip().splitlines()[-1]))
    ours = {m for m in loaded if m.startswith("papertrail")}
    assert ours - {"papertrail", "papertrail.api", "papertrail.browse", "papertrail.text"} == {
        m for m in ours if m.startswith("papertrail.cli")
    }
    third_party = {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names)
    # sitecustomize: Debian's Python runs its own at start-up (a venv made from it too)
    startup = {"__main__", "_distutils_hack", "sitecustomize", "usercustomize"}
    assert third_party - {"click", "papertrail", *startup} <= {
        m for m in third_party if m.startswith("_") or "editable" in m
    }


# ------------------------------------------------------------------ short functions


@pytest.mark.parametrize("root", ROOTS)
def test_no_function_over_60_lines(root: str) -> None:
    long = []
    for path in source_files(root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([d.lineno for d in node.decorator_list] + [node.lineno])
                length = (node.end_lineno or start) - start + 1
                if length > MAX_LINES and not LONG_OK.match(node.name):
                    long.append(f"{module_name(path)}.{node.name}: {length} lines")
    assert not long, "\n".join(long)


# ------------------------------------------------------------------ the typed API


def test_py_typed_ships() -> None:
    assert (REPO / "papertrail" / "py.typed").exists()
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '"py.typed"' in pyproject


def test_the_lazy_api_names_are_the_type_checked_ones() -> None:
    """api/__init__ and browse/__init__ load names on first use; their TYPE_CHECKING
    imports (what type checkers and readers see) must list the very same names."""
    from papertrail import api, browse

    for package in (api, browse):
        tree = ast.parse(inspect.getsource(package))
        checked = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
            for stmt in node.body
            if isinstance(stmt, ast.ImportFrom)
            for alias in stmt.names
        }
        lazy = set(package.__all__) - {n for n in package.__all__ if n.isupper() and "_" in n}
        assert checked <= set(package.__all__), checked - set(package.__all__)
        assert lazy <= checked | {"TEMPLATES"}, lazy - checked
        for name in package.__all__:
            assert getattr(package, name) is not None


def _called_by(paths: list[Path]) -> set[tuple[str, str]]:
    """(module, name) of the library functions these files call: `api.x(...)` and
    names imported from papertrail modules."""
    out = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "api":
                    out.add(("papertrail.api", node.attr))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("papertrail"):
                for alias in node.names:
                    out.add((node.module or "", alias.name))
    return out


def api_functions() -> list[tuple[str, object]]:
    files = [*source_files("papertrail/cli"), *source_files("papertrail/browse")]
    found = []
    for module, name in sorted(_called_by(files)):
        if module.startswith(("papertrail.cli", "papertrail.browse")):
            continue
        obj = getattr(importlib.import_module(module), name, None)
        if inspect.isfunction(obj) and obj.__module__.startswith("papertrail"):
            found.append((f"{module}.{name}", obj))
    return found


def test_the_api_the_cli_and_browse_call_is_typed_without_any_or_bare_tuples() -> None:
    functions = api_functions()
    assert len(functions) > 30  # the whole surface is found, not an empty list
    wrong = []
    for label, fn in functions:
        node = ast.parse(inspect.getsource(fn).lstrip()).body[0]
        assert isinstance(node, ast.FunctionDef)
        args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        args += [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
        for arg in args:
            if arg.annotation is None and arg.arg not in ("self", "cls"):
                wrong.append(f"{label}: {arg.arg} has no type")
            elif arg.annotation is not None and "Any" in ast.unparse(arg.annotation):
                wrong.append(f"{label}: {arg.arg}: {ast.unparse(arg.annotation)}")
        returns = ast.unparse(node.returns) if node.returns else ""
        if not returns or "Any" in returns or returns.startswith(("tuple[", "Tuple[")):
            wrong.append(f"{label} returns {returns or 'nothing declared'}")
    assert not wrong, "\n".join(wrong)
