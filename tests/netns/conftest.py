"""Two network namespaces joined by a veth pair, made and deleted per test.

    A (heal-t-<pid>-<n>-a)  eth0 10.213.<n>.1  <---->  eth0 10.213.<n>.2
                                                            10.213.<n>.3  B

Each side's device is eth0, as in a node's container. The addresses are a
private range that exists only inside the two namespaces. Needs root; the
tests skip, saying why, when namespaces cannot be made.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TRAFFIC = Path(__file__).with_name("traffic.py")
COMMAND_TIMEOUT_S = 10
_serial = itertools.count(1)


@dataclass
class Namespace:
    name: str
    address: str
    dev: str = "eth0"
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def run(self, argv: list[str]) -> tuple[int, str]:
        """A Runner: argv inside this namespace."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.name, *argv],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )
        return done.returncode, done.stdout + done.stderr

    def must(self, *argv: str) -> str:
        code, output = self.run(list(argv))
        assert code == 0, f"{' '.join(argv)} in {self.name}: {output}"
        return output

    def traffic(self, *args: object, timeout: float = 30) -> tuple[int, str]:
        """Run traffic.py here to the end."""
        done = subprocess.run(
            self._traffic_argv(args), capture_output=True, text=True, timeout=timeout
        )
        return done.returncode, (done.stdout + done.stderr).strip()

    def serve(self, *args: object) -> subprocess.Popen[str]:
        """Start traffic.py here, and return once it says it is ready."""
        process = subprocess.Popen(
            self._traffic_argv(args), stdout=subprocess.PIPE, text=True
        )
        self.processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line == "ready", f"traffic.py {args} did not start: {line!r}"
        return process

    def _traffic_argv(self, args: tuple[object, ...]) -> list[str]:
        return [
            *("ip", "netns", "exec", self.name, sys.executable, str(TRAFFIC)),
            *(str(arg) for arg in args),
        ]


@dataclass
class Pair:
    a: Namespace
    b: Namespace
    b2: str  # a second address of B, a peer that A may treat differently

    def tcp_rate_bits(self, sender: Namespace, host: str, nbytes: int) -> float:
        """bit/s of a TCP transfer, timed by the receiver (a listener must
        run on host, port 5001)."""
        code, output = sender.traffic("send", host, 5001, nbytes, 2)
        assert code == 0, output
        answer = json.loads(output)
        assert answer["bytes"] == nbytes
        return nbytes * 8 / answer["seconds"]

    def connects(self, sender: Namespace, host: str, source: str = "") -> bool:
        """Whether a TCP connection to host:5001 is made within 0.5 s."""
        code, output = sender.traffic("send", host, 5001, 1, 0.5, source)
        assert code in (0, 3), output
        return code == 0

    def udp_received(
        self, sender: Namespace, receiver: Namespace, host: str, count: int
    ) -> int:
        """How many of count datagrams from sender reach host (on receiver)."""
        counter = receiver.serve("udp-count", host, 5002, 0.5)
        code, output = sender.traffic("udp-send", host, 5002, count)
        assert code == 0, output
        out, _ = counter.communicate(timeout=30)
        return int(out.strip())


@pytest.fixture
def pair() -> Iterator[Pair]:
    if os.geteuid() != 0:
        pytest.skip("netns tests make network namespaces, which needs root")
    serial = next(_serial)
    prefix = f"heal-t-{os.getpid()}-{serial}"
    net = f"10.213.{serial % 256}"
    a = Namespace(f"{prefix}-a", f"{net}.1")
    b = Namespace(f"{prefix}-b", f"{net}.2")

    made: list[str] = []
    try:
        for ns in (a, b):
            try:
                done = subprocess.run(
                    ["ip", "netns", "add", ns.name], capture_output=True, text=True
                )
            except FileNotFoundError:
                pytest.skip("no `ip` command (iproute2) to make namespaces with")
            if done.returncode != 0:
                reason = (done.stdout + done.stderr).strip()
                pytest.skip(f"`ip netns add` failed: {reason}")
            made.append(ns.name)
        subprocess.run(
            [
                *("ip", "link", "add", "eth0", "netns", a.name, "type", "veth"),
                *("peer", "name", "eth0", "netns", b.name),
            ],
            check=True,
        )
        for ns, addresses in ((a, [a.address]), (b, [b.address, f"{net}.3"])):
            for address in addresses:
                ns.must("ip", "addr", "add", f"{address}/24", "dev", "eth0")
            ns.must("ip", "link", "set", "eth0", "up")
            ns.must("ip", "link", "set", "lo", "up")
        yield Pair(a, b, f"{net}.3")
    finally:
        for ns in (a, b):
            for process in ns.processes:
                process.kill()
                process.wait()
        for name in made:
            subprocess.run(["ip", "netns", "del", name], check=False)
