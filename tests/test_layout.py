"""The shape of the code, checked: one-way imports, no path hacks, files that fit in a head.

    app.py -> explorer.ui (the only Gradio) -> explorer -> models -> torch
benchmarks/ and tests/ may import anything; nothing of the product imports them.
"""
import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ["app.py", "explorer", "models"]
MAX_LINES = 400   # a module that fits in one reading


def python_files(*tops: str) -> list[Path]:
    files = []
    for top in tops:
        path = ROOT / top
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of the file (absolute names; relative ones resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return names


def top_name(module: str) -> str:
    return module.split(".")[0]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_models_imports_nothing_of_the_project():
    offenders = {rel(p): sorted(m for m in imported_modules(p) if top_name(m) in {"explorer", "benchmarks", "app"})
                 for p in python_files("models")}
    assert not {k: v for k, v in offenders.items() if v}


def test_only_the_ui_package_imports_gradio():
    offenders = {}
    for path in python_files(*PRODUCT):
        in_ui = rel(path).startswith("explorer/ui/")
        bad = [m for m in imported_modules(path)
               if (top_name(m) == "gradio" and not in_ui)
               or (m.startswith("explorer.ui") and not in_ui and rel(path) != "app.py")]
        if bad:
            offenders[rel(path)] = sorted(bad)
    assert not offenders


def test_app_py_is_only_the_entry_point():
    imports = {top_name(m) for m in imported_modules(ROOT / "app.py")}
    assert "gradio" not in imports and "torch" not in imports
    assert len((ROOT / "app.py").read_text().splitlines()) < 60


def test_the_product_never_imports_the_benchmarks_or_the_tests():
    offenders = {rel(p): sorted(m for m in imported_modules(p) if top_name(m) in {"benchmarks", "tests"})
                 for p in python_files(*PRODUCT)}
    assert not {k: v for k, v in offenders.items() if v}


def test_no_benchmark_code_inside_the_product():
    assert not [rel(p) for p in python_files("explorer") if p.name.startswith("bench")]


def test_no_sys_path_edits_anywhere():
    path_attribute = r"sys" + r"\.path"   # spelled in two pieces, so that this file does not match itself
    pattern = re.compile(path_attribute + r"(\.(insert|append|extend)\(|\s*\+?=(?!=))")
    offenders = [rel(p) for p in python_files(*PRODUCT, "benchmarks", "tests") if pattern.search(p.read_text())]
    assert not offenders


@pytest.mark.parametrize("path", python_files(*PRODUCT, "benchmarks"), ids=rel)
def test_modules_stay_short(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_no_private_names_imported_across_modules():
    offenders = []
    for path in python_files(*PRODUCT, "benchmarks"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and top_name(node.module) in {"explorer", "models"}:
                offenders += [f"{rel(path)}: {node.module}.{a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    assert not offenders


def test_the_check_sees_the_imports_it_guards():
    """The checker itself, against a file with a known answer (a check that sees nothing passes everything)."""
    found = imported_modules(ROOT / "explorer" / "train.py")
    assert "explorer.config.presets" in found and "explorer.training.run.Run" in found
    assert os.path.isfile(ROOT / "pyproject.toml")
