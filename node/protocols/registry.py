"""The learning protocols by the name a config or scenario file gives."""

from __future__ import annotations

from node.config import PROTOCOLS, ConfigError
from node.protocols.base import LearningNode
from node.protocols.epidemic import EpidemicNode
from node.protocols.fedavg import FedAvgNode
from node.protocols.gossip import GossipNode
from node.protocols.heal import HealNode

REGISTRY: dict[str, type[LearningNode]] = {
    cls.name: cls for cls in (HealNode, FedAvgNode, GossipNode, EpidemicNode)
}


def protocol_class(name: str) -> type[LearningNode]:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"protocol {name!r}: not known; valid: {', '.join(PROTOCOLS)}"
        ) from None
