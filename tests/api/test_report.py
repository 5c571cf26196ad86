"""The report: five real charts, and a report.html that a real headless Chromium loads whole."""

from __future__ import annotations

import io
import re

import pytest
from browser import headless_chromium, open_page
from matplotlib import image

from api.report import CHARTS, build_report
from sim.audit.compliance import compliance

MIN_PNG_BYTES = 10_000


@pytest.fixture(scope="module")
def report(audit_db, tmp_path_factory):
    from sim.store import open_store

    steps = []
    with open_store(audit_db) as store:
        built = build_report(store, tmp_path_factory.mktemp("report"),
                             step=lambda what, done, total: steps.append(what))
    built.steps = steps
    return built


def _pixels(png: bytes):
    return image.imread(io.BytesIO(png), format="png")


def _is_drawn(pixels) -> bool:
    """Not blank: a fair share of the pixels are not background, in several colours."""
    flat = pixels[..., :3].reshape(-1, 3)
    ink = (flat < 0.9).any(axis=1).mean()
    colours = len({tuple(p) for p in (flat[::37] * 255).astype(int).tolist()})
    return ink > 0.02 and colours > 8


def test_the_five_charts_are_real_pngs(report):
    assert list(report.charts) == list(CHARTS)
    for name, path in report.charts.items():
        png = path.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n", name
        assert len(png) > MIN_PNG_BYTES, name
        pixels = _pixels(png)
        assert pixels.shape[0] >= 400 and pixels.shape[1] >= 800, name
        assert _is_drawn(pixels), f"{name} looks blank"


def test_the_report_embeds_the_charts_the_events_and_the_findings(report, audit_store):
    html = report.html.read_text()
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 5
    assert "http://" not in html and "https://" not in html  # self-contained
    for stat in audit_store.stats():
        assert f"<td>{stat.type}</td><td class=\"n\">{stat.count:,}</td>" in html
    findings = compliance(audit_store)
    for kind, number in findings.counts().items():
        assert f"<td>{kind}</td><td class=\"n\">{number:,}</td>" in html
    first_wash = findings.of("wash_trade")[0]
    assert f"<td class=\"n\">{first_wash.seq}</td>" in html
    assert {"reading events", "drawing charts", "compliance", "writing report.html"} <= set(
        report.steps)


def test_chromium_loads_the_report_with_its_five_images(report, tmp_path):
    with headless_chromium(tmp_path / "profile") as port, \
            open_page(port, report.html.as_uri()) as page:
        images = page.evaluate("Array.from(document.images).map(i => "
                               "({alt: i.alt, complete: i.complete, width: i.naturalWidth, "
                               "height: i.naturalHeight}))")
        assert len(images) == 5
        for shown in images:
            assert shown["complete"] and shown["width"] == 900 and shown["height"] == 450, shown
        assert page.evaluate("document.title").startswith("tempolog report")
        assert page.evaluate("document.querySelectorAll('#event-summary tr').length") > 10
        shot = page.screenshot()
    assert _is_drawn(_pixels(shot))
