"""What the machine itself did during a measurement: the CPU time its hypervisor took."""

from __future__ import annotations

from pathlib import Path


def cpu_times() -> list[int]:
    """The machine's CPU time so far by kind (/proc/stat's `cpu` line; [] where there is
    none): user, nice, system, idle, iowait, irq, softirq, steal, in clock ticks."""
    try:
        return [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    except (OSError, ValueError):
        return []


def stolen(before: list[int], after: list[int]) -> float | None:
    """The share of the machine's CPU time between two `cpu_times()` that its hypervisor
    gave to other machines (None where unknown): on a shared VM, a run's tail follows it."""
    if len(before) < 8 or len(after) < 8:
        return None
    spent = [b - a for a, b in zip(before, after)]
    return spent[7] / max(1, sum(spent))


def as_percent(share: float | None) -> str:
    return "unknown" if share is None else f"{share:.1%}"
