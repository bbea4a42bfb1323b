"""Outgoing gRPC calls to peers: one channel per address, deadlines, counting.

Every message a node sends goes through `Transport.call`, so that the wire
counters and (later) link-level fault effects live in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from node.metrics import NodeMetrics
from protos import heal_pb2_grpc

log = logging.getLogger("node.transport")

Reply = TypeVar("Reply", bound=Message)


class PeerUnavailable(Exception):
    """A call to a peer failed or ran past its deadline."""

    def __init__(self, address: str, kind: str, code: grpc.StatusCode) -> None:
        super().__init__(f"{kind} to {address}: {code.name}")
        self.address = address
        self.code = code


def channel_options(max_message_bytes: int) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        # Peers come and go; reconnect quickly instead of backing off for
        # minutes, so that a restarted node is reachable again within a cycle.
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.min_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 1000),
        ("grpc.enable_retries", 0),
    ]


class Transport:
    def __init__(self, metrics: NodeMetrics, max_message_bytes: int) -> None:
        self._metrics = metrics
        self._options = channel_options(max_message_bytes)
        self._stubs: dict[str, heal_pb2_grpc.NodeStub] = {}
        self._channels: dict[str, grpc.aio.Channel] = {}

    def stub(self, address: str) -> heal_pb2_grpc.NodeStub:
        stub = self._stubs.get(address)
        if stub is None:
            channel = grpc.aio.insecure_channel(address, options=self._options)
            self._channels[address] = channel
            stub = heal_pb2_grpc.NodeStub(channel)
            self._stubs[address] = stub
        return stub

    async def call(
        self,
        address: str,
        kind: str,
        method: Callable[[heal_pb2_grpc.NodeStub], Callable[..., Awaitable[Reply]]],
        request: Message,
        timeout: float,
        reply_kind: str | None = None,
    ) -> Reply:
        """Send one request; count it; raise PeerUnavailable on any RPC error.

        reply_kind names the reply as a message of its own (a model coming
        back); otherwise its bytes count under the request's kind.
        """
        m = self._metrics
        m.sent.labels(kind).inc()
        m.bytes_sent.labels(kind).inc(request.ByteSize())
        try:
            reply = await method(self.stub(address))(request, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            m.rpc_failures.labels(kind, exc.code().name).inc()
            log.debug("%s to %s failed: %s", kind, address, exc.code().name)
            raise PeerUnavailable(address, kind, exc.code()) from exc
        size = reply.ByteSize()
        if reply_kind is not None and size:
            m.received.labels(reply_kind).inc()
            m.bytes_received.labels(reply_kind).inc(size)
        else:
            m.bytes_received.labels(kind).inc(size)
        return reply

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(grace=None)
        self._channels.clear()
        self._stubs.clear()
