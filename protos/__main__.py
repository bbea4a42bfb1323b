"""Regenerate the Python code for protos/*.proto: `python -m protos`.

The output is committed; tests/unit/test_protos_fresh.py fails when it is
stale. Use the grpcio-tools version pinned in pyproject.toml.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
REPO_ROOT = PROTO_DIR.parent


def generate(out_dir: Path) -> list[Path]:
    """Run protoc on every .proto here, writing into out_dir/protos/."""
    from grpc_tools import protoc  # dev dependency only

    (out_dir / "protos").mkdir(parents=True, exist_ok=True)
    protos = sorted(PROTO_DIR.glob("*.proto"))
    for proto in protos:
        rel = proto.relative_to(REPO_ROOT).as_posix()  # for messages
        args = [
            "protoc",
            f"-I{REPO_ROOT}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            str(proto),
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {rel}")
    return sorted(p for p in (out_dir / "protos").glob("*_pb2*.py*"))


def main() -> int:
    written = generate(REPO_ROOT)
    for path in written:
        print(path.relative_to(REPO_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
