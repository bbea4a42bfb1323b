"""The testbed's Grafana dashboards, built from code so that all four share
the datasource, the testbed variable and the fault shading.
`scripts/dashboards.py` writes them to grafana/dashboards/."""

from __future__ import annotations

from . import convergence, network, overlay, recovery
from .query import Json


def build_all() -> dict[str, Json]:
    """Each dashboard by the file name it is provisioned from."""
    return {
        "convergence.json": convergence.build(),
        "overlay.json": overlay.build(),
        "network.json": network.build(),
        "recovery.json": recovery.build(),
    }
