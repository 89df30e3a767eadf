"""Units in topology files: durations ("5ms"), bandwidths ("100Mbps"), sizes ("64KiB")."""

from __future__ import annotations

import re

_NUM = r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_TIME_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
               "m": 60_000_000_000, "min": 60_000_000_000}
_RATE_UNITS = {"bps": 1, "kbps": 1_000, "mbps": 1_000_000, "gbps": 1_000_000_000, "tbps": 10 ** 12}
_TIME_RE = re.compile(rf"^\s*{_NUM}\s*([a-zµ]+)\s*$", re.I)
_RATE_RE = re.compile(rf"^\s*{_NUM}\s*([a-z]+)\s*$", re.I)

TIME_HELP = "a duration with a unit, like \"5ms\", \"250us\", \"1.5s\" (units: ns, us, ms, s, min)"
RATE_HELP = "a bandwidth with a unit, like \"100Mbps\", \"1Gbps\", \"56kbps\" (units: bps, kbps, Mbps, Gbps)"


def parse_time(text: str | int | float) -> int:
    """Duration to integer nanoseconds. ValueError with a helpful message on anything else."""
    if isinstance(text, bool) or not isinstance(text, str):
        if text == 0:
            return 0
        raise ValueError(f"{text!r} has no unit: give {TIME_HELP}")
    m = _TIME_RE.match(text)
    if not m or m.group(2).lower() not in _TIME_UNITS:
        raise ValueError(f"{text!r} is not a duration: give {TIME_HELP}")
    return round(float(m.group(1)) * _TIME_UNITS[m.group(2).lower()])


def parse_rate(text: str) -> int:
    """Bandwidth to bits per second."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} has no unit: give {RATE_HELP}")
    m = _RATE_RE.match(text)
    if not m or m.group(2).lower() not in _RATE_UNITS:
        raise ValueError(f"{text!r} is not a bandwidth: give {RATE_HELP}")
    value = round(float(m.group(1)) * _RATE_UNITS[m.group(2).lower()])
    if value <= 0:
        raise ValueError(f"bandwidth {text!r} must be more than zero")
    return value


SIZE_HELP = "a size like 1000000, \"10MB\", \"64KiB\""
_SIZE_RE = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([kKmMgG]i?[bB]?|[bB])?\s*")


def parse_size(text: str | int) -> int:
    """A size like 1000000, "10MB" or "64KiB" to bytes (k, M, G are powers of 1000; Ki, Mi, Gi of 1024)."""
    if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
        return text
    m = _SIZE_RE.fullmatch(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"{text!r} is not a size: give {SIZE_HELP}")
    unit = (m.group(2) or "").lower().rstrip("b")
    scale = {"": 1, "k": 1000, "m": 10**6, "g": 10**9, "ki": 1024, "mi": 1024**2, "gi": 1024**3}[unit]
    return int(float(m.group(1)) * scale)


def format_time(ns: int) -> str:
    if ns == 0:
        return "0s"
    for unit, scale in (("s", 10 ** 9), ("ms", 10 ** 6), ("us", 10 ** 3)):
        if ns >= scale:
            return f"{ns / scale:g}{unit}"
    return f"{ns}ns"


def format_rate(bps: int) -> str:
    for unit, scale in (("Gbps", 10 ** 9), ("Mbps", 10 ** 6), ("kbps", 10 ** 3)):
        if bps >= scale:
            return f"{bps / scale:g}{unit}"
    return f"{bps}bps"
