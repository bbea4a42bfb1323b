"""Load on a live testbed: Locust calls Predict and Status on the nodes, and
its figures go to the run folder, Prometheus and the report."""

from __future__ import annotations

from pathlib import Path


def locustfile_path() -> Path:
    """The locustfile Locust is started with."""
    return Path(__file__).resolve().parent / "locustfile.py"
