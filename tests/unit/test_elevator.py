"""Elevator ranking, tie-breaks, cache composition, and convergence of many
instances wired together in memory (no network, lock-step cycles)."""

from __future__ import annotations

import pytest

from node.elevator import compose_cache, rank
from tests.unit.elevator_sim import MemoryNetwork


def test_rank_orders_by_frequency() -> None:
    answers = [[3, 1, 2], [2, 3, 7], [2, 9]]
    assert rank(answers, 1, set(), me=0) == [2, 3, 1, 7, 9]


def test_rank_breaks_count_ties_by_hub_slot_votes_then_smallest_id() -> None:
    # 4 and 6 appear twice each, 6 twice in a first slot: 6 first.
    # 5 and 8 appear once each, neither in a first slot: smallest id first.
    answers = [[6, 4], [6, 4, 8], [1, 5]]
    assert rank(answers, 1, set(), me=0) == [6, 4, 1, 5, 8]


def test_rank_excludes_dead_nodes() -> None:
    answers = [[1, 2], [1, 3]]
    assert rank(answers, 1, {1}, me=0) == [2, 3]


def test_rank_counts_self_as_others_would() -> None:
    # I appear in all three answers; node 1 in two (it cannot name itself).
    # Taking one off my count ties us, and ids decide.
    answers = [[0, 1], [0, 1], [0, 2]]
    assert rank(answers, 1, set(), me=0)[:2] == [0, 1]
    assert rank(answers, 1, set(), me=3)[:1] == [0]


def test_compose_cache_fixed_slots_then_sample_then_ranking() -> None:
    preferred = [1, 2, 3, 4]
    cache = compose_cache(preferred, [9, 1, 8], c=5, fixed=2, ranking=[1, 2, 3, 4, 5])
    assert cache == [1, 2, 9, 8, 3]


def test_compose_cache_is_short_only_when_nothing_is_left() -> None:
    assert compose_cache([1], [], c=4, fixed=2, ranking=[1, 2]) == [1, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fifty_nodes_agree_on_h_hubs(seed: int) -> None:
    net = MemoryNetwork(50, c=20, h=5, seed=seed, standby=5)
    for _ in range(8):
        net.cycle()
    hubs, share = net.agreement()
    assert len(hubs) == 5
    assert share >= 0.95
    assert all(net.nodes[h].is_hub for h in hubs)
    assert sum(x.is_hub for x in net.nodes) == 5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_killing_every_hub_reforms_agreeing_hubs_within_three_cycles(
    seed: int,
) -> None:
    net = MemoryNetwork(50, c=20, h=5, seed=seed, standby=5)
    for _ in range(10):
        net.cycle()
    old, _ = net.agreement()
    net.dead |= set(old)

    for _ in range(3):
        net.cycle()
    hubs, share = net.agreement()
    assert not set(hubs) & set(old)
    assert len(hubs) == 5
    assert share >= 0.9


def test_without_standby_slots_hubs_reform_more_slowly() -> None:
    # The paper's cache layout: new hubs emerge from scratch after all die.
    net = MemoryNetwork(50, c=20, h=5, seed=0, standby=0)
    for _ in range(10):
        net.cycle()
    old, share = net.agreement()
    assert share >= 0.95
    net.dead |= set(old)
    net.cycle()
    assert net.agreement()[1] < 0.5
    for _ in range(9):
        net.cycle()
    hubs, share = net.agreement()
    assert share >= 0.9 and not set(hubs) & set(old)


def test_after_a_partition_heals_the_sides_agree_on_one_hub_list_again() -> None:
    # Caches big enough for a whole side: during the partition they fill with
    # nodes of their own side only, and nothing in them leads across.
    net = MemoryNetwork(n=20, c=12, h=3, seed=5, standby=3)
    for _ in range(10):
        net.cycle()
    net.sides = [set(range(10))]
    for _ in range(30):
        net.cycle()
    assert len(net.hub_lists()) == 2, net.hub_lists()
    assert not any(any((p < 10) != (x.me < 10) for p in x.cache) for x in net.nodes)

    net.sides = []
    cycles, share = 0, 0.0
    while share < 0.9 and cycles < 20:
        net.cycle()
        cycles += 1
        _, share = net.agreement()
    assert share >= 0.9, net.hub_lists()
    assert cycles <= 10, cycles
    mixed = [
        any(p < 10 for p in x.cache) and any(p >= 10 for p in x.cache)
        for x in net.nodes
    ]
    assert sum(mixed) >= 18, mixed
