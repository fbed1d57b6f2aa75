"""Files generated from the code (the DMS JSON Schema and AsyncAPI documents): written, or with
`--check` compared with what is committed, so a test or CI can tell when one is out of date."""

from pathlib import Path


def write_or_check(path: Path, text: str, module: str, argv: list[str]) -> int:
    """The exit status: with `--check`, 1 when `path` differs from `text`; else writes it."""
    if "--check" in argv:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is out of date: run python -m {module}")
            return 1
        print("ok")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0
