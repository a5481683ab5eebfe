"""The feed's shape, checked: short modules, short functions, each saying who owns its state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FEED = Path(__file__).resolve().parents[1] / "feed"
MODULES = sorted(FEED.rglob("*.py"))
OWNER_WORDS = ("thread", "pure", "sans-i/o", "no state", "owns no", "immutable")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(FEED)))
def test_module_is_short_and_names_its_owner(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    assert lines <= (250 if path.name == "manager.py" and path.parent == FEED else 400), f"{lines} lines"
    doc = (ast.get_docstring(ast.parse(text)) or "").lower()
    assert any(w in doc for w in OWNER_WORDS), "the docstring does not say which thread owns the state"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(FEED)))
def test_no_function_is_over_60_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 60
    ]
    assert not long


def test_only_the_runtime_module_imports_streamlit() -> None:
    offenders = [
        str(p.relative_to(FEED))
        for p in MODULES
        if p.name != "runtime.py"
        and any(
            isinstance(n, ast.Import | ast.ImportFrom)
            and any(
                (a.name if isinstance(n, ast.Import) else (n.module or "")).startswith("streamlit")
                for a in n.names
            )
            for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        )
    ]
    assert not offenders
