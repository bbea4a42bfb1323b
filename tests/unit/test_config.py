"""Node configuration from files and flags, and the errors users see."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from node.config import ConfigError, parse_args


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "node.json"
    path.write_text(json.dumps({"node_id": 3, "port": 5000, "data_dir": "d", "h": 3}))
    config = parse_args(
        ["--config", str(path), "--h", "4", "--peers", "1=127.0.0.1:5001"]
    )
    assert (config.node_id, config.port, config.h) == (3, 5000, 4)
    assert config.peers[0].id == 1 and config.peers[0].address == "127.0.0.1:5001"
    assert config.address == "127.0.0.1:5000"


def test_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("node_id: 1\nport: 6000\ndata_dir: data\noptimizer: adam\n")
    assert parse_args(["--config", str(path)]).optimizer == "adam"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--node-id", "1", "--port", "70000", "--data-dir", "d"], "port"),
        (["--node-id", "1", "--port", "1", "--data-dir", "d", "--h", "x"], "h"),
        (["--port", "1", "--data-dir", "d"], "node_id"),
        (["--node-id", "1", "--port", "1", "--data-dir", "d", "--s", "9"], "s (9)"),
        (
            ["--node-id", "1", "--port", "1", "--data-dir", "d", "--c", "6"],
            "h + standby",
        ),
        (
            ["--node-id", "1", "--port", "1", "--data-dir", "d", "--peers", "x"],
            "--peers",
        ),
        (
            [
                "--node-id",
                "1",
                "--port",
                "1",
                "--data-dir",
                "d",
                "--optimizer",
                "lbfgs",
            ],
            "optimizer",
        ),
    ],
)
def test_bad_settings_name_the_field(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_args(argv)


def test_unknown_keys_in_a_file_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "node.json"
    path.write_text(json.dumps({"node_id": 1, "port": 1, "data_dir": "d", "hubz": 2}))
    with pytest.raises(ConfigError, match="hubz"):
        parse_args(["--config", str(path)])


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.json"):
        parse_args(["--config", str(tmp_path / "nope.json")])
