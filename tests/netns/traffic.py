"""Traffic for the netns tests, run inside a namespace as a script:

    listen HOST PORT                 TCP: for each connection, read to EOF and
                                     answer {"bytes", "seconds"} (first byte
                                     to EOF); prints "ready" once listening
    send HOST PORT NBYTES TIMEOUT_S [SOURCE]
                                     TCP: send NBYTES, print the answer; exit 3
                                     when no connection is made in TIMEOUT_S
    udp-count HOST PORT IDLE_S       print "ready", then the number of
                                     datagrams received until IDLE_S pass
                                     without one
    udp-send HOST PORT COUNT         send COUNT small datagrams, paced

Only the standard library, so that it starts quickly; every mode ends on its
own within a minute, whatever happens to the test.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sys
import time

LIFETIME_S = 60
SO_RCVBUFFORCE = 33  # Linux's; Python's socket module does not name it


def listen(host: str, port: int) -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, port))
    server.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            received, first = 0, None
            while chunk := conn.recv(1 << 16):
                first = first or time.monotonic()
                received += len(chunk)
            seconds = time.monotonic() - first if first else 0.0
            conn.sendall(json.dumps({"bytes": received, "seconds": seconds}).encode())


def send(host: str, port: int, nbytes: int, timeout_s: float, source: str) -> None:
    try:
        conn = socket.create_connection(
            (host, port), timeout=timeout_s, source_address=(source, 0)
        )
    except OSError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        sys.exit(3)
    conn.settimeout(LIFETIME_S)
    with conn:
        conn.sendall(b"x" * nbytes)
        conn.shutdown(socket.SHUT_WR)
        print(conn.recv(4096).decode(), flush=True)


def udp_count(host: str, port: int, idle_s: float) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Room for every datagram of a test even if this loop falls behind.
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    sock.bind((host, port))
    sock.settimeout(idle_s)
    print("ready", flush=True)
    count = 0
    while True:
        try:
            sock.recv(2048)
        except TimeoutError:
            break
        count += 1
    print(count, flush=True)


def udp_send(host: str, port: int, count: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for index in range(count):
        # A datagram dropped in OUTPUT fails with EPERM: netfilter tells the
        # sender. It counts as lost all the same.
        with contextlib.suppress(PermissionError):
            sock.sendto(index.to_bytes(4, "big") * 8, (host, port))
        if index % 50 == 49:
            time.sleep(0.001)


def main(argv: list[str]) -> None:
    signal.alarm(LIFETIME_S)
    mode, host, port, *rest = argv
    if mode == "listen":
        listen(host, int(port))
    elif mode == "send":
        source = rest[2] if len(rest) > 2 else ""
        send(host, int(port), int(rest[0]), float(rest[1]), source)
    elif mode == "udp-count":
        udp_count(host, int(port), float(rest[0]))
    elif mode == "udp-send":
        udp_send(host, int(port), int(rest[0]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
