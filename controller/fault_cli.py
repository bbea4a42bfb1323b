"""`controller fault apply|clear|list` and `controller probe`: faults by hand
on the running testbed."""

from __future__ import annotations

import json
import random
import statistics
import time
from typing import Annotated, Any

import grpc
import typer
import yaml
from pydantic import ValidationError

from controller import testbed
from controller.cliutil import Commands, RunDirOpt, out
from controller.errors import ControllerError, UsageError
from controller.faults.api import Faults
from controller.faults.book import load_book
from controller.rundir import RunDir, resolve
from controller.scenario.selectors import SelectorError, format_ids, parse_selector
from controller.scenario.selectors import resolve as select
from controller.startup import unwind_on_sigterm
from netem.specs import REGISTRY, FaultSpec, spec_class
from netem.specs import Churn as ChurnSpec

fault_app = Commands(
    no_args_is_help=True,
    help="Apply and clear faults on the running testbed by hand. Scenario "
    "files do the same on a timeline (`controller scenario run`).",
)

MAX_FOR_S = 7 * 24 * 3600.0  # NaN and infinity fail the range check too

PER_LINK = ", ".join(k for k, spec in REGISTRY.items() if spec.per_link)
KINDS = "; ".join(
    f"{kind} ({', '.join(spec.model_fields) or 'no parameters'})"
    for kind, spec in sorted(REGISTRY.items())
)


def _params(items: list[str], kind: str) -> dict[str, Any]:
    fields = ", ".join(spec_class(kind).model_fields) or "none"
    values = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise UsageError(
                f"parameter {item!r}: use KEY=VALUE; {kind} takes: {fields}"
            )
        try:
            values[key] = yaml.safe_load(text)
        except yaml.YAMLError:
            values[key] = text
    try:
        spec_class(kind).model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or kind}: {e['msg']}"
            + (f" (got {e['input']!r})" if e["loc"] else "")
            for e in exc.errors()
        )
        raise UsageError(f"{kind}: {problems}; {kind} takes: {fields}") from exc
    return values


def _pick(
    run: RunDir, faults: Faults, text: str, rng: random.Random, flag: str = "--on"
) -> list[int]:
    state = run.load()
    live = faults.backend.liveness(run, state, memory=False)
    alive = [r.id for r in state.nodes if live[r.id].alive]
    try:
        selector = parse_selector(text)
        # Asking every node for its hub list is only needed for roles.
        needs_hubs = selector.group in ("hubs", "clients")
        views = testbed.collect(run, faults.backend, memory=False) if needs_hubs else []
        return select(selector, alive, testbed.majority_hubs(views), rng)
    except (ValueError, SelectorError) as exc:
        raise UsageError(f"{flag} {text!r}: {exc}") from exc


@fault_app.command("apply")
def apply(
    kind: Annotated[
        str, typer.Argument(help=f"Fault kind, with its parameters: {KINDS}.")
    ],
    params: Annotated[
        list[str] | None,
        typer.Argument(help="Parameters as KEY=VALUE, e.g. delay_ms=100 jitter_ms=10."),
    ] = None,
    on: Annotated[
        str,
        typer.Option(
            help="Nodes: all, hubs (the hub list most nodes see), clients, or "
            "ids like 0-4,7."
        ),
    ] = "all",
    peers: Annotated[
        str | None,
        typer.Option(help="Only traffic to these nodes (link faults that allow it)."),
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(help="partition: a group of nodes; give two or more, or 'rest'."),
    ] = None,
    via: Annotated[
        str, typer.Option(help="auto, kernel (tc/iptables) or innode (transport).")
    ] = "auto",
    for_s: Annotated[
        float | None,
        typer.Option(
            "--for",
            help="Seconds: the command waits that long, then undoes the fault "
            "(Ctrl-C undoes it early).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for random selections.")] = 0,
    run_dir: RunDirOpt = None,
) -> None:
    """Apply one fault now; it stays until `fault clear` unless --for is given."""
    if via not in ("auto", "kernel", "innode"):
        raise UsageError(f"--via {via!r}: valid: auto, kernel, innode")
    if for_s is not None and not 0 < for_s <= MAX_FOR_S:
        raise UsageError(
            f"--for {for_s}: give a number of seconds above 0 and at most {MAX_FOR_S:g}"
        )
    try:
        spec = spec_class(kind)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from exc
    _check_placement(kind, spec, peers, group)
    values = _params(params or [], kind)
    run = resolve(run_dir)
    faults = Faults(run)
    rng = random.Random(seed)

    if kind == "churn":
        if for_s is None:
            raise UsageError("churn runs over time: give --for SECONDS")
        _churn(run, faults, ChurnSpec.model_validate(values), for_s, seed)
        return
    groups = None
    targets: list[int] = []
    if kind == "partition":
        groups = _groups(run, faults, group or [], rng)
    else:
        targets = _pick(run, faults, on, rng)
    peer_ids = _pick(run, faults, peers, rng, "--peers") if peers else None
    fault = faults.apply(
        kind,
        values,
        targets,
        peers=peer_ids,
        groups=groups,
        via=via,  # type: ignore[arg-type]
        duration_s=for_s,
    )
    if fault is None:
        out.print(f"{kind}: nodes {format_ids(targets)} done")
        return
    ways = "; ".join(f"{m} on {format_ids(n)}" for m, n in fault.mechanisms.items())
    nodes = format_ids(fault.targets)
    out.print(f"applied {fault.id} ({_fmt(values)}) to nodes {nodes}: {ways}")
    if for_s is not None:
        unwind_on_sigterm()
        began = time.monotonic()
        try:
            time.sleep(for_s)
        finally:
            faults.clear([fault.id])
            out.print(f"cleared {fault.id} after {time.monotonic() - began:.1f} s")


