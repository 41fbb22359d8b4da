"""Charts legible in print: no text of any chart of the report under 8 pt on the printed sheet.

Every chart the report prints (each pathway's pages, the safety rules, and the charts of a
case's path) is laid out; at the size the print stylesheet gives it (shrunk to fit its box
on an A4 landscape sheet, never enlarged), its smallest text must be 8 pt or more. This is
checked twice: from the SVG and the stylesheet's box, and in Chromium with print media
emulated, measuring each chart as drawn. `consilium report --pdf` is run for real.
"""

from __future__ import annotations

import re
import shutil

import pytest

import consilium.render as render
from conftest import ROOT, run_cli
from consilium.render.flowchart import chart_specs, draw
from consilium.render.report import CSS

CASES = ["liver_five_segments_bleeding.yaml", "liver_unresectable_obstructing.yaml", "peritoneal_p3_obstruction.json"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
MM = 72 / 25.4  # points per millimetre


def print_box() -> tuple[float, float]:
    """The largest a chart is printed, in points: the print stylesheet's box for a chart's SVG."""
    rule = re.search(r"figure\.chart svg\{max-width:(\d+)mm;max-height:(\d+)mm\}", CSS)
    assert rule, "the print stylesheet sets no box for charts"
    return float(rule[1]) * MM, float(rule[2]) * MM


def smallest_printed_text(svg: bytes) -> tuple[float, str]:
    text = svg.decode()
    width, height = map(float, re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', text).groups())
    smallest = min(float(x) for x in re.findall(r'font-size="([\d.]+)"', text))
    box_w, box_h = print_box()
    scale = min(1.0, box_w / width, box_h / height)
    return smallest * scale, f"{width:.0f}x{height:.0f} pt, smallest text {smallest} pt, printed at {scale:.2f}"


def report_charts(kb):
    specs = chart_specs(kb, paged=True)
    jobs = [(s.name, draw(kb, s, identity=kb.identity).source) for s in specs]
    for case in CASES:
        result = kb.evaluate_file(ROOT / "examples" / case)
        jobs += [(f"{case}:{s.name}", draw(kb, s, result, identity=kb.identity).source) for s in specs
                 if render._touched(s, kb, result)]
    return jobs


def test_every_chart_of_the_report_prints_with_text_of_8_pt_or_more(bundled_kb):
    jobs = report_charts(bundled_kb)
    assert len(jobs) > 40
    svgs = render.layout_all((source, "svg") for _, source in jobs)
    too_small = []
    for (name, _), svg in zip(jobs, svgs, strict=True):
        printed, how = smallest_printed_text(svg)
        if printed < 8:
            too_small.append(f"{name}: {how} -> {printed:.1f} pt")
    assert too_small == []


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="headless Chromium and chromedriver are not installed")
def test_in_chromium_print_media_every_chart_is_at_least_8_pt(bundled_kb, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    result = bundled_kb.evaluate_file(ROOT / "examples" / CASES[0])
    index = render.write_report(bundled_kb, tmp_path, result, CASES[0], with_review=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(index.as_uri())
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        measured = driver.execute_script("""
            return Array.from(document.querySelectorAll('figure.chart svg')).map(svg => {
                const box = svg.getBoundingClientRect(), view = svg.viewBox.baseVal;
                const sizes = Array.from(svg.querySelectorAll('text'))
                    .map(t => parseFloat(t.getAttribute('font-size')));
                const scale = Math.min(box.width / view.width, box.height / view.height);
                // CSS pixels per SVG unit; 1 CSS px is 0.75 pt on paper
                return [svg.closest('figure').dataset.chart, Math.min(...sizes) * scale * 0.75,
                        getComputedStyle(svg.closest('.chart-page')).breakBefore];
            });""")
    finally:
        driver.quit()
    assert len(measured) > 30
    assert [(name, round(pt, 1)) for name, pt, _ in measured if pt < 8] == []
    assert {brk for _, _, brk in measured} == {"page"}  # each chart page starts a sheet of its own


@pytest.mark.skipif(not CHROMIUM, reason="headless Chromium is not installed")
def test_report_pdf_prints_text_portrait_and_charts_landscape(tmp_path):
    run = run_cli("report", ROOT / "tests" / "data" / "render", "-o", tmp_path, "--pdf", "--no-timestamp")
    assert run.code == 0, run.err
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    boxes = [tuple(round(float(x)) for x in box.split()) for box in
             re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)]
    assert (0, 0, 595, 842) in boxes and (0, 0, 842, 595) in boxes  # A4 portrait text, landscape charts
    page = (tmp_path / "index.html").read_text()
    assert "<time" not in page  # --no-timestamp: nothing in it changes run to run but the inputs


def test_report_pdf_without_chromium_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("consilium.render.output.BROWSERS", ("no-such-browser",))
    run = run_cli("report", ROOT / "tests" / "data" / "render", "-o", tmp_path, "--pdf")
    assert run.code == 2
    assert "consilium report: --pdf prints through headless Chromium, which is not installed" in run.err
