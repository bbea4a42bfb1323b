"""The controller's side of the nodes' Control service."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc

from protos import heal_pb2, heal_pb2_grpc


@dataclass(frozen=True)
class Reply:
    node_id: int
    status: heal_pb2.NodeStatus | None
    error: str | None  # why there is no status


async def _status(node_id: int, address: str, token: str, timeout: float) -> Reply:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = heal_pb2_grpc.ControlStub(channel)
        try:
            status = await stub.Status(
                heal_pb2.StatusRequest(),
                timeout=timeout,
                metadata=(("authorization", f"Bearer {token}"),),
            )
        except grpc.aio.AioRpcError as exc:
            return Reply(node_id, None, f"{exc.code().name}: {exc.details()}")
    return Reply(node_id, status, None)


async def _all(
    addresses: dict[int, str], token: str, timeout: float
) -> dict[int, Reply]:
    replies = await asyncio.gather(
        *(_status(i, a, token, timeout) for i, a in addresses.items())
    )
    return {r.node_id: r for r in replies}


def status_all(
    addresses: dict[int, str], token: str, timeout: float = 2.0
) -> dict[int, Reply]:
    """Status of every node, asked in parallel; unreachable nodes get an error."""
    return asyncio.run(_all(addresses, token, timeout))


async def _shutdown(address: str, token: str, reason: str, timeout: float) -> bool:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = heal_pb2_grpc.ControlStub(channel)
        try:
            await stub.Shutdown(
                heal_pb2.ShutdownRequest(reason=reason),
                timeout=timeout,
                metadata=(("authorization", f"Bearer {token}"),),
            )
        except grpc.aio.AioRpcError:
            return False
    return True


def shutdown_all(
    addresses: dict[int, str], token: str, reason: str, timeout: float = 2.0
) -> dict[int, bool]:
    async def run() -> list[bool]:
        return await asyncio.gather(
            *(_shutdown(a, token, reason, timeout) for a in addresses.values())
        )

    return dict(zip(addresses, asyncio.run(run()), strict=True))
