"""In-node link faults: what the rules decide per message, with a seeded
generator and a fake clock; their validation; the probe's."""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import time

import pytest

from node.faults import EGRESS, INGRESS, Fate, FaultError, LinkFaults
from node.faults_describe import describe
from node.faults_probe import check_probe
from protos import heal_pb2

B, C = "127.0.0.2:7000", "127.0.0.3:7000"
DRAWS = 20_000


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def faults_with(*rules: heal_pb2.LinkRule, clock: Clock | None = None) -> LinkFaults:
    faults = LinkFaults(random.Random(7), clock or Clock())
    faults.replace(heal_pb2.LinkFaultSet(rules=rules, version=1))
    return faults


def fates(faults: LinkFaults, n: int = DRAWS, peer: str = B) -> list[Fate]:
    return [faults.fate(EGRESS, peer, 100) for _ in range(n)]


def test_random_loss_share_is_near_the_rule() -> None:
    faults = faults_with(heal_pb2.LinkRule(loss_pct=30))

    share = sum(f.lost for f in fates(faults)) / DRAWS

    assert 0.28 < share < 0.32
    assert faults.counts["egress", "dropped"] == round(share * DRAWS)


def test_gilbert_elliott_loss_comes_in_bursts_of_mean_one_over_r() -> None:
    rule = heal_pb2.LinkRule(ge_p_pct=5, ge_r_pct=25, ge_bad_loss_pct=100)
    lost = [f.lost for f in fates(faults_with(rule), 50_000)]

    bursts, run = [], 0
    for x in lost:
        if x:
            run += 1
        elif run:
            bursts.append(run)
            run = 0
    assert 3.6 < statistics.mean(bursts) < 4.4  # 1 / 0.25
    assert 0.15 < sum(lost) / len(lost) < 0.18  # p / (p + r) = 1/6
    # Random loss at the same rate would rarely lose two in a row.
    assert max(bursts) >= 10


def test_gilbert_elliott_state_moves_with_its_own_rule_s_messages() -> None:
    burst = heal_pb2.LinkRule(peers=[B], ge_p_pct=100, ge_r_pct=0, ge_bad_loss_pct=100)
    faults = faults_with(burst, heal_pb2.LinkRule(ge_p_pct=100, ge_r_pct=100))

    lost = [faults.fate(EGRESS, peer, 10).lost for peer in (B, C, C, B, B)]
    assert lost == [False, False, False, True, True]

    # The same set again changes nothing; a new one starts in the good state.
    faults.replace(faults.current())
    assert faults.fate(EGRESS, B, 10).lost
    faults.replace(heal_pb2.LinkFaultSet(rules=[burst], version=2))
    assert not faults.fate(EGRESS, B, 10).lost


def test_drop_loses_everything() -> None:
    assert all(f.lost for f in fates(faults_with(heal_pb2.LinkRule(drop=True)), 100))


@pytest.mark.parametrize(
    ("distribution", "sigma_ms", "low_ms", "high_ms"),
    [
        ("uniform", 20 / math.sqrt(3), 80, 120),  # jitter is the half-width
        ("", 20 / math.sqrt(3), 80, 120),  # uniform, netem's default
        ("normal", 20, 0, math.inf),
        ("pareto", 20, 100 - 20 * math.sqrt(3), math.inf),
        ("paretonormal", 20, 0, math.inf),
    ],
)
def test_delay_and_jitter_have_the_rule_s_mean_and_spread(
    distribution: str, sigma_ms: float, low_ms: float, high_ms: float
) -> None:
    rule = heal_pb2.LinkRule(delay_ms=100, jitter_ms=20, distribution=distribution)
    waits_ms = [f.wait_s * 1000 for f in fates(faults_with(rule))]

    assert 98 < statistics.mean(waits_ms) < 102
    # A Pareto's sample spread converges slowly: its tail is heavy.
    tolerance = 0.2 if "pareto" in distribution else 0.05
    assert statistics.stdev(waits_ms) == pytest.approx(sigma_ms, rel=tolerance)
    assert low_ms - 1e-9 <= min(waits_ms) and max(waits_ms) <= high_ms + 1e-9
    if distribution == "pareto":
        assert max(waits_ms) > 100 + 5 * 20


