"""routing's rules (`routing/domain/`) are plain Python: no web framework, broker or database
session, and nothing of the capabilities built on them, so they are unit-tested alone and every
capability can use them."""

import ast
from pathlib import Path

import routing.domain

DOMAIN = Path(routing.domain.__file__).parent
FORBIDDEN = ("fastapi", "starlette", "faststream", "aiokafka", "sqlalchemy", "asyncpg", "httpx")


def test_the_domain_imports_no_framework_and_nothing_above_it():
    offending = []
    for path in sorted(DOMAIN.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                else []
            )
            for module in modules:
                top = module.split(".")[0]
                if top in FORBIDDEN or (top == "routing" and not module.startswith("routing.domain")):
                    offending.append(f"{path.name}:{node.lineno}: imports {module}")
    assert not offending, "routing/domain must stay pure:\n  " + "\n  ".join(offending)
