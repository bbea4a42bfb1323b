"""The report's summary for people: what ran, the faults, the recovery
figures (the report's and the runner's), and the plots, as Markdown made
from the JSON summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from controller.report.series import nodes
from controller.report.summary import RUNNER_FIELDS, fmt


def write_markdown(path: Path, summary: dict[str, Any]) -> None:
    run, files = summary["run"], summary["files"]
    title = run["scenario"] or summary["testbed"] or "faults without a scenario"
    lines = [f"# Report: {title}", ""]
    lines += [_what_ran(summary), ""]
    if summary["notes"]:
        lines += [f"- {note}" for note in summary["notes"]] + [""]

    lines += ["## Faults", ""]
    lines += _table(
        ["fault", "kind", "applied (s)", "cleared (s)", "on (groups)", "mechanisms"],
        [
            [
                f["fault_id"],
                f["kind"],
                fmt(f["applied_s"]),
                fmt(f["cleared_s"]),
                _who(f),
                ", ".join(f["mechanisms"]),
            ]
            for f in summary["faults"]
        ],
    )
    lines += ["## Recovery", "", _explain(summary["thresholds"]), ""]
    lines += _table(
        [
            *("after", "kind", "at (s)", "pre-fault acc.", "hubs agree (s)"),
            *("(overlay cycles)", "dip", "back within (s)", "widest spread"),
        ],
        [
            [
                f"{f['label']} {f['action']}",
                f["kind"],
                fmt(f["at_s"]),
                fmt(f["pre_accuracy"]),
                fmt(f["hubs_agree_s"]),
                fmt(f["hubs_agree_overlay_cycles"]),
                fmt(f["dip"]),
                fmt(f["back_within_s"]),
                fmt(f["spread_max"]),
            ]
            for f in summary["recovery"]
        ],
    )
    if summary["runner_recovery"]:
        lines += ["### As the runner recorded them during the run", ""]
        lines += _table(
            ["step", "kind", "at (s)", "hubs agree (s)", "dip", "back within (s)"],
            [[fmt(r[k]) for k in RUNNER_FIELDS] for r in summary["runner_recovery"]],
        )
    lines += _drift(summary["recovery"])
    lines += _load(summary.get("load", []))
    lines += ["## Plots", ""]
    for name in ("accuracy", "hubs", "alive", "messages_plot"):
        if name in files:
            lines += [f"![{name}]({files[name]})", ""]
    tables = [f"[{name}]({name})" for name in files.values() if name.endswith(".csv")]
    lines += ["Tables: " + ", ".join(tables), ""]
    path.write_text("\n".join(lines))


def _drift(recovery: list[dict[str, Any]]) -> list[str]:
    rows = [
        [
            f["label"],
            fmt(f["drift_max"]),
            fmt(f["drift_max_at_s"]),
            fmt(f["drift_at_heal"]),
            " / ".join(fmt(m) for m in f["sides_at_heal"]) or "-",
        ]
        for f in recovery
        if f["drift_max"] is not None
    ]
    if not rows:
        return []
    head = "### Partition drift: the gap between the mean accuracies of the sides"
    header = ["partition", "largest gap", "at (s)", "gap at the heal", "side means"]
    return [head, "", *_table(header, rows)]


def _load(runs: list[dict[str, Any]]) -> list[str]:
    if not runs:
        return []
    lines = ["## Load (Locust)", ""]
    for run in runs:
        total, params = run["total"], run["params"] or {}
        asked = (
            f"{params['users']} users for {fmt(params['duration_s'])} s"
            if params
            else "settings not recorded"
        )
        lines += [
            f"`{run['stamp']}` ({asked}): {total['requests']} calls, "
            f"{total['failures']} failed ({total['failure_ratio']:.2%}), "
            f"{fmt(total['rps'])} calls/s; p50 {fmt(total['p50_ms'])} ms, "
            f"p95 {fmt(total['p95_ms'])} ms, p99 {fmt(total['p99_ms'])} ms.",
            "",
        ]
        lines += _table(
            ["node", "rpc", "calls", "failed", "p50 (ms)", "p95 (ms)", "p99 (ms)"],
            [
                [
                    str(r["node"]),
                    r["rpc"],
                    str(r["requests"]),
                    str(r["failures"]),
                    *(fmt(r[k]) for k in ("p50_ms", "p95_ms", "p99_ms")),
                ]
                for r in run["rows"]
            ],
        )
    return lines


def _who(fault: dict[str, Any]) -> str:
    if fault["groups"]:
        return " / ".join(nodes(g) for g in fault["groups"])
    return nodes(fault["targets"])


def _what_ran(summary: dict[str, Any]) -> str:
    run = summary["run"]
    if run["scenario"] is None:
        head = f"Testbed `{summary['testbed']}`, without a scenario run"
    else:
        head = (
            f"Scenario `{run['scenario']}`, started {run['started']}, on "
            f"{run['nodes']} {run['backend']} nodes (seed {run['seed']}), "
            f"{fmt(run['end_s'])} s"
        )
    periods = (
        f"overlay cycle {fmt(run['overlay_period_s'])} s, learning cycle "
        f"{fmt(run['cycle_period_s'])} s"
    )
    failed = ", ".join(str(s) for s in run["failed_steps"]) or "none"
    return (
        f"{head}; {periods}. {run['observations']} observations, about one "
        f"every {fmt(run['observe_period_s'])} s; final mean accuracy "
        f"{fmt(run['final_mean_accuracy'])}. Failed steps: {failed}. "
        f"Source: `{summary['source']}`."
    )


def _explain(th: dict[str, Any]) -> str:
    return (
        f"Timed from when the fault was wholly applied (or cleared). Hubs "
        f"agree: at least {th['agreement']:.0%} of the live nodes hold the "
        f"majority hub list and none of its hubs is down. Pre-fault accuracy: "
        f"mean of the last {th['baseline_observations']} observations before. "
        f"Back within: until mean accuracy, having fallen more than "
        f"{th['tolerance']} below the pre-fault level, came back within it "
        f"(0 if it never fell that far). Dip: pre-fault level less the lowest "
        f"mean accuracy until then. Widest spread: best less worst node while "
        f"the fault held. `-`: not reached within the run."
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["(none)", ""]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]
