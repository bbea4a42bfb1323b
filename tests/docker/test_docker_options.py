"""The docker backend's flags and subnet choice (no engine needed)."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Any

import pytest

from controller.backends import docker_net
from controller.backends.docker_options import parse_docker_options, parse_memory
from controller.errors import ConflictError, UsageError

DEFAULT = docker_net.DEFAULT_SUBNET


def test_memory_sizes() -> None:
    assert parse_memory("512m") == 512 * 2**20
    assert parse_memory("1g") == 2**30
    assert parse_memory("768MiB") == 768 * 2**20
    for bad, says in (("lots", "valid: a size"), ("64m", "128m or more")):
        with pytest.raises(UsageError, match=says) as caught:
            parse_memory(bad)
        assert "--memory" in str(caught.value)


def test_defaults_and_bad_flags() -> None:
    options = parse_docker_options(None, None, None)
    assert options.subnet is None and options.nano_cpus is None
    assert options.memory_bytes == 512 * 2**20
    assert parse_docker_options(None, None, 0.5).nano_cpus == 500_000_000
    with pytest.raises(UsageError, match="--cpus 0"):
        parse_docker_options(None, None, 0)
    with pytest.raises(UsageError, match="--subnet 'nope'"):
        parse_docker_options("nope", None, None)
    with pytest.raises(UsageError, match="private"):
        parse_docker_options("8.8.8.0/24", None, None)


class FakeEngine:
    """Answers the one request choose_subnet makes: the list of networks."""

    def __init__(self, subnets: list[str]) -> None:
        self.api = self
        self._nets = [
            {"Name": f"net{i}", "IPAM": {"Config": [{"Subnet": s}]}}
            for i, s in enumerate(subnets)
        ]

    def networks(self) -> list[dict[str, Any]]:
        return self._nets


@pytest.fixture
def engine_with(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """A fake engine holding networks on the given subnets; the host's own
    interfaces are left out so that results do not depend on the machine."""
    monkeypatch.setattr(docker_net.psutil, "net_if_addrs", dict)
    return lambda *subnets: FakeEngine(list(subnets))


def test_subnet_default_then_fallback(engine_with: Callable[..., Any]) -> None:
    assert docker_net.choose_subnet(engine_with(), None, 50) == DEFAULT
    taken = engine_with("172.28.5.0/24")
    assert docker_net.choose_subnet(taken, None, 50) == IPv4Network("172.29.0.0/16")


def test_overlap_or_small_subnet_says_what_to_pass(
    engine_with: Callable[..., Any],
) -> None:
    taken = engine_with("172.28.0.0/16")
    with pytest.raises(ConflictError, match=r"pass --subnet 172\.29\.0\.0/16"):
        docker_net.choose_subnet(taken, IPv4Network("172.28.4.0/24"), 10)
    with pytest.raises(UsageError, match="need a /26"):
        docker_net.choose_subnet(engine_with(), IPv4Network("10.9.0.0/28"), 50)


def test_node_addresses_follow_the_gateway() -> None:
    subnet = IPv4Network("10.9.0.0/24")
    assert docker_net.node_ip(subnet, 0) == "10.9.0.2"
    assert docker_net.node_ip(subnet, 9) == "10.9.0.11"
