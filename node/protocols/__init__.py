"""The learning protocols a node can run: HEAL and its baselines, one module
each, found by name in node.protocols.registry."""
