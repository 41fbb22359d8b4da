"""Charts legible in print: no text of any chart of the report, or of any chart file `consilium
render` writes, under 8 pt on the printed sheet.

Every chart the report prints (each pathway's pages, the safety rules, and the charts of a
case's path) is laid out; at the size the print stylesheet gives it (shrunk to fit its box
on an A4 landscape sheet, never enlarged), its smallest text must be 8 pt or more. This is
checked twice: from the SVG and the stylesheet's box, and in Chromium with print media
emulated, measuring each chart as drawn. `consilium report --pdf` is run for real, and no
page of the PDF holds only a heading (a chart's heading prints on its chart's sheet). The chart
files of `consilium render` are printed at their own size: each fits an A4 landscape sheet with
its text at 8 pt or more, measured from the SVG and in Chromium (which prints each on one sheet).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from xml.etree import ElementTree

import pytest

import consilium.render as render
from conftest import ROOT, run_cli
from consilium.render.flowchart import chart_specs, draw
from consilium.render.report import CSS

CASES = ["liver_five_segments_bleeding.yaml", "liver_unresectable_obstructing.yaml", "peritoneal_p3_obstruction.json"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
PDFTOTEXT = shutil.which("pdftotext")
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


def pages_holding_only_headings(folder) -> list[tuple[int, str]]:
    """The pages of folder/report.pdf whose text is nothing but headings of the report (and the
    entries of a pathway's list of pages): a heading printed apart from what it heads."""
    page = (folder / "index.html").read_text(encoding="utf-8")
    listings = "".join(re.findall(r'<ol class="pages">.*?</ol>', page, re.S))
    words = {" ".join(html.unescape(re.sub(r"<[^>]+>", "", m[2])).split())
             for m in re.finditer(r"<(h[1-4]|li)\b[^>]*>(.*?)</\1>", page, re.S)
             if m[1] != "li" or m[0] in listings} - {""}
    text = subprocess.run([PDFTOTEXT, "-layout", folder / "report.pdf", "-"], capture_output=True,
                          text=True, check=True).stdout
    alone = []
    for number, sheet in enumerate(text.split("\f")[:-1], start=1):  # the text ends with a form feed
        flat = rest = " ".join(sheet.split())
        for heading in sorted(words, key=len, reverse=True):
            rest = rest.replace(heading, " ")
        if not re.sub(r"\b\d+\.(?=\s|$)", " ", rest).strip():
            alone.append((number, flat))
    return alone


@pytest.mark.skipif(not (CHROMIUM and PDFTOTEXT), reason="headless Chromium or pdftotext is not installed")
@pytest.mark.parametrize("case", ["liver_workup_incomplete.json", None])
def test_report_pdf_prints_each_heading_with_what_it_heads(tmp_path, case):
    # Each chart page starts a landscape sheet; a heading left before it stood alone on a portrait one.
    args = ["--case", ROOT / "examples" / case] if case else [ROOT / "tests" / "data" / "render"]
    run = run_cli("report", *args, "-o", tmp_path, "--pdf", "--no-timestamp")
    assert run.code == 0, run.err
    assert pages_holding_only_headings(tmp_path) == []


# ---- the chart files of `consilium render` ---------------------------------------------------------
# A chart file is printed at its own size: each must fit an A4 landscape sheet (10 mm margins) and
# have no text under 8 pt there, whatever is asked: every chart, a case's path, the report's pages.

A4_LANDSCAPE = (277 * MM, 190 * MM)  # the printable part of the sheet, in points
SVG = "{http://www.w3.org/2000/svg}"


def own_size(svg: bytes) -> tuple[float, float, float]:
    """(width, height, smallest text) in points of an SVG printed at its own size: the text's
    font size through the view box and the graph's transform."""
    root = ElementTree.fromstring(svg)
    width, height = (float(root.get(a).removesuffix("pt")) for a in ("width", "height"))
    per_unit = width / float(root.get("viewBox").split()[2])
    graph = root.find(f"{SVG}g")
    scale = re.match(r"scale\(([\d.]+)", graph.get("transform") or "")
    per_unit *= float(scale[1]) if scale else 1.0
    return width, height, min(float(t.get("font-size")) for t in root.iter(f"{SVG}text")) * per_unit


def rendered(folder, *args) -> dict[str, bytes]:
    run = run_cli("render", *args, "-o", folder, "--format", "svg")
    assert run.code == 0, run.err
    return {p.stem: p.read_bytes() for p in sorted(folder.glob("*.svg"))}


@pytest.mark.parametrize("args", [[], *(["--case", ROOT / "examples" / case] for case in CASES), ["--paged"]],
                         ids=["every-chart", *CASES, "paged"])
def test_every_chart_consilium_render_writes_prints_at_its_own_size_with_text_of_8_pt_or_more(
        bundled_kb, tmp_path, args):
    charts = rendered(tmp_path, *args)
    for pathway in bundled_kb.pathways:  # every pathway is drawn, whole or as its pages
        assert f"pathway-{pathway.id}" in charts or f"pathway-{pathway.id}-1" in charts
    wrong = []
    for name, svg in charts.items():
        width, height, smallest = own_size(svg)
        if width > A4_LANDSCAPE[0] or height > A4_LANDSCAPE[1] or smallest < 8:
            wrong.append(f"{name}: {width / MM:.0f} x {height / MM:.0f} mm, smallest text {smallest:.1f} pt")
    assert wrong == []


def test_the_charts_of_a_diff_print_legibly_too(tmp_path):
    run = run_cli("diff", ROOT / "kb", ROOT / "kb", "--render", tmp_path)
    assert run.code == 0, run.err
    sizes = {p.stem: own_size(p.read_bytes()) for p in tmp_path.glob("*.svg")}
    assert "pathway-hepatic_metastases-1" in sizes
    assert [n for n, (w, h, pt) in sizes.items() if w > A4_LANDSCAPE[0] or h > A4_LANDSCAPE[1] or pt < 8] == []


def test_a_whole_chart_for_the_screen_is_drawn_at_full_size(tmp_path):
    charts = rendered(tmp_path, "--whole", "--chart", "pathway-hepatic_metastases")
    width, _, smallest = own_size(charts["pathway-hepatic_metastases"])
    assert width > 2 * A4_LANDSCAPE[0] and smallest == 10  # what the default refuses to print


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="headless Chromium and chromedriver are not installed")
def test_in_chromium_every_chart_file_prints_on_one_a4_sheet_with_text_of_8_pt_or_more(tmp_path):
    import base64
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    rendered(tmp_path, "--case", ROOT / "examples" / CASES[0])
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    measured = {}
    try:
        for path in sorted(tmp_path.glob("*.svg")):
            driver.get(path.as_uri())  # the file as a user opens it: the SVG document itself
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            # 1 CSS px is 0.75 pt on paper; each text's size through every transform above it
            size = driver.execute_script("""
                const svg = document.documentElement, box = svg.getBoundingClientRect();
                const text = Array.from(svg.querySelectorAll('text'))
                    .map(t => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a);
                return [box.width * 0.75, box.height * 0.75, Math.min(...text) * 0.75];""")
            pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {
                "landscape": True, "paperWidth": 210 / 25.4, "paperHeight": 297 / 25.4, "scale": 1,
                **{f"margin{side}": 10 / 25.4 for side in ("Top", "Bottom", "Left", "Right")}})["data"])
            measured[path.stem] = (*size, len(re.findall(rb"/Type\s*/Page\b", pdf)))
    finally:
        driver.quit()
    assert len(measured) > 30
    wrong = {name: (round(w / MM), round(h / MM), round(pt, 1), sheets) for name, (w, h, pt, sheets) in measured.items()
             if w > A4_LANDSCAPE[0] or h > A4_LANDSCAPE[1] or pt < 8 or sheets != 1}
    assert wrong == {}


def test_report_pdf_without_chromium_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("consilium.render.output.BROWSERS", ("no-such-browser",))
    run = run_cli("report", ROOT / "tests" / "data" / "render", "-o", tmp_path, "--pdf")
    assert run.code == 2
    assert "consilium report: --pdf prints through headless Chromium, which is not installed" in run.err
