"""`python -m node --config FILE`: run one testbed node."""

from __future__ import annotations

import asyncio
import sys

from node import logs
from node.app import EXIT_CONFIG, EXIT_DATA, StartupError, serve
from node.config import ConfigError, NodeConfig, parse_args
from node.data import DataError


def run(config: NodeConfig) -> int:
    logs.configure(config.node_id, config.log_level, config.log_json)
    try:
        return asyncio.run(serve(config))
    except ConfigError as exc:
        print(f"node {config.node_id}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except DataError as exc:
        print(f"node {config.node_id}: {exc}", file=sys.stderr)
        return EXIT_DATA
    except StartupError as exc:
        print(f"node {config.node_id}: {exc}", file=sys.stderr)
        return exc.exit_code


def main(argv: list[str] | None = None) -> int:
    try:
        config = parse_args(argv)
    except ConfigError as exc:
        print(f"python -m node: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return run(config)


if __name__ == "__main__":
    sys.exit(main())
