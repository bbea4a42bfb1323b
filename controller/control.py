"""The controller's side of the nodes' Control service.

Channels are kept open across calls (a health wait polls every node many
times) and calls to all nodes run concurrently as futures, without threads.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import grpc

from protos import heal_pb2, heal_pb2_grpc

# Containers may take a minute or more to listen on a busy machine. gRPC's
# default reconnect backoff grows towards 120 s meanwhile, which would delay
# the first answer after a node is up by as much.
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.min_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


@dataclass(frozen=True)
class Reply:
    node_id: int
    status: heal_pb2.NodeStatus | None
    error: str | None  # why there is no status


class ControlClient:
    def __init__(self, token: str) -> None:
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._channels: dict[str, grpc.Channel] = {}

    def _stub(self, address: str) -> heal_pb2_grpc.ControlStub:
        channel = self._channels.get(address)
        if channel is None:
            channel = grpc.insecure_channel(address, options=_CHANNEL_OPTIONS)
            self._channels[address] = channel
        return heal_pb2_grpc.ControlStub(channel)

    def status(self, addresses: dict[int, str], timeout: float) -> dict[int, Reply]:
        """Status of every node, asked concurrently; failures carry the reason."""
        futures = {
            i: self._stub(a).Status.future(
                heal_pb2.StatusRequest(), timeout=timeout, metadata=self._metadata
            )
            for i, a in addresses.items()
        }
        replies = {}
        for i, future in futures.items():
            try:
                replies[i] = Reply(i, future.result(), None)
            except grpc.RpcError as exc:
                replies[i] = Reply(i, None, f"{exc.code().name}: {exc.details()}")
        return replies

    def shutdown(self, addresses: dict[int, str], reason: str, timeout: float) -> None:
        futures = [
            self._stub(a).Shutdown.future(
                heal_pb2.ShutdownRequest(reason=reason),
                timeout=timeout,
                metadata=self._metadata,
            )
            for a in addresses.values()
        ]
        for future in futures:
            # A node that is already gone is as good as stopped.
            with contextlib.suppress(grpc.RpcError):
                future.result()

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
