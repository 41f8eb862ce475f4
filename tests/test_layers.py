"""The layers of DESIGN.md, enforced: no module imports from a layer above its own.

Every ``import`` in ``src/metapool`` counts, at module level or inside a
function (a lazy import still ties the layers together). The layers, bottom
to top, are :data:`LAYERS`; a package or module not listed there fails the
test, so a new one has to be placed. There are no exceptions: issue 11 removed
the last upward imports (results building their own summaries, rma importing
the design matrix from moderators).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "metapool"

#: Bottom to top. Each entry is a subpackage or top-level module of metapool.
LAYERS = (
    ("core", ("_distributions", "exceptions", "_validation", "_deprecation", "columns", "_summary")),
    ("io", ("io",)),
    ("estimators", ("effect_sizes",)),
    ("inference", ("inference",)),
    ("models", ("models", "glmm")),
    ("analyses", ("moderators", "bias", "influence", "medians", "batch", "simulate", "analysis_report",
                  "evidence", "review")),
    ("present", ("formatting", "plots", "report")),
    ("apply", ("spec", "analysis", "datasets", "audit", "web", "cli")),
)
LEVEL = {unit: level for level, (_, units) in enumerate(LAYERS) for unit in units}

def _unit(module: str) -> str:
    """The layer unit of ``metapool.a.b``: ``a``."""
    return module.split(".")[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules of metapool imported by ``path`` (relative imports resolved), anywhere in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(_without_deprecation_shims(ast.parse(path.read_text(encoding="utf-8")))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("metapool.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("metapool."):
                # "from . import x" / "from .pkg import mod": the names may be modules
                found |= {target + "." + a.name if target.count(".") == 1 and node.module is None else target
                          for a in node.names}
    return {m for m in found if m.count(".") >= 1}


def _without_deprecation_shims(tree: ast.Module) -> ast.Module:
    """The module without its ``__getattr__`` if that only forwards deprecated names (it calls ``moved``).

    A name that moved up a layer stays importable from its old module for a
    while; that forwarding import is the one upward import allowed. The
    ``__getattr__`` may be built by a module-level factory (a function defining it).
    """
    def getattr_calling_moved(node) -> bool:
        return (isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
                and any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == "moved" for n in ast.walk(node)))

    def shim(node) -> bool:
        return isinstance(node, ast.FunctionDef) and any(getattr_calling_moved(n) for n in ast.walk(node))

    tree.body = [node for node in tree.body if not shim(node)]
    return tree


def _upward() -> set[tuple[str, str]]:
    out = set()
    for path in sorted(SRC.rglob("*.py")):
        importer = _module_name(path)
        if importer == "metapool":  # the package's face re-exports the public API
            continue
        for imported in _imports(path):
            if LEVEL[_unit(imported)] > LEVEL[_unit(importer)]:
                out.add((importer, imported))
    return out


def test_every_module_has_a_layer():
    units = {p.stem if p.is_file() else p.name for p in SRC.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    assert units - set(LEVEL) == set(), "place these in LAYERS (tests/test_layers.py)"


def test_no_import_goes_up_a_layer():
    upward = sorted(_upward())
    assert not upward, "imports from a higher layer:\n" + "\n".join(f"  {a} -> {b}" for a, b in upward)
