"""The shape of the code: one core, thin front ends, no import cycles."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "companion"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every companion module `path` imports, anywhere in the file (at the top, inside a
    function, under TYPE_CHECKING): a cycle through any of them is a cycle a reader sees."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            stem = (
                (f"{base}.{node.module}" if node.module else base)
                if node.level
                else (node.module or "")
            )
            names = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            # the module itself, else the package it lives in (`from . import x`)
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != here:
                found.add(name)
    return found


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return cycles


def test_the_package_has_no_import_cycles():
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    # A package's __init__ importing its own submodules is how packages are built, not a cycle.
    graph = {
        m: {i for i in imports_of(p, modules) if not i.startswith(m + ".")}
        for m, p in files.items()
    }
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_front_ends_are_thin_and_skills_are_not_picked_by_prefix():
    for adapter in ("chat.py", "ui/view.py"):
        # Statements, not lines: the formatter's layout must not decide what "thin" means.
        tree = ast.parse((PACKAGE / adapter).read_text(encoding="utf-8"))
        statements = sum(isinstance(node, ast.stmt) for node in ast.walk(tree))
        assert statements <= 180, (
            f"companion/{adapter} has {statements} statements (keep front ends thin)"
        )
    dispatch = re.compile(
        r"""intent(?:\.name)?\.startswith\(|name\.startswith\(["'](?:"""
        r"navigation|search|control|persona|out_of_scope)"
    )
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not dispatch.search(line), f"{path}:{number}: skill dispatch by prefix"


def test_there_is_one_providers_module_and_one_text_normaliser():
    assert [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("providers.py")] == [
        "llm/providers.py"
    ]
    for path in PACKAGE.rglob("*.py"):
        if path.name == "text.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert "def normalize(" not in source and "def fold(" not in source, path


def test_no_function_class_or_file_is_too_big_to_read():
    """Counted over companion/ by the AST (decorators excluded): a function over 80 lines, a
    class over 350 or a file over 600 has more than one job; split it by job."""
    too_big = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT).as_posix()
        if len(source.splitlines()) > 600:
            too_big.append(f"{where}: {len(source.splitlines())} lines (at most 600)")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                most = 350 if isinstance(node, ast.ClassDef) else 80
                if size > most:
                    too_big.append(
                        f"{where}:{node.lineno} {node.name}: {size} lines (at most {most})"
                    )
    assert not too_big, "\n".join(too_big)
