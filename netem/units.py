"""Numbers on tc and iptables command lines, and back from their output."""

from __future__ import annotations

import re

# tc's rate suffixes count in powers of 1000 ("8mbit" is 8,000,000 bit/s).
_RATE_BITS = {"bit": 1, "kbit": 10**3, "mbit": 10**6, "gbit": 10**9, "tbit": 10**12}
_QUANTITY = re.compile(r"^([0-9.]+)([a-z]+)$")


def num(value: float) -> str:
    """A plain decimal that tc and iptables read back as the same value:
    no exponent, no trailing zeros (0.05, 100, 12.5)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


def parse_rate_bits(text: str) -> float:
    """bit/s from tc's printed rate ("8Mbit", "1234Kbit", "100Gbit")."""
    match = _QUANTITY.match(text.lower())
    if match is None or match.group(2) not in _RATE_BITS:
        raise ValueError(f"not a tc rate: {text!r}")
    return float(match.group(1)) * _RATE_BITS[match.group(2)]
