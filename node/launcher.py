"""Start many nodes from one process that has imported torch and gRPC once.

`python -m node.launcher NODE_DIR [NODE_DIR ...]` reads NODE_DIR/config.json
for each node and forks one child per node. Children share the parent's
already-loaded libraries copy-on-write, so a node costs far less memory and
start-up time than a fresh interpreter would. Each child writes its output
to NODE_DIR/node.log; the launcher writes NODE_DIR/pid when it starts one
and NODE_DIR/exit (JSON: code, signal, time) when one ends. It forwards
SIGTERM to its children and exits when the last one has.

Only imports happen before fork(): no gRPC channel, server or torch thread
pool exists yet, so each child initialises its own.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path


def _preload(model: str) -> None:
    """Import what a node imports and run one training step, so that torch's
    lazy initialisation happens once here instead of in every child."""
    import grpc  # noqa: F401
    import prometheus_client  # noqa: F401
    import torch

    import node.app  # noqa: F401
    from node.models import LENET5_INPUT_SHAPE, build_model
    from node.training import configure_torch

    configure_torch()
    net = build_model(model, LENET5_INPUT_SHAPE, 10)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    loss = torch.nn.functional.cross_entropy(
        net(torch.zeros(2, *LENET5_INPUT_SHAPE)), torch.zeros(2, dtype=torch.long)
    )
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        net.eval()(torch.zeros(2, *LENET5_INPUT_SHAPE))


def _child(node_dir: Path) -> int:
    from node.__main__ import run
    from node.config import ConfigError, load_config_file, validate

    log_fd = os.open(node_dir / "node.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        config_file = node_dir / "config.json"
        config = validate(load_config_file(config_file), str(config_file))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    return run(config)


def _record_exit(node_dir: Path, status: int) -> None:
    record = {"time": time.time()}
    if os.WIFSIGNALED(status):
        record["signal"] = os.WTERMSIG(status)
        record["code"] = -os.WTERMSIG(status)
    else:
        record["code"] = os.WEXITSTATUS(status)
    (node_dir / "exit").write_text(json.dumps(record) + "\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    node_dirs = [Path(a) for a in argv]
    for node_dir in node_dirs:
        if not (node_dir / "config.json").is_file():
            print(f"launcher: {node_dir}/config.json not found", file=sys.stderr)
            return 2

    first = json.loads((node_dirs[0] / "config.json").read_text())
    _preload(first.get("model", "mlp"))
    gc.collect()
    gc.freeze()  # keep the shared heap's pages from being touched by the GC

    children: dict[int, Path] = {}
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)

    for node_dir in node_dirs:
        if stopping:
            break
        (node_dir / "exit").unlink(missing_ok=True)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _child(node_dir)
            except BaseException:
                traceback.print_exc()  # into the node's log: fds 1, 2 point there
            finally:
                sys.stderr.flush()
                os._exit(code)
        children[pid] = node_dir
        (node_dir / "pid").write_text(f"{pid}\n")

    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid in children:
            _record_exit(children.pop(pid), status)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
