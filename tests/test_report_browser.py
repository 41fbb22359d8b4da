"""The review report in a real browser: headless Chromium loads it from disk.

Every flowchart's SVG must be present and visible, every table-of-contents link must land
on a section, every link from a chart to a rule must resolve, and the page must log no
error. A screenshot is saved for a person to look at (out/report-screenshot.png).
Chromium and its driver come from Debian's packages (`.ci/run` installs them); where they
are absent the test is skipped, saying so.
"""

from __future__ import annotations

import shutil

import pytest

import consilium.render as render
from conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="headless Chromium and chromedriver are not installed "
                                       "(apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1366,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser, bundled_kb, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    result = bundled_kb.evaluate_file(ROOT / "examples" / "liver_five_segments_bleeding.yaml")
    index = render.write_report(bundled_kb, folder, result, "examples/liver_five_segments_bleeding.yaml")
    browser.get(index.as_uri())
    return browser


def test_every_flowchart_is_present_and_visible(page, bundled_kb):
    charts = page.execute_script("""
        return Array.from(document.querySelectorAll('figure.chart')).map(f => {
            const svg = f.querySelector('svg');
            if (!svg) return [f.dataset.chart, 0, 0, 0];
            const box = svg.getBoundingClientRect();
            return [f.dataset.chart, box.width, box.height, svg.querySelectorAll('g.node').length];
        });""")
    names = [c[0] for c in charts]
    expected = [s.name for s in render.chart_specs(bundled_kb, paged=True)]
    assert set(expected) <= set(names)
    assert any(name.startswith("case-") for name in names)  # the case's path, drawn
    for name, width, height, nodes in charts:
        assert width > 50 and height > 50 and nodes > 0, name


def test_table_of_contents_links_resolve(page):
    missing = page.execute_script("""
        return Array.from(document.querySelectorAll('nav a')).map(a => a.getAttribute('href'))
            .filter(h => !document.getElementById(h.slice(1)));""")
    assert missing == []
    count = page.execute_script("return document.querySelectorAll('nav a').length")
    assert count >= 20


def test_links_from_charts_reach_their_rules(page):
    missing = page.execute_script("""
        return Array.from(document.querySelectorAll('svg a'))
            .map(a => a.getAttribute('xlink:href') || a.getAttribute('href'))
            .filter(h => h && h.startsWith('#') && !document.getElementById(h.slice(1)));""")
    assert missing == []


def test_the_page_logs_no_error_and_is_saved_as_a_screenshot(page):
    errors = [entry for entry in page.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    page.execute_script("document.getElementById('site-liver').scrollIntoView()")
    assert page.save_screenshot(str(out / "report-screenshot.png"))
    assert (out / "report-screenshot.png").stat().st_size > 10_000


def test_the_page_fits_a_laptop_width(page):
    page.set_window_size(1280, 800)
    overflow = page.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0  # wide charts scroll inside their own box, not the page


def test_the_facts_read_from_fhir_show_their_bindings_readable_at_a_laptops_width(page, bundled_kb):
    """The auditors' section on FHIR: listed in the contents, a row per bound fact, each binding's
    FHIRPath wrapped inside its cell (nothing cut off or scrolled away) with its note beside it."""
    page.set_window_size(1280, 800)
    titles = page.execute_script("return Array.from(document.querySelectorAll('nav a')).map(a => a.textContent)")
    assert "Facts read from FHIR, and how" in titles
    rows = page.execute_script("""
        return Array.from(document.querySelectorAll('#fhir table.bindings tbody tr')).map(r => {
            const cell = r.cells[1];
            return [r.id, cell.scrollWidth <= cell.clientWidth, r.getBoundingClientRect().height,
                    cell.innerText];
        });""")
    assert [r[0] for r in rows] == [f"fhir-{f.id}" for f in bundled_kb.facts.values() if f.bindings]
    for row_id, fits, height, text in rows:
        assert fits and height > 0, row_id
        assert "note" in text and "resources" in text, row_id
    kras = next(r[3] for r in rows if r[0] == "fhir-kras")
    assert "component.where(code.coding.code = '48018-6')" in kras and "HGNC:6407" in kras
