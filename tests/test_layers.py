"""Imports point down: contract <- model <- generators <- harness <- the
test layers (suites, tests, corpus, bench, conftest).  A module may import
its own layer and the layers below it, never one above; nothing imports
suites but suites themselves and the test layers' runners (pytest).
Checked on the source (ast), so an import inside a function counts too."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["contract", "model", "generators", "harness"]  # bottom to top
TOP = {"suites", "tests", "corpus", "bench", "conftest"}  # ("docker" is the SDK; docker/ is loaded by path)
OURS = set(LAYERS) | TOP


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module.split(".")[0]))
    return [(n, m) for n, m in out if m in OURS]


def test_imports_point_down():
    wrong = []
    for i, layer in enumerate(LAYERS):
        allowed = set(LAYERS[:i + 1])
        for path in sorted((ROOT / layer).rglob("*.py")):
            for line, mod in _imports(path):
                if mod not in allowed:
                    wrong.append(f"{path.relative_to(ROOT)}:{line}: {layer} imports {mod}")
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in (".venv", "build", "suites", "tests") or rel.parts[0] == "conftest.py":
            continue
        for line, mod in _imports(path):
            if mod in ("suites", "tests"):
                wrong.append(f"{rel}:{line}: imports {mod}")
    assert not wrong, "\n".join(wrong)


def test_the_contract_imports_only_the_standard_library():
    import sys
    for path in sorted((ROOT / "contract").rglob("*.py")):
        for mod in {m for _, m in _imports(path)} - {"contract"}:
            raise AssertionError(f"{path}: imports {mod}")
    stdlib = sys.stdlib_module_names
    for path in sorted((ROOT / "contract").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for n in names:
                top = n.split(".")[0]
                assert top in stdlib or top in ("contract", "__future__"), f"{path}: imports {n}"
