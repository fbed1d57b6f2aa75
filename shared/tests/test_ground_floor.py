"""`shared/` is the ground floor: the services, devtools and the cross-service tests stand on it,
so nothing under it may import them (a test double of another service included: it takes what it
needs from `shared.testing`)."""

import ast
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1]
ABOVE = ("devtools", "tests", "bench", "ingest", "routing", "notifier", "search", "exporter", "web")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_nothing_under_shared_imports_what_stands_on_it():
    offending = [
        f"{path.relative_to(SHARED.parent)}:{line}: imports {module}"
        for path in sorted(SHARED.rglob("*.py"))
        for line, module in imported_modules(path)
        if module.split(".")[0] in ABOVE
    ]
    assert not offending, "shared/ must import only itself and libraries:\n  " + "\n  ".join(offending)


def test_the_scan_sees_imports_in_every_form(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import routing.app\nfrom devtools.ports import x\ndef f():\n    from tests import y\n")
    assert [module for _, module in imported_modules(probe)] == ["routing.app", "devtools.ports", "tests"]
