"""The controller's side of the nodes' Control service.

Channels are kept open across calls (a health wait polls every node many
times) and calls to all nodes run concurrently as futures, without threads.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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

# Time a probe's own RPC is given beyond its pings' timeouts.
_PROBE_MARGIN_S = 5.0


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
        return {
            i: Reply(i, None, r) if isinstance(r, str) else Reply(i, r, None)
            for i, r in _results(futures).items()
        }

    def set_link_faults(
        self,
        addresses: Mapping[int, str],
        sets: Mapping[int, heal_pb2.LinkFaultSet],
        timeout: float,
    ) -> dict[int, heal_pb2.LinkFaultSet | str]:
        """Replace the in-node link faults of every node in sets, concurrently;
        each value is the set the node now holds, or why there is none."""
        missing = {i: f"no address for node {i}" for i in sets if i not in addresses}
        futures = {
            i: self._stub(addresses[i]).SetLinkFaults.future(
                rules, timeout=timeout, metadata=self._metadata
            )
            for i, rules in sets.items()
            if i in addresses
        }
        return {**missing, **_results(futures)}

    def get_link_faults(
        self, addresses: Mapping[int, str], timeout: float
    ) -> dict[int, heal_pb2.LinkFaultSet | str]:
        """The in-node link faults every node holds, or why there is none."""
        futures = {
            i: self._stub(a).GetLinkFaults.future(
                heal_pb2.StatusRequest(), timeout=timeout, metadata=self._metadata
            )
            for i, a in addresses.items()
        }
        return _results(futures)

    def probe(
        self,
        address: str,
        target: str,
        count: int,
        payload_bytes: int = 0,
        timeout_s: float = 1.0,
        concurrency: int = 1,
        rpc_timeout: float | None = None,
    ) -> heal_pb2.ProbeReply:
        """Have the node at address ping target count times through its own
        link faults. rpc_timeout defaults to the longest the pings can take,
        plus a margin. Raises grpc.RpcError when the node does not answer
        (INVALID_ARGUMENT names a bad value)."""
        if rpc_timeout is None:
            rounds = math.ceil(count / max(1, concurrency))
            rpc_timeout = rounds * timeout_s + _PROBE_MARGIN_S
        request = heal_pb2.ProbeRequest(
            address=target,
            count=count,
            payload_bytes=payload_bytes,
            timeout_s=timeout_s,
            concurrency=concurrency,
        )
        reply: heal_pb2.ProbeReply = self._stub(address).Probe(
            request, timeout=rpc_timeout, metadata=self._metadata
        )
        return reply

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


def _results(futures: Mapping[int, grpc.Future]) -> dict[int, Any]:
    """Each future's result (a reply message; grpc's futures carry no type),
    or the status code and details of its failure as a string."""
    results: dict[int, Any] = {}
    for i, future in futures.items():
        try:
            results[i] = future.result()
        except grpc.RpcError as exc:
            results[i] = f"{exc.code().name}: {exc.details()}"
    return results
