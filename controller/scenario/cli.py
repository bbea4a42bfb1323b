"""`controller scenario validate|schema`: check scenario files and export
their JSON Schema.

`app` is the whole `scenario` command group: modules that add commands to
it (`run`, in run_cli.py) import it and decorate with `@app.command()`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from controller.cliutil import Commands, err, out
from controller.errors import EXIT_USAGE, UsageError
from controller.scenario.errors import ScenarioError
from controller.scenario.loader import load_scenario
from controller.scenario.schema import scenario_json_schema

app = Commands(
    no_args_is_help=True,
    help="Scenario files: a testbed and faults on a timeline. See scenarios/ "
    "for examples and `scenario schema` for the format.",
)


@app.command()
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="Scenario files (YAML).", show_default=False)
    ],
) -> None:
    """Check scenario files without running them; exit code 2 if any is bad."""
    bad = 0
    for file in files:
        try:
            scenario = load_scenario(file)
        except ScenarioError as exc:
            bad += 1
            err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
            continue
        out.print(
            f"ok: {file}: {count_steps(len(scenario.steps))} over {scenario.end_s:g} s "
            f"on {scenario.testbed.nodes} nodes",
            markup=False,
            highlight=False,
        )
    if bad:
        if len(files) > 1:
            err.print(f"{bad} of {len(files)} files have errors", highlight=False)
        raise typer.Exit(EXIT_USAGE)


@app.command()
def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to FILE instead of stdout."),
    ] = None,
) -> None:
    """Print the JSON Schema of scenario files (for editors and other tools)."""
    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot write: {exc.strerror}") from exc
    out.print(f"wrote the scenario JSON Schema to {output}", highlight=False)


def count_steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"