def test_reorder_sends_its_share_at_once() -> None:
    rule = heal_pb2.LinkRule(delay_ms=50, reorder_pct=25)
    waits = [f.wait_s for f in fates(faults_with(rule))]

    assert set(waits) == {0.0, 0.05}
    assert 0.23 < waits.count(0.0) / DRAWS < 0.27


def test_duplicates_requests_but_never_replies() -> None:
    faults = faults_with(heal_pb2.LinkRule(duplicate_pct=10))

    share = sum(f.duplicate for f in fates(faults)) / DRAWS
    replies = [faults.fate(EGRESS, B, 10, reply=True) for _ in range(1000)]

    assert 0.09 < share < 0.11
    assert not any(f.duplicate for f in replies)


def test_rules_match_their_peers_and_direction_only() -> None:
    faults = faults_with(
        heal_pb2.LinkRule(peers=[B], delay_ms=100),
        heal_pb2.LinkRule(direction=INGRESS, delay_ms=30),
    )

    assert faults.fate(EGRESS, B, 10).wait_s == pytest.approx(0.1)
    assert faults.fate(EGRESS, C, 10) == Fate()
    assert faults.fate(INGRESS, B, 10).wait_s == pytest.approx(0.03)
    assert faults.fate(INGRESS, C, 10).wait_s == pytest.approx(0.03)


def test_matching_rules_add_up_and_any_one_loses() -> None:
    faults = faults_with(
        heal_pb2.LinkRule(delay_ms=100), heal_pb2.LinkRule(peers=[B], delay_ms=50)
    )
    assert faults.fate(EGRESS, B, 10).wait_s == pytest.approx(0.15)

    faults = faults_with(heal_pb2.LinkRule(delay_ms=100), heal_pb2.LinkRule(drop=True))
    assert faults.fate(EGRESS, B, 10).lost


def test_rate_serialises_messages_at_size_times_8_over_rate() -> None:
    clock = Clock()
    faults = faults_with(
        heal_pb2.LinkRule(rate_kbit=800), heal_pb2.LinkRule(peers=[C], delay_ms=10)
    )
    rate_only = faults_with(heal_pb2.LinkRule(rate_kbit=800), clock=clock)

    # 100 kB at 800 kbit/s: 800,000 bits take 1 s; a second one queues behind.
    assert rate_only.fate(EGRESS, B, 100_000).wait_s == pytest.approx(1.0)
    assert rate_only.fate(EGRESS, C, 100_000).wait_s == pytest.approx(2.0)
    clock.now += 0.5
    assert rate_only.fate(EGRESS, B, 1_000).wait_s == pytest.approx(1.5 + 0.01)
    clock.now += 10
    assert rate_only.fate(EGRESS, B, 1_000).wait_s == pytest.approx(0.01)
    assert rate_only.counts["egress", "throttled"] == 4

    # The rate queue comes first, then the delay.
    assert faults.fate(EGRESS, C, 10_000).wait_s == pytest.approx(0.1 + 0.01)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (heal_pb2.LinkRule(loss_pct=101), r"rules\[1\]\.loss_pct: 101 .*0\.\.100"),
        (heal_pb2.LinkRule(direction=2), r"direction: 2 is not EGRESS \(0\)"),
        (heal_pb2.LinkRule(ge_r_pct=-1), r"rules\[1\]\.ge_r_pct: -1"),
        (heal_pb2.LinkRule(delay_ms=-5), r"rules\[1\]\.delay_ms: -5"),
        (heal_pb2.LinkRule(jitter_ms=math.nan), r"jitter_ms: nan"),
        (heal_pb2.LinkRule(rate_kbit=math.inf), r"rate_kbit: inf"),
        (heal_pb2.LinkRule(distribution="gauss"), r"'gauss' is not one of uniform"),
        (
            heal_pb2.LinkRule(direction=INGRESS, duplicate_pct=5),
            r"duplicate_pct: only EGRESS",
        ),
        (heal_pb2.LinkRule(peers=[B, "node-2"]), r"peers\[1\]: 'node-2'"),
    ],
)
def test_invalid_rules_are_refused_and_the_old_set_stays(
    rule: heal_pb2.LinkRule, message: str
) -> None:
    faults = faults_with(heal_pb2.LinkRule(delay_ms=10))
    before = faults.current()
    bad = heal_pb2.LinkFaultSet(rules=[heal_pb2.LinkRule(), rule], version=2)

    with pytest.raises(FaultError, match=message):
        faults.replace(bad)
    assert faults.current() == before


