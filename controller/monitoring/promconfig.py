"""The scrape configuration of the Prometheus that monitoring starts: every
testbed's nodes, exporter and load generator, found through the discovery
files."""

from __future__ import annotations

from pathlib import Path

import yaml

from controller.monitoring.paths import LOAD_JOB, NODES_JOB, TESTBED_JOB

SCRAPE_INTERVAL_S = 5
CONFIG_NAME = "prometheus.yml"


def config(interval_s: int = SCRAPE_INTERVAL_S) -> dict[str, object]:
    def job(name: str, pattern: str) -> dict[str, object]:
        return {
            "job_name": name,
            # Paths are relative to this file, wherever it is mounted.
            "file_sd_configs": [
                {"files": [f"targets/{pattern}"], "refresh_interval": "5s"}
            ],
        }

    return {
        "global": {
            "scrape_interval": f"{interval_s}s",
            "scrape_timeout": f"{max(1, interval_s - 1)}s",
            "evaluation_interval": f"{interval_s}s",
        },
        "scrape_configs": [
            job(NODES_JOB, "*.nodes.json"),
            job(TESTBED_JOB, "*.testbed.json"),
            job(LOAD_JOB, "*.load.json"),
        ],
    }


def write_config(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "targets").mkdir(exist_ok=True)
    path = root / CONFIG_NAME
    text = (
        "# Written by `controller up`; rewritten each time monitoring starts.\n"
        + yaml.safe_dump(config(), sort_keys=False)
    )
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path
