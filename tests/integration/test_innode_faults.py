"""In-node link faults on 3 real node processes, measured on real pings: each
node pings a peer through its own transport (Control.Probe) while the
controller sets rules (Control.SetLinkFaults).

The nodes are kept quiet after their first cycle (long periods), so that
medians show the faults and not training load, and so that no model push
shares the rate-limited link with the pings.
"""

from __future__ import annotations

import itertools
import statistics
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from controller import testbed
from controller.control import ControlClient
from protos import heal_pb2
from tests.integration.conftest import first_evaluations, start_testbed

pytestmark = pytest.mark.integration

A, B, C = 0, 1, 2
QUIET = {"overlay_period_s": 600.0, "cycle_period_s": 600.0}
INGRESS = heal_pb2.LinkRule.INGRESS


@dataclass
class Bed:
    client: ControlClient
    addresses: dict[int, str]
    metrics: dict[int, str]

    def set(self, node: int, *rules: heal_pb2.LinkRule, version: int = 1) -> None:
        wanted = heal_pb2.LinkFaultSet(rules=rules, version=version)
        echoed = self.client.set_link_faults(self.addresses, {node: wanted}, 5.0)
        assert echoed == {node: wanted}

    def probe(
        self, src: int, dst: int, count: int = 20, **options: float
    ) -> heal_pb2.ProbeReply:
        options = {"timeout_s": 1.0, **options}
        return self.client.probe(
            self.addresses[src], self.addresses[dst], count, **options
        )

    def pings_received(self, node: int) -> float:
        with urllib.request.urlopen(f"http://{self.metrics[node]}/metrics") as page:
            text = page.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if (
                    sample.name == "heal_transport_messages_received_total"
                    and sample.labels == {"type": "ping"}
                ):
                    return sample.value
        raise AssertionError(f"node {node} exports no ping counter")


def median(reply: heal_pb2.ProbeReply) -> float:
    assert reply.rtt_ms, reply
    return statistics.median(reply.rtt_ms)


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    run, _ = start_testbed(tmp_path_factory.mktemp("faults"), 3, **QUIET)
    try:
        first_evaluations(run)
        nodes = run.load().nodes
        with ControlClient(run.token()) as client:
            bed = Bed(
                client,
                {r.id: r.address for r in nodes},
                {r.id: r.metrics for r in nodes},
            )
            for src, dst in itertools.permutations(bed.addresses, 2):
                connect(bed, src, dst)
            yield bed
    finally:
        leftovers = testbed.down(run)
        assert not leftovers, leftovers


def connect(bed: Bed, src: int, dst: int, timeout: float = 10.0) -> None:
    """Wait until src reaches dst: a node that called a peer before the
    peer listened holds a failed channel, in backoff for up to a second."""
    deadline = time.monotonic() + timeout
    while bed.probe(src, dst, count=1).failures and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture(scope="module")
def baseline(bed: Bed) -> dict[tuple[int, int], float]:
    """Median RTT in ms of each link the tests measure, without faults."""
    links = [(A, B), (A, C), (B, A)]
    return {(src, dst): median(bed.probe(src, dst)) for src, dst in links}


@pytest.fixture(autouse=True)
def clear_after(bed: Bed) -> Iterator[None]:
    yield
    empty = heal_pb2.LinkFaultSet()
    replies = bed.client.set_link_faults(
        bed.addresses, dict.fromkeys(bed.addresses, empty), 5.0
    )
    assert replies == dict.fromkeys(bed.addresses, empty), replies


def test_egress_delay_adds_to_requests_and_replies_of_the_node(
    bed: Bed, baseline: dict[tuple[int, int], float]
) -> None:
    bed.set(A, heal_pb2.LinkRule(delay_ms=100))

    # A's requests to B, and A's replies to B, each wait 100 ms.
    assert 80 <= median(bed.probe(A, B)) - baseline[A, B] <= 120
    assert 80 <= median(bed.probe(B, A)) - baseline[B, A] <= 120


def test_egress_delay_to_one_peer_leaves_the_others_alone(
    bed: Bed, baseline: dict[tuple[int, int], float]
) -> None:
    bed.set(A, heal_pb2.LinkRule(peers=[bed.addresses[B]], delay_ms=100))

    assert 80 <= median(bed.probe(A, B)) - baseline[A, B] <= 120
    assert median(bed.probe(A, C)) - baseline[A, C] < 20


