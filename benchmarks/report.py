"""Shared by the benchmarks: the machine line and updating one section of PERFORMANCE.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def pct(values: list[float], q: float) -> float:
    """The `q` quantile (0.9: p90) of `values`, as the value at that rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median_p90_ms(values: list[float], digits: int = 0) -> str:
    """Seconds as "median ms / p90 ms"."""
    import statistics

    median, p90 = 1000 * statistics.median(values), 1000 * pct(values, 0.9)
    return f"{median:.{digits}f} ms / {p90:.{digits}f} ms"


def replace_section(path: Path, heading: str, section: str) -> None:
    """Put `section` (which starts with `heading`) in place of the old one, or at the end."""
    text = path.read_text() if path.exists() else "# Performance\n\n"
    section = section.rstrip("\n") + "\n\n"  # a blank line before the next heading
    start = text.find(heading)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text)


def publish(lines: list[str], write: Path | None, heading: str) -> None:
    """Print a section made of `lines` (starting with `heading`), and with --write put it in
    PERFORMANCE.md in place of the old one."""
    section = "\n".join(lines) + "\n"
    print(section)
    if write:
        replace_section(write, heading, section)
