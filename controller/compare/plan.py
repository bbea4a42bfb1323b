"""What a comparison runs: the scenario once per protocol and repeat, each
as a scenario file of its own (the original with testbed.protocol, seed
and name changed), written into the comparison's folder before anything
starts and validated like any scenario file.

Every protocol of a repeat gets the same seed, so the same shards, the
same bootstrap peers and the same random picks; repeat k adds k to the
scenario's seed.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from controller.errors import UsageError
from controller.scenario.loader import load_scenario
from controller.scenario.schema import Scenario
from controller.scenario.source import parse
from node.config import PROTOCOLS

MAX_REPEAT = 20
NAME_LIMIT = 63  # testbed names (rundir.check_name)


@dataclass(frozen=True)
class Variant:
    protocol: str
    repeat: int  # 1-based
    seed: int
    name: str  # the testbed's and the variant scenario's
    file: Path
    scenario: Scenario


def parse_protocols(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in names if p not in PROTOCOLS]
    if unknown or not names:
        raise UsageError(
            f"--protocols {text!r}: "
            + (f"{', '.join(unknown)} not known" if unknown else "none given")
            + f"; valid: a comma-separated list of {', '.join(PROTOCOLS)}"
        )
    if len(set(names)) != len(names):
        raise UsageError(f"--protocols {text!r}: a protocol is named twice")
    return names


def check_repeat(repeat: int) -> None:
    if not 1 <= repeat <= MAX_REPEAT:
        raise UsageError(f"--repeat {repeat}: give 1 to {MAX_REPEAT} runs a protocol")


def variants(
    source: Path,
    scenario: Scenario,
    protocols: list[str],
    repeat: int,
    folder: Path,
    nodes: int | None = None,
) -> list[Variant]:
    """Write and validate every variant (with nodes instead of the file's
    testbed.nodes, if given); nothing runs yet."""
    _, data = parse(source, source.read_text(encoding="utf-8"))
    made = []
    (folder / "scenarios").mkdir(parents=True, exist_ok=True)
    for k in range(1, repeat + 1):
        for protocol in protocols:
            name = f"{scenario.name}-{protocol}" + (f"-r{k}" if repeat > 1 else "")
            if len(name) > NAME_LIMIT:
                raise UsageError(
                    f"{source}: name {scenario.name!r} is too long for the testbed "
                    f"names of a comparison ({name!r} has more than {NAME_LIMIT} "
                    "characters); shorten it"
                )
            seed = scenario.seed + k - 1
            file = folder / "scenarios" / f"{name}.yaml"
            file.write_text(_variant_text(data, source, protocol, seed, name, nodes))
            made.append(Variant(protocol, k, seed, name, file, _load(file, source)))
    return made


def _load(file: Path, source: Path) -> Scenario:
    """The variant, validated; its errors name the source file and what the
    comparison changed, not the generated file, whose lines differ."""
    try:
        return load_scenario(file)
    except UsageError as exc:
        why = re.sub(rf"^{re.escape(str(file))}(:\d+)*: ", "", str(exc))
        head = file.read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
        raise UsageError(f"{source}: as {head}: {why}") from exc


def _variant_text(
    data: dict[str, Any],
    source: Path,
    protocol: str,
    seed: int,
    name: str,
    nodes: int | None,
) -> str:
    changed = copy.deepcopy(data)
    changed["name"], changed["seed"] = name, seed
    changed["testbed"] = {**changed.get("testbed", {}), "protocol": protocol}
    if nodes is not None:
        changed["testbed"]["nodes"] = nodes
    head = f"# {source.name} with protocol {protocol} and seed {seed}"
    head += "" if nodes is None else f" on {nodes} nodes"
    head += "\n"
    return head + yaml.safe_dump(changed, sort_keys=False)
