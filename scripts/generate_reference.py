"""Generate the API reference pages of the docs site from the data that generates the code.

    python scripts/generate_reference.py           # write docs/pages/reference/api/*.md
    python scripts/generate_reference.py --check   # exit 1, listing the pages that are stale

One page per area of ``scripts/openapi/reference.toml``: each operation of ``endpoints.tsv`` by its
call path, its parameters and return type (from ``_codegen_model.py``'s operation model, as
scripts/generate_api.py builds it), then a ``:::`` directive for every type those use. Two steps:

- operation model -> pages (``_reference_pages.py``: which page lists each operation and each type);
- pages -> Markdown (``_reference_render.py``).

``tests/test_generated_reference.py`` runs ``--check``, so the reference cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _codegen_data import ROOT, load  # scripts/_codegen_*.py, beside this file
from _codegen_model import build_operations
from _codegen_types import TypeBuilder
from _reference_pages import Area, TypeIndex, build_areas
from _reference_render import HEADER, render_area, render_index
from _write_generated import write_or_check

PAGES = ROOT / "docs" / "pages" / "reference" / "api"


def build() -> tuple[list[Area], TypeIndex]:
    """The reference pages and the type index, from the operation model."""
    inputs = load()
    types = TypeBuilder(inputs.spec, inputs.types)
    ops = build_operations(inputs, types)
    index = TypeIndex(inputs, types)
    return build_areas(ops, index), index


def generate() -> dict[Path, str]:
    """Every page under docs/pages/reference/api/, by path."""
    pages, index = build()
    files = {PAGES / f"{area.slug}.md": render_area(area, index) for area in pages}
    files[PAGES / "index.md"] = render_index(pages)
    return dict(sorted(files.items()))


def orphans(files: dict[Path, str]) -> list[Path]:
    """Generated pages (they start with the header) that this run no longer produces."""
    return sorted(
        path for path in PAGES.glob("*.md") if path not in files and path.read_text(encoding="utf-8").startswith(HEADER)
    )


def main(argv: list[str]) -> int:
    files = generate()
    return write_or_check(files, orphans(files), root=ROOT, check="--check" in argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
