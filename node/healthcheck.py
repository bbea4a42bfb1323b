"""`python -m node.healthcheck [CONFIG]`: exit 0 when the node answers Ping.

The container engine runs this inside every node's container, so it must be
cheap: importing grpcio and the generated code costs about 0.15 s of CPU a
check, which fifty containers on two cores notice. It therefore speaks the
few HTTP/2 frames of one unary gRPC call itself, with the standard library:

    client: preface, SETTINGS, HEADERS (POST /heal.Node/Ping), DATA (empty
            PingRequest, END_STREAM)
    server: SETTINGS, HEADERS, DATA (the PingReply), HEADERS (trailers)

A DATA frame on the call's stream means the node answered; a server that
fails the call sends trailers only, without DATA.
"""

from __future__ import annotations

import json
import socket
import struct
import sys

DEFAULT_CONFIG = "/run/heal/config.json"
TIMEOUT_S = 3.0
PATH = "/heal.v1.Node/Ping"  # tests check it against the generated code

_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _RST_STREAM, _SETTINGS, _GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x7
_END_STREAM, _ACK, _END_HEADERS = 0x1, 0x1, 0x4
_STREAM = 1


def _frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return (
        struct.pack(">I", len(payload))[1:]
        + struct.pack(">BBI", kind, flags, stream)
        + payload
    )


def _literal(name: str | int, value: str) -> bytes:
    """An HPACK header field, not indexed; name is a static-table index or text."""

    def text(s: str) -> bytes:
        return bytes([len(s)]) + s.encode()  # every string here is < 127 bytes

    if isinstance(name, int):
        return bytes([name]) + text(value)
    return b"\x00" + text(name) + text(value)


def _request() -> bytes:
    # Static table: 3 = :method POST, 6 = :scheme http, 4 = :path, 1 = :authority.
    headers = (
        b"\x83\x86"
        + _literal(4, PATH)
        + _literal(1, "localhost")
        + _literal("content-type", "application/grpc")
        + _literal("te", "trailers")
    )
    empty_message = b"\x00\x00\x00\x00\x00"  # not compressed, length 0
    return (
        _PREFACE
        + _frame(_SETTINGS, 0, 0)
        + _frame(_HEADERS, _END_HEADERS, _STREAM, headers)
        + _frame(_DATA, _END_STREAM, _STREAM, empty_message)
    )


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the node")
        data += chunk
    return data


def ping(port: int) -> str | None:
    """None when the node at 127.0.0.1:port answers Ping; otherwise why not."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as sock:
        sock.sendall(_request())
        while True:
            length, kind, flags, stream = struct.unpack(">IBBI", b"\0" + _read(sock, 9))
            _read(sock, length)
            if kind == _SETTINGS and not flags & _ACK:
                sock.sendall(_frame(_SETTINGS, _ACK, 0))
            elif kind == _DATA and stream == _STREAM:
                return None
            elif kind == _HEADERS and stream == _STREAM and flags & _END_STREAM:
                return "the node failed the Ping call"
            elif kind in (_RST_STREAM, _GOAWAY):
                return "the node reset the Ping call"


def main(argv: list[str]) -> int:
    path = argv[0] if argv else DEFAULT_CONFIG
    try:
        with open(path) as handle:
            port = int(json.load(handle)["port"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read the port from {path}: {exc}", file=sys.stderr)
        return 1
    try:
        problem = ping(port)
    except OSError as exc:
        problem = f"port {port}: {exc}"
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