def test_random_loss_loses_its_share_of_pings(bed: Bed) -> None:
    bed.set(A, heal_pb2.LinkRule(loss_pct=30))

    reply = bed.probe(A, B, count=200, timeout_s=0.3, concurrency=20)

    # 30% of 200: 60 +- 6.5 (one sigma); a slow moment may add a few more.
    assert 36 <= reply.failures <= 90, reply.failure_codes
    assert dict(reply.failure_codes) == {"DEADLINE_EXCEEDED": reply.failures}
    assert len(reply.rtt_ms) == 200 - reply.failures


def test_partition_one_way_loses_requests_and_replies_until_healed(
    bed: Bed, baseline: dict[tuple[int, int], float]
) -> None:
    bed.set(A, heal_pb2.LinkRule(peers=[bed.addresses[B]], drop=True))
    handled_by_a = bed.pings_received(A)

    a_to_b = bed.probe(A, B, count=5, timeout_s=0.3, concurrency=5)
    b_to_a = bed.probe(B, A, count=5, timeout_s=0.3, concurrency=5)
    a_to_c = bed.probe(A, C, count=5, timeout_s=0.3, concurrency=5)

    assert dict(a_to_b.failure_codes) == {"DEADLINE_EXCEEDED": 5}
    # B's pings reach A, which handles them; A's replies are lost.
    assert dict(b_to_a.failure_codes) == {"DEADLINE_EXCEEDED": 5}
    assert bed.pings_received(A) == handled_by_a + 5
    assert a_to_c.failures == 0

    bed.set(A, version=2)
    healed = bed.probe(A, B)
    assert healed.failures == 0
    assert median(healed) - baseline[A, B] < 20
    assert bed.probe(B, A, count=5).failures == 0


def test_ingress_drop_loses_requests_before_the_handler(bed: Bed) -> None:
    bed.set(
        B, heal_pb2.LinkRule(direction=INGRESS, peers=[bed.addresses[A]], drop=True)
    )
    handled_by_b = bed.pings_received(B)

    a_to_b = bed.probe(A, B, count=5, timeout_s=0.3, concurrency=5)

    assert dict(a_to_b.failure_codes) == {"DEADLINE_EXCEEDED": 5}
    assert bed.pings_received(B) == handled_by_b
    assert bed.probe(C, B, count=5).failures == 0
    # Replies to B's own requests do not pass B's ingress rules.
    assert bed.probe(B, A, count=5).failures == 0


def test_duplicated_requests_reach_the_peer_twice(bed: Bed) -> None:
    bed.set(A, heal_pb2.LinkRule(peers=[bed.addresses[B]], duplicate_pct=100))
    handled_by_b = bed.pings_received(B)

    assert bed.probe(A, B, count=5).failures == 0

    # A second copy may still be on its way when the first reply is back.
    deadline = time.monotonic() + 2.0
    while bed.pings_received(B) < handled_by_b + 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bed.pings_received(B) == handled_by_b + 10


def test_rate_limit_serialises_100_kb_in_one_second_at_800_kbit(bed: Bed) -> None:
    bed.set(A, heal_pb2.LinkRule(peers=[bed.addresses[B]], rate_kbit=800))

    reply = bed.probe(A, B, count=3, payload_bytes=100_000, timeout_s=3.0)

    assert reply.failures == 0
    assert 800 <= median(reply) <= 1200


def test_control_calls_pass_and_the_set_reads_back_until_cleared(bed: Bed) -> None:
    bed.set(A, heal_pb2.LinkRule(drop=True), version=5)

    # The controller's calls carry no caller address: never affected.
    assert bed.client.status({A: bed.addresses[A]}, 5.0)[A].status is not None
    held = bed.client.get_link_faults({A: bed.addresses[A]}, 5.0)[A]
    assert isinstance(held, heal_pb2.LinkFaultSet)
    assert (len(held.rules), held.rules[0].drop, held.version) == (1, True, 5)

    bed.set(A, version=6)
    assert bed.client.get_link_faults(bed.addresses, 5.0) == {
        A: heal_pb2.LinkFaultSet(version=6),
        B: heal_pb2.LinkFaultSet(),
        C: heal_pb2.LinkFaultSet(),
    }


def test_invalid_rules_and_probes_are_refused_with_the_field(bed: Bed) -> None:
    bad = heal_pb2.LinkFaultSet(rules=[heal_pb2.LinkRule(loss_pct=150)])

    replies = bed.client.set_link_faults(bed.addresses, {B: bad}, 5.0)

    assert str(replies[B]).startswith("INVALID_ARGUMENT: rules[0].loss_pct: 150")
    with pytest.raises(grpc.RpcError) as caught:
        bed.probe(A, B, count=0)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "count: 0" in str(caught.value.details())
