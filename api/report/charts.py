"""The five charts, drawn with matplotlib's Agg backend (no display needed) into PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import FuncFormatter  # noqa: E402

from api.report.data import ReportData  # noqa: E402

CHECKS = ("position", "velocity", "loss", "concentration")
DPI = 100
SIZE = (9, 4.5)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=DPI)
    plt.close(figure)
    return buffer.getvalue()


def _dollars(cents: int) -> float:
    return cents / 100  # for drawing only: the figures' money stays in integer cents


def prices(data: ReportData) -> bytes:
    figure, axes = plt.subplots(figsize=SIZE)
    for symbol in sorted(data.prices):
        points = data.prices[symbol]
        axes.plot([t for t, _ in points], [_dollars(p) for _, p in points], label=symbol,
                  linewidth=1.2)
    axes.set(title="Reference price per symbol", xlabel="time (tick)", ylabel="price")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.0f}"))
    axes.legend(loc="upper left", ncols=5, fontsize="small")
    axes.grid(alpha=0.3)
    return _png(figure)


def order_volume(data: ReportData, buckets: int = 50) -> bytes:
    figure, axes = plt.subplots(figsize=SIZE)
    width = max(1, -(-(data.last_time + 1) // buckets))
    counts = [0] * (data.last_time // width + 1)
    for t in data.submitted:
        counts[t // width] += 1
    axes.bar([i * width for i in range(len(counts))], counts, width=width * 0.9, align="edge",
             color="#4c72b0")
    axes.set(title=f"Orders submitted per {width:,} ticks", xlabel="time (tick)",
             ylabel="orders")
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def top_client_positions(data: ReportData) -> bytes:
    figure, axes = plt.subplots(figsize=SIZE)
    client = data.top_client
    if client is None:
        axes.text(0.5, 0.5, "no position changes", ha="center", va="center")
    else:
        for symbol, points in sorted(data.positions[client].items()):
            axes.step([t for t, _ in points], [q for _, q in points], where="post",
                      label=symbol, linewidth=1)
        axes.axhline(0, color="black", linewidth=0.6)
        axes.legend(loc="upper left", ncols=5, fontsize="small")
    axes.set(title=f"Position changes of the most active client ({client or 'none'})",
             xlabel="time (tick)", ylabel="shares held (negative: short)")
    axes.grid(alpha=0.3)
    return _png(figure)


def risk_breaches(data: ReportData) -> bytes:
    figure, axes = plt.subplots(figsize=SIZE)
    waived = [data.overridden[c] for c in CHECKS]
    refused = [data.breaches[c] - data.overridden[c] for c in CHECKS]
    axes.bar(CHECKS, refused, label="order rejected", color="#c44e52")
    axes.bar(CHECKS, waived, bottom=refused, label="overridden", color="#dd8452")
    for x, total in enumerate(data.breaches[c] for c in CHECKS):
        axes.annotate(f"{total:,}", (x, total), ha="center", va="bottom")
    axes.set(title="Risk limit breaches by check", xlabel="check", ylabel="breaches")
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def latency(data: ReportData) -> bytes:
    figure, axes = plt.subplots(figsize=SIZE)
    values = [us / 1000 for us in data.latencies_us if us > 0]  # ms, for drawing
    if values:
        low, high = min(values), max(values)
        edges = [low * (high / low) ** (i / 40) for i in range(41)] if high > low else 20
        axes.hist(values, bins=edges, color="#55a868")
        axes.set_xscale("log")
    else:
        axes.text(0.5, 0.5, "no fills", ha="center", va="center")
    axes.set(title=f"Submission to first fill ({len(values):,} orders, simulated time)",
             xlabel="latency (ms, log scale)", ylabel="orders")
    axes.grid(alpha=0.3)
    return _png(figure)
