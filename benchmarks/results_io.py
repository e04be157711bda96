"""Where every benchmark puts its numbers: `<name>.json` for tools, `<name>.md` for people.

The README quotes the Markdown; the JSON keeps every measured value. One writer keeps the
two files and the printed table identical in form across the benchmark scripts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_results(out: Path, name: str, report: dict[str, Any], table: str) -> None:
    """Write `report` as `out/name.json` and `table` as `out/name.md`, then print the table."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{name}.md").write_text(table)
    print(table)