def test_replace_echoes_the_set_and_an_empty_one_clears() -> None:
    faults = faults_with(heal_pb2.LinkRule(drop=True))
    wanted = heal_pb2.LinkFaultSet(
        rules=[heal_pb2.LinkRule(fault_id="d1", peers=[B, C], delay_ms=5)], version=9
    )

    assert faults.replace(wanted) == wanted
    assert faults.current() == wanted
    assert faults.replace(heal_pb2.LinkFaultSet(version=10)).rules == []
    assert faults.fate(EGRESS, B, 10) == Fate()


def test_description_sums_up_each_rule() -> None:
    peers = [f"127.0.0.{i}:7000" for i in range(5)]
    faults = heal_pb2.LinkFaultSet(
        rules=[
            heal_pb2.LinkRule(peers=peers[:3], delay_ms=100),
            heal_pb2.LinkRule(fault_id="split", peers=peers, drop=True),
            heal_pb2.LinkRule(direction=INGRESS, loss_pct=5, jitter_ms=2),
        ],
        version=3,
    )

    assert describe(faults) == (
        "3 rules (delay 100ms to 3 peers; split: drop to 5 peers; "
        "delay 0ms±2ms uniform, loss 5% from every peer), version 3"
    )
    assert describe(heal_pb2.LinkFaultSet()) == "0 rules, version 0"


@pytest.mark.parametrize(
    ("fate", "deadline_s", "arrives", "waited_s"),
    [
        (Fate(), 1.0, True, 0.0),
        (Fate(wait_s=0.05), 1.0, True, 0.05),
        (Fate(wait_s=0.3), 0.1, False, 0.1),
        (Fate(lost=True), 0.1, False, 0.1),
    ],
)
def test_hold_waits_as_the_network_would(
    fate: Fate, deadline_s: float, arrives: bool, waited_s: float
) -> None:
    start = time.monotonic()
    assert asyncio.run(fate.hold(deadline_s)) is arrives
    assert time.monotonic() - start == pytest.approx(waited_s, abs=0.04)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"count": 0}, r"count: 0 is not within 1\.\.10000"),
        ({"count": 10_001}, r"count: 10001"),
        ({"timeout_s": 0}, r"timeout_s: 0 "),
        ({"timeout_s": math.nan}, r"timeout_s: nan"),
        ({"concurrency": -1}, r"concurrency: -1"),
        ({"payload_bytes": -1}, r"payload_bytes: -1 is negative"),
        ({"payload_bytes": 4 * 2**20}, r"more than max_message_bytes \(4194304\)"),
        ({"address": "127.0.0.2"}, r"address: '127.0.0.2' is not host:port"),
    ],
)
def test_invalid_probes_are_refused(change: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"address": B, "count": 5, "timeout_s": 1.0}
    request = heal_pb2.ProbeRequest(**{**fields, **change})

    with pytest.raises(FaultError, match=message):
        check_probe(request, me=1, max_message_bytes=4 * 2**20)


def test_probe_padding_fills_the_ping() -> None:
    request = heal_pb2.ProbeRequest(address=B, count=1, timeout_s=1, payload_bytes=99)

    assert len(check_probe(request, me=1, max_message_bytes=2**22).padding) == 99
