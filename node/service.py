"""Thin gRPC servicers: decode, call the domain objects, map errors to status
codes in one place."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable

import grpc
from google.protobuf.message import Message

from node.codec import CodecError, encode_model
from node.faults import FaultError, LinkFaults
from node.faults_probe import probe
from node.metrics import NodeMetrics
from node.protocols.base import LearningNode
from node.serving import PredictError, batch_for, reply_for
from node.transport import Transport
from protos import heal_pb2, heal_pb2_grpc

log = logging.getLogger("node.service")


@contextlib.asynccontextmanager
async def _guarded(context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
    """Domain errors raised in the block become gRPC status codes."""
    try:
        yield
    except (CodecError, FaultError, PredictError) as exc:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))


class NodeService(heal_pb2_grpc.NodeServicer):
    def __init__(self, node: LearningNode, metrics: NodeMetrics) -> None:
        self._node = node
        self._overlay = node.overlay
        self._metrics = metrics

    def _count(self, kind: str, request: Message) -> None:
        self._metrics.received.labels(kind).inc()
        self._metrics.bytes_received.labels(kind).inc(request.ByteSize())

    async def GetCache(self, request, context):  # type: ignore[no-untyped-def]
        self._count("cache", request)
        return self._overlay.answer_cache_request(request)

    async def GetBackward(self, request, context):  # type: ignore[no-untyped-def]
        self._count("backward", request)
        self._overlay.learn([request.sender])
        entries = self._overlay.answer_backward(request.max_entries, request.sender.id)
        return heal_pb2.BackwardReply(entries=entries)

    async def PushModel(self, request, context):  # type: ignore[no-untyped-def]
        self._count("push", request)
        async with _guarded(context):
            reply = await self._node.serve_push(request)
        # A global model goes back to the pusher: a message of its own.
        if reply.HasField("global_model"):
            self._metrics.sent.labels("global").inc()
            self._metrics.bytes_sent.labels("global").inc(reply.ByteSize())
        return reply

    async def ExchangeAggregate(self, request, context):  # type: ignore[no-untyped-def]
        self._count("aggregate", request)
        async with _guarded(context):
            self._node.receive_aggregate(request)
        return heal_pb2.AggregateReply(accepted=True)

    async def PullModel(self, request, context):  # type: ignore[no-untyped-def]
        self._count("pull", request)
        learner = self._node.learner
        model = encode_model(
            learner.weights(),
            learner.names,
            samples=learner.samples,
            cycle=self._node.cycle,
            origin=self._node.me,
        )
        self._metrics.sent.labels("pull").inc()
        return heal_pb2.PullReply(model=model)

    async def Ping(self, request, context):  # type: ignore[no-untyped-def]
        self._count("ping", request)
        return heal_pb2.PingReply(node_id=self._node.me)

    async def Predict(self, request, context):  # type: ignore[no-untyped-def]
        # Not counted with the node-to-node messages: serving is no protocol
        # traffic, and the load generator counts its own calls.
        learner = self._node.learner
        async with _guarded(context):
            batch = batch_for(request, *learner.test_set)
        labels = await learner.predict(batch.x)
        return reply_for(batch, labels, self._node.cycle)


class ControlService(heal_pb2_grpc.ControlServicer):
    """Status, shutdown, link faults and probes, for callers that hold the
    testbed token."""

    def __init__(
        self,
        node: LearningNode,
        metrics: NodeMetrics,
        token: str | None,
        stop: Callable[[str], None],
        faults: LinkFaults,
        transport: Transport,
    ) -> None:
        self._node = node
        self._metrics = metrics
        self._faults = faults
        self._transport = transport
        self._token = token
        self._stop = stop
        self._started = time.monotonic()

    async def _authorize(self, context: grpc.aio.ServicerContext) -> None:
        if self._token is None:
            return
        given = dict(context.invocation_metadata() or ()).get("authorization", "")
        expected = f"Bearer {self._token}"
        if not hmac.compare_digest(str(given).encode(), expected.encode()):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "bad or missing token")

    async def Status(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorize(context)
        node, overlay = self._node, self._node.overlay
        return heal_pb2.NodeStatus(
            id=node.me,
            protocol=node.cfg.protocol,
            role=node.role,
            cycle=node.cycle,
            overlay_cycle=overlay.cycle,
            accuracy=node.accuracy,
            loss=node.loss,
            hubs=node.hubs,
            cache=node.peers,
            backward_size=len(overlay.backward),
            uptime_seconds=time.monotonic() - self._started,
            global_model_age_seconds=self._metrics.global_age_seconds(),
            train_samples=node.learner.samples,
            suspect_hubs=sorted(node.suspects),
            gossip_fallback=node.gossiping,
            messages_sent=self._metrics.sent_by_type(),
            bytes_sent=self._metrics.bytes_sent_by_type(),
        )

    async def Shutdown(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorize(context)
        log.info("shutdown requested: %s", request.reason or "no reason given")
        asyncio.get_running_loop().call_soon(self._stop, request.reason)
        return heal_pb2.ShutdownReply()

    async def SetLinkFaults(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorize(context)
        async with _guarded(context):
            return self._faults.replace(request)

    async def GetLinkFaults(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorize(context)
        return self._faults.current()

    async def Probe(self, request, context):  # type: ignore[no-untyped-def]
        await self._authorize(context)
        async with _guarded(context):
            return await probe(
                self._transport,
                request,
                self._node.me,
                self._node.cfg.max_message_bytes,
            )
