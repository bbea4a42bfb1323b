"""What every command group of the CLI shares: error reporting with exit
codes, the consoles, and the --run-dir option."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from controller.errors import ControllerError

F = TypeVar("F", bound=Callable[..., Any])
# soft_wrap: long lines stay whole when piped (grep, logs); tables still fit.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Commands(typer.Typer):
    """Every command reports ControllerError as one line and its exit code;
    typer itself handles usage errors (exit 2) and --help."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)

        def decorate(func: F) -> F:
            @functools.wraps(func)
            def run(*a: Any, **kw: Any) -> Any:
                try:
                    return func(*a, **kw)
                except ControllerError as exc:
                    err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
                    raise typer.Exit(exc.exit_code) from exc
                except KeyboardInterrupt as exc:
                    # What was started is undone by the command's own
                    # finally blocks by now; the exit code says which signal.
                    from controller.startup import interrupted_exit_code

                    err.print("interrupted", highlight=False)
                    raise typer.Exit(interrupted_exit_code(exc)) from None

            register(run)
            return func

        return decorate


RunDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--run-dir",
        "--name",
        help="Testbed: its run directory, or the name given to `up --name` "
        "(default: runs/current, set by the last `up`).",
    ),
]
