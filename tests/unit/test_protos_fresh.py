"""The committed generated code must match a fresh `python -m protos`."""

from __future__ import annotations

from pathlib import Path

import pytest

from protos.__main__ import PROTO_DIR, generate


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    written = generate(tmp_path)
    assert written, "protoc wrote nothing"
    for fresh in written:
        committed = PROTO_DIR / fresh.name
        assert committed.exists(), f"{committed.name} missing: run `python -m protos`"
        assert committed.read_bytes() == fresh.read_bytes(), (
            f"{committed.name} is stale: run `python -m protos` and commit"
        )
