"""Where monitoring keeps its files. One Prometheus serves every testbed
under a runs root and outlives them, so that reports can be made after
`down`; each testbed adds its own discovery files and exporter.

    runs/monitoring/prometheus.yml              scrape configuration
    runs/monitoring/stack.json                  what runs: URLs, pids, containers
    runs/monitoring/data/                       Prometheus storage (local binary)
    runs/monitoring/targets/<name>.nodes.json   live nodes of testbed <name>
    runs/monitoring/targets/<name>.testbed.json its exporter
    runs/monitoring/targets/<name>.<pid>.load.json  a load generator, while it runs
    runs/<name>/monitor.json                    the exporter: pid, port
    runs/<name>/monitor/observations.jsonl      what the exporter observed
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from controller.rundir import RunDir

NODES_JOB = "heal-nodes"
TESTBED_JOB = "heal-testbed"
LOAD_JOB = "heal-load"


def monitoring_dir(run: RunDir) -> Path:
    """The monitoring folder beside the run directories."""
    return run.path.parent / "monitoring"


def targets_dir(root: Path) -> Path:
    return root / "targets"


def nodes_targets(run: RunDir) -> Path:
    return targets_dir(monitoring_dir(run)) / f"{run.name}.nodes.json"


def exporter_targets(run: RunDir) -> Path:
    return targets_dir(monitoring_dir(run)) / f"{run.name}.testbed.json"


def load_targets(run: RunDir, pid: int) -> Path:
    """One file a load generator (by its process id): two loads may run at
    once, and each takes only its own target away."""
    return targets_dir(monitoring_dir(run)) / f"{run.name}.{pid}.load.json"


def all_load_targets(run: RunDir) -> list[Path]:
    """The load generators' files of this testbed, and no other's."""
    folder = targets_dir(monitoring_dir(run))
    pattern = re.compile(re.escape(run.name) + r"\.\d+\.load\.json")
    return [p for p in folder.glob("*.load.json") if pattern.fullmatch(p.name)]


def stack_file(root: Path) -> Path:
    return root / "stack.json"


def monitor_file(run: RunDir) -> Path:
    return run.path / "monitor.json"


def observations_file(run: RunDir) -> Path:
    return run.path / "monitor" / "observations.jsonl"


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from path; None when it is missing or unreadable."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_json(path: Path, value: object) -> None:
    """Replace path atomically: Prometheus may read it at any moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=2) + "\n")
    tmp.replace(path)


def prometheus_url(run: RunDir) -> str | None:
    """The URL of the Prometheus that scrapes run's testbed, if one was
    started (it may have stopped since)."""
    stack = read_json(stack_file(monitoring_dir(run)))
    url = (stack or {}).get("prometheus_url")
    return str(url) if url else None
