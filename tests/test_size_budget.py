"""A size budget: no module in `safeguarding/` or `cli/` over 500 lines, no function over 60.

What is over budget today is listed below with its current size. The list may only shrink: an
item that grows, or that shrinks without the list being updated, or that is now within budget,
fails the test as surely as a new module or function over budget does.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("safeguarding", "cli")
MODULE_LINES = 500
FUNCTION_LINES = 60

# A module by its path, a function by `path::Qualified.name`, each with its size in lines.
ALLOWED: dict[str, int] = {}


def measure() -> dict[str, int]:
    """Every module and function over budget, with its size in lines."""
    over: dict[str, int] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            lines = len(text.splitlines())
            if lines > MODULE_LINES:
                over[name] = lines
            _functions(ast.parse(text), name, "", over)
    return over


def _functions(node: ast.AST, module: str, prefix: str, over: dict[str, int]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            qualified = prefix + child.name
            assert child.end_lineno is not None
            size = child.end_lineno - child.lineno + 1
            if size > FUNCTION_LINES:
                over[f"{module}::{qualified}"] = size
            _functions(child, module, qualified + ".", over)
        elif isinstance(child, ast.ClassDef):
            _functions(child, module, prefix + child.name + ".", over)


def test_nothing_new_exceeds_the_budget() -> None:
    over = measure()
    new = {name: size for name, size in over.items() if name not in ALLOWED}
    assert not new, (
        f"over budget ({MODULE_LINES} lines a module, {FUNCTION_LINES} a function): {new}"
    )


def test_nothing_allowed_grows() -> None:
    over = measure()
    grown = {
        name: (ALLOWED[name], size)
        for name, size in over.items()
        if name in ALLOWED and size > ALLOWED[name]
    }
    assert not grown, f"grown past its recorded size (recorded, now): {grown}"


def test_the_allowlist_shrinks_with_the_code() -> None:
    over = measure()
    stale = {
        name: (size, over.get(name)) for name, size in ALLOWED.items() if over.get(name) != size
    }
    assert not stale, (
        "the allowlist is out of date (recorded, now; None is within budget or gone): "
        f"update ALLOWED to the new sizes or remove the entry: {stale}"
    )


def test_the_budget_sees_an_oversized_method_by_its_qualified_name() -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(FUNCTION_LINES))
    over: dict[str, int] = {}
    _functions(ast.parse(f"class C:\n    def long(self):\n{body}\n"), "m.py", "", over)
    assert over == {"m.py::C.long": FUNCTION_LINES + 1}
