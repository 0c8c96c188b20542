"""Writing a generator's output, or with ``--check`` listing what is stale: shared by the generators."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_or_check"]


def write_or_check(files: dict[Path, str], removed: list[Path], *, root: Path, check: bool) -> int:
    """Write ``files`` that differ and delete ``removed`` (generated files no longer produced);
    with ``check``, only list them. Returns the exit code (1: ``--check`` found something stale)."""
    stale = [path for path, text in files.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if check:
        for path in stale:
            print(f"stale: {path.relative_to(root)}")
        for path in removed:
            print(f"stale (no longer generated): {path.relative_to(root)}")
        return 1 if stale or removed else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path.relative_to(root)}")
    for path in removed:
        path.unlink()
        print(f"removed {path.relative_to(root)}")
    return 0
