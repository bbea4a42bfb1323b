"""Overlay: who the hubs are, whether the nodes agree on them, and how the
Elevator caches and roles move while faults come and go."""

from __future__ import annotations

from .board import dashboard
from .query import Json, sel
from .summary import stat, table
from .timeseries import timeseries

HUBS = f"max({sel('heal_testbed_hubs')})"
AGREEMENT = f"max({sel('heal_testbed_hub_agreement')})"
LISTS = f"max({sel('heal_testbed_hub_lists')})"
MAJORITY = f"max by (hub) ({sel('heal_testbed_majority_hub')})"
CACHE = sel("heal_overlay_cache_peers")
ROLE_CHANGES = sel("heal_overlay_role_changes_total")
# -1 until a node first adopts a global model.
AGE = f"{sel('heal_global_model_age_seconds')} >= 0"


def _nodes(state: str) -> str:
    matcher = f'state="{state}"'
    return f"sum({sel('heal_testbed_nodes', matcher)})"


def build() -> Json:
    stats = [
        stat("Hubs", "Hubs on the list most nodes hold.", HUBS, "none"),
        stat(
            "Hub agreement",
            "Share of nodes holding that list.",
            AGREEMENT,
            "percentunit",
        ),
        stat("Distinct hub lists", "Among the nodes that answer.", LISTS, "none"),
        stat("Nodes alive", "Running and answering.", _nodes("alive"), "none"),
        stat("Nodes paused", "Frozen by a pause fault.", _nodes("paused"), "none"),
        stat("Nodes down", "In the testbed but not running.", _nodes("down"), "none"),
    ]
    hubs = [
        timeseries(
            "Hubs",
            "Hubs on the majority list, and nodes that act as hubs themselves.",
            [
                (HUBS, "on the majority list"),
                (f"sum({sel('heal_overlay_is_hub')})", "acting as hub"),
            ],
            "none",
        ),
        timeseries(
            "Majority hub ids",
            "One band per node id on the majority hub list; a band ends when "
            "that node leaves the list.",
            [(MAJORITY, "hub {{hub}}")],
            "none",
            stack=True,
        ),
    ]
    agreement = [
        timeseries(
            "Hub-list agreement",
            "Share of answering nodes that hold the majority hub list.",
            [(AGREEMENT, "agreement")],
            "percentunit",
            limits=(0.0, 1.0),
        ),
        timeseries(
            "Distinct hub lists",
            "1 when every answering node sees the same hubs.",
            [(LISTS, "distinct lists")],
            "none",
        ),
    ]
    caches = [
        timeseries(
            "Cache sizes",
            "Peers in each node's Elevator cache; the bold line is their mean. "
            "The mean backward list is the third line.",
            [
                (CACHE, "node {{node}}"),
                (f"avg({CACHE})", "mean cache"),
                (f"avg({sel('heal_overlay_backward_peers')})", "mean backward list"),
            ],
            "none",
            per_node=True,
            bold="B",
        ),
        timeseries(
            "Role changes per minute",
            "Hub or client role changes over all nodes.",
            [(f"60 * sum(rate({ROLE_CHANGES}[$__rate_interval]))", "role changes")],
            "none",
        ),
    ]
    health = [
        timeseries(
            "Nodes alive, paused, down",
            "Nodes of the testbed by state.",
            [(f"sum by (state) ({sel('heal_testbed_nodes')})", "{{state}}")],
            "none",
        ),
        timeseries(
            "Gossip fallback",
            "Nodes that reach no hub and merge with a random peer instead.",
            [(f"sum({sel('heal_gossip_fallback')})", "nodes in gossip fallback")],
            "none",
        ),
    ]
    context = [
        timeseries(
            "Age of the global model",
            "Seconds since nodes last adopted a global model from a hub: the "
            "median node and the oldest.",
            [(f"quantile(0.5, {AGE})", "median"), (f"max({AGE})", "oldest")],
            "s",
        ),
        table(
            "Majority hubs now",
            "The node ids on the majority hub list at the end of the time range.",
            [(MAJORITY, None, "none")],
            ["hub"],
            width=6,
        ),
        stat(
            "Role changes in range",
            "Over all nodes, in the dashboard's time range.",
            f"round(sum(increase({ROLE_CHANGES}[$__range])))",
            "none",
            instant=True,
            width=6,
        ),
    ]
    return dashboard(
        "heal-overlay",
        "HEAL overlay",
        "Hubs, hub-list agreement, caches and roles of the Elevator overlay.",
        [stats, hubs, agreement, caches, health, context],
    )
