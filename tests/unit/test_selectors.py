"""Node selectors: parsing what scenario files write, and picking nodes."""

from __future__ import annotations

import random

import pytest

from controller.scenario.selectors import (
    Selector,
    SelectorError,
    format_ids,
    parse_selector,
    resolve,
    static_ids,
)

LIVE = list(range(20))
HUBS = [3, 7, 11]


@pytest.mark.parametrize(
    ("value", "described"),
    [
        ("all", "all"),
        ("hubs", "hubs"),
        (" clients ", "clients"),
        ("rest", "rest"),
        ("0-9", "0-9"),
        ("0-4,7, 12-15", "0-4,7,12-15"),
        ("5", "5"),
        (5, "5"),
        ([3, 1, 2, 3], "1-3"),
        ({"ids": "2-4"}, "2-4"),
        ({"ids": [9, 8]}, "8-9"),
        ({"percent": 30}, "30% of all"),
        ({"percent": 12.5, "role": "client"}, "12.5% of clients"),
        ({"count": 2, "seed": 9}, "2 of all"),
        ({"count": 1, "role": "hub"}, "1 of hubs"),
        ({"role": "hub"}, "hubs"),
    ],
)
def test_parse(value: object, described: str) -> None:
    selector = parse_selector(value)
    assert selector.describe() == described
    assert parse_selector(selector) is selector


def test_parsed_fields() -> None:
    assert parse_selector("0-2,5") == Selector(ids=(0, 1, 2, 5))
    assert parse_selector({"count": 2, "role": "hub", "seed": 4}) == Selector(
        group="hubs", count=2, seed=4
    )
    with pytest.raises(ValueError, match="frozen"):
        parse_selector("all").group = "hubs"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9-0", "runs backwards; write it as 0-9"),
        ("x", "'x' is not a node id or range"),
        ("1,,2", "'' is not a node id or range"),
        ("-3", "is not a node id or range"),
        ([], "the list is empty"),
        ([1, True], "True is not a node id"),
        (True, "a selector is a string"),
        (2.5, "a selector is a string"),
        (None, "a selector is a string"),
        ("0-100000", "at most 1000 nodes"),
        ({"foo": 1}, "unknown selector key foo; valid keys: ids, percent, count"),
        ({"ids": 1, "count": 2}, "exactly one of ids, percent, count or role"),
        ({"seed": 3}, "exactly one of ids, percent, count or role"),
        ({"ids": "1", "seed": 3}, "seed applies to percent and count"),
        ({"role": "boss"}, "role 'boss': valid roles are hub, client"),
        ({"percent": None}, "percent: a value is needed"),
        ({"percent": 0}, "percent: Input should be greater than 0 (got 0)"),
        ({"percent": 150}, "less than or equal to 100 (got 150)"),
        ({"percent": "30"}, "percent: Input should be a valid number (got '30')"),
        ({"count": 0}, "count: Input should be greater than or equal to 1"),
        ({"count": 1.5}, "count: Input should be a valid integer"),
        ({"count": True}, "count: Input should be a valid integer"),
    ],
)
def test_parse_errors_say_what_is_valid(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_selector(value)
    assert message in str(caught.value)


def pick(
    value: object,
    live: list[int] = LIVE,
    seed: int = 0,
    taken: frozenset[int] = frozenset(),
) -> list[int]:
    return resolve(parse_selector(value), live, HUBS, random.Random(seed), taken)


def test_resolve_named_sets() -> None:
    assert pick("all") == LIVE
    assert pick("hubs") == HUBS
    assert pick("clients") == [i for i in LIVE if i not in HUBS]
    assert pick("rest", taken={0, 1, 2, 3, 4}) == list(range(5, 20))
    assert pick("hubs", live=[3, 4, 11]) == [3, 11]


def test_resolve_ids_skips_nodes_that_are_not_live() -> None:
    assert pick("0-4", live=[0, 2, 4, 6]) == [0, 2, 4]


def test_random_picks_are_sorted_and_repeat_with_the_seed() -> None:
    first = pick({"count": 5}, seed=7)
    assert first == sorted(first) and len(set(first)) == 5
    assert pick({"count": 5}, seed=7) == first
    assert {tuple(pick({"count": 5}, seed=s)) for s in range(10)} != {tuple(first)}


def test_the_selectors_seed_overrides_the_scenarios() -> None:
    picks = {tuple(pick({"count": 5, "seed": 42}, seed=s)) for s in range(10)}
    assert len(picks) == 1


def test_role_limits_the_pool_of_a_random_pick() -> None:
    assert set(pick({"count": 2, "role": "hub"})) < set(HUBS)
    assert not set(pick({"percent": 50, "role": "client"})) & set(HUBS)


@pytest.mark.parametrize(
    ("percent", "live", "expected"),
    [
        (30, 20, 6),
        (100, 20, 20),
        (1, 20, 1),  # 0.2 nodes: at least one
        (2.5, 20, 1),  # 0.5 rounds half up
        (12.5, 20, 3),  # 2.5 rounds half up
        (10, 14, 1),  # 1.4
        (50, 3, 2),  # 1.5
        (50, 1, 1),
    ],
)
def test_percent_rounds_half_up_and_takes_at_least_one(
    percent: float, live: int, expected: int
) -> None:
    assert len(pick({"percent": percent}, live=list(range(live)))) == expected


def test_count_larger_than_the_pool_is_an_error() -> None:
    with pytest.raises(SelectorError, match="asks for 4 nodes but only 3"):
        pick({"count": 4, "role": "hub"})


@pytest.mark.parametrize(
    ("value", "live", "message"),
    [
        ("25-30", LIVE, "selector '25-30' matches no live node (live: 0-19)"),
        ("hubs", [0, 1, 2], "'hubs' matches no live node (live: 0-2; hubs: 3,7,11)"),
        ("all", [], "selector 'all' matches no live node (live: none)"),
        ({"percent": 10, "role": "hub"}, [0, 1], "'10% of hubs' matches no live node"),
    ],
)
def test_matching_nothing_names_the_selector_and_the_live_ids(
    value: object, live: list[int], message: str
) -> None:
    with pytest.raises(SelectorError) as caught:
        pick(value, live=live)
    assert message in str(caught.value)
    assert caught.value.exit_code == 1


def test_static_ids() -> None:
    assert static_ids(parse_selector("0-2,9"), 5) == {0, 1, 2, 9}
    assert static_ids(parse_selector("all"), 4) == {0, 1, 2, 3}
    for dynamic in ("hubs", "clients", "rest", {"percent": 50}, {"count": 1}):
        assert static_ids(parse_selector(dynamic), 4) is None


def test_format_ids() -> None:
    assert format_ids([]) == ""
    assert format_ids([5, 0, 1, 2, 7, 8, 2]) == "0-2,5,7-8"
