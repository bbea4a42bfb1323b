"""Wire one node together and run it until it is told to stop."""

from __future__ import annotations

import asyncio
import logging
import random
import signal

import grpc

from node.config import ConfigError, NodeConfig
from node.elevator import Elevator
from node.faults import LinkFaults
from node.faults_server import LinkFaultInterceptor
from node.learner import Learner
from node.metrics import NodeMetrics
from node.protocols.registry import protocol_class
from node.service import ControlService, NodeService
from node.transport import Transport, channel_options
from protos import heal_pb2_grpc

log = logging.getLogger("node")

# Exit codes of `python -m node`.
EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_PORT = 3
EXIT_DATA = 4


class StartupError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def read_token(config: NodeConfig) -> str | None:
    if config.token_file is None:
        return None
    try:
        token = config.token_file.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"token_file {config.token_file}: {exc.strerror}; the controller "
            "writes it at `up`"
        ) from exc
    if not token:
        raise ConfigError(f"token_file {config.token_file} is empty")
    return token


async def serve(config: NodeConfig) -> int:
    token = read_token(config)
    metrics = NodeMetrics()
    rng = random.Random(config.seed * 7919 + config.node_id)
    learner = Learner(config, config.data_dir)
    metrics.train_samples.set(learner.samples)
    # Its own generator: fault draws leave the protocol's sequence alone.
    faults = LinkFaults(random.Random(f"link-faults/{config.seed}/{config.node_id}"))
    metrics.watch_link_faults(faults)
    transport = Transport(metrics, config.max_message_bytes, config.address, faults)
    overlay = Elevator(config, transport, metrics, rng)
    protocol = protocol_class(config.protocol)
    node = protocol(config, overlay, transport, learner, metrics, rng)

    stop = asyncio.Event()

    def request_stop(reason: str = "") -> None:
        stop.set()

    server = grpc.aio.server(
        interceptors=[LinkFaultInterceptor(faults)],
        options=channel_options(config.max_message_bytes),
    )
    heal_pb2_grpc.add_NodeServicer_to_server(NodeService(node, metrics), server)
    heal_pb2_grpc.add_ControlServicer_to_server(
        ControlService(node, metrics, token, request_stop, faults, transport), server
    )
    endpoint = f"{config.bind_host}:{config.port}"
    try:
        server.add_insecure_port(endpoint)
    except RuntimeError as exc:
        raise StartupError(f"cannot listen on {endpoint}: {exc}", EXIT_PORT) from exc
    await server.start()
    if config.metrics_port:
        try:
            metrics.serve(config.bind_host, config.metrics_port)
        except OSError as exc:
            await server.stop(None)
            raise StartupError(
                f"cannot serve metrics on {config.bind_host}:{config.metrics_port}: "
                f"{exc.strerror}",
                EXIT_PORT,
            ) from exc

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "node %d listening on %s (metrics port %d), %s %s, %d bootstrap peers, "
        "%d samples",
        config.node_id,
        endpoint,
        config.metrics_port,
        protocol.name,
        node.role,
        len(config.peers),
        learner.samples,
    )
    tasks = []
    if protocol.runs_overlay:
        tasks.append(asyncio.create_task(overlay.run(stop), name="elevator"))
    tasks.append(asyncio.create_task(node.run(stop), name=protocol.name))
    await stop.wait()

    log.info("node %d stopping at cycle %d", config.node_id, node.cycle)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await server.stop(grace=0.5)
    await transport.close()
    return EXIT_OK