def _check_placement(
    kind: str, spec: type[FaultSpec], peers: str | None, group: list[str] | None
) -> None:
    """--peers and --group where the kind would ignore them."""
    if peers is not None and not spec.per_link:
        what = "a node fault" if spec.scope == "node" else "cut along --group"
        raise UsageError(
            f"--peers {peers!r}: applies to link faults only, those limited to "
            f"some peers ({PER_LINK}); {kind} is {what}: drop --peers"
        )
    if group and kind != "partition":
        nodes = "picks its nodes itself" if kind == "churn" else "acts on --on"
        raise UsageError(f"--group: applies to partition only; {kind} {nodes}")


def _groups(
    run: RunDir, faults: Faults, given: list[str], rng: random.Random
) -> list[list[int]]:
    if len(given) < 2:
        raise UsageError(
            "partition: give at least two --group options, e.g. "
            "--group 0-4 --group rest"
        )
    chosen: list[list[int]] = []
    for text in given:
        chosen.append(
            [] if text == "rest" else _pick(run, faults, text, rng, "--group")
        )
    everyone = {r.id for r in run.load().nodes}
    taken = set().union(*map(set, chosen))
    groups = [
        sorted(everyone - taken) if t == "rest" else g
        for t, g in zip(given, chosen, strict=True)
    ]
    empty = [t for t, g in zip(given, groups, strict=True) if not g]
    if empty:
        raise UsageError(
            f"partition: --group {empty[0]} holds no node (nodes are "
            f"{format_ids(sorted(everyone))}); every group needs one"
        )
    return groups


def _fmt(values: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items()) or "no parameters"


def _churn(
    run: RunDir, faults: Faults, spec: ChurnSpec, duration_s: float, seed: int
) -> None:
    churn = faults.start_churn(spec, duration_s, seed, "churn")
    leaves = churn.leaves_left()
    out.print(
        f"churn: {leaves} leaves and {len(churn.events) - leaves} joins drawn "
        f"over {duration_s:g} s; nodes that leave stay down"
    )
    try:
        while churn.events:  # joins wait for the new node, so may run late
            for record in faults.churn_step(churn):
                out.print(f"churn: node {record['node']} {record['action']}s")
            time.sleep(0.2)
    finally:
        faults.end_churn(churn)


@fault_app.command("clear")
def clear(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Fault ids (see `fault list`).")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="Clear every fault of this kind.")
    ] = None,
    run_dir: RunDirOpt = None,
) -> None:
    """Undo faults: the named ones, every one of a kind, or (by default) all.
    Crashed nodes restart, paused ones resume."""
    run = resolve(run_dir)
    faults = Faults(run)
    if kind is not None and kind not in REGISTRY:
        raise UsageError(f"--kind {kind!r}: valid kinds: {', '.join(sorted(REGISTRY))}")
    cleared = faults.clear(ids or None, {kind} if kind else None)
    if not cleared:
        out.print("no faults in force")
    for fault in cleared:
        out.print(f"cleared {fault.id} on nodes {format_ids(fault.targets)}")


@fault_app.command("list")
def list_faults(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
    run_dir: RunDirOpt = None,
) -> None:
    """The faults in force, with how each was applied."""
    book = load_book(resolve(run_dir).path)
    if as_json:
        out.print_json(json.dumps([f.model_dump() for f in book.faults]))
        return
    if not book.faults:
        out.print("no faults in force")
    for fault in book.faults:
        ways = "; ".join(f"{m} on {format_ids(n)}" for m, n in fault.mechanisms.items())
        left = f", {fault.until - time.time():.0f} s left" if fault.until else ""
        out.print(
            f"{fault.id}: {fault.kind} {_fmt(fault.params)} on "
            f"{format_ids(fault.targets)} ({ways}{left})"
        )


def probe(
    source: Annotated[int, typer.Argument(help="Node that sends the pings.")],
    target: Annotated[int, typer.Argument(help="Node that answers them.")],
    count: Annotated[int, typer.Option(min=1, max=10000)] = 20,
    payload: Annotated[int, typer.Option(min=0, help="Padding bytes per ping.")] = 0,
    timeout: Annotated[float, typer.Option(min=0.01, help="Seconds per ping.")] = 1.0,
    run_dir: RunDirOpt = None,
) -> None:
    """Ping one node from another through the node's own transport, so
    through every fault in force on that link; print round-trip times."""
    from controller.control import ControlClient

    run = resolve(run_dir)
    records = {r.id: r for r in run.load().nodes}
    for name, node in (("SOURCE", source), ("TARGET", target)):
        if node not in records:
            raise UsageError(
                f"{name} {node}: no such node; nodes are {format_ids(list(records))}"
            )
    with ControlClient(run.token()) as client:
        try:
            reply = client.probe(
                records[source].address,
                records[target].address,
                count,
                payload,
                timeout,
                rpc_timeout=count * timeout + 10,
            )
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise UsageError(f"probe refused: {exc.details()}") from exc
            raise ControllerError(
                f"node {source} did not run the probe ({exc.code().name}): is it "
                "paused or down? see `controller status`"
            ) from exc
    rtts = list(reply.rtt_ms)
    line = f"{source} -> {target}: {len(rtts)}/{count} answered"
    if rtts:
        line += (
            f", rtt min/median/max {min(rtts):.1f}/{statistics.median(rtts):.1f}/"
            f"{max(rtts):.1f} ms"
        )
    if reply.failures:
        line += f", lost {reply.failures} ({dict(reply.failure_codes)})"
    out.print(line)
