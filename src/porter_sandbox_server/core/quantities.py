"""Kubernetes resource quantities: "500m" or "2" CPUs, "512Mi" or "2Gi" of memory."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)([a-zA-Z]{0,2})")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
#: The most a sandbox may ask for: far beyond any machine, well inside what cgroups and the store hold.
MAX_CPU_MILLIS = 100_000 * 1000
MAX_MEMORY_BYTES = 2**50
#: Longer texts are not quantities (and would only make error messages long).
_MAX_TEXT = 32


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity of the kind asked for."""


def _parse(text: str, what: str, examples: str) -> tuple[Decimal, str]:
    match = _QUANTITY.fullmatch(text.strip()) if isinstance(text, str) and len(text) <= _MAX_TEXT else None
    if not match:
        shown = repr(text) if not isinstance(text, str) or len(text) <= _MAX_TEXT else f"of {len(text)} characters"
        raise QuantityError(f"{what} {shown} is not a Kubernetes quantity; use a form such as {examples}")
    try:
        return Decimal(match.group(1)), match.group(2)
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise QuantityError(f"{what} {text!r} is not a number") from error


def parse_cpu_millis(text: str) -> int:
    """CPU as thousandths of a core: "500m" -> 500, "2" -> 2000, "0.5" -> 500."""
    value, suffix = _parse(text, "cpu", '"500m" or "2"')
    if suffix == "m":
        millis = value
    elif suffix == "":
        millis = value * 1000
    else:
        raise QuantityError(f'cpu {text!r} has the unit {suffix!r}; cpu takes "m" (thousandths of a core) or none')
    if millis < 1 or millis != millis.to_integral_value():
        raise QuantityError(f"cpu {text!r} must be at least 1m, in whole thousandths of a core")
    if millis > MAX_CPU_MILLIS:
        raise QuantityError(f"cpu {text!r} is out of range: ask for at most {MAX_CPU_MILLIS // 1000} cores")
    return int(millis)


def parse_memory_bytes(text: str) -> int:
    """Memory in bytes: "512Mi" -> 536870912, "2Gi", "1G", "1000000"."""
    value, suffix = _parse(text, "memory", '"512Mi" or "2Gi"')
    if suffix in _BINARY:
        size = value * _BINARY[suffix]
    elif suffix in _DECIMAL:
        size = value * _DECIMAL[suffix]
    else:
        raise QuantityError(f"memory {text!r} has the unknown unit {suffix!r}; use Ki, Mi, Gi, Ti or k, M, G, T")
    if size < 1 or size != size.to_integral_value():
        raise QuantityError(f"memory {text!r} must be a whole number of bytes, at least 1")
    if size > MAX_MEMORY_BYTES:
        raise QuantityError(f"memory {text!r} is out of range: ask for at most 1Pi")
    return int(size)
