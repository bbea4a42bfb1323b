"""A hub's round: collect pushes for delta, average, exchange with a deadline."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from node.config import NodeConfig
from node.hub import Contribution, HubRounds, RoundResult
from node.metrics import NodeMetrics


def _config(**over: object) -> NodeConfig:
    base = {"node_id": 0, "port": 1, "data_dir": ".", "delta_s": 0.1}
    return NodeConfig.model_validate({**base, **over, "exchange_timeout_s": 0.3})


def _part(value: float, samples: int, origin: int = 9) -> Contribution:
    return Contribution([np.full((2,), value, np.float32)], samples, 1, origin)


def test_pushes_in_one_window_get_the_sample_weighted_average() -> None:
    adopted: list[RoundResult] = []

    async def scenario() -> list[RoundResult | None]:
        hub = HubRounds(_config(), NodeMetrics(), list, _never_sent, adopted.append)
        return await asyncio.gather(hub.push(_part(0.0, 1)), hub.push(_part(4.0, 3)))

    results = asyncio.run(scenario())
    assert results[0] is results[1] is not None
    np.testing.assert_allclose(results[0].weights[0], [3.0, 3.0])
    assert (results[0].samples, results[0].participants) == (4, 2)
    assert adopted == [results[0]]


def test_uniform_weighting_ignores_sample_counts() -> None:
    async def scenario() -> RoundResult | None:
        config = _config(weighting="uniform")
        hub = HubRounds(config, NodeMetrics(), list, _never_sent, lambda r: None)
        both = await asyncio.gather(hub.push(_part(0.0, 1)), hub.push(_part(4.0, 3)))
        return both[0]

    result = asyncio.run(scenario())
    assert result is not None
    np.testing.assert_allclose(result.weights[0], [2.0, 2.0])


def test_aggregates_of_other_hubs_are_averaged_in() -> None:
    sent: list[tuple[int, Contribution]] = []

    async def scenario() -> RoundResult | None:
        async def send(hub_id: int, part: Contribution, number: int) -> bool:
            sent.append((hub_id, part))
            # The other hub answers with its own aggregate a little later.
            loop = asyncio.get_running_loop()
            loop.call_later(0.05, hub.receive_aggregate, 7, _part(10.0, 6, 7))
            return True

        hub = HubRounds(_config(), NodeMetrics(), lambda: [7], send, lambda r: None)
        return await hub.push(_part(1.0, 2))

    result = asyncio.run(scenario())
    assert [h for h, _ in sent] == [7]
    np.testing.assert_allclose(sent[0][1].weights[0], [1.0, 1.0])
    assert result is not None
    # (1 * 2 + 10 * 6) / 8
    np.testing.assert_allclose(result.weights[0], [7.75, 7.75])


def test_a_silent_hub_costs_one_exchange_deadline_and_no_more() -> None:
    metrics = NodeMetrics()

    async def scenario() -> tuple[RoundResult | None, float]:
        async def send(hub_id: int, part: Contribution, number: int) -> bool:
            return True  # it took ours but never sends its own

        hub = HubRounds(_config(), metrics, lambda: [7], send, lambda r: None)
        started = time.monotonic()
        result = await hub.push(_part(5.0, 1))
        return result, time.monotonic() - started

    result, elapsed = asyncio.run(scenario())
    assert result is not None
    np.testing.assert_allclose(result.weights[0], [5.0, 5.0])
    assert 0.35 <= elapsed < 1.0  # delta 0.1 + exchange deadline 0.3
    missed = metrics.deadlines_missed.labels("hub_exchange")._value.get()
    assert missed == 1


async def _never_sent(hub_id: int, part: Contribution, number: int) -> bool:
    raise AssertionError("a hub with no other hubs sends nothing")
