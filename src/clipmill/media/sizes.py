"""Byte counts as people read them, in the same decimal units the web UI shows.

Error messages and progress text say "stopped at 10 MB", never "received 10534720": a user
compares the number with the limit the operator set and with what the card showed.
"""

from __future__ import annotations

_UNITS = ("B", "kB", "MB", "GB", "TB")


def human_bytes(size: float) -> str:
    """``1_400_000`` -> ``"1.4 MB"``; one decimal below 10 of a unit, none above (as ui.js)."""
    value = float(max(0.0, size))
    unit = 0
    while value >= 1000 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    if unit == 0:
        return f"{int(value)} B"
    shown = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return f"{shown.removesuffix('.0')} {_UNITS[unit]}"
