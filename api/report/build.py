"""Build the report: gather, draw the five charts, write them and report.html into a folder."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.report import charts
from api.report.data import gather
from sim.audit.compliance import compliance
from sim.audit.summary import money

# file name -> (title, drawing function), in the report's order
CHARTS = {
    "prices.png": ("Prices per symbol", charts.prices),
    "order_volume.png": ("Order volume over time", charts.order_volume),
    "top_client_positions.png": ("Position changes of the top client",
                                 charts.top_client_positions),
    "risk_breaches.png": ("Risk breach frequency by type", charts.risk_breaches),
    "latency.png": ("Trade execution latency, submission to fill", charts.latency),
}
FINDINGS_SHOWN = 25  # per kind; the CSV/JSON of `tempolog compliance` has them all

Step = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class Report:
    html: Path
    charts: dict[str, Path]
    events: int
    findings: dict[str, int]


def build_report(store, out: Path, *, step: Step | None = None) -> Report:
    """Write the charts and report.html into `out`; `step` hears of each stage's progress."""
    step = step or (lambda what, done, total: None)
    out.mkdir(parents=True, exist_ok=True)
    head = store.head()[0]
    data = gather(store, progress=lambda n: step("reading events", n, head))
    step("reading events", head, head)
    images = {}
    for number, (name, (title, draw)) in enumerate(CHARTS.items(), 1):
        png = draw(data)
        (out / name).write_bytes(png)
        images[name] = (title, base64.b64encode(png).decode("ascii"))
        step("drawing charts", number, len(CHARTS))
    findings = compliance(store)
    step("compliance", 1, 1)
    stats = store.stats()
    environment = Environment(loader=FileSystemLoader(Path(__file__).parent),
                              autoescape=select_autoescape(["html", "j2"]))
    environment.filters["money"] = money
    html = environment.get_template("report.html.j2").render(
        path=store.path, head=head, head_hash=store.head()[1], images=images, stats=stats,
        total=sum(s.count for s in stats), counts=findings.counts(),
        findings={kind: findings.of(kind)[:FINDINGS_SHOWN] for kind in findings.counts()},
        shown=FINDINGS_SHOWN, max_modifications=findings.max_modifications,
        top_client=data.top_client)
    target = out / "report.html"
    target.write_text(html)
    step("writing report.html", 1, 1)
    return Report(target, {name: out / name for name in CHARTS}, head, findings.counts())
