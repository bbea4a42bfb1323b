"""Write the Grafana dashboards from their code in grafana/dashgen/, or
check that the committed JSON still matches it.

    .venv/bin/python scripts/dashboards.py           # write grafana/dashboards/
    .venv/bin/python scripts/dashboards.py --check   # exit 1 when stale

Output is deterministic (sorted keys, two-space indent), so a change in the
code shows as a plain diff of the JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = ROOT / "grafana" / "dashboards"


def render() -> dict[str, str]:
    """Each dashboard file's text, by file name."""
    sys.path.insert(0, str(ROOT / "grafana"))
    try:
        dashgen = importlib.import_module("dashgen")
    finally:
        sys.path.remove(str(ROOT / "grafana"))
    boards = dashgen.build_all()
    return {
        name: json.dumps(board, indent=2, sort_keys=True) + "\n"
        for name, board in boards.items()
    }


def stale(out: Path, files: dict[str, str]) -> list[str]:
    """Files in out that differ from files, are missing, or are not built."""
    found = {path.name for path in out.glob("*.json")}
    wrong = [
        name
        for name, text in files.items()
        if name not in found or (out / name).read_text() != text
    ]
    return sorted(wrong + sorted(found - files.keys()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing")
    parser.add_argument("--out", type=Path, default=DASHBOARDS, help="folder")
    args = parser.parse_args(argv)
    files = render()

    if args.check:
        wrong = stale(args.out, files)
        for name in wrong:
            print(
                f"{args.out / name}: stale; run scripts/dashboards.py", file=sys.stderr
            )
        return 1 if wrong else 0

    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text)
    extra = sorted(set(p.name for p in args.out.glob("*.json")) - files.keys())
    for name in extra:
        print(f"{args.out / name}: not built by the generator", file=sys.stderr)
    return 1 if extra else 0


if __name__ == "__main__":
    sys.exit(main())
