"""The export package's shape: no import cycles (not even inside functions), standard-library
imports at module top, and no private part of spaCy, srsly or thinc anywhere in it."""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "storage" / "export"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, whether at module top) for every import in the file, with
    `from package import submodule` resolved to the submodule."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    guarded = {id(n) for node in tree.body if isinstance(node, (ast.If, ast.Try))
               for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        at_top = id(node) in top or id(node) in guarded
        if isinstance(node, ast.Import):
            out += [(alias.name, at_top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                sub = ROOT.joinpath(*candidate.split("."))
                out.append((candidate if sub.with_suffix(".py").exists() or sub.is_dir()
                            else node.module, at_top))
    return out


def _project_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in list((ROOT / "storage").rglob("*.py")) + list((ROOT / "annotation").rglob("*.py")):
        name = _module_name(path)
        graph[name] = {m for m, _ in _imports(path)
                       if m.split(".")[0] in ("storage", "annotation") and m != name}
    return graph


def test_no_import_cycle_in_the_core_not_even_inside_functions():
    graph = _project_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt in graph and nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module.startswith("storage.export") and module not in state:
            visit(module, [module])


def test_standard_library_imports_are_at_module_top():
    stdlib = set(sys.stdlib_module_names)
    for path in sorted(PACKAGE.glob("*.py")):
        late = [m for m, at_top in _imports(path) if not at_top and m.split(".")[0] in stdlib]
        assert not late, f"{path.name}: standard-library imports inside functions: {late}"


_PRIVATE = [
    re.compile(r"\b(?:spacy|srsly|thinc)(?:\.\w+)*\._\w"),  # spacy._x, srsly.msgpack._x
    re.compile(r"from\s+(?:spacy|srsly|thinc)(?:\.\w+)*\s+import\s+[^\n]*\b_\w"),  # import _Packer
    re.compile(r"from\s+(?:spacy|srsly|thinc)(?:\.\w+)*\._"),
    re.compile(r"_Packer|\._orth\b|\._space\b|adler32|\._spill_dir"),
]


def test_no_private_part_of_spacy_srsly_or_thinc():
    for path in sorted(PACKAGE.glob("*.py")) + [ROOT / "ui" / "export_dialog.py"]:
        text = path.read_text(encoding="utf-8")
        for pattern in _PRIVATE:
            found = pattern.search(text)
            assert found is None, f"{path.name}: {found.group(0)!r}"


def test_every_format_is_one_module_and_one_registry_line():
    from storage.export import FORMATS
    modules = {f.write.__module__ for f in FORMATS.values()}
    assert all(m.startswith("storage.export.") for m in modules)
    assert set(FORMATS) == {"spacy", "spacy-folder", "prodigy", "doccano", "labelstudio", "brat", "conll",
                            "docs-csv", "claims-csv", "claims-jsonl", "claimreview", "claim-graph"}
    assert max(len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")) < 450
