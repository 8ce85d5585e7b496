"""Human formatting of figures; the data layer keeps raw numbers with units in column names."""
from __future__ import annotations

import math


def human_bytes(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    size = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = float(seconds)
    if seconds == 0:
        return "0 s"
    if abs(seconds) < 0.001:  # Redis commands and index lookups: microseconds, not "0.00 ms"
        return f"{seconds * 1e6:.0f} µs" if seconds >= 0.5e-6 else "< 1 µs"
    if seconds < 0.01:  # plan and query times of a few ms: keep the decimals that tell them apart
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:  # "10 s" for a whole number of seconds, "7.6 s" otherwise
        return f"{seconds:.0f} s" if seconds == int(seconds) else f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"  # a pace of 300 s reads "5 min"


def percent(ratio: float | None, digits: int = 1) -> str:
    if ratio is None or (isinstance(ratio, float) and math.isnan(ratio)):
        return "–"
    return f"{ratio * 100:.{digits}f} %"


def shorten(text: str, width: int = 60) -> str:
    """One line of SQL, cut to width, for chart labels."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


SPARK_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values, unit: str = "") -> str:
    """A trend in one line of text, '▁▃▇█ 2.1/s': a blank where nothing was collected (a gap, never a zero), the
    newest figure after it. Text, so it reads the same in every table."""
    numbers = [None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
               for value in values or []]
    known = [value for value in numbers if value is not None]
    if not known:
        return "–"
    top = max(known) or 1.0
    bars = "".join(" " if value is None else SPARK_BARS[min(int(value / top * (len(SPARK_BARS) - 1) + 0.5),
                                                                 len(SPARK_BARS) - 1)] for value in numbers)
    last = known[-1]  # two significant digits, never "1.2e+02": whole numbers from 100 up
    return f"{bars} {last:,.0f}{unit}" if abs(last) >= 100 else f"{bars} {last:,.2g}{unit}"
