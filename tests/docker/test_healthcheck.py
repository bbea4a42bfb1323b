"""The container health check speaks just enough gRPC to call Ping."""

from __future__ import annotations

from node import healthcheck
from protos import heal_pb2


def test_path_is_the_generated_ping_method() -> None:
    method = heal_pb2.DESCRIPTOR.services_by_name["Node"].methods_by_name["Ping"]
    assert f"/{method.containing_service.full_name}/Ping" == healthcheck.PATH


def test_request_is_one_empty_unary_call() -> None:
    request = healthcheck._request()
    assert request.startswith(healthcheck._PREFACE)
    assert healthcheck.PATH.encode() in request
    # The last frame: DATA, END_STREAM, stream 1, an empty gRPC message.
    assert request.endswith(b"\x00\x00\x05\x00\x01\x00\x00\x00\x01" + b"\x00" * 5)


def test_unreadable_config_fails() -> None:
    assert healthcheck.main(["/nonexistent/config.json"]) == 1
