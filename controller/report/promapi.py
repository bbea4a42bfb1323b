"""The two calls of Prometheus' HTTP API the report makes: is it ready, and
a range query. A few lines on urllib, since no HTTP client is a dependency.

The fetch function is a parameter so that tests can answer in its place.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from controller.errors import ControllerError, UsageError

READY_TIMEOUT_S = 2.0
QUERY_TIMEOUT_S = 30.0
MAX_STEPS = 10_000  # Prometheus refuses a range of more than 11,000 steps

Fetch = Callable[[str, float], bytes]  # (url, timeout) -> body; OSError on failure


class PrometheusError(ControllerError):
    """Prometheus did not answer, or not in the shape the API documents."""


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]  # (epoch seconds, value)


def check_url(url: str, flag: str = "--prometheus") -> str:
    """The base URL of a Prometheus server, without a trailing slash."""
    parts = urllib.parse.urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise UsageError(
            f"{flag} {url!r}: not the http(s) URL of a Prometheus server, "
            "e.g. http://127.0.0.1:9090"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"{flag} {url!r}: give the server's URL, without ? or #")
    return url.rstrip("/")


def http_fetch(url: str, timeout: float) -> bytes:
    # No proxy: the testbed's Prometheus is reached directly, and a proxy
    # from the environment would send loopback requests elsewhere.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        # The API explains a refused query in a JSON body.
        detail = _api_error(exc.read()) or exc.reason
        raise OSError(f"HTTP {exc.code}: {detail}") from exc


class Prometheus:
    def __init__(self, url: str, fetch: Fetch = http_fetch) -> None:
        self.url = check_url(url)
        self.fetch = fetch

    def not_ready(self) -> str | None:
        """Why the server is not ready to answer queries; None when it is."""
        try:
            self.fetch(f"{self.url}/-/ready", READY_TIMEOUT_S)
        except (OSError, ValueError) as exc:
            return (
                f"no answer from {self.url}/-/ready within {READY_TIMEOUT_S:g} s "
                f"({exc})"
            )
        return None

    def query_range(
        self, query: str, start: float, end: float, step: float
    ) -> list[Series]:
        """Every series of the query over [start, end], in chunks of at most
        MAX_STEPS steps, merged by label set."""
        merged: dict[tuple[tuple[str, str], ...], Series] = {}
        chunk = step * MAX_STEPS
        lo = start
        while lo <= end:
            hi = min(end, lo + chunk - step)
            for series in self._range(query, lo, hi, step):
                key = tuple(sorted(series.labels.items()))
                found = merged.setdefault(key, Series(series.labels, []))
                found.points.extend(series.points)
            lo += chunk
        return list(merged.values())

    def _range(self, query: str, start: float, end: float, step: float) -> list[Series]:
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}"}
        params["step"] = f"{step:g}"
        url = f"{self.url}/api/v1/query_range?{urllib.parse.urlencode(params)}"
        try:
            body = self.fetch(url, QUERY_TIMEOUT_S)
        except (OSError, ValueError) as exc:
            raise PrometheusError(f"{self.url}: query {query!r} failed: {exc}") from exc
        return parse_matrix(body, query)


def parse_matrix(body: bytes, query: str) -> list[Series]:
    """The series of a query_range answer; NaN samples are left out."""
    try:
        answer = json.loads(body)
        if answer.get("status") != "success":
            raise ValueError(answer.get("error") or f"status {answer.get('status')}")
        data = answer["data"]
        if data["resultType"] != "matrix":
            raise ValueError(f"a {data['resultType']} instead of a matrix")
        found = []
        for item in data["result"]:
            labels = {str(k): str(v) for k, v in item["metric"].items()}
            points = [(float(t), float(v)) for t, v in item["values"]]
            found.append(Series(labels, [p for p in points if not math.isnan(p[1])]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PrometheusError(f"query {query!r}: unexpected answer ({exc})") from exc
    return found


def _api_error(body: bytes) -> str | None:
    try:
        answer: Any = json.loads(body)
        return str(answer["error"])
    except (ValueError, KeyError, TypeError):
        return None
