"""A comparison's files: runs.csv (one row per run), comparison.csv (one
row per protocol: mean and spread), comparison.json (all of it) and
comparison.md (the side-by-side table, then the recovery per fault)."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from controller.compare.measure import THRESHOLDS, RunFigures
from controller.compare.summary import FAULT_FIGURES, FIGURES, ProtocolSummary, Spread

FILES = {
    "runs": "runs.csv",
    "table": "comparison.csv",
    "json": "comparison.json",
    "markdown": "comparison.md",
    "plot": "accuracy.png",
}
RUN_COLUMNS = ("protocol", "seed", "testbed", "nodes", *FIGURES)


def write_runs(path: Path, runs: list[tuple[str, RunFigures]]) -> None:
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(RUN_COLUMNS)
        for testbed, r in runs:
            out.writerow(
                [r.protocol, r.seed, testbed, r.nodes]
                + [get(r) for get in FIGURES.values()]
            )


def write_table(path: Path, summaries: list[ProtocolSummary]) -> None:
    header = ["protocol", "runs", "expected_messages_per_cycle"]
    for name in FIGURES:
        header += [f"{name}_mean", f"{name}_sd", f"{name}_runs"]
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        for s in summaries:
            row: list[Any] = [s.protocol, s.runs, s.expected_per_cycle]
            for name in FIGURES:
                f = s.figures[name]
                row += [f.mean, f.sd, f.count]
            out.writerow(row)


def write_json(
    path: Path,
    about: dict[str, Any],
    runs: list[tuple[str, RunFigures]],
    summaries: list[ProtocolSummary],
) -> None:
    body = {
        **about,
        "protocols": [asdict(s) for s in summaries],
        "runs": [{"testbed": t, **_without_curve(asdict(r))} for t, r in runs],
    }
    path.write_text(json.dumps(body, indent=2) + "\n")


def _without_curve(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k != "curve"}


def write_markdown(
    path: Path, about: dict[str, Any], summaries: list[ProtocolSummary]
) -> None:
    lines = [f"# Comparison: {about['scenario']}", ""]
    lines += [
        f"{about['nodes']} nodes, {about['backend']} backend, "
        f"{'seed' if len(about['seeds']) == 1 else 'seeds'} "
        f"{', '.join(map(str, about['seeds']))}; every figure is the mean over "
        "the runs, +- the standard deviation where there were several. Times "
        "count from the scenario's start, cycles from the nodes' start; "
        "messages and bytes are the model-carrying ones (push, global, "
        "aggregate, pull) of all nodes. The expected rate is the protocol's formula "
        "for every node alive and every hub or server answering: where a "
        "scenario crashes nodes, fewer are sent.",
        "",
    ]
    head = ["protocol", "final accuracy"]
    for t in THRESHOLDS:
        head += [f"cycles to {t:.2f}", f"s to {t:.2f}"]
    head += ["messages / cycle", "expected", "all messages / cycle", "kB / cycle"]
    rows = []
    for s in summaries:
        f = s.figures
        row = [s.protocol, _pm(f["final_accuracy"], 3)]
        for t in THRESHOLDS:
            row += [
                _reached(f[f"cycles_to_{t:.2f}"], s.runs, 0),
                _reached(f[f"seconds_to_{t:.2f}"], s.runs, 1),
            ]
        kb = f["bytes_per_cycle"]
        row += [
            _pm(f["messages_per_cycle"], 1),
            "-" if s.expected_per_cycle is None else f"{s.expected_per_cycle:g}",
            _pm(f["all_messages_per_cycle"], 1),
            "-" if kb.mean is None else f"{kb.mean / 1000:.0f}",
        ]
        rows.append(row)
    lines += [*_table(head, rows), ""]
    lines += _by_type(summaries)
    lines += _faults(summaries)
    if about.get("failed_runs"):
        lines += ["## Runs that did not finish", ""]
        lines += [f"- {why}" for why in about["failed_runs"]] + [""]
    lines += [f"![mean accuracy of every protocol]({FILES['plot']})", ""]
    path.write_text("\n".join(lines))


def _by_type(summaries: list[ProtocolSummary]) -> list[str]:
    kinds = sorted({k for s in summaries for k in s.by_type_per_cycle})
    if not kinds:
        return []
    rows = [
        [s.protocol]
        + [f"{s.by_type_per_cycle[k]:.1f}" if k in s.by_type_per_cycle else "-"
           for k in kinds]
        for s in summaries
    ]  # fmt: skip
    head = ["messages / cycle by type", *kinds]
    return [*_table(head, rows), ""]


def _faults(summaries: list[ProtocolSummary]) -> list[str]:
    rows = []
    for s in summaries:
        for label, figures in s.faults.items():
            rows.append(
                [s.protocol, label]
                + [_pm(figures[k], 3 if k in ("dip", "gain_after") else 1)
                   for k in FAULT_FIGURES]
            )  # fmt: skip
        for label, why in s.failed_steps.items():
            rows.append([s.protocol, label, f"did not run: {why}", "", "", ""])
    if not rows:
        return []
    head = ["protocol", "step", "hubs agree (s)", "accuracy dip", "back within (s)"]
    head.append("gain to the end")
    return ["## Recovery per fault", "", *_table(head, rows), ""]


def _pm(s: Spread, digits: int) -> str:
    if s.mean is None:
        return "-"
    text = f"{s.mean:.{digits}f}"
    return text if s.sd is None else f"{text} +- {s.sd:.{digits}f}"


def _reached(s: Spread, runs: int, digits: int) -> str:
    """The mean over the runs that got there, and how many did."""
    if s.count == 0:
        return "never"
    text = _pm(s, digits)
    return text if s.count == runs else f"{text} ({s.count}/{runs} runs)"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]
