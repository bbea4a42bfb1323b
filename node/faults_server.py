"""The server side of in-node link faults: ingress rules on requests from
peers, egress rules on the replies to them. Only the Node service is
affected, never Control, and only calls that name their caller."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import Message

from node.faults import EGRESS, INGRESS, PEER_METADATA, LinkFaults
from protos import heal_pb2

_NODE_METHODS = f"/{heal_pb2.DESCRIPTOR.services_by_name['Node'].full_name}/"
_CANCEL_GRACE_S = 5.0

Behavior = Callable[[Message, grpc.aio.ServicerContext], Awaitable[Message]]


class LinkFaultInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, faults: LinkFaults) -> None:
        self._faults = faults

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        metadata = handler_call_details.invocation_metadata
        peer = dict(metadata or ()).get(PEER_METADATA)
        if (
            handler is None
            or handler.unary_unary is None
            or not method.startswith(_NODE_METHODS)
            or not peer
        ):
            return handler
        return grpc.unary_unary_rpc_method_handler(
            self._shaped(handler.unary_unary, str(peer)),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _shaped(self, behavior: Behavior, peer: str) -> Behavior:
        faults = self._faults

        async def shaped(
            request: Message, context: grpc.aio.ServicerContext
        ) -> Message:
            fate = faults.fate(INGRESS, peer, request.ByteSize())
            if not await fate.hold(context.time_remaining()):
                await _lost(context, "request")
            reply = await behavior(request, context)
            fate = faults.fate(EGRESS, peer, reply.ByteSize(), reply=True)
            if not await fate.hold(context.time_remaining()):
                await _lost(context, "reply")
            return reply

        return shaped


async def _lost(context: grpc.aio.ServicerContext, what: str) -> None:
    """End a call whose message was lost, once the caller's deadline has
    passed. gRPC cancels the handler when its core sees the deadline, which
    may be a moment after ours; an abort before then fails in the core. So
    abort only if no cancellation came within a grace period."""
    await asyncio.sleep(_CANCEL_GRACE_S)
    await context.abort(
        grpc.StatusCode.DEADLINE_EXCEEDED, f"{what} lost by an in-node link fault"
    )
